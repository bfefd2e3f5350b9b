//! What a route costs each tier, for sizing: one release showcase on a scratch
//! PostgreSQL database (directly, or through one transaction-mode PgBouncer),
//! each route kind driven in turn by concurrent clients (a new connection per
//! request), and around each window the CPU time every tier used, read from
//! `/proc`: the showcase process, PostgreSQL's processes (its background writers
//! included), PgBouncer, and this load generator. From those: CPU milliseconds a
//! request costs each tier, and so the requests per second one vCPU of the
//! application tier, and one of the database, would carry — the form identity
//! servers publish their sizing in.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/sizing                    # 8 clients, 5 s a route, PostgreSQL direct
//! target/release/sizing --pgbouncer        # through one PgBouncer in transaction mode
//! ```
//!
//! Logins use argon2's cheapest parameters (`SHOWCASE_CHEAP_PASSWORD_HASHES`):
//! the password hash is the application's choice, and costs what it is set to
//! cost on top. Throttles and the device cap are lifted. Nothing else should run
//! on the machine meanwhile: every process named `postgres` counts.
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{cpu_seconds, expected_status, route_step, showcase_binary_or_exit, showcase_env};
use load::{start_instances, ScratchDatabase, Step, LOAD_SECRET, ROUTES};

/// CPU per request of each tier, each route kind.
#[derive(Parser, Debug)]
#[command(name = "sizing")]
struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    clients: u16,
    /// Seconds per route kind.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    seconds: u64,
    /// The showcase reaches PostgreSQL through one transaction-mode PgBouncer.
    #[arg(long)]
    pgbouncer: bool,
}

const PORT: u16 = 8161;

/// CPU seconds used so far: showcase, PostgreSQL, PgBouncer, this program.
fn tiers() -> [f64; 4] {
    [
        cpu_seconds("showcase"),
        cpu_seconds("postgres"),
        cpu_seconds("pgbouncer"),
        cpu_seconds("self"),
    ]
}

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    let Some(db) = ScratchDatabase::create("sizing") else {
        eprintln!("no scratch PostgreSQL database");
        std::process::exit(2);
    };
    let bouncer = if args.pgbouncer {
        let Some(bouncer) = db.pgbouncer() else {
            std::process::exit(2);
        };
        Some(bouncer)
    } else {
        None
    };
    let jwt = format!(
        "{LOAD_SECRET}, revocation_poll=\"1h\", cookies={{enabled=false}}, \
         max_devices=1000000, login_throttle={{ip_attempts=100000000, \
         account_attempts=100000000, refreshes_per_device_per_minute=100000000}}"
    );
    let mut env = showcase_env(&db.url, &jwt).to_vec();
    if let Some(bouncer) = &bouncer {
        env[1].1 = db.through(bouncer);
    }
    env.push(("SHOWCASE_CHEAP_PASSWORD_HASHES", "1".to_owned()));
    let Some(_instance) = start_instances(&showcase, &[PORT], &env) else {
        eprintln!("the showcase did not start");
        std::process::exit(1);
    };
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "One showcase, PostgreSQL {}; {} clients, {} s a route, a new connection per request; \
         {cores} vCPUs shared by every tier",
        if bouncer.is_some() {
            "through one PgBouncer (transaction mode)"
        } else {
            "direct"
        },
        args.clients,
        args.seconds
    );
    println!();
    println!(
        "| route | requests/s | errors | showcase CPU ms/request | PostgreSQL CPU ms/request | \
         PgBouncer CPU ms/request | load client CPU ms/request | requests/s per app vCPU | \
         requests/s per database vCPU |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for route in ROUTES {
        let Some(line) = measure(route, &args) else {
            eprintln!("{route}: no request succeeded");
            std::process::exit(1);
        };
        println!("{line}");
    }
}

/// One route kind's window: its table row.
fn measure(route: &'static str, args: &Args) -> Option<String> {
    let clients = usize::from(args.clients);
    let window = Duration::from_secs(args.seconds);
    // Setup (sessions, links) on the clients' own threads, untimed.
    let steps: Vec<Step> = thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| scope.spawn(move || route_step(PORT, route, c, window)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let (ok, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let before = tiers();
    let started = Instant::now();
    let deadline = started + window;
    thread::scope(|scope| {
        for mut step in steps {
            let (ok, errors) = (ok.clone(), errors.clone());
            scope.spawn(move || {
                while Instant::now() < deadline {
                    match step() {
                        Some((status, _)) if status == expected_status(route) => {
                            ok.fetch_add(1, Ordering::Relaxed)
                        }
                        Some(_) => errors.fetch_add(1, Ordering::Relaxed),
                        None => break,
                    };
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let after = tiers();
    let ok = ok.load(Ordering::Relaxed);
    if ok == 0 {
        return None;
    }
    let ms = |tier: usize| (after[tier] - before[tier]) * 1000.0 / ok as f64;
    // Under a microsecond a request: the tier's background ticks, not the route.
    let per_vcpu = |tier: usize| {
        let m = ms(tier);
        if m >= 0.001 {
            format!("{:.0}", 1000.0 / m)
        } else {
            "— (not asked)".to_owned()
        }
    };
    Some(format!(
        "| {route} | {:.0} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} |",
        ok as f64 / elapsed,
        errors.load(Ordering::Relaxed),
        ms(0),
        ms(1),
        ms(2),
        ms(3),
        per_vcpu(0),
        per_vcpu(1),
    ))
}
