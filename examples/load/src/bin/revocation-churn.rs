//! How large the in-memory revocation set grows under a steady logout rate. A
//! release showcase on a scratch PostgreSQL database, with a short `access_ttl`
//! so the run sees the set settle: one client logs a device in and out at a set
//! pace, and every `--every` seconds the program reads the set's size from
//! `/metrics` (`jwt_guard_revocation_set_size`, refreshed at each poll).
//!
//! A device's revocation lasts as long as its access tokens (`access_ttl` +
//! `leeway`), so the set settles at about pace × that; a build that kept each
//! for the longest token lifetime (days) grows without settling.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/revocation-churn                                    # 20 logouts/s, 90 s, access_ttl 30s
//! target/release/revocation-churn --compare /path/to/older/showcase  # both builds, one run
//! ```
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{metric, metrics, request, showcase_binary_or_exit, showcase_env, start_instances};
use load::{ScratchDatabase, LOAD_SECRET};

/// The revocation set's size under a steady logout rate.
#[derive(Parser, Debug)]
#[command(name = "revocation-churn")]
struct Args {
    /// Logouts per second.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=200))]
    rate: u64,
    /// Seconds of logouts.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u64).range(5..=600))]
    seconds: u64,
    /// The instance's `access_ttl`, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    access_ttl: u64,
    /// Seconds between two readings of the set's size.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    every: u64,
    /// Another showcase binary, run the same way after this build's.
    #[arg(long)]
    compare: Option<PathBuf>,
}

const PORT: u16 = 8151;

fn main() {
    let args = Args::parse();
    let mut builds = vec![("this", showcase_binary_or_exit())];
    if let Some(other) = &args.compare {
        builds.push(("compared", other.clone()));
    }
    println!(
        "{} logouts/s for {} s, access_ttl {} s, leeway 0 s, revocation poll 1 s",
        args.rate, args.seconds, args.access_ttl
    );
    println!(
        "| build | seconds | logouts so far | set size | pace × (access_ttl + leeway) | errors |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, binary) in builds {
        if !run(name, &binary, &args) {
            eprintln!("the run of {name} ({}) failed", binary.display());
            std::process::exit(1);
        }
    }
}

/// One build on a fresh database: prints its rows.
fn run(name: &str, showcase: &Path, args: &Args) -> bool {
    let Some(db) = ScratchDatabase::create("churn") else {
        return false;
    };
    // Throttles and the device cap out of the way; the background poll every
    // second, so the metric follows the set closely.
    let jwt = format!(
        "{LOAD_SECRET}, access_ttl=\"{}s\", leeway=\"0s\", revocation_poll=\"1s\", \
         max_devices=1000000, cookies={{enabled=false}}, \
         login_throttle={{ip_attempts=100000000, account_attempts=100000000, \
         refreshes_per_device_per_minute=100000000}}",
        args.access_ttl
    );
    let mut env = showcase_env(&db.url, &jwt).to_vec();
    env.push(("SHOWCASE_CHEAP_PASSWORD_HASHES", "1".to_owned()));
    let Some(_instance) = start_instances(showcase, &[PORT], &env) else {
        eprintln!("the showcase did not start");
        return false;
    };
    let gap = Duration::from_secs_f64(1.0 / args.rate as f64);
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    let mut next_reading = start + Duration::from_secs(args.every);
    let (mut done, mut errors) = (0u64, 0u64);
    let mut next = start;
    while Instant::now() < end {
        if Instant::now() >= next_reading {
            print_row(name, start, done, errors, args);
            next_reading += Duration::from_secs(args.every);
        }
        if log_in_and_out() {
            done += 1;
        } else {
            errors += 1;
        }
        next += gap;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    print_row(name, start, done, errors, args);
    true
}

/// One device: logged in, then out with its own access token.
fn log_in_and_out() -> bool {
    let Some(access) = load::login(PORT, "alice") else {
        return false;
    };
    let bearer = format!("Bearer {access}");
    matches!(
        request(
            PORT,
            "POST",
            "/auth/logout",
            &[("Authorization", bearer.as_str())],
            ""
        ),
        Some((204, _))
    )
}

fn print_row(name: &str, start: Instant, done: u64, errors: u64, args: &Args) {
    let size = metrics(PORT)
        .and_then(|text| metric(&text, "jwt_guard_revocation_set_size"))
        .map_or_else(|| "?".to_owned(), |v| format!("{v:.0}"));
    let elapsed = start.elapsed().as_secs_f64();
    let settled = args.rate as f64 * args.access_ttl as f64;
    println!(
        "| {name} | {elapsed:.0} | {done} | {size} | {:.0} | {errors} |",
        settled.min(done as f64)
    );
}
