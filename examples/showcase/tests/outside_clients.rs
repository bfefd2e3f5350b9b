//! Clients written by others judge the showcase, each installed by `.ci/run`
//! into the build's own environments (`target/pyclients` for Python): a test
//! where both sides are our code could share a misunderstanding of a standard.
//! Outside CI, a client that is not installed is skipped with a printed reason.

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::served::Served;

/// The Python environment holding the outside clients
/// (`examples/showcase/tests/clients/requirements.txt`).
fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("JWT_GUARD_PYCLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyclients")
        });
    let python = venv.join("bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        !support::in_ci(),
        "CI must run the outside clients: .ci/run installs them into {}",
        venv.display()
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED (not a pass): outside clients are not installed in {} \
         (python3 -m venv target/pyclients && target/pyclients/bin/pip install -r \
         examples/showcase/tests/clients/requirements.txt)",
        venv.display()
    );
    None
}

/// The Node.js clients' directory (`npm install`ed from
/// `examples/showcase/tests/clients/package.json`), where their scripts run:
/// ES modules resolve packages from the script's own directory.
fn node_clients() -> Option<PathBuf> {
    let dir = std::env::var_os("JWT_GUARD_NODE_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/node-clients")
        });
    let installed = dir.join("node_modules/oauth4webapi").exists();
    if installed && Command::new("node").arg("--version").output().is_ok() {
        return Some(dir);
    }
    assert!(
        !support::in_ci(),
        "CI must run the Node.js clients: .ci/run installs them into {}",
        dir.display()
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED (not a pass): Node.js clients are not installed in {} \
         (cp examples/showcase/tests/clients/package.json {0} && npm install --prefix {0})",
        dir.display()
    );
    None
}

/// Runs the Node.js client `script` (copied next to its packages) with `args`;
/// its one line of JSON.
async fn run_node(dir: PathBuf, script: &str, args: Vec<String>) -> Value {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let copy = dir.join(script);
    std::fs::copy(&source, &copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    let mut command = Command::new("node");
    command.arg(copy).args(args);
    json_line_of(script, command).await
}

/// Runs `script` (in `tests/clients/`) with `args`; its one line of JSON.
async fn run(python: PathBuf, script: &str, args: Vec<String>) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let mut command = Command::new(python);
    command.arg(path).args(args);
    json_line_of(script, command).await
}

/// Runs a client's `command` (off the async runtime) to success; the one line
/// of JSON it printed last.
async fn json_line_of(script: &str, mut command: Command) -> Value {
    let out = rocket::tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}"))
}

/// The official MCP Python SDK (`mcp`, Streamable HTTP) checks RFC 9728 §3.3
/// from `/me` and from `/mcp`, does the MCP authorization dance by itself and
/// then talks MCP: 401 → RFC 9728 metadata
/// (its `resource` checked) → RFC 8414 metadata of the partner → a
/// `client_credentials` token for the resource → `initialize` (2025-11-25) →
/// `tools/list` → `tools/call`; an unknown tool is a protocol error; a tool that
/// needs `orders:read` answers 403 `insufficient_scope`, and the SDK steps up —
/// which a client that may not have the scope cannot.
#[rocket::async_test]
async fn the_official_mcp_sdk_finds_its_way_in_and_calls_tools() {
    let Some(python) = python() else {
        return;
    };
    let served = Served::start("mcp-sdk", |f| f).await;
    let base = served.base.clone();
    let found = run(python, "mcp_client.py", vec![base.clone()]).await;
    served.stop().await;

    // RFC 9728 §3.3, checked by the SDK's own functions from `/me` and `/mcp`:
    // each names the metadata of the resource it belongs to, whose `resource`
    // is the URL called or a prefix of it.
    for (key, resource) in [
        ("me", base.clone()),
        ("mcp_resource", format!("{base}/mcp")),
    ] {
        let check = &found[key];
        assert_eq!(check["status"], 401, "{key}: {check}");
        assert_eq!(check["allowed"], true, "{key}: {check}");
        assert_eq!(
            check["resource"].as_str().map(|r| r.trim_end_matches('/')),
            Some(resource.as_str()),
            "{key}: {check}"
        );
    }
    let full = &found["full"];
    assert!(full.get("error").is_none(), "{full}");
    let requests: Vec<&str> = full["requests"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        requests.get(..4),
        Some(
            &[
                "POST /mcp 401",
                "GET /.well-known/oauth-protected-resource/mcp 200",
                "GET /.well-known/oauth-authorization-server/partner 200",
                "POST /partner/token 200",
            ][..]
        ),
        "{requests:?}"
    );
    assert_eq!(full["server"], "jwt-guard showcase");
    assert_eq!(full["protocol"], "2025-11-25");
    assert_eq!(full["tools"], serde_json::json!(["whoami", "orders.list"]));
    assert_eq!(full["whoami"]["sub"], "mcp-demo");
    assert_eq!(full["whoami"]["iss"], format!("{base}/partner"));
    assert_eq!(full["unknown_tool_error"], -32602);
    // The step-up: a 403 on the orders tool, a new token with both scopes, the call.
    let step_up = requests
        .windows(2)
        .any(|w| w == ["POST /mcp 403", "POST /partner/token 200"]);
    assert!(step_up, "{requests:?}");
    assert_eq!(full["granted_scope"], "mcp:tools orders:read");
    assert_eq!(full["orders"]["owner"], "mcp-demo");
    assert_eq!(full["orders"]["orders"].as_array().map(Vec::len), Some(2));

    let limited = &found["limited"];
    assert_eq!(limited["whoami"]["sub"], "mcp-limited");
    assert!(limited.get("orders").is_none(), "{limited}");
    let error = limited["error"].as_str().unwrap_or_default();
    assert!(error.contains("invalid_scope"), "{limited}");
}

/// PyJWT's `PyJWKClient` verifies the showcase's access tokens from its
/// `/.well-known/jwks.json` for RS256, ES256 and EdDSA: it finds the key by
/// `kid`, checks the signature and the audience, and refuses a token with one
/// signature character changed.
#[rocket::async_test]
async fn pyjwt_verifies_tokens_from_the_jwks() {
    let Some(python) = python() else {
        return;
    };
    let keys = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/keys");
    for (algorithm, key) in [
        ("RS256", "rsa.pem"),
        ("ES256", "ec256.pem"),
        ("EdDSA", "ed25519.pem"),
    ] {
        let private_key = keys.join(key).display().to_string();
        let served = Served::start(&format!("pyjwt-{algorithm}"), |f| {
            f.merge(("jwt.algorithm", algorithm))
                .merge(("jwt.private_key", private_key))
        })
        .await;
        let base = served.base.clone();
        let login = reqwest::Client::new()
            .post(served.url("/auth/token"))
            .json(&serde_json::json!({ "username": "alice", "password": "alice-password" }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(login.status().as_u16(), 200, "{algorithm}");
        let body: Value = login.json().await.unwrap_or(Value::Null);
        let access = body["access"].as_str().unwrap_or_default().to_owned();
        let found = run(
            python.clone(),
            "pyjwt_client.py",
            vec![base.clone(), algorithm.to_owned(), access],
        )
        .await;
        served.stop().await;
        assert_eq!(found["claims"]["sub"], "alice", "{algorithm}: {found}");
        assert_eq!(
            found["claims"]["aud"],
            base.as_str(),
            "{algorithm}: {found}"
        );
        assert_eq!(found["header"]["alg"], algorithm, "{found}");
        assert_eq!(found["kid"], found["header"]["kid"], "{found}");
        assert_eq!(found["tampered_rejected"], true, "{algorithm}: {found}");
        assert_eq!(
            found["other_audience_rejected"], true,
            "{algorithm}: {found}"
        );
    }
}

/// panva's `oauth4webapi` (with `jose`) makes every DPoP proof (RFC 9449): a
/// login bound to its key (§5), resource requests with `ath` (§7), refresh with
/// the binding kept; the bound token is refused as Bearer and with another key's
/// proof, and so is the refresh token — with server nonces off and on (§8: the
/// library caches `DPoP-Nonce` and retries as its documentation says).
#[rocket::async_test]
async fn oauth4webapi_makes_the_dpop_proofs() {
    let Some(dir) = node_clients() else {
        return;
    };
    for nonce in [false, true] {
        let served = Served::start(&format!("dpop-{nonce}"), |f| {
            f.merge(("jwt.dpop.nonce", nonce))
        })
        .await;
        let mut args = vec![served.base.clone()];
        if nonce {
            args.push("nonce".into());
        }
        let found = run_node(dir.clone(), "dpop_client.mjs", args).await;
        served.stop().await;
        let says = |key: &str| found[key].clone();
        // With nonces on, the server asked at least once (§8) and the retry passed.
        let retries = says("nonceRetries").as_u64().unwrap_or(0);
        assert_eq!(retries > 0, nonce, "{found}");
        assert_eq!(says("login")["status"], 200, "{found}");
        assert_eq!(says("login")["token_type"], "DPoP", "{found}");
        assert_eq!(says("bound"), true, "{found}");
        assert_eq!(says("me"), 200, "{found}");
        assert_eq!(says("asBearer"), 401, "{found}");
        assert_eq!(says("otherKey"), 401, "{found}");
        assert_eq!(says("refresh")["status"], 200, "{found}");
        assert_eq!(says("refresh")["token_type"], "DPoP", "{found}");
        assert_eq!(says("refreshBound"), true, "{found}");
        assert_eq!(says("refreshedMe"), 200, "{found}");
        let thief = says("refreshOtherKey");
        assert!(
            thief["status"]
                .as_u64()
                .is_some_and(|s| s == 400 || s == 401),
            "{found}"
        );
        assert_ne!(thief["error"], Value::Null, "{found}");
    }
}

/// schemathesis (`--checks all`) fuzzes every operation of the showcase's own
/// `/openapi.json` — bodies, parameters, undeclared methods, credentials left
/// out or wrong — with each route's credentials supplied the way a client gets
/// them (`clients/schemathesis_hooks.py`): 0 failures. A fixed seed keeps the
/// run repeatable; the login budgets are raised for it, since thousands of
/// sign-ins from one address are what they exist to stop. Exclusions, each with
/// its reason: `clients/schemathesis.toml`.
#[rocket::async_test]
async fn schemathesis_finds_no_failure() {
    let Some(python) = python() else {
        return;
    };
    let schemathesis = python.with_file_name("schemathesis");
    let served = Served::start("schemathesis", |f| {
        f.merge(("jwt.login_throttle.ip_attempts", 1_000_000))
            .merge(("jwt.login_throttle.account_attempts", 1_000_000))
    })
    .await;
    let clients = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    // The exclusions, each with its reason (a check that cannot apply).
    let config = clients.join("schemathesis.toml");
    let (base, dir) = (served.base.clone(), served.dir.clone());
    let out = rocket::tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .arg("--config-file")
            .arg(config)
            .args(["run", &format!("{base}/openapi.json")])
            .args([
                "--checks",
                "all",
                "--seed",
                "20261206",
                "--max-examples",
                "40",
            ])
            .args(["--max-time", "90"])
            .arg("--no-color")
            // Its example database lives in the run's own directory.
            .current_dir(dir)
            .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
            .env("PYTHONPATH", clients)
            .env("SHOWCASE_BASE", base)
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("schemathesis: {e}"));
    served.stop().await;
    let report = String::from_utf8_lossy(&out.stdout);
    let summary = report.rsplit("SUMMARY").next().unwrap_or_default();
    println!("{summary}");
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It reached the operations (not, say, an empty document).
    let tested: u32 = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(tested >= 40, "{summary}");
}

/// An identity provider's signals as another implementation makes them: PyJWT
/// signs an OpenID Connect Back-Channel Logout token and a CAEP session-revoked
/// Security Event Token with the demo partner's key, and Python's standard
/// library sends them as a provider does (a form post; an RFC 8935 push with the
/// bearer credential). The partner login's session ends and the partner's own
/// token of the user is refused; a replay, a tampered event and a push without
/// the credential are refused with the standards' answers.
#[rocket::async_test]
async fn pyjwt_signals_end_a_partner_login() {
    let Some(python) = python() else {
        return;
    };
    let served = Served::start("signals", |f| f).await;
    let http = reqwest::Client::new();
    let partner: Value = http
        .post(served.url("/partner/demo-token"))
        .json(&serde_json::json!({ "sub": "pyjwt-user" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or(Value::Null);
    let partner = partner["access"].as_str().unwrap_or_default().to_owned();
    let login: Value = http
        .post(served.url("/partner/login"))
        .bearer_auth(&partner)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or(Value::Null);
    let session = login["access"].as_str().unwrap_or_default().to_owned();
    let status = |path: &'static str, token: String| {
        let request = http.get(served.url(path)).bearer_auth(token);
        async move {
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert_eq!(status("/me", session.clone()).await, 200);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("partner");
    let jwks: Value = serde_json::from_str(showcase::DEMO_PARTNER_JWKS).unwrap_or(Value::Null);
    let kid = jwks["keys"][0]["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let sent = run(
        python,
        "signals_sender.py",
        vec![
            served.base.clone(),
            dir.join("demo-partner-key.pem").display().to_string(),
            kid,
            showcase::DEMO_LOGOUT_CLIENT.to_owned(),
            served.base.clone(),
            showcase::DEMO_SSF_PUSH_TOKEN.to_owned(),
            "pyjwt-user".to_owned(),
        ],
    )
    .await;
    assert_eq!(sent["logout"], 200, "{sent}");
    assert_eq!(sent["logout_cache_control"], "no-store", "{sent}");
    assert_eq!(sent["replay"], 400, "{sent}");
    assert_eq!(sent["replay_error"], "invalid_request", "{sent}");
    assert_eq!(sent["pushed"], 202, "{sent}");
    assert_eq!(sent["tampered"], 400, "{sent}");
    assert_eq!(sent["tampered_err"], "invalid_request", "{sent}");
    assert_eq!(sent["anonymous"], 401, "{sent}");
    assert_eq!(sent["anonymous_err"], "authentication_failed", "{sent}");
    assert_eq!(
        status("/me", session).await,
        401,
        "the partner login's session"
    );
    assert_eq!(
        status("/partner/me", partner).await,
        401,
        "the partner's own token"
    );
    served.stop().await;
}
