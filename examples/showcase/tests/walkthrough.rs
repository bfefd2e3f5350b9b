//! The walkthrough the showcase prints, run as printed against a running showcase
//! under `set -euo pipefail`: every command succeeds, and every promise its
//! comments make (a status, a header, a field, a token that stops working) holds.

mod support;

use support::served::Served;

use std::process::Command;

/// A shell function or variable name.
fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every promise the walkthrough's comments make, and the bash that checks it
/// against `$out` (what the command printed; with `-i`, headers included). A
/// comment with no entry here fails the test, as does an entry no comment uses.
const PROMISES: &[(&str, &str)] = &[
    ("200", "status 200"),
    ("403 (alice is no admin)", "status 403"),
    ("200 (scope reports:read)", "status 200"),
    (
        "401 with WWW-Authenticate",
        "status 401; hasi 'www-authenticate: Bearer'",
    ),
    (
        "this login is a device",
        r#"has "\"id\":\"$(echo "$LOGIN" | field device_id)\"""#,
    ),
    (
        "a new access token and a new refresh token",
        r#"has '"access"'; has '"refresh"'; [ "$(echo "$out" | field refresh)" != "$REFRESH" ] || fail 'the refresh token did not rotate'"#,
    ),
    (
        "401: reuse — that whole device is signed out, the new pair too",
        r#"status 401; [ "$(code "$BASE/me" -H "Authorization: Bearer $(echo "$PAIR" | field access)")" = 401 ] || fail 'the new pair still works'"#,
    ),
    (
        "no refresh token in the body",
        r#"has '"access"'; lacks '"refresh"'; lacks '"permanent_token"'; grep -q jwt_guard_refresh jar || fail 'no refresh cookie in the jar'"#,
    ),
    ("through the cookie", r#"has '"access"'; lacks '"refresh"'"#),
    ("a new access token", r#"has '"access"'"#),
    (
        "→ {\"url\": …}: open it once (200), twice (410 Gone)",
        r#"url=$(echo "$out" | field url); [ "$(code "$url")" = 200 ] || fail 'the first open'; [ "$(code "$url")" = 410 ] || fail 'the second open'"#,
    ),
    ("202: delivered, never shown", "status 202; lacks 'token='"),
    (
        "the dev outbox (admins only)",
        r#"has 'token='; [ "$(code "$BASE/admin/outbox" -H "Authorization: Bearer $TOKEN")" = 403 ] || fail 'alice read the outbox'"#,
    ),
    (
        "GET: a confirmation page (scanners use nothing)",
        "has '<form'; has 'method=\"post\"'",
    ),
    (
        "POST: bob is logged in, a new device",
        r#"has '"access"'; has '"device_id"'"#,
    ),
    (
        "how every route is protected",
        r#"has '"protection"'; has '"/auth/token"'"#,
    ),
    ("200: a token from outside", "status 200"),
    ("401: ours is not the partner's", "status 401"),
    ("an own session", r#"has '"access"'; has '"refresh"'"#),
    (
        "both delivered: {\"backchannel_logout\":200,\"security_event\":202}",
        r#"has '"backchannel_logout":200'; has '"security_event":202'"#,
    ),
    ("401: the partner login ended from outside", "status 401"),
    ("401: the partner's own token of pat too", "status 401"),
    (
        "401, WWW-Authenticate: … resource_metadata=\"…\"",
        "status 401; hasi 'www-authenticate: Bearer'; has 'resource_metadata=\"'",
    ),
    (
        "resource, authorization_servers, scopes",
        r#"has '"resource"'; has '"authorization_servers"'; has '"scopes_supported"'"#,
    ),
    (
        "200: the tool says \"sub\":\"agent\"",
        r#"status 200; has '"sub\":\"agent\"'"#,
    ),
    (
        "403 insufficient_scope, scope=\"mcp:tools orders:read\": this tool needs more",
        "status 403; has 'insufficient_scope'; has 'scope=\"mcp:tools orders:read\"'",
    ),
    (
        "403 insufficient_scope, scope=\"mcp:tools\"",
        "status 403; has 'insufficient_scope'; has 'scope=\"mcp:tools\"'",
    ),
    ("204", "status 204"),
    ("{\"active\":true,…}", r#"has '"active":true'"#),
    ("401 without credentials", "status 401"),
    ("{\"active\":false}", r#"has '{"active":false}'"#),
    ("401 without the scrape token", "status 401"),
    (
        "the logins counted, by method and result",
        "has 'jwt_guard_logins_total{'; has 'method=\"password\"'; has 'result=\"success\"'",
    ),
    (
        "OpenAPI 3.1, security per route",
        r#"has '"openapi":"3.1.0"'; has '"security"'"#,
    ),
    ("204: this device is signed out", "status 204"),
    ("401 at once", "status 401"),
    (
        "200 {\"revoked\":1}: every device of admin",
        r#"status 200; has '{"revoked":1}'; [ "$(code "$BASE/admin/routes" -H "Authorization: Bearer $ADMIN")" = 401 ] || fail "admin's token still works""#,
    ),
];

/// What every check can use: `status N` (the status line of `-i` output),
/// `has`/`hasi`/`lacks` text, `code URL…` (a request's status), `fail why`.
const PRELUDE: &str = r#"set -euo pipefail
cd "$WORKDIR"
fail() { echo "FAILED: $CMD — $PROMISE: $1" >&2; printf '%s\n' "$out" >&2; exit 1; }
status() { [[ "${out%%$'\n'*}" =~ ^HTTP/[0-9.]+\ $1 ]] || fail "status is not $1"; }
has() { [[ "$out" == *"$1"* ]] || fail "no $1"; }
hasi() { [[ "${out,,}" == *"${1,,}"* ]] || fail "no $1"; }
lacks() { [[ "$out" != *"$1"* ]] || fail "$1 is there"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
"#;

/// Single-quoted for bash.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The walkthrough as a checking script under `set -euo pipefail`: every command
/// runs as printed, and every comment on a command (on its line, or on the more
/// indented line after it) is a promise checked from `PROMISES`. Returns the
/// script and the promises used.
fn checking_script(walkthrough: &str) -> (String, Vec<&'static str>) {
    let mut script = String::from(PRELUDE);
    let mut used = Vec::new();
    // Commands with their comments, the comment-only line after a command (more
    // indented than it) belonging to it.
    let mut commands: Vec<(usize, String, String)> = Vec::new();
    let mut lines = walkthrough.lines().peekable();
    while let Some(raw) = lines.next() {
        let indent = raw.len() - raw.trim_start().len();
        let mut command = raw.trim_start().to_owned();
        if let Some(comment) = command.strip_prefix('#') {
            if let Some(last) = commands
                .last_mut()
                .filter(|(i, _, c)| indent > *i && c.is_empty())
            {
                last.2 = comment.trim().to_owned();
            } else {
                commands.push((indent, String::new(), String::new())); // a heading
            }
            continue;
        }
        while command.ends_with('\\') {
            command.pop();
            match lines.next() {
                Some(next) => command.push_str(next.trim_start()),
                None => break,
            }
        }
        let (code, comment) = match command.split_once("  #") {
            Some((code, comment)) => (code.trim_end().to_owned(), comment.trim().to_owned()),
            None => (command.clone(), String::new()),
        };
        commands.push((indent, code, comment));
    }
    for (_, code, comment) in commands {
        let function = code
            .split_once("() {")
            .is_some_and(|(name, _)| is_name(name));
        let assigned = code
            .split_once("=$(")
            .map(|(name, _)| name)
            .filter(|name| is_name(name));
        if !code.starts_with("curl") && !function && assigned.is_none() {
            continue; // prose or a heading
        }
        script.push_str(&format!(
            "CMD={}\nPROMISE={}\n",
            quoted(&code),
            quoted(&comment)
        ));
        if comment.is_empty() {
            assert!(
                !code.starts_with("curl"),
                "a command that promises nothing: {code}"
            );
            script.push_str(&format!("out=''\n{code}\n"));
            continue;
        }
        let check = PROMISES
            .iter()
            .find(|(promise, _)| *promise == comment)
            .map(|(promise, check)| {
                used.push(*promise);
                *check
            })
            .unwrap_or_else(|| panic!("a promise the test does not check: {comment:?}"));
        match assigned {
            // An assignment's promise is about the value it keeps.
            Some(name) if !code.contains(';') => {
                script.push_str(&format!("out=''\n{code}\nout=\"${name}\"\n"))
            }
            _ => script.push_str(&format!("out=$({code})\n")),
        }
        script.push_str(check);
        script.push('\n');
    }
    script.push_str("echo WALKTHROUGH-OK\n");
    (script, used)
}

#[rocket::async_test]
async fn every_walkthrough_command_answers_as_its_comment_says() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(!support::in_ci(), "curl is required in CI");
        // Past the harness's output capture: a skip must not look like a pass.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (not a pass): the walkthrough test: curl is not installed"
        );
        return;
    }
    let served = Served::start("walk", |f| f).await;
    let (dir, base) = (served.dir.clone(), served.base.clone());

    let (script, used) = checking_script(&showcase::walkthrough(&base));
    for (promise, _) in PROMISES {
        assert!(
            used.contains(promise),
            "no command promises {promise:?} any more"
        );
    }
    let out = rocket::tokio::task::spawn_blocking({
        let dir = dir.clone();
        let base = base.clone();
        move || {
            Command::new("bash")
                .arg("-c")
                .arg(script)
                .env("WORKDIR", dir)
                .env("BASE", &base)
                .output()
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("{e}"));
    served.stop().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("WALKTHROUGH-OK"),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
}
