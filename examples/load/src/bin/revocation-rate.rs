//! How many revocations per second `LISTEN/NOTIFY` carries to another instance.
//! Two release showcase processes share one PostgreSQL database. The program
//! collects access tokens (one login, then refreshes) and has clients revoke
//! them on A (`POST /oauth/revoke`, RFC 7009: one revocation row and one
//! `NOTIFY` each) at a set pace; afterwards B's own account of each arrival —
//! `jwt_guard_revocation_propagation_seconds`, from the revocation's commit to
//! B applying it — says how many arrived and how late (quantiles over the run).
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/revocation-rate                          # 250, 500, 1000/s and as fast as A answers
//! target/release/revocation-rate --rates 100,0 --seconds 5   # 0: unpaced
//! ```
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{metric, metrics, request, showcase_binary_or_exit, showcase_env, start_instances};
use load::{ScratchDatabase, LOAD_SECRET};

/// Revocations per second across instances.
#[derive(Parser, Debug)]
#[command(name = "revocation-rate")]
struct Args {
    /// Paces to try, revocations per second on A (0: as fast as A answers).
    #[arg(long, value_delimiter = ',', default_value = "250,500,1000,0")]
    rates: Vec<u64>,
    /// Seconds per pace.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    seconds: u64,
    /// Concurrent revoking clients.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    clients: u16,
}

const PORT_A: u16 = 8141;
const PORT_B: u16 = 8142;
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    println!("| pace (revocations/s) | sent/s | answered 200 | arrived at B | p50 (ms) | p99 (ms) | max (ms) |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &rate in &args.rates {
        // Fresh instances per pace: B's summary then holds this pace's arrivals only.
        let Some(row) = pace(&showcase, rate, args.seconds, args.clients) else {
            eprintln!("the run at pace {rate} failed");
            std::process::exit(1);
        };
        println!("{row}");
    }
}

/// One pace on two fresh instances and a fresh database: its table row.
fn pace(showcase: &std::path::Path, rate: u64, seconds: u64, clients: u16) -> Option<String> {
    let db = ScratchDatabase::create(&format!("rate{rate}"))?;
    // One audience (the load balancer's); budgets out of the way (one address);
    // API clients (tokens in the body).
    let jwt = format!(
        "{LOAD_SECRET}, audience=\"http://127.0.0.1:{PORT_A}\", cookies={{enabled=false}}, \
         login_throttle={{ip_attempts=100000000, account_attempts=100000000, \
         refreshes_per_device_per_minute=100000000}}"
    );
    let env = showcase_env(&db.url, &jwt);
    let Some(_instances) = start_instances(showcase, &[PORT_A, PORT_B], &env) else {
        eprintln!("the showcase instances did not start");
        return None;
    };
    let wanted = if rate == 0 {
        2000 * seconds
    } else {
        rate * seconds
    };
    let tokens = collect_tokens(wanted)?;
    let (sent, ok, took) = revoke_all(tokens, rate, clients);
    // B applies what NOTIFY brings at once; a poll period for any straggler.
    thread::sleep(Duration::from_secs(3));
    let seen = propagation()?;
    Some(format!(
        "| {} | {:.0} | {ok} | {} | {:.1} | {:.1} | {:.1} |",
        if rate == 0 {
            "unpaced".to_owned()
        } else {
            rate.to_string()
        },
        sent as f64 / took,
        seen.count,
        seen.p50 * 1000.0,
        seen.p99 * 1000.0,
        seen.max * 1000.0,
    ))
}

/// `n` distinct live access tokens of alice: one login on A, then refreshes.
fn collect_tokens(n: u64) -> Option<Vec<String>> {
    let login = r#"{"username":"alice","password":"alice-password"}"#;
    let answer = request(PORT_A, "POST", "/auth/token", &[JSON], login)?;
    let mut pair: serde_json::Value = serde_json::from_str(&answer.1).ok()?;
    let mut tokens = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while (tokens.len() as u64) < n && Instant::now() < deadline {
        tokens.push(pair["access"].as_str()?.to_owned());
        let body = serde_json::json!({ "refresh": pair["refresh"] }).to_string();
        let Some(answer) = request(PORT_A, "POST", "/auth/token/refresh", &[JSON], &body) else {
            eprintln!("refresh {} got no answer", tokens.len());
            return None;
        };
        if answer.0 != 200 {
            eprintln!(
                "refresh {} answered {}: {}",
                tokens.len(),
                answer.0,
                answer.1
            );
            return None;
        }
        pair = serde_json::from_str(&answer.1).ok()?;
    }
    if (tokens.len() as u64) < n {
        eprintln!("only {} of {n} tokens in two minutes", tokens.len());
        return None;
    }
    Some(tokens)
}

/// Revokes every token on A, `rate` per second overall (0: unpaced), with
/// `clients` clients; requests sent, answered 200, and the seconds it took.
fn revoke_all(tokens: Vec<String>, rate: u64, clients: u16) -> (u64, u64, f64) {
    let queue = Arc::new(Mutex::new(tokens));
    let sent = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (queue, sent, ok) = (queue.clone(), sent.clone(), ok.clone());
            thread::spawn(move || loop {
                let Some(token) = queue.lock().ok().and_then(|mut q| q.pop()) else {
                    return;
                };
                let n = sent.fetch_add(1, Ordering::Relaxed);
                if rate > 0 {
                    // The n-th revocation leaves at n / rate seconds.
                    let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
                    thread::sleep(due.saturating_duration_since(Instant::now()));
                }
                let body = format!("token={token}");
                if let Some((200, _)) = request(PORT_A, "POST", "/oauth/revoke", &[FORM], &body) {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                if started.elapsed() > Duration::from_secs(120) {
                    return;
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    (
        sent.load(Ordering::Relaxed),
        ok.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    )
}

/// B's summary of `jwt_guard_revocation_propagation_seconds`.
struct Seen {
    count: u64,
    p50: f64,
    p99: f64,
    max: f64,
}

fn propagation() -> Option<Seen> {
    let text = metrics(PORT_B)?;
    let name = "jwt_guard_revocation_propagation_seconds";
    let value = |suffix: &str| metric(&text, &format!("{name}{suffix}"));
    Some(Seen {
        count: value("_count")? as u64,
        p50: value("{quantile=\"0.5\"}")?,
        p99: value("{quantile=\"0.99\"}")?,
        max: value("{quantile=\"1\"}")?,
    })
}
