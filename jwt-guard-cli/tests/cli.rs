//! The `jwt-guard` binary against a real database (SQLite and PostgreSQL) and a
//! running app on the same database: what it mints the app accepts, what it revokes
//! the app refuses within the revocation bound, and every failure is one line.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use jwt_guard_tests::{eventually, json_body, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::{Method, Status};
use serde_json::{json, Value};

/// The binary, configured like the app: the same `jwt` table and database.
fn cli(database_url: &str) -> Command {
    let mut cmd = Command::cargo_bin("jwt-guard").unwrap_or_else(|e| panic!("{e}"));
    cmd.env(
        "ROCKET_JWT",
        format!("{{secret=\"{TEST_SECRET}\",revocation_poll=\"1s\"}}"),
    )
    .env(
        "ROCKET_DATABASES",
        format!("{{jwt_guard={{url=\"{database_url}\"}}}}"),
    )
    .env_remove("ROCKET_PROFILE")
    .current_dir(std::env::temp_dir());
    cmd
}

/// Runs `args` with `--json`; the exit code and the parsed output.
fn run_json(database_url: &str, args: &[&str]) -> (i32, Value) {
    let out = cli(database_url)
        .arg("--json")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), value)
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

async fn app_on(db: DbKind) -> Option<TestApp> {
    TestApp::on(
        db,
        json!({ "secret": TEST_SECRET, "revocation_poll": "1s" }),
    )
    .await
}

/// An operator lists a user's passkeys (no key material) and revokes one; a
/// passkey of another user is not found under this one.
async fn passkeys_are_listed_and_revoked(db: DbKind) {
    let Some(app) = app_on(db).await else {
        return;
    };
    jwt_guard::store::sqlx::query(
        "INSERT INTO jwt_guard_passkeys (credential_id, subject, user_handle, credential, \
         sign_count, backup_eligible, backup_state, transports, aaguid, label, created_at) \
         VALUES ('cred-1', 'alice', 'handle-1', '{\"secret\":\"material\"}', 0, 1, 1, \
         'internal hybrid', '00000000-0000-0000-0000-000000000000', 'laptop', 1)",
    )
    .execute(app.pool())
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let url = app.database_url.clone();
    let (code, listed) = run_json(&url, &["passkeys", "list", "alice"]);
    assert_eq!(code, 0, "{listed}");
    assert_eq!(listed[0]["id"], "cred-1");
    assert_eq!(listed[0]["label"], "laptop");
    assert_eq!(listed[0]["synced"], true);
    assert!(!listed.to_string().contains("material"), "{listed}");
    let (code, _) = run_json(&url, &["passkeys", "revoke", "bob", "cred-1"]);
    assert_eq!(code, 1, "bob has no such passkey");
    let (code, revoked) = run_json(&url, &["passkeys", "revoke", "alice", "cred-1"]);
    assert_eq!(code, 0, "{revoked}");
    assert_eq!(revoked["revoked_passkey"], "cred-1");
    let (_, listed) = run_json(&url, &["passkeys", "list", "alice"]);
    assert_eq!(listed, json!([]));
    app.finish().await;
}

storage_tests!(
    passkeys_are_listed_and_revoked,
    minted_tokens_are_accepted_and_inspected,
    revocations_reach_the_running_app,
    links_and_the_audit_log,
    signals_are_listed_newest_first,
);

/// `jwt-guard signals`: the logouts and security events received, newest first,
/// with what each ended — a digest of the subject, never the subject.
async fn signals_are_listed_newest_first(db: DbKind) {
    let Some(app) = app_on(db).await else {
        return;
    };
    for (jti, at, delivery, event, ended) in [
        ("j-1", 100, "backchannel_logout", "backchannel_logout", 2),
        ("j-2", 200, "ssf_push", "session_revoked", 1),
    ] {
        jwt_guard::store::sqlx::query(
            "INSERT INTO jwt_guard_signals (issuer, jti, received_at, keep_until, delivery, \
             event, subject_digest, sessions_ended) VALUES ('https://idp.example', $1, $2, $3, \
             $4, $5, 'digest', $6)",
        )
        .bind(jti)
        .bind(at)
        .bind(at + 300)
        .bind(delivery)
        .bind(event)
        .bind(ended)
        .execute(app.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let (code, listed) = run_json(&app.database_url, &["signals"]);
    assert_eq!(code, 0, "{listed}");
    assert_eq!(listed[0]["jti"], "j-2", "{listed}");
    assert_eq!(listed[0]["event"], "session_revoked");
    assert_eq!(listed[1]["sessions_ended"], 2);
    assert_eq!(listed[1]["delivery"], "backchannel_logout");
    let (code, one) = run_json(&app.database_url, &["signals", "--limit", "1"]);
    assert_eq!(code, 0);
    assert_eq!(one.as_array().map(Vec::len), Some(1), "{one}");
    app.finish().await;
}

async fn minted_tokens_are_accepted_and_inspected(db: DbKind) {
    let Some(app) = app_on(db).await else {
        return;
    };
    let url = app.database_url.clone();
    let (code, minted) = run_json(
        &url,
        &[
            "token",
            "mint",
            "--sub",
            "root",
            "--role",
            "admin",
            "--scope",
            "profile reports:read",
            "--ttl",
            "10m",
        ],
    );
    assert_eq!(code, 0, "{minted}");
    let token = s(&minted["token"]);
    assert_eq!(
        app.get_with_token("/admin/stats", &token).await.status(),
        Status::Ok,
        "the app accepts what the command mints"
    );
    let (code, report) = run_json(&url, &["token", "inspect", &token]);
    assert_eq!(code, 0);
    assert_eq!(report["valid"], true);
    assert_eq!(report["claims"]["sub"], "root");
    assert_eq!(report["header"]["alg"], "HS256");
    assert_eq!(report["revocations_checked"], true);
    // Offline: keys and times only, and it says so; no database is opened.
    let (code, report) = run_json(
        "sqlite:///nonexistent/dir/x.db",
        &["token", "inspect", "--offline", &token],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["valid"], true);
    assert_eq!(report["revocations_checked"], false);
    // The app's own claim names, one `--claim` each.
    let (code, minted) = run_json(
        &url,
        &[
            "token",
            "mint",
            "--sub",
            "root",
            "--claim",
            "tenant=acme",
            "--claim",
            "level=3",
        ],
    );
    assert_eq!(code, 0, "{minted}");
    let (_, report) = run_json(&url, &["token", "inspect", &s(&minted["token"])]);
    assert_eq!(report["claims"]["tenant"], "acme");
    assert_eq!(report["claims"]["level"], 3);

    // Invalid tokens: the reason, as the guard says it, and exit code 2.
    let tokens = app.tokens();
    for (token, reason) in [
        (tokens.expired("ann"), "token has expired"),
        (tokens.wrong_key("ann"), "token signature is invalid"),
        (tokens.tampered("ann"), "token signature is invalid"),
        (tokens.not_yet_valid("ann"), "token is not valid yet"),
    ] {
        let (code, report) = run_json(&url, &["token", "inspect", &token]);
        assert_eq!(code, 2, "{report}");
        assert_eq!(report["valid"], false);
        assert_eq!(s(&report["reason"]), reason, "{report}");
    }
    // A refresh token is inspected as what it is.
    let (code, report) = run_json(
        &url,
        &["token", "inspect", &tokens.refresh_as_access("ann")],
    );
    assert_eq!(
        (code, s(&report["kind"])),
        (0, "refresh".to_owned()),
        "{report}"
    );
    // Revoked in the database: the inspection says so.
    let login = app.login("alice").await;
    let access = s(&login["access"]);
    app.send_with_token(Method::Post, "/auth/logout", &access)
        .await;
    let (code, report) = run_json(&url, &["token", "inspect", &access]);
    assert_eq!(code, 2);
    assert_eq!(s(&report["reason"]), "token has been revoked");
    app.finish().await;
}

async fn revocations_reach_the_running_app(db: DbKind) {
    let Some(app) = app_on(db).await else {
        return;
    };
    let url = app.database_url.clone();
    let phone = app.login_as("alice", "phone").await;
    let laptop = app.login_as("alice", "laptop").await;
    let (code, devices) = run_json(&url, &["devices", "list", "alice"]);
    assert_eq!(code, 0);
    let names: Vec<String> = devices
        .as_array()
        .map(|a| a.iter().map(|d| s(&d["name"])).collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 2, "{devices}");
    // Revoke the phone from the command line: the running app refuses its token
    // within the revocation bound (`revocation_poll` = 1 s), through its poll.
    let (code, _) = run_json(&url, &["devices", "revoke", &s(&phone["device_id"])]);
    assert_eq!(code, 0);
    let phone_access = s(&phone["access"]);
    eventually(
        "device revoked by the command",
        Duration::from_secs(5),
        || async {
            app.get_with_token("/me", &phone_access).await.status() == Status::Unauthorized
        },
    )
    .await;
    let laptop_access = s(&laptop["access"]);
    assert_eq!(
        app.get_with_token("/me", &laptop_access).await.status(),
        Status::Ok
    );
    // One token by id, then the whole user.
    let (code, minted) = run_json(
        &url,
        &[
            "token", "mint", "--sub", "bob", "--role", "user", "--scope", "profile",
        ],
    );
    assert_eq!(code, 0);
    let bob = s(&minted["token"]);
    assert_eq!(app.get_with_token("/me", &bob).await.status(), Status::Ok);
    // A token minted by hand is not in the registry: its id alone is refused (a
    // mistyped id must not pass silently), the token itself is revoked.
    let out = cli(&url)
        .args(["revoke", "token", &s(&minted["jti"])])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass the token itself"));
    let (code, revoked) = run_json(&url, &["revoke", "token", &bob]);
    assert_eq!(code, 0, "{revoked}");
    assert_eq!(revoked["revoked_tokens"][0], minted["jti"]);
    eventually(
        "token revoked by the command",
        Duration::from_secs(5),
        || async { app.get_with_token("/me", &bob).await.status() == Status::Unauthorized },
    )
    .await;
    let (code, _) = run_json(&url, &["revoke", "user", "alice"]);
    assert_eq!(code, 0);
    // A mistyped user is an error; `--force` revokes one jwt-guard never saw.
    let out = cli(&url)
        .args(["revoke", "user", "alcie"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));
    let (code, _) = run_json(&url, &["revoke", "user", "alcie", "--force"]);
    assert_eq!(code, 0);
    eventually(
        "user revoked by the command",
        Duration::from_secs(5),
        || async {
            app.get_with_token("/me", &laptop_access).await.status() == Status::Unauthorized
        },
    )
    .await;
    // Unknown ids are a clear error.
    let out = cli(&url)
        .args(["devices", "revoke", "nosuchdevice"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no active device"));
    app.finish().await;
}

async fn links_and_the_audit_log(db: DbKind) {
    let Some(app) = app_on(db).await else {
        return;
    };
    let url = app.database_url.clone();
    let access = app.access_token("alice").await;
    let minted = json_body(
        app.send_with_token(Method::Post, "/links/unsubscribe", &access)
            .await,
    )
    .await;
    let link_url = s(&minted["url"]);
    let local = link_url[link_url.find("/newsletter").unwrap_or(0)..].to_owned();
    assert_eq!(
        app.client.get(local.clone()).dispatch().await.status(),
        Status::Ok
    );
    let (code, links) = run_json(&url, &["links", "list", "alice"]);
    assert_eq!(code, 0);
    let id = s(&links[0]["id"]);
    assert_eq!(links[0]["use_count"], 1, "{links}");
    let (code, uses) = run_json(&url, &["links", "uses", &id]);
    assert_eq!(code, 0);
    assert_eq!(uses[0]["outcome"], "used", "{uses}");
    // A second link, revoked from the command line, is gone for the app.
    let second = json_body(
        app.send_with_token(Method::Post, "/links/unsubscribe", &access)
            .await,
    )
    .await;
    let (code, links) = run_json(&url, &["links", "list", "alice"]);
    assert_eq!(code, 0);
    let newest = links
        .as_array()
        .and_then(|l| l.iter().map(|l| s(&l["id"])).find(|other| *other != id))
        .unwrap_or_default();
    assert!(!newest.is_empty(), "{links}");
    let (code, _) = run_json(&url, &["links", "revoke", &newest]);
    assert_eq!(code, 0);
    let second_url = s(&second["url"]);
    let second_local = second_url[second_url.find("/newsletter").unwrap_or(0)..].to_owned();
    assert_eq!(
        app.client.get(second_local).dispatch().await.status(),
        Status::Gone
    );

    let (code, events) = run_json(&url, &["audit", "--user", "alice", "--since", "1h"]);
    assert_eq!(code, 0);
    assert!(
        events
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["event"] == "login_succeeded")),
        "{events}"
    );
    let (code, report) = run_json(&url, &["archive"]);
    assert_eq!(code, 0);
    assert!(report["devices"].is_u64(), "{report}");
    app.finish().await;
}

#[test]
fn generated_keys_work_as_the_apps_keys() {
    use jwt_guard::config::JwtConfig;
    use jwt_guard::runtime::JwtRuntime;
    use jwt_guard::Clock;
    let dir = std::env::temp_dir().join(format!("jwt-guard-cli-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for (alg, algorithm) in [
        ("RS256", jsonwebtoken::Algorithm::RS256),
        ("ES256", jsonwebtoken::Algorithm::ES256),
        ("EdDSA", jsonwebtoken::Algorithm::EdDSA),
    ] {
        let path = dir.join(format!("{alg}.pem"));
        let out = cli("sqlite::memory:")
            .args(["keys", "generate", "--alg", alg, "--out"])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            assert_eq!(mode & 0o777, 0o600, "{alg}: owner-only");
        }
        // The app's own key loading (with its sign-and-verify probe) accepts it.
        let config = JwtConfig::asymmetric(algorithm, path.display().to_string());
        let runtime = JwtRuntime::new(config, Clock::system());
        assert!(runtime.is_ok(), "{alg}: {:?}", runtime.err());
        // And its public JWKS is what `keys jwks` prints for that configuration.
        let jwks = Command::cargo_bin("jwt-guard")
            .unwrap_or_else(|e| panic!("{e}"))
            .env(
                "ROCKET_JWT",
                format!("{{algorithm=\"{alg}\",private_key=\"{}\"}}", path.display()),
            )
            .args(["keys", "jwks"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let set: Value = serde_json::from_slice(&jwks.stdout).unwrap_or(Value::Null);
        assert_eq!(
            set["keys"].as_array().map(Vec::len),
            Some(1),
            "{alg}: {set}"
        );
        assert!(set["keys"][0].get("d").is_none(), "{alg}: no private part");
    }
    let out = cli("sqlite::memory:")
        .args(["keys", "generate", "--alg", "HS256"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(secret.len() >= 64, "{secret}");
    let config = JwtConfig::hmac(secret);
    assert!(JwtRuntime::new(config, Clock::system()).is_ok());
    let bad = cli("sqlite::memory:")
        .args(["keys", "generate", "--alg", "HS1"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn every_failure_is_one_clear_line() {
    let one_line = |cmd: &mut Command, needle: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(1), "{needle}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.starts_with("jwt-guard: error: ") && err.contains(needle),
            "{err}"
        );
    };
    let sqlite = format!(
        "sqlite://{}",
        std::env::temp_dir()
            .join("jwt-guard-cli-errors.db")
            .display()
    );
    one_line(
        cli(&sqlite)
            .env("ROCKET_JWT", "{algorithm=\"XX\"}")
            .args(["devices", "list", "a"]),
        "jwt.algorithm",
    );
    let started = Instant::now();
    one_line(
        cli("postgres://nobody:secret@127.0.0.1:1/none").args(["devices", "list", "a"]),
        "postgres://nobody:***@127.0.0.1:1/none",
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    one_line(
        cli(&sqlite).args(["token", "inspect", "garbage"]),
        "not a JWT",
    );
    one_line(
        cli(&sqlite).args(["token", "mint", "--sub", "a", "--claims", "{\"sub\":\"b\"}"]),
        "may not set `sub`",
    );
    one_line(
        cli(&sqlite).args(["audit", "--since", "yesterday"]),
        "--since",
    );
    let help = cli(&sqlite)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let help = String::from_utf8_lossy(&help.stdout);
    for sub in [
        "keys", "token", "devices", "revoke", "links", "audit", "signals", "archive",
    ] {
        assert!(help.contains(sub), "{sub} missing from --help");
    }
}

/// Where the command looked and what to write, when it finds no configuration;
/// a `ROCKET_JWT` that is no table; a typo with the key meant; `keys jwks` with
/// nothing to publish; a reader that closes the pipe early.
#[test]
fn what_a_newcomer_meets_is_said_with_what_to_do() {
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        )
    };
    let empty = std::env::temp_dir().join(format!("jwt-guard-cli-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{e}"));
    let bare = || {
        let mut cmd = Command::cargo_bin("jwt-guard").unwrap_or_else(|e| panic!("{e}"));
        cmd.env_remove("ROCKET_JWT")
            .env_remove("ROCKET_DATABASES")
            .env_remove("ROCKET_PROFILE")
            .env_remove("ROCKET_CONFIG")
            .current_dir(&empty);
        cmd
    };
    let (code, _, err) = run(bare().args(["devices", "list", "alice"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no jwt-guard configuration here"), "{err}");
    assert!(err.contains(&empty.display().to_string()), "{err}");
    assert!(
        err.contains("Rocket.toml") && err.contains("JwtGuard.toml"),
        "{err}"
    );
    assert!(!err.contains("missing field"), "{err}");

    let (code, _, err) = run(bare()
        .env(
            "ROCKET_JWT",
            "{secret=\"a secret of at least thirty-two bytes!\"",
        )
        .args(["keys", "jwks"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("ROCKET_JWT is not a TOML table"), "{err}");

    let (code, _, err) = run(bare()
        .env("ROCKET_JWT", "{acess_ttl=\"5m\"}")
        .args(["keys", "jwks"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("jwt.acess_ttl is no setting; did you mean `access_ttl`?"),
        "{err}"
    );
    assert!(err.contains("(in ROCKET_JWT)"), "{err}");
    assert!(!err.contains("set e.g."), "{err}");

    let hmac = "{secret=\"a secret of at least thirty-two bytes!\"}";
    let (code, out, err) = run(bare().env("ROCKET_JWT", hmac).args(["keys", "jwks"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no public keys") && err.contains("HMAC"),
        "{err}"
    );

    // A reader that went away (`jwt-guard audit | head -1` once it has its line):
    // stdout is a pipe whose reading end is already closed, so every write fails
    // with a broken pipe. The command ends quietly, with success.
    for args in [
        &["keys", "generate", "--alg", "HS256"][..],
        &["--json", "keys", "generate", "--alg", "ES256"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("{e}"));
        drop(reader);
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("jwt-guard"))
            .args(args)
            .env_remove("ROCKET_JWT")
            .env_remove("ROCKET_DATABASES")
            .current_dir(&empty)
            .stdout(writer)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn mistakes_an_operator_makes_are_refused_with_their_cause() {
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        )
    };
    // A mistyped SQLite path creates no empty database that answers "(none)".
    let missing =
        std::env::temp_dir().join(format!("jwt-guard-cli-missing-{}", std::process::id()));
    let url = format!("sqlite://{}/app.db", missing.display());
    let (code, err) = run(cli(&url).args(["devices", "list", "alice"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no database at"), "{err}");
    assert!(!missing.exists(), "nothing was created");
    // The cause of a refused connection, not only "timed out".
    let (code, err) = run(cli("postgres://nobody:secret@127.0.0.1:1/none").args(["archive"]));
    assert_eq!(code, Some(1));
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    // A token may not outlive what a revocation covers (`max_minted_ttl`, by
    // default the refresh window: 7 days).
    let (code, err) =
        run(cli("sqlite::memory:").args(["token", "mint", "--sub", "a", "--ttl", "30d"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("max_minted_ttl"), "{err}");
    // Durations need their unit.
    let (code, err) =
        run(cli("sqlite::memory:").args(["token", "mint", "--sub", "a", "--ttl", "15"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("no unit"), "{err}");
    // An HMAC secret is not written as a PEM key.
    let pem = std::env::temp_dir().join(format!("jwt-guard-cli-{}.pem", std::process::id()));
    let (code, err) = run(cli("sqlite::memory:").args([
        "keys",
        "generate",
        "--alg",
        "HS256",
        "--out",
        &pem.display().to_string(),
    ]));
    assert_eq!(code, Some(1));
    assert!(err.contains("not a PEM key"), "{err}");
    assert!(!pem.exists());
}

#[test]
fn a_deployment_file_beside_the_app_is_found_with_no_flags() {
    let dir = std::env::temp_dir().join(format!("jwt-guard-cli-deployment-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("app.jwt-secret"), format!("{TEST_SECRET}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("app.db"), b"").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("JwtGuard.toml"),
        "[default.databases.jwt_guard]\nurl = \"sqlite://app.db\"\n\n\
         [default.jwt]\nsecret_file = \"app.jwt-secret\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::cargo_bin("jwt-guard")
        .unwrap_or_else(|e| panic!("{e}"))
        .env_remove("ROCKET_JWT")
        .env_remove("ROCKET_DATABASES")
        .env_remove("ROCKET_PROFILE")
        .current_dir(&dir)
        .args(["--json", "devices", "list", "nobody"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in for an app binary: a script that prints `doc` for `--print-openapi`.
fn fake_app(name: &str, doc: &Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jwt-guard-openapi-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let json = dir.join("doc.json");
    std::fs::write(&json, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let script = dir.join("app");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = --print-openapi ] || exit 3\ncat '{}'\n",
            json.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    script
}

/// `jwt-guard openapi --app`: runs the binary with `--print-openapi`, passes the
/// document on, and fails naming every route without a jwt-guard attribute.
#[test]
fn openapi_reads_the_app_binary_and_names_undeclared_routes() {
    let declared = json!({
        "openapi": "3.1.0", "info": { "title": "t", "version": "1" },
        "paths": { "/me": { "get": { "security": [{ "bearer": [] }],
            "x-jwt-guard": { "protection": "jwt" } } } },
    });
    let out = cli("sqlite::memory:")
        .args(["openapi", "--app"])
        .arg(fake_app("declared", &declared))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(printed, declared);

    let mut open = declared.clone();
    open["paths"]["/debug"] = json!({ "post": { "x-jwt-guard": { "protection": "undeclared" } } });
    let out = cli("sqlite::memory:")
        .args(["openapi", "--app"])
        .arg(fake_app("undeclared", &open))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("POST /debug") && stderr.lines().count() == 1,
        "{stderr}"
    );

    let out = cli("sqlite::memory:")
        .args(["openapi", "--app", "/nonexistent/app"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/app"));
}
