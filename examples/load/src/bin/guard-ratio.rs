//! What `#[use_jwt]` costs at the HTTP level: a release showcase's bench routes,
//! identical but for the guard (`GET /bench/open`, `GET /bench/guarded` with a
//! valid access token, `GET /bench/handwritten` behind the guard an app
//! without jwt-guard writes by hand: `jsonwebtoken::decode` per request and
//! nothing else, and `GET /bench/floor` behind the least a guard can be: one that
//! finds the bearer token and checks nothing), measured in interleaved rounds in
//! one run.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/guard-ratio                    # 4 clients, 12 rounds of 1 s per route
//! target/release/guard-ratio --clients 8 --rounds 20 --millis 500
//! ```
//!
//! How it is measured: keep-alive connections (one per client, the steady state
//! of an API client; a new connection per request would bury the guard under the
//! TCP handshake). Each round runs the routes back to back, rotating which
//! goes first so drift on a shared machine falls on all; the figures are the
//! medians of the rounds' ratios of each route's requests per second to the open
//! route's, with the spread of the middle half. Every route is sent the same
//! request, `Authorization` included. The token is verified once, then served from the
//! verified-token cache — the steady state of a client that sends one token
//! many times; every request still runs the revocation check. A request that
//! does not answer 200 is an error: the run fails rather than report it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{
    scratch_sqlite, showcase_binary_or_exit, spawn_showcase, wait_until_up, Instances, KeepAlive,
};

/// The guard's cost: `#[use_jwt]` route against the same open route.
#[derive(Parser, Debug)]
#[command(name = "guard-ratio")]
struct Args {
    /// Concurrent keep-alive clients.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    clients: u16,
    /// Rounds (each runs every route once).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(2..=1000))]
    rounds: u32,
    /// Milliseconds per route per round.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    millis: u64,
    /// Distinct access tokens (sign-ins), shared round-robin by the clients: one
    /// is a single user's many connections, as many as clients is that many users.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    tokens: u16,
}

const PORT: u16 = 8112;

/// The bench routes: path, what guards it, the name of its ratio. The open route
/// comes first: the others are measured against it.
const ROUTES: [(&str, &str, &str); 4] = [
    ("/bench/open", "no guard", "open"),
    ("/bench/guarded", "`#[use_jwt]`", "guarded"),
    (
        "/bench/handwritten",
        "`jsonwebtoken::decode` per request",
        "handwritten",
    ),
    (
        "/bench/floor",
        "a guard that finds the bearer token and checks nothing",
        "floor",
    ),
];

/// Requests per second of `path` over `window` with `clients` keep-alive clients;
/// `Err` with the first wrong answer.
fn rate(path: &str, bearers: &[String], clients: usize, window: Duration) -> Result<f64, String> {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + window;
    let errors: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let (done, failed) = (done.clone(), failed.clone());
                // `--tokens` is at least 1: there is always a bearer to send.
                let bearer = &bearers[client % bearers.len()];
                scope.spawn(move || -> Option<String> {
                    let headers = [("Authorization", bearer.as_str())];
                    let Some(mut conn) = KeepAlive::connect(PORT) else {
                        failed.store(true, Ordering::SeqCst);
                        return Some(format!("{path}: cannot connect"));
                    };
                    while Instant::now() < deadline && !failed.load(Ordering::Relaxed) {
                        match conn.get(path, &headers) {
                            Some(200) => {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            other => {
                                failed.store(true, Ordering::SeqCst);
                                return Some(format!("{path}: answered {other:?}"));
                            }
                        }
                    }
                    None
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    });
    if let Some(first) = errors.into_iter().next() {
        return Err(first);
    }
    Ok(done.load(Ordering::SeqCst) as f64 / started.elapsed().as_secs_f64())
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(at).copied().unwrap_or(f64::NAN)
}

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    let url = scratch_sqlite("guard-ratio");
    let env = [
        ("ROCKET_LOG_LEVEL", "off".to_owned()),
        ("SHOWCASE_BENCH_ROUTES", "1".to_owned()),
        ("SHOWCASE_CHEAP_PASSWORD_HASHES", "1".to_owned()),
        (
            "ROCKET_DATABASES",
            format!("{{jwt_guard={{url=\"{url}\"}}}}"),
        ),
        (
            "ROCKET_JWT",
            "{secret=\"load-test-secret-load-test-secret-0123\", revocation_poll=\"1h\"}"
                .to_owned(),
        ),
    ];
    let Some((child, _)) = spawn_showcase(&showcase, PORT, &env, None) else {
        eprintln!("cannot start {}", showcase.display());
        std::process::exit(2);
    };
    let _instances = Instances(vec![child]);
    if !wait_until_up(PORT) {
        eprintln!("the showcase did not start");
        std::process::exit(1);
    }
    let bearers: Vec<String> = (0..args.tokens)
        .map(|_| match load::login(PORT, "alice") {
            Some(access) => format!("Bearer {access}"),
            None => {
                eprintln!("login failed");
                std::process::exit(1);
            }
        })
        .collect();
    let clients = usize::from(args.clients);
    let window = Duration::from_millis(args.millis);
    let run = |route: usize| {
        rate(ROUTES[route].0, &bearers, clients, window).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1);
        })
    };
    // Warm-up: connections, caches, the token's first verification.
    for route in 0..ROUTES.len() {
        run(route);
    }
    // Per route: its rates, and its ratios to the open route's (route 0) in the
    // same round.
    let mut rates: [Vec<f64>; ROUTES.len()] = Default::default();
    let mut ratios: [Vec<f64>; ROUTES.len()] = Default::default();
    for round in 0..args.rounds as usize {
        let mut this = [0.0; ROUTES.len()];
        for step in 0..ROUTES.len() {
            let route = (round + step) % ROUTES.len();
            this[route] = run(route);
        }
        for (route, rate) in this.into_iter().enumerate() {
            rates[route].push(rate);
            ratios[route].push(rate / this[0]);
        }
    }
    for v in rates.iter_mut().chain(ratios.iter_mut()) {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "{clients} keep-alive clients, {} rounds of {} ms per route, interleaved; SQLite showcase",
        args.rounds, args.millis
    );
    println!();
    println!("| route | requests/s (median) |");
    println!("| --- | ---: |");
    for ((path, guard, _), rates) in ROUTES.iter().zip(&rates) {
        println!("| GET {path} ({guard}) | {:.0} |", quantile(rates, 0.5));
    }
    println!();
    for ((_, _, name), ratios) in ROUTES.iter().zip(&ratios).skip(1) {
        println!(
            "{name}/open: {:.3}× (median of {} rounds; middle half {:.3}–{:.3})",
            quantile(ratios, 0.5),
            ratios.len(),
            quantile(ratios, 0.25),
            quantile(ratios, 0.75)
        );
    }
}
