//! Requests per second across N instances on one PostgreSQL database (N = 1, 2,
//! 4 by default, on this machine's ports): for each N, fresh instances on a fresh
//! database, then each route kind in turn — verify (`GET /me` with an access
//! token), refresh (`POST /auth/token/refresh`, each client its own rotating
//! session) and login (`POST /auth/token`, argon2 included) — driven by clients
//! that each talk to one instance (client i to instance i mod N), a new
//! connection per request. Reports requests/s in all and per core of this
//! machine (instances, clients and PostgreSQL share them), and errors.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/instances-load                                   # 1, 2, 4 instances, 8 clients, 3 s a route
//! target/release/instances-load --instances 1,2 --clients 16 --seconds 5
//! target/release/instances-load --pgbouncer                       # every instance through one PgBouncer
//! ```
//!
//! With `--pgbouncer` the instances reach the database through one Debian
//! PgBouncer in transaction mode (8 server connections), with
//! `pooler = "transaction"` and a direct `listen_url` each.
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{login, request, showcase_binary_or_exit, showcase_env, start_instances};
use load::{ScratchDatabase, LOAD_SECRET};

/// Requests per second across instances.
#[derive(Parser, Debug)]
#[command(name = "instances-load")]
struct Args {
    /// Instance counts to try.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    instances: Vec<u16>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    clients: u16,
    /// Seconds per route kind.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=120))]
    seconds: u64,
    /// Every instance through one transaction-mode PgBouncer.
    #[arg(long)]
    pgbouncer: bool,
}

const FIRST_PORT: u16 = 8151;
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// What one route kind measured.
struct Measured {
    ok: u64,
    errors: u64,
    seconds: f64,
}

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    if args.instances.iter().any(|&n| !(1..=8).contains(&n)) {
        eprintln!("--instances: each count between 1 and 8");
        std::process::exit(2);
    }
    let cores = thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if args.pgbouncer {
        println!("Every instance through one PgBouncer (transaction mode, 8 server connections).");
        println!();
    }
    println!("| instances | route | requests/s | per core ({cores} cores) | errors |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    for &n in &args.instances {
        let Some(rows) = run(&showcase, n, args.clients, args.seconds, args.pgbouncer) else {
            eprintln!("the run with {n} instances failed");
            std::process::exit(1);
        };
        for (route, m) in rows {
            let rate = m.ok as f64 / m.seconds;
            println!(
                "| {n} | {route} | {rate:.0} | {:.0} | {} |",
                rate / cores,
                m.errors
            );
        }
    }
}

/// `n` instances on a fresh database, each route kind driven in turn.
fn run(
    showcase: &std::path::Path,
    n: u16,
    clients: u16,
    seconds: u64,
    pgbouncer: bool,
) -> Option<Vec<(&'static str, Measured)>> {
    let db = ScratchDatabase::create(&format!("instances{n}"))?;
    // Through the pooler: its URL for the pool, the database's own for LISTEN.
    let bouncer = if pgbouncer {
        Some(db.pgbouncer()?)
    } else {
        None
    };
    // One audience (the load balancer's address); budgets and the device cap out
    // of the way (one address, one account); API clients (tokens in the body).
    let jwt = format!(
        "{LOAD_SECRET}, audience=\"http://127.0.0.1:{FIRST_PORT}\", cookies={{enabled=false}}, \
         devices={{max=1000000}}, login_throttle={{ip_attempts=100000000, \
         account_attempts=100000000, refreshes_per_device_per_minute=100000000}}"
    );
    let mut env = showcase_env(&db.url, &jwt);
    if let Some(bouncer) = &bouncer {
        env[1].1 = db.through(bouncer);
    }
    let ports: Vec<u16> = (0..n).map(|i| FIRST_PORT + i).collect();
    let _instances = start_instances(showcase, &ports, &env)?;
    let port_of = |client: u16| ports[usize::from(client % n)];
    let access = login(ports[0], "alice")?;
    let bearer = format!("Bearer {access}");
    let verify = drive(clients, seconds, |client| {
        let bearer = bearer.clone();
        let at = port_of(client);
        move || {
            let auth = [("Authorization", bearer.as_str())];
            matches!(request(at, "GET", "/me", &auth, ""), Some((200, _)))
        }
    });
    let refresh = drive(clients, seconds, |client| {
        let at = port_of(client);
        let mut refresh = first_refresh(at);
        move || {
            let body = serde_json::json!({ "refresh": refresh }).to_string();
            let answer = request(at, "POST", "/auth/token/refresh", &[JSON], &body);
            let next = answer
                .filter(|(status, _)| *status == 200)
                .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
                .and_then(|v| v["refresh"].as_str().map(str::to_owned));
            match next {
                Some(token) => {
                    refresh = token;
                    true
                }
                None => false,
            }
        }
    });
    let login_body = r#"{"username":"bob","password":"bob-password"}"#;
    let logins = drive(clients, seconds, |client| {
        let at = port_of(client);
        move || {
            let answer = request(at, "POST", "/auth/token", &[JSON], login_body);
            matches!(answer, Some((200, _)))
        }
    });
    Some(vec![
        ("verify (GET /me)", verify),
        ("refresh", refresh),
        ("login", logins),
    ])
}

/// A refresh token of a fresh login of alice on `port` (empty if none: the
/// client's first refresh then fails and counts as an error).
fn first_refresh(port: u16) -> String {
    let body = r#"{"username":"alice","password":"alice-password"}"#;
    request(port, "POST", "/auth/token", &[JSON], body)
        .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
        .and_then(|v| v["refresh"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs `clients` clients for `seconds`, each repeating the step `make(i)`
/// builds for it (before the clock starts); each step says whether it
/// succeeded.
fn drive<F, S>(clients: u16, seconds: u64, make: F) -> Measured
where
    F: Fn(u16) -> S,
    S: FnMut() -> bool + Send + 'static,
{
    let steps: Vec<S> = (0..clients).map(&make).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = steps
        .into_iter()
        .map(|mut step| {
            let (stop, ok, errors) = (stop.clone(), ok.clone(), errors.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let counter = if step() { &ok } else { &errors };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    Measured {
        ok: ok.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    }
}
