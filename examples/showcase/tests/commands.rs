//! The README's commands that start the showcase, run as a person would run
//! them: the binary `cargo run -p showcase` starts (in a directory of its own,
//! on a free port instead of 8000), and the command that points the showcase at
//! a real provider — read from the README itself, its placeholders filled with a
//! provider that is really there (another showcase's demo partner).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::served::{free_port, Served};

/// The showcase binary running, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the showcase binary in `dir` on `port` with `env`; what it printed
/// once it listens (its output goes to files in `dir`: a pipe nobody drains
/// would stop it).
async fn start(dir: &std::path::Path, port: u16, env: &[(&str, String)]) -> (Running, String) {
    let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
    let child = Command::new(env!("CARGO_BIN_EXE_showcase"))
        .current_dir(dir)
        .env("ROCKET_PORT", port.to_string())
        .env_remove("ROCKET_PROFILE")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::from(file("out.log")))
        .stderr(Stdio::from(file("err.log")))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let running = Running(child);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    // Up to a minute: the first run hashes the demo users' passwords (argon2).
    for _ in 0..600 {
        let printed = read("out.log");
        if printed.contains("Rocket has launched") {
            return (running, printed);
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the showcase did not start:\n{}\n{}",
        read("out.log"),
        read("err.log")
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("showcase-cmd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// The status of a demo user's password login at the showcase at `base`.
async fn alice_signs_in(base: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/auth/token"))
        .json(&json!({ "username": "alice", "password": "alice-password" }))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// README "The two commands": `cargo run -p showcase` serves on SQLite with the
/// demo users, its database and secret in the directory it runs in, and prints
/// the walkthrough with its real address.
#[rocket::async_test]
async fn the_showcase_command_serves_as_the_readme_says() {
    let readme = include_str!("../../../README.md");
    assert!(readme.contains("cargo run -p showcase"));
    let dir = temp_dir("run");
    let port = free_port();
    let (_running, printed) = start(&dir, port, &[]).await;
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        printed.contains(&format!("jwt-guard showcase at {base}")),
        "{printed}"
    );
    assert_eq!(alice_signs_in(&base).await, 200);
    assert!(
        dir.join("showcase.sqlite").exists(),
        "SQLite, in the working directory"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The outside-providers guide: the command that points the showcase at a real
/// provider launches, keeps the other defaults, and takes that provider's tokens
/// at `/partner/me` — the provider here being another showcase's demo partner
/// (its issuer, a JWKS URL it serves).
#[rocket::async_test]
async fn the_provider_command_launches_and_takes_the_providers_tokens() {
    let readme = include_str!("../../../docs/guides/outside-providers.md");
    let start_at = readme
        .find("ROCKET_JWT='{trusted_issuers=")
        .unwrap_or_else(|| panic!("the guide's provider command is gone"));
    let command = &readme[start_at + "ROCKET_JWT='".len()..];
    let template = &command[..command.find('\'').unwrap_or(command.len())];
    assert_eq!(template.matches('…').count(), 3, "{template}");

    let provider = Served::start("provider", |f| f).await;
    let issuer = format!("{}/partner", provider.base);
    let audience = "https://api.example/partner-audience";
    let jwks_url = format!("{}/partner/jwks.json", provider.base);
    let mut filled = template.to_owned();
    for value in [issuer.as_str(), audience, jwks_url.as_str()] {
        filled = filled.replacen('…', value, 1);
    }
    let dir = temp_dir("provider");
    let port = free_port();
    let (_running, _) = start(&dir, port, &[("ROCKET_JWT", filled)]).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    // A token of the provider, for this audience.
    let token: Value = http
        .post(provider.url("/partner/demo-token"))
        .json(&json!({ "sub": "pat", "aud": audience }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or(Value::Null);
    let access = token["access"].as_str().unwrap_or_default();
    let me = http
        .get(format!("{base}/partner/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(me.status().as_u16(), 200);
    let me: Value = me.json().await.unwrap_or(Value::Null);
    assert_eq!(me["iss"], issuer.as_str());
    // The other defaults stay: the demo users sign in.
    assert_eq!(alice_signs_in(&base).await, 200);
    provider.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README block after `marker`: its command lines, comments dropped.
fn readme_block(marker: &str) -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let after = readme
        .split_once(marker)
        .map(|(_, after)| after)
        .unwrap_or_else(|| panic!("the README has no block marked {marker}"));
    after
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| {
            l.split_once("  #")
                .map_or(l, |(code, _)| code)
                .trim()
                .to_owned()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// README "The two commands", on PostgreSQL: `createdb showcase`, then the
/// showcase with `ROCKET_DATABASES` naming it — as written, with a database name
/// of the test's own and the test server's address (`JWT_GUARD_TEST_POSTGRES`).
#[rocket::async_test]
async fn the_postgres_commands_run_as_the_readme_says() {
    let lines = readme_block("(the PostgreSQL run");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let server = std::env::var("JWT_GUARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let (host, port) = server
        .split_once('@')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|hp| hp.split_once(':').or(Some((hp, "5432"))))
        .unwrap_or(("127.0.0.1", "5432"));
    let name = format!("showcase_readme_{}", std::process::id());
    // Line 1: `createdb showcase`, with the test's database name, reaching the
    // test server through libpq's own variables.
    let createdb: Vec<String> = lines[0]
        .split_whitespace()
        .map(|w| {
            if w == "showcase" {
                name.clone()
            } else {
                w.to_owned()
            }
        })
        .collect();
    assert_eq!(createdb[0], "createdb", "{lines:?}");
    let pg_env = [("PGHOST", host), ("PGPORT", port), ("PGUSER", "postgres")];
    let created = Command::new(&createdb[0])
        .args(&createdb[1..])
        .envs(pg_env)
        .output();
    match created {
        Ok(out) if out.status.success() => {}
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).to_string(),
                Err(e) => e.to_string(),
            };
            assert!(!support::in_ci(), "createdb failed in CI: {why}");
            eprintln!("SKIPPED (not a pass): no PostgreSQL server to create a database on: {why}");
            return;
        }
    }
    // Line 2: `ROCKET_DATABASES='…' cargo run -p showcase`: the binary with that
    // variable, its database name and address the test's.
    let (assignment, command) = lines[1]
        .split_once(' ')
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(command.trim(), "cargo run -p showcase", "{lines:?}");
    let value = assignment
        .strip_prefix("ROCKET_DATABASES='")
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{assignment}"));
    let value = value
        .replace("127.0.0.1/showcase", &format!("{host}:{port}/{name}"))
        .replace("/showcase\"", &format!("/{name}\""));
    assert!(value.contains(&name), "{value}");
    let dir = temp_dir("postgres");
    let listen = free_port();
    let (running, _) = start(&dir, listen, &[("ROCKET_DATABASES", value)]).await;
    assert_eq!(
        alice_signs_in(&format!("http://127.0.0.1:{listen}")).await,
        200
    );
    assert!(
        !dir.join("showcase.sqlite").exists(),
        "no SQLite file on PostgreSQL"
    );
    drop(running);
    let _ = Command::new("dropdb")
        .args(["--force", &name])
        .envs(pg_env)
        .status();
    let _ = std::fs::remove_dir_all(&dir);
}

/// README "A resource server": the showcase, the resource server started in its
/// own directory, a partner token from the third line, the fourth line's call —
/// as written, on ports of the test's choosing (the resource server's own
/// `Rocket.toml`, copied with the showcase's port in its issuer and its own port).
#[rocket::async_test]
async fn the_resource_server_commands_run_as_the_readme_says() {
    let lines = readme_block("(both servers started as written");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], "cargo run -p showcase");
    assert_eq!(lines[1], "cd examples/resource-server && cargo run");
    let showcase_dir = temp_dir("rs-showcase");
    let showcase_port = free_port();
    let (_showcase, _) = start(&showcase_dir, showcase_port, &[]).await;
    // The resource server as `cargo run` starts it in its directory: its
    // Rocket.toml and JWKS file, with the ports moved.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../resource-server");
    let dir = temp_dir("rs");
    let toml = std::fs::read_to_string(example.join("Rocket.toml")).unwrap_or_default();
    assert!(toml.contains("http://127.0.0.1:8000/partner") && toml.contains("port = 8100"));
    let rs_port = free_port();
    let toml = toml
        .replace("127.0.0.1:8000", &format!("127.0.0.1:{showcase_port}"))
        .replace("port = 8100", &format!("port = {rs_port}"));
    std::fs::write(dir.join("Rocket.toml"), toml).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        example.join("partner-jwks.json"),
        dir.join("partner-jwks.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let target = std::path::Path::new(env!("CARGO_BIN_EXE_showcase"))
        .parent()
        .map(|d| d.join("resource-server"))
        .unwrap_or_default();
    if !target.exists() {
        assert!(!support::in_ci(), "CI builds the resource server");
        eprintln!("SKIPPED (not a pass): {} is not built", target.display());
        return;
    }
    let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
    let _rs = Running(
        Command::new(&target)
            .current_dir(&dir)
            .env_remove("ROCKET_PROFILE")
            .env_remove("ROCKET_JWT")
            .stdout(Stdio::from(log("out.log")))
            .stderr(Stdio::from(log("err.log")))
            .spawn()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    for _ in 0..300 {
        if std::fs::read_to_string(dir.join("out.log"))
            .is_ok_and(|o| o.contains("Rocket has launched"))
        {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Lines 3 and 4 with curl, as written; `eyJ…` is what line 3 printed.
    let moved = |line: &str| {
        line.replace("127.0.0.1:8000", &format!("127.0.0.1:{showcase_port}"))
            .replace("127.0.0.1:8100", &format!("127.0.0.1:{rs_port}"))
    };
    let sh = |line: String| {
        let out = Command::new("bash")
            .args(["-c", &line])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let minted: Value = serde_json::from_str(&sh(moved(&lines[2]))).unwrap_or(Value::Null);
    let token = minted["access"].as_str().unwrap_or_default();
    assert!(token.starts_with("eyJ"), "{minted}");
    let called = sh(moved(&lines[3]).replace("eyJ…", token));
    assert!(called.starts_with("HTTP/1.1 200"), "{called}");
    assert!(called.contains("\"customer\":\"pat\""), "{called}");
    // Its own claims, as the README says: no keys of its own to publish.
    let jwks = sh(format!(
        "curl -s -i http://127.0.0.1:{rs_port}/.well-known/jwks.json"
    ));
    assert!(jwks.starts_with("HTTP/1.1 404"), "{jwks}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&showcase_dir);
}

/// Runs the showcase binary in a fresh directory with `env` until it exits (it
/// must: each case here stops launch); its exit code and all it printed.
fn launch_failure(name: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = temp_dir(name);
    let out = Command::new(env!("CARGO_BIN_EXE_showcase"))
        .current_dir(&dir)
        .env_remove("ROCKET_PROFILE")
        .env_remove("ROCKET_JWT")
        .env_remove("ROCKET_DATABASES")
        .env("ROCKET_CLI_COLORS", "false")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), said)
}

/// Launch failures a newcomer meets say what went wrong, once, and what to do:
/// a port in use, a `ROCKET_JWT` that is no table, a misspelt setting, and
/// database URLs that cannot work (a misspelt scheme, a bare path, a missing
/// folder, a refused connection, a database that does not exist).
#[test]
fn launch_failures_say_what_to_do() {
    let check = |name: &str, env: &[(&str, &str)], needles: &[&str]| {
        let (code, said) = launch_failure(name, env);
        assert_eq!(code, Some(1), "{name}: {said}");
        for needle in needles {
            assert!(said.contains(needle), "{name}: no `{needle}` in:\n{said}");
        }
        assert!(!said.contains("panicked"), "{name}: {said}");
        assert!(!said.contains("set e.g."), "{name}: {said}");
        said
    };
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = taken
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_default()
        .to_string();
    check(
        "port",
        &[("ROCKET_PORT", &port)],
        &["cannot listen", "another server", "ROCKET_PORT="],
    );
    drop(taken);
    check(
        "env",
        &[("ROCKET_JWT", "{access_ttl=\"1m\"")],
        &["ROCKET_JWT is not a TOML table"],
    );
    check(
        "typo",
        &[("ROCKET_JWT", "{acess_ttl=\"5m\"}")],
        &[
            "jwt.acess_ttl is no setting; did you mean `access_ttl`?",
            "(in ROCKET_JWT)",
        ],
    );
    let db = |url: &str| format!("{{jwt_guard={{url=\"{url}\"}}}}");
    let said = check(
        "scheme",
        &[("ROCKET_DATABASES", &db("postgress://postgres@127.0.0.1/x"))],
        &[
            "`postgress:` is no database",
            "did you mean `postgres://postgres@127.0.0.1/x`?",
        ],
    );
    assert_eq!(
        said.matches("is no database").count(),
        1,
        "said once: {said}"
    );
    check(
        "bare",
        &[("ROCKET_DATABASES", &db("showcase.db"))],
        &["sqlite://showcase.db"],
    );
    check(
        "folder",
        &[(
            "ROCKET_DATABASES",
            &db("sqlite://no/such/folder/showcase.db"),
        )],
        &["the folder `no/such/folder` does not exist", "mkdir -p"],
    );
    check(
        "refused",
        &[(
            "ROCKET_DATABASES",
            &db("postgres://postgres:hunter2@127.0.0.1:1/showcase"),
        )],
        &["refused", "is the server running"],
    );
    let (_, said) = launch_failure(
        "refused-password",
        &[(
            "ROCKET_DATABASES",
            &db("postgres://postgres:hunter2@127.0.0.1:1/showcase"),
        )],
    );
    assert!(
        !said.contains("hunter2"),
        "the password is never shown: {said}"
    );
    // A database that does not exist, on a server that does.
    let server = std::env::var("JWT_GUARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let missing = server
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/jwt_guard_no_such_database"))
        .unwrap_or_default();
    let (code, said) = launch_failure("nodb", &[("ROCKET_DATABASES", &db(&missing))]);
    if said.contains("refused") {
        assert!(!support::in_ci(), "no PostgreSQL server in CI: {said}");
        eprintln!("SKIPPED (not a pass): no PostgreSQL server for the missing-database case");
        return;
    }
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("createdb jwt_guard_no_such_database"),
        "{said}"
    );
}
