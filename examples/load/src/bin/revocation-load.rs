//! Two showcase processes share one PostgreSQL database, as behind a load balancer.
//! Clients hammer instance B with an access token while the token's device logs out
//! on instance A; the run reports B's throughput, how many requests sent after A's
//! logout answered B still accepted, and the time from that answer to B's last
//! acceptance.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/revocation-load            # defaults: 8 clients, 4 s, local PostgreSQL
//! ```
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{login, request, showcase_binary_or_exit, showcase_env, start_instances};
use load::{ScratchDatabase, LOAD_SECRET};

/// A revocation made on one instance, enforced by another under load.
#[derive(Parser, Debug)]
#[command(name = "revocation-load")]
struct Args {
    /// Concurrent clients on instance B.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    clients: u16,
    /// Seconds of load (the logout comes after the first).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(2..=600))]
    seconds: u64,
}

const PORT_A: u16 = 8101;
const PORT_B: u16 = 8102;

fn main() {
    let args = Args::parse();
    let (clients, seconds) = (args.clients, args.seconds);
    // The binary first: leaving for want of it drops no scratch database.
    let showcase = showcase_binary_or_exit();
    let Some(db) = ScratchDatabase::create("load") else {
        std::process::exit(2);
    };
    // One audience for both (the load balancer's address): the showcase
    // otherwise names its own port, and B would refuse A's tokens.
    let jwt =
        format!("{LOAD_SECRET}, revocation_poll=\"2s\", audience=\"http://127.0.0.1:{PORT_A}\"");
    let env = showcase_env(&db.url, &jwt);
    let Some(instances) = start_instances(&showcase, &[PORT_A, PORT_B], &env) else {
        eprintln!("the showcase instances did not start");
        std::process::exit(1);
    };

    let token = login(PORT_A, "alice").unwrap_or_default();
    let bearer = format!("Bearer {token}");

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let logged_out: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    // When B last answered 200 to a request sent after A's logout answered.
    let last_acceptance: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let accepted_after = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, ok, refused, errors) =
                (stop.clone(), ok.clone(), refused.clone(), errors.clone());
            let (logged_out, last_acceptance, accepted_after) = (
                logged_out.clone(),
                last_acceptance.clone(),
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
                                let mut last =
                                    last_acceptance.lock().unwrap_or_else(|p| p.into_inner());
                                *last = Some(Instant::now());
                            }
                        }
                        Some((401, _)) => {
                            refused.fetch_add(1, Ordering::Relaxed);
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
    drop(db);

    let total = ok.load(Ordering::Relaxed) + refused.load(Ordering::Relaxed);
    let last = *last_acceptance.lock().unwrap_or_else(|p| p.into_inner());
    let refused = refused.load(Ordering::Relaxed);
    println!("logout on A: {:?}", out.map(|(s, _)| s));
    println!(
        "instance B: {total} requests in {elapsed:.1} s ({:.0} req/s, {clients} clients, new connection each), {} errors",
        total as f64 / elapsed,
        errors.load(Ordering::Relaxed)
    );
    println!(
        "requests sent after A's logout answered and still accepted by B: {}",
        accepted_after.load(Ordering::Relaxed)
    );
    match last {
        Some(t) => println!(
            "time from A's logout answer to B's last acceptance: {:.2} ms",
            t.saturating_duration_since(out_at).as_secs_f64() * 1000.0
        ),
        None => println!("time from A's logout answer to B's last acceptance: none (B accepted nothing after it)"),
    }
    if refused == 0 {
        println!("B never refused the revoked token");
        std::process::exit(1);
    }
    if ok.load(Ordering::Relaxed) == 0 {
        println!("B never accepted the token, before the logout either: the run measured nothing");
        std::process::exit(1);
    }
}
