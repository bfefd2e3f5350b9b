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
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/auth/token"))
        .json(&json!({ "username": "alice", "password": "alice-password" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(login.status().as_u16(), 200);
    assert!(
        dir.join("showcase.sqlite").exists(),
        "SQLite, in the working directory"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// README "Tokens from outside": the command that points the showcase at a real
/// provider launches, keeps the other defaults, and takes that provider's tokens
/// at `/partner/me` — the provider here being another showcase's demo partner
/// (its issuer, a JWKS URL it serves).
#[rocket::async_test]
async fn the_provider_command_launches_and_takes_the_providers_tokens() {
    let readme = include_str!("../../../README.md");
    let start_at = readme
        .find("ROCKET_JWT='{trusted_issuers=")
        .unwrap_or_else(|| panic!("the README's provider command is gone"));
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
    let login = http
        .post(format!("{base}/auth/token"))
        .json(&json!({ "username": "alice", "password": "alice-password" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(login.status().as_u16(), 200);
    provider.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
