//! Two showcase processes share one PostgreSQL database, as behind a load balancer.
//! Clients hammer instance B with an access token while the token's device logs out
//! on instance A; the run reports B's throughput and how long B kept accepting the
//! revoked token.
//!
//! ```sh
//! cargo build --release -p showcase -p revocation-load
//! target/release/revocation-load            # defaults: 8 clients, 4 s, local PostgreSQL
//! ```
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const PORT_A: u16 = 8101;
const PORT_B: u16 = 8102;

/// One HTTP/1.1 request on a fresh connection; the status code and body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Some((status, body))
}

fn wait_until_up(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if request(port, "GET", "/hello", &[], "").is_some() {
            return true;
        }
        thread::sleep(Duration::from_millis(200));
    }
    false
}

fn psql(admin: &str, sql: &str) -> bool {
    Command::new("psql")
        .args([admin, "-qAtc", sql])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

struct Instances(Vec<Child>);

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = arg("--clients", 8);
    let seconds = arg("--seconds", 4).max(2);
    let admin = std::env::var("JWT_GUARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = format!("jwt_guard_load_{}", std::process::id());
    if !psql(&admin, &format!("CREATE DATABASE {db}")) {
        eprintln!("cannot create database {db} on {admin} (is PostgreSQL running?)");
        std::process::exit(2);
    }
    let base = admin.rsplit_once('/').map(|(p, _)| p).unwrap_or(&admin);
    let url = format!("{base}/{db}");
    let showcase = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("showcase")))
        .filter(|p| p.exists());
    let Some(showcase) = showcase else {
        eprintln!("build the showcase first: cargo build --release -p showcase -p revocation-load");
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
        std::process::exit(2);
    };

    let spawn = |port: u16| {
        Command::new(&showcase)
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "off")
            .env(
                "ROCKET_DATABASES",
                format!("{{jwt_guard={{url=\"{url}\"}}}}"),
            )
            .env(
                "ROCKET_JWT",
                "{secret=\"load-test-secret-load-test-secret-0123\", revocation_poll=\"2s\"}",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    let a = spawn(PORT_A);
    // B starts after A has created the schema and the demo users.
    let up_a = wait_until_up(PORT_A);
    let b = spawn(PORT_B);
    let instances = Instances(a.into_iter().chain(b).collect());
    if !up_a || !wait_until_up(PORT_B) || instances.0.len() != 2 {
        eprintln!("the showcase instances did not start");
        drop(instances);
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
        std::process::exit(1);
    }

    let login = r#"{"username":"alice","password":"alice-password"}"#;
    let token = request(
        PORT_A,
        "POST",
        "/auth/token",
        &[("Content-Type", "application/json")],
        login,
    )
    .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
    .and_then(|v| v["access"].as_str().map(str::to_owned))
    .unwrap_or_default();
    let bearer = format!("Bearer {token}");

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let logged_out: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let first_refusal: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let accepted_after = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, ok, refused, errors) =
                (stop.clone(), ok.clone(), refused.clone(), errors.clone());
            let (logged_out, first_refusal, accepted_after) = (
                logged_out.clone(),
                first_refusal.clone(),
                accepted_after.clone(),
            );
            let bearer = bearer.clone();
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    match request(PORT_B, "GET", "/me", &[("Authorization", &bearer)], "") {
                        Some((200, _)) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            let out = *logged_out.lock().unwrap_or_else(|p| p.into_inner());
                            if out.is_some_and(|t| sent > t) {
                                accepted_after.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Some((401, _)) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            let mut first = first_refusal.lock().unwrap_or_else(|p| p.into_inner());
                            first.get_or_insert(Instant::now());
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    thread::sleep(Duration::from_secs(1));
    let out = request(
        PORT_A,
        "POST",
        "/auth/logout",
        &[("Authorization", &bearer)],
        "",
    );
    let out_at = Instant::now();
    *logged_out.lock().unwrap_or_else(|p| p.into_inner()) = Some(out_at);
    thread::sleep(Duration::from_secs(seconds - 1));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(instances);
    psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    );

    let total = ok.load(Ordering::Relaxed) + refused.load(Ordering::Relaxed);
    let first = *first_refusal.lock().unwrap_or_else(|p| p.into_inner());
    println!("logout on A: {:?}", out.map(|(s, _)| s));
    println!(
        "instance B: {total} requests in {elapsed:.1} s ({:.0} req/s, {clients} clients, new connection each), {} errors",
        total as f64 / elapsed,
        errors.load(Ordering::Relaxed)
    );
    match first {
        Some(t) => println!(
            "B refused the revoked token {:.2} ms after A's logout answered; requests sent after that answer and still accepted: {}",
            t.saturating_duration_since(out_at).as_secs_f64() * 1000.0,
            accepted_after.load(Ordering::Relaxed)
        ),
        None => {
            println!("B never refused the revoked token");
            std::process::exit(1);
        }
    }
}
