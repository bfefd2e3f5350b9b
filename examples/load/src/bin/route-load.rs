//! The stateful routes under load: login, refresh rotation, device refresh, link use
//! and logout, each driven by concurrent clients against a release showcase on
//! SQLite and on PostgreSQL. Prints requests/s, p50/p99 latency, SQL statements per
//! request (counted from sqlx's statement log, `log_statements = true`) and, on
//! PostgreSQL, round trips per request (counted on the wire by a relay), and errors.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/route-load                  # both backends, 8 clients, 3 s a route
//! target/release/route-load --db sqlite --clients 16 --seconds 5
//! target/release/route-load --compare /path/to/older/showcase   # two builds, one run
//! target/release/route-load --db pgbouncer   # PostgreSQL behind a transaction-mode PgBouncer
//! ```
//!
//! How each figure is measured:
//! - requests/s and p50/p99 over every request of the timed window, errors
//!   included (an error is not a fast success); errors are also counted apart;
//! - statements: sqlx's statement log, drained by a marker request (its own
//!   statement is the end of the window) — not a fixed wait; with the `BEGIN`,
//!   `COMMIT` and `ROLLBACK` sqlx does not log itself, which jwt-guard logs
//!   beside it (builds before that count them out);
//! - round trips (PostgreSQL): counted on the wire by a relay; pool pings on
//!   release (a lone `Sync`, which no request waits for) are counted apart;
//!   behind PgBouncer (`--db pgbouncer`, Debian's, `pool_mode = transaction`, 8
//!   server connections) the relay sits between the showcase and PgBouncer, and
//!   the showcase runs with `pooler = "transaction"` and a direct `listen_url`;
//! - per request for one client alone, whole counts: the route's first request
//!   (`cold`: its statements not yet prepared) and, after the load, the median of
//!   five (`steady`: every pooled connection has met them); and as averages over
//!   the concurrent load.
//!
//! Logins use argon2's cheapest parameters for the run (`SHOWCASE_CHEAP_PASSWORD_HASHES`)
//! so they measure jwt-guard's work, not the password hash. Traffic goes to
//! 127.0.0.1 only; every loop is bounded in time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use load::{
    expected_status, route_step, scratch_sqlite, showcase_binary_or_exit, spawn_showcase,
    wait_until_up, Instances, ScratchDatabase, StatementLog, Step, WireCounter,
};

/// The stateful routes of a release showcase under load, on SQLite and PostgreSQL.
#[derive(Parser, Debug)]
#[command(name = "route-load")]
struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    clients: u16,
    /// Seconds of load per route.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// Which database(s).
    #[arg(long, value_enum, default_value_t = Db::Both)]
    db: Db,
    /// Another showcase binary (an older build, say), measured in the same run.
    #[arg(long)]
    compare: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
    /// PostgreSQL behind a transaction-mode PgBouncer (this build only: older
    /// builds have no `pooler` setting).
    Pgbouncer,
    /// SQLite and PostgreSQL.
    Both,
    /// SQLite, PostgreSQL and PostgreSQL behind PgBouncer.
    All,
}

const PORT: u16 = 8111;

struct Row {
    route: &'static str,
    backend: &'static str,
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    statements: f64,
    round_trips: Option<f64>,
    errors: u64,
    /// One client alone: (cold, steady) statements and round trips per request.
    alone: Alone,
}

/// Per-request counts of one client alone.
#[derive(Default)]
struct Alone {
    statements: (u64, u64),
    round_trips: Option<(u64, u64)>,
}

/// Back-to-back marker requests that measure the marker's own cost (more than
/// the showcase's pool holds connections).
const MARKERS: usize = 40;

/// What a run counts with: the statement log, the wire relay (PostgreSQL), and a
/// token for the marker request.
struct Counters<'a> {
    log: &'a StatementLog,
    wire: Option<&'a WireCounter>,
    marker_bearer: String,
    /// Statements and round trips of the marker request itself inside every
    /// interval between two [`Counters::now`], measured once: one round trip and
    /// none of its statements directly; behind a pooler its `COMMIT` and more.
    marker: (u64, u64),
}

impl Counters<'_> {
    /// (statements, round trips) up to now, the log drained by a marker request.
    fn now(&self) -> (u64, Option<u64>) {
        // The wire is counted as messages pass: nothing to wait for.
        let trips = self.wire.map(|w| w.round_trips.load(Ordering::SeqCst));
        let statements = self
            .log
            .drain(PORT, &self.marker_bearer)
            .unwrap_or_else(|| {
                eprintln!("the statement log's marker never came: statement counts are short");
                self.log.statements.load(Ordering::SeqCst)
            });
        (statements, trips)
    }

    /// Sends the marker round the pool: after a load has opened connections the
    /// marker never met, a lone request's window would otherwise count the
    /// marker preparing its statement on one of them.
    fn warm_marker(&self) {
        for _ in 0..MARKERS {
            self.now();
        }
    }

    /// What happened between two [`Counters::now`]: the marker request's own
    /// round trip taken out (its statement is never counted).
    fn between(&self, before: (u64, Option<u64>), after: (u64, Option<u64>)) -> (u64, Option<u64>) {
        let trips = after
            .1
            .zip(before.1)
            .map(|(a, b)| a.saturating_sub(b).saturating_sub(self.marker.1));
        let statements = after
            .0
            .saturating_sub(before.0)
            .saturating_sub(self.marker.0);
        (statements, trips)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Requests one client sends alone: one before the load (cold), the rest after
/// it (steady).
const ALONE: usize = 6;

fn median(mut counts: Vec<u64>) -> u64 {
    counts.sort_unstable();
    counts.get(counts.len() / 2).copied().unwrap_or(0)
}

/// One client alone sends `n` requests of `route`; their per-request counts.
fn alone(route: &'static str, n: usize, counters: &Counters<'_>) -> (Vec<u64>, Vec<u64>) {
    let mut step = route_step(PORT, route, 0, Duration::from_secs(1));
    let (mut statements, mut trips) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let before = counters.now();
        if step().is_none() {
            break;
        }
        let (s, t) = counters.between(before, counters.now());
        statements.push(s);
        trips.extend(t);
    }
    (statements, trips)
}

fn measure(
    route: &'static str,
    backend: &'static str,
    clients: usize,
    seconds: u64,
    counters: &Counters<'_>,
) -> Row {
    // The route's first request: its statements not yet prepared on the
    // connection (cold).
    let (cold_statements, cold_trips) = alone(route, 1, counters);
    let expected = expected_status(route);
    // Setup runs on the clients' own threads, then every client starts together.
    let steps: Vec<Step> = thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| scope.spawn(move || route_step(PORT, route, c, Duration::from_secs(seconds))))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let before = counters.now();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    thread::scope(|scope| {
        for mut step in steps {
            let (latencies, errors) = (latencies.clone(), errors.clone());
            scope.spawn(move || {
                let mut mine = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let answer = step();
                    // Every request's time counts, an error's too.
                    match answer {
                        Some((status, _)) if status == expected => mine.push(sent.elapsed()),
                        Some((status, body)) => {
                            mine.push(sent.elapsed());
                            if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("{backend} {route}: first error: {status} {body}");
                            }
                        }
                        None => break,
                    }
                }
                if let Ok(mut all) = latencies.lock() {
                    all.extend(mine);
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let (statements, trips) = counters.between(before, counters.now());
    // Steady state: after the load, every connection of the pool has met the
    // route's statements, and (sent round) the marker's.
    counters.warm_marker();
    let (steady_statements, steady_trips) = alone(route, ALONE - 1, counters);
    let first = |v: &[u64]| v.first().copied().unwrap_or(0);
    let alone = Alone {
        statements: (first(&cold_statements), median(steady_statements)),
        round_trips: (!steady_trips.is_empty()).then(|| (first(&cold_trips), median(steady_trips))),
    };
    let mut latencies = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    latencies.sort();
    let requests = latencies.len() as u64;
    let per_request = |n: u64| n as f64 / requests.max(1) as f64;
    Row {
        route,
        backend,
        requests,
        per_second: requests as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        statements: per_request(statements),
        round_trips: trips.map(per_request),
        errors: errors.load(Ordering::Relaxed),
        alone,
    }
}

fn run_backend(
    showcase: &std::path::Path,
    knows_cookies: bool,
    backend: &'static str,
    clients: usize,
    seconds: u64,
) -> Option<Vec<Row>> {
    let mut scratch = None;
    let mut counter = None;
    let mut bouncer = None;
    let mut pooler = String::new();
    let url = match backend {
        "postgres" | "pgbouncer" => {
            let db = ScratchDatabase::create("routeload")?;
            let upstream = if backend == "pgbouncer" {
                let started = db.pgbouncer()?;
                let upstream = format!("127.0.0.1:{}", started.port);
                pooler = format!(",pooler=\"transaction\",listen_url=\"{}\"", db.url);
                bouncer = Some(started);
                upstream
            } else {
                db.server()
            };
            let wire = WireCounter::start(&upstream)?;
            let name = db.url.rsplit_once('/').map(|(_, n)| n.to_owned())?;
            let user = db
                .url
                .split_once("://")
                .and_then(|(_, rest)| rest.split_once('@'))
                .map(|(u, _)| format!("{u}@"))
                .unwrap_or_default();
            let url = format!(
                "postgres://{user}127.0.0.1:{}/{name}?sslmode=disable",
                wire.port
            );
            scratch = Some(db);
            counter = Some(wire);
            url
        }
        _ => scratch_sqlite("route-load"),
    };
    let env = [
        // `debug` lets sqlx's statement log through Rocket's logger.
        ("ROCKET_LOG_LEVEL", "debug".to_owned()),
        ("SHOWCASE_CHEAP_PASSWORD_HASHES", "1".to_owned()),
        (
            "ROCKET_DATABASES",
            format!(
                "{{jwt_guard={{url=\"{url}\",log_statements=true,max_connections=16{pooler}}}}}"
            ),
        ),
        (
            "ROCKET_JWT",
            // No background poll during the run; throttles and the device cap out of
            // the way (the load is one address and three accounts); API clients, so
            // refresh tokens travel in the body (no cookie mode).
            format!(
                "{{secret=\"load-test-secret-load-test-secret-0123\", revocation_poll=\"1h\", \
                 max_devices=1000000, {}login_throttle={{ip_attempts=100000000, account_attempts=100000000, refreshes_per_device_per_minute=100000000}}}}",
                if knows_cookies { "cookies={enabled=false}, " } else { "" }
            ),
        ),
    ];
    let (child, log) = spawn_showcase(showcase, PORT, &env, Some("summary=\""))?;
    let instances = Instances(vec![child]);
    if !wait_until_up(PORT) {
        eprintln!("the showcase did not start on {backend}");
        return None;
    }
    // The marker request's token (a session of its own).
    let marker_bearer = load::login(PORT, "admin")
        .map(|access| format!("Bearer {access}"))
        .unwrap_or_default();
    let mut counters = Counters {
        log: &log,
        wire: counter.as_ref(),
        marker_bearer,
        marker: (0, 0),
    };
    // Markers back to back: each interval holds one marker alone; the fewest (a
    // connection that has met the marker's statement) is its cost. The pool hands
    // out its idle connections in turn, so a few markers may each meet a fresh
    // one (and count its preparation): enough of them to go round every
    // connection the pool may hold.
    let marks: Vec<_> = (0..=MARKERS).map(|_| counters.now()).collect();
    let alone: Vec<_> = marks
        .windows(2)
        .map(|w| counters.between(w[0], w[1]))
        .collect();
    counters.marker = (
        alone.iter().map(|m| m.0).min().unwrap_or(0),
        alone.iter().filter_map(|m| m.1).min().unwrap_or(0),
    );
    let mut rows = Vec::new();
    for route in ["login", "refresh", "device refresh", "link use", "logout"] {
        rows.push(measure(route, backend, clients, seconds, &counters));
    }
    drop(instances);
    drop(counter);
    drop(bouncer);
    drop(scratch);
    Some(rows)
}

fn main() {
    let args = Args::parse();
    let (clients, seconds) = (usize::from(args.clients), args.seconds);
    let current = showcase_binary_or_exit();
    // `--compare OTHER_SHOWCASE` measures another build (an older commit, say) in the
    // same run, backend by backend, so the two are compared under the same load.
    // (label, binary, whether it knows cookie mode: older builds refuse the setting)
    let mut builds = vec![("this build", current, true)];
    if let Some(other) = args.compare {
        if !other.exists() {
            eprintln!("--compare {}: no such file", other.display());
            std::process::exit(2);
        }
        builds.insert(0, ("compared", other, false));
    }
    let backends: Vec<&'static str> = match args.db {
        Db::Sqlite => vec!["sqlite"],
        Db::Postgres => vec!["postgres"],
        Db::Pgbouncer => vec!["pgbouncer"],
        Db::Both => vec!["sqlite", "postgres"],
        Db::All => vec!["sqlite", "postgres", "pgbouncer"],
    };
    println!(
        "{clients} clients, {seconds} s per route, one release showcase, new connection per request; \
         logins use argon2's cheapest parameters (this run measures jwt-guard, not the hash). \
         Latencies include errored requests. `alone`: one client, the route's first request (cold) / \
         the median of {} after the load (steady; whole counts); `under load`: averages over the window. \
         Round trips exclude pool pings on release (no request waits for them).",
        ALONE - 1
    );
    println!();
    println!("| build | route | backend | requests/s | p50 ms | p99 ms | errors | statements alone | statements under load | round trips alone | round trips under load |");
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut failed = false;
    for backend in backends {
        for (label, binary, knows_cookies) in &builds {
            // A compared build must know `pooler` to run behind PgBouncer (builds
            // before it say so and count as a failed run).
            let Some(rows) = run_backend(binary, *knows_cookies, backend, clients, seconds) else {
                eprintln!("{label} on {backend}: could not run");
                failed = true;
                continue;
            };
            for r in rows {
                let (first, steady) = r.alone.statements;
                println!(
                    "| {label} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {first} / {steady} | {:.1} | {} | {} |",
                    r.route,
                    r.backend,
                    r.per_second,
                    r.p50_ms,
                    r.p99_ms,
                    r.errors,
                    r.statements,
                    r.alone
                        .round_trips
                        .map(|(first, steady)| format!("{first} / {steady}"))
                        .unwrap_or_else(|| "(in-process)".to_owned()),
                    r.round_trips
                        .map(|t| format!("{t:.1}"))
                        .unwrap_or_else(|| "(in-process)".to_owned()),
                );
                if r.requests == 0 {
                    failed = true;
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
