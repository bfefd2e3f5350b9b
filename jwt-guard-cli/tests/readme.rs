//! The READMEs' shell commands are a contract. Every ```` ```sh ```` block of the
//! root README and the crate READMEs carries a marker on the line above it:
//! `<!-- command test: <file> -->` names the test file that runs it, and
//! `<!-- not run: <reason> -->` says why no test can. The `jwt-guard` blocks are
//! run here, line by line, against the built binary and a real database, with
//! their placeholders (`…`, `eyJ…`, `<device-id>`) filled in from it.

use std::path::PathBuf;

use assert_cmd::Command;
use jwt_guard_tests::{json_body, DbKind, TestApp, TEST_SECRET};
use rocket::http::Method;
use serde_json::json;

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The pages whose commands are promised: the READMEs and every page of `docs/`.
fn readmes() -> Vec<String> {
    let mut pages: Vec<String> = [
        "README.md",
        "jwt-guard/README.md",
        "jwt-guard-cli/README.md",
        "jwt-guard-macros/README.md",
    ]
    .map(String::from)
    .to_vec();
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let relative = path.strip_prefix(root()).unwrap_or(&path);
                pages.push(relative.display().to_string());
            }
        }
    }
    assert!(pages.len() > 10, "the docs were not found");
    pages
}

/// A shell block: the marker above it, and its lines.
struct Block {
    readme: String,
    marker: Option<String>,
    lines: Vec<String>,
}

fn blocks() -> Vec<Block> {
    let mut found = Vec::new();
    for readme in readmes() {
        let text = std::fs::read_to_string(root().join(&readme)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim_start() == "```sh" {
                let marker = i
                    .checked_sub(1)
                    .map(|j| lines[j].trim())
                    .and_then(|l| l.strip_prefix("<!--"))
                    .and_then(|l| l.strip_suffix("-->"))
                    .map(|l| l.trim().to_owned());
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j].trim_start().starts_with("```"))
                    .unwrap_or(lines.len());
                found.push(Block {
                    readme: readme.clone(),
                    marker,
                    lines: lines[i + 1..end].iter().map(|l| l.to_string()).collect(),
                });
                i = end;
            }
            i += 1;
        }
    }
    found
}

/// Each block says which test runs it (a file that exists and reads that README)
/// or why none can.
#[test]
fn every_shell_block_is_run_or_says_why_not() {
    let blocks = blocks();
    assert!(
        blocks.len() >= 5,
        "the READMEs' shell blocks were not found"
    );
    for block in &blocks {
        let first = block.lines.first().cloned().unwrap_or_default();
        let marker = block
            .marker
            .as_deref()
            .unwrap_or_else(|| panic!("{}: a block without a marker: {first}", block.readme));
        if let Some(reason) = marker.strip_prefix("not run:") {
            assert!(
                reason.trim().len() > 20,
                "{}: say why: {marker}",
                block.readme
            );
            continue;
        }
        let file = marker
            .strip_prefix("command test:")
            .map(str::trim)
            .unwrap_or_else(|| panic!("{}: an unknown marker: {marker}", block.readme));
        let file = file.split_whitespace().next().unwrap_or_default();
        let source = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|e| panic!("{}: {file}: {e}", block.readme));
        assert!(
            source.contains("README"),
            "{}: {file} does not read the README's commands",
            block.readme
        );
    }
}

/// Splits a command line as a shell would: words, with `"…"` and `'…'` quoting.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    words
}

/// A line without its trailing `# comment`.
fn code(line: &str) -> &str {
    line.split_once("  #").map_or(line, |(code, _)| code).trim()
}

/// What the placeholders stand for, taken from a real deployment.
#[derive(Clone)]
struct Filled {
    token: String,
    device: String,
    jti: String,
    link: String,
    dir: PathBuf,
    showcase: PathBuf,
}

impl Filled {
    fn fill(&self, word: &str) -> String {
        match word {
            "eyJ…" => self.token.clone(),
            "<device-id>" => self.device.clone(),
            "<jti>" => self.jti.clone(),
            "<link-id>" => self.link.clone(),
            "signing.pem" | "openapi.json" => self.dir.join(word).display().to_string(),
            "target/debug/showcase" => self.showcase.display().to_string(),
            other => other.to_owned(),
        }
    }
}

/// Runs the `jwt-guard` lines of `block` with the deployment's settings; returns
/// how many ran.
fn run_block(block: &Block, env: &[(String, String)], filled: &Filled) -> usize {
    let mut ran = 0;
    for line in &block.lines {
        let line = code(line);
        if line.is_empty() {
            continue;
        }
        let mut words = words(line);
        // `NAME=value jwt-guard …`: that variable for this line alone.
        let mut line_env: Vec<(String, String)> = Vec::new();
        while let Some((name, value)) = words.first().and_then(|w| w.split_once('=')) {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                break;
            }
            line_env.push((name.to_owned(), value.to_owned()));
            words.remove(0);
        }
        let args: Vec<String> = match words.first().map(String::as_str) {
            // The settings the lines after it use: the test's own database and
            // secret stand in for the placeholders.
            Some("export") => {
                for name in ["ROCKET_JWT", "ROCKET_DATABASES"] {
                    assert!(line.contains(name), "{}: {line}", block.readme);
                }
                continue;
            }
            // `cargo run -p jwt-guard-cli -- …` is the binary with those arguments.
            Some("cargo") if line.contains("cargo run -p jwt-guard-cli --") => {
                let (_, rest) = line.split_once(" -- ").unwrap_or_default();
                self::words(rest)
            }
            // `cargo install` copies the binary the other lines run into
            // `~/.cargo/bin`, outside the build: its alternative on the same line,
            // `cargo run -p jwt-guard-cli -- --help`, runs instead.
            Some("cargo") if line.starts_with("cargo install --path jwt-guard-cli") => {
                vec!["--help".to_owned()]
            }
            Some("jwt-guard") => words[1..].iter().map(|w| filled.fill(w)).collect(),
            _ => panic!("{}: a line this test cannot run: {line}", block.readme),
        };
        if args
            .iter()
            .any(|a| a == &filled.showcase.display().to_string())
            && !filled.showcase.exists()
        {
            assert!(!jwt_guard_tests::in_ci(), "CI builds the showcase");
            eprintln!("SKIPPED (not a pass): {line}: the showcase is not built");
            continue;
        }
        let out = Command::cargo_bin("jwt-guard")
            .unwrap_or_else(|e| panic!("{e}"))
            .args(&args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(line_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("ROCKET_PROFILE")
            .current_dir(&filled.dir)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "{}: `{line}` failed ({:?}):\n{}{}",
            block.readme,
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    ran
}

/// A deployment for one block to run against: a database with alice's device
/// and tokens and a live link of bob's (still live when the block has revoked
/// everything of alice's), and the settings the `jwt-guard` command reads.
async fn deployment(dir: PathBuf) -> Option<(TestApp, Filled, Vec<(String, String)>)> {
    let app = TestApp::on(DbKind::Sqlite, json!({ "secret": TEST_SECRET })).await?;
    let login = app.login("alice").await;
    let access = login["access"].as_str().unwrap_or_default().to_owned();
    let bob = app.access_token("bob").await;
    let minted = json_body(
        app.send_with_token(Method::Post, "/links/unsubscribe", &bob)
            .await,
    )
    .await;
    let (_, refresh_claims) = jwt_guard_tests::parts(login["refresh"].as_str().unwrap_or_default());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let filled = Filled {
        token: access,
        device: login["device_id"].as_str().unwrap_or_default().to_owned(),
        jti: refresh_claims["jti"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        link: minted["id"].as_str().unwrap_or_default().to_owned(),
        dir,
        showcase: target.join("debug/showcase"),
    };
    assert!(
        [&filled.device, &filled.jti, &filled.link]
            .iter()
            .all(|v| !v.is_empty()),
        "the deployment has what the commands name"
    );
    let env = vec![
        (
            "ROCKET_JWT".to_owned(),
            format!("{{secret=\"{TEST_SECRET}\"}}"),
        ),
        (
            "ROCKET_DATABASES".to_owned(),
            format!("{{jwt_guard={{url=\"{}\"}}}}", app.database_url),
        ),
    ];
    Some((app, filled, env))
}

/// Every `jwt-guard` command of the READMEs and the docs, as printed, exits 0 — each block against a deployment of its own, with a
/// user, a device, a link and tokens, in a directory of its own.
#[rocket::async_test]
async fn the_readme_commands_of_the_jwt_guard_command_run() {
    let base = std::env::temp_dir().join(format!("jwt-guard-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let mut ran = 0;
    for (i, block) in blocks().into_iter().enumerate() {
        let ours = block
            .marker
            .as_deref()
            .is_some_and(|m| m.contains("jwt-guard-cli/tests/readme.rs"));
        if !ours {
            continue;
        }
        let dir = base.join(format!("block-{i}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let Some((app, filled, env)) = deployment(dir.clone()).await else {
            return;
        };
        ran += run_block(&block, &env, &filled);
        // What the commands wrote is there.
        if block.lines.iter().any(|l| l.contains("--out signing.pem")) {
            assert!(dir.join("signing.pem").exists(), "{}", block.readme);
        }
        app.finish().await;
    }
    assert!(ran >= 20, "only {ran} commands ran");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn words_split_as_a_shell_splits() {
    assert_eq!(
        words(r#"token mint --sub alice --scope "reports:read" --claim tenant=acme"#),
        [
            "token",
            "mint",
            "--sub",
            "alice",
            "--scope",
            "reports:read",
            "--claim",
            "tenant=acme"
        ]
    );
    assert_eq!(words("a '' b"), ["a", "", "b"]);
    assert_eq!(code("jwt-guard archive   # old rows"), "jwt-guard archive");
}
