//! What `#[use_jwt]` costs in instructions: the release showcase runs under
//! valgrind's callgrind with instrumentation off, and for each bench route (the
//! same four as `guard-ratio`) the program sends warm-up requests on one
//! keep-alive connection, switches instrumentation on (`callgrind_control -i on`),
//! sends the measured requests, switches it off and dumps the counts. Instructions
//! are repeatable whatever else the machine does; the figure per request is the
//! dump's total over the measured requests (the background tasks' few wake-ups
//! in that window included).
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/guard-instructions                 # 200 warm-up, 3,000 measured requests a route
//! target/release/guard-instructions --requests 1000
//! ```
//!
//! Needs `valgrind` (with `callgrind_control`). Traffic goes to 127.0.0.1 only;
//! every loop is bounded.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use load::{request, scratch_sqlite, showcase_binary_or_exit, Instances, KeepAlive};

/// Instructions per request of each bench route.
#[derive(Parser, Debug)]
#[command(name = "guard-instructions")]
struct Args {
    /// Requests sent before instrumentation is switched on, per route.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    warm_up: u32,
    /// Requests measured per route.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    requests: u32,
}

const PORT: u16 = 8113;

/// The bench routes (as `guard-ratio` names them); the open one first.
const ROUTES: [(&str, &str); 4] = [
    ("/bench/open", "open"),
    (
        "/bench/floor",
        "floor (finds the bearer token, checks nothing)",
    ),
    ("/bench/guarded", "`#[use_jwt]`"),
    ("/bench/handwritten", "hand-written `jsonwebtoken` guard"),
];

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    let out = std::env::temp_dir().join(format!("guard-instructions-{}", std::process::id()));
    if std::fs::create_dir_all(&out).is_err() {
        eprintln!("cannot create {}", out.display());
        std::process::exit(2);
    }
    let url = scratch_sqlite("guard-instructions");
    let Some(child) = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--instr-atstart=no",
            &format!("--callgrind-out-file={}/cg.out", out.display()),
        ])
        .arg(&showcase)
        .current_dir(load::showcase_dir())
        .env("ROCKET_PORT", PORT.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .env("SHOWCASE_BENCH_ROUTES", "1")
        .env("SHOWCASE_CHEAP_PASSWORD_HASHES", "1")
        .env(
            "ROCKET_DATABASES",
            format!("{{jwt_guard={{url=\"{url}\"}}}}"),
        )
        .env(
            "ROCKET_JWT",
            "{secret=\"load-test-secret-load-test-secret-0123\", revocation_poll=\"1h\"}",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
    else {
        eprintln!("cannot start valgrind (is it installed?)");
        std::process::exit(2);
    };
    let pid = child.id();
    let _instance = Instances(vec![child]);
    if !up_under_valgrind() {
        eprintln!("the showcase did not start under valgrind");
        std::process::exit(1);
    }
    let Some(access) = load::login(PORT, "alice") else {
        eprintln!("login failed");
        std::process::exit(1);
    };
    let bearer = format!("Bearer {access}");
    println!(
        "callgrind, {} requests a route on one keep-alive connection after {} to warm up; \
         SQLite showcase, the same Authorization header on every route",
        args.requests, args.warm_up
    );
    println!();
    println!("| route | instructions per request | over the open route |");
    println!("| --- | ---: | ---: |");
    let mut open = None;
    for (dump, (path, name)) in ROUTES.iter().enumerate() {
        let Some(total) = measure(pid, &out, dump + 1, path, &bearer, &args) else {
            eprintln!("measuring {path} failed");
            std::process::exit(1);
        };
        let per = total as f64 / f64::from(args.requests);
        let over = open.map_or_else(String::new, |o: f64| {
            format!(
                "+{:.1}k ({:+.1}%)",
                (per - o) / 1000.0,
                (per / o - 1.0) * 100.0
            )
        });
        open.get_or_insert(per);
        println!("| {name} | {:.1}k | {over} |", per / 1000.0);
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Waits (at most three minutes: valgrind starts slowly) for `/hello`.
fn up_under_valgrind() -> bool {
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        if request(PORT, "GET", "/hello", &[], "").is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// The instructions callgrind counted over `args.requests` requests to `path`,
/// read from dump number `dump` (`None` on a wrong answer, a failed control
/// command, or a dump that counted nothing).
fn measure(
    pid: u32,
    out: &Path,
    dump: usize,
    path: &str,
    bearer: &str,
    args: &Args,
) -> Option<u64> {
    let mut conn = KeepAlive::connect(PORT)?;
    let headers = [("Authorization", bearer)];
    for _ in 0..args.warm_up {
        (conn.get(path, &headers)? == 200).then_some(())?;
    }
    control(pid, &["--zero"])?;
    control(pid, &["--instr=on"])?;
    for _ in 0..args.requests {
        (conn.get(path, &headers)? == 200).then_some(())?;
    }
    control(pid, &["--instr=off"])?;
    control(pid, &["--dump"])?;
    let file = dump_file(out, dump)?;
    let text = std::fs::read_to_string(file).ok()?;
    // `totals:` counts what ran since the zeroing (`summary:` says 0 after one).
    text.lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .filter(|total: &u64| *total > 0)
}

/// `callgrind_control <args> <pid>`.
fn control(pid: u32, args: &[&str]) -> Option<()> {
    let status = Command::new("callgrind_control")
        .args(args)
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    status.success().then_some(())
}

/// The dump file numbered `n` (`cg.out.<n>`), waited for briefly.
fn dump_file(out: &Path, n: usize) -> Option<PathBuf> {
    let path = out.join(format!("cg.out.{n}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if path.exists() {
            return Some(path);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}
