//! How an instance copes with many live revocations: for each count, a fresh
//! PostgreSQL database gets that many revocation rows (half devices, half token
//! ids, each 16 bytes as 22 base64url characters, as jwt-guard makes its ids,
//! live for an hour), then a
//! release showcase is launched on it and measured — the time until it answers,
//! its resident and peak memory, the size its revocation set reports
//! (`jwt_guard_revocation_set_size`), and the cost of `GET /me` on a kept-alive
//! connection against the run with none.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/revocation-scale                        # 0, 10⁴, 10⁵, 10⁶
//! target/release/revocation-scale --counts 0,100000 --requests 5000
//! target/release/revocation-scale --compare /path/to/older/showcase   # both builds, each count's database shared
//! ```
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use load::{
    login, metric, metrics, psql, request, showcase_binary_or_exit, showcase_env, spawn_showcase,
    start_instances,
};
use load::{Instances, KeepAlive, ScratchDatabase, LOAD_SECRET};

/// Launch time and memory with many live revocations.
#[derive(Parser, Debug)]
#[command(name = "revocation-scale")]
struct Args {
    /// Revocation counts to try, in order (the first is the baseline).
    #[arg(long, value_delimiter = ',', default_value = "0,10000,100000,1000000")]
    counts: Vec<u64>,
    /// `GET /me` requests timed per count.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    requests: u64,
    /// Another showcase build, launched on each count's database right after this
    /// one's (its rows follow, marked "compared").
    #[arg(long)]
    compare: Option<PathBuf>,
}

const PORT: u16 = 8121;

/// What one launch measured.
struct Launch {
    build: &'static str,
    count: u64,
    seconds: f64,
    rss_kib: u64,
    peak_kib: u64,
    set_size: Option<u64>,
    me_micros: f64,
}

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    let mut builds = vec![("this", showcase)];
    if let Some(other) = args.compare {
        builds.push(("compared", other));
    }
    let mut launches = Vec::new();
    for &count in &args.counts {
        let Some(db) = filled_database(&builds[0].1, count) else {
            eprintln!("cannot prepare a database with {count} revocations");
            std::process::exit(1);
        };
        for (build, binary) in &builds {
            match launch(binary, &db, count, args.requests) {
                Some(launch) => launches.push(Launch { build, ..launch }),
                None => {
                    eprintln!("the {build} build's run with {count} revocations failed");
                    std::process::exit(1);
                }
            }
        }
    }
    println!(
        "| build | live revocations | launch (s) | resident (MiB) | peak (MiB) | set size | bytes per revocation (resident, over the first count) | GET /me (µs) | vs the first count |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for l in &launches {
        let Some(base) = launches.iter().find(|b| b.build == l.build) else {
            continue;
        };
        let per = if l.count > base.count {
            let grown = l.rss_kib.saturating_sub(base.rss_kib) * 1024;
            format!("{:.0}", grown as f64 / (l.count - base.count) as f64)
        } else {
            "—".to_owned()
        };
        println!(
            "| {} | {} | {:.2} | {:.1} | {:.1} | {} | {} | {:.0} | {:.2}× |",
            l.build,
            l.count,
            l.seconds,
            l.rss_kib as f64 / 1024.0,
            l.peak_kib as f64 / 1024.0,
            l.set_size.map_or("?".to_owned(), |n| n.to_string()),
            per,
            l.me_micros,
            l.me_micros / base.me_micros,
        );
    }
}

/// The environment a showcase runs with on `db`.
fn environment(db: &ScratchDatabase) -> [(&'static str, String); 3] {
    showcase_env(&db.url, LOAD_SECRET)
}

/// A scratch database with jwt-guard's schema (a first launch of `showcase`
/// creates it, and the demo users) and `count` live revocations.
fn filled_database(showcase: &Path, count: u64) -> Option<ScratchDatabase> {
    let db = ScratchDatabase::create(&format!("scale{count}"))?;
    drop(start_instances(showcase, &[PORT], &environment(&db))?);
    let now = "extract(epoch from now())::bigint";
    let filled = psql(
        &db.url,
        &format!(
            "INSERT INTO jwt_guard_revocations (kind, value, not_before, until, created_at, seq) \
             SELECT CASE WHEN i % 2 = 0 THEN 'device' ELSE 'jti' END, \
                    rtrim(translate(encode(decode(md5(i::text), 'hex'), 'base64'), '+/', '-_'), '='), \
                    0, {now} + 3600, {now}, 0 \
             FROM generate_series(1, {count}) AS i"
        ),
    );
    filled.then_some(db)
}

/// One launch of `showcase` on `db`, measured.
fn launch(showcase: &Path, db: &ScratchDatabase, count: u64, requests: u64) -> Option<Launch> {
    let env = environment(db);
    wait_for_free_port();
    let started = Instant::now();
    let child = spawn_showcase(showcase, PORT, &env, None).map(|(child, _)| child)?;
    let pid = child.id();
    let _instance = Instances(vec![child]);
    let deadline = started + Duration::from_secs(300);
    while request(PORT, "GET", "/hello", &[], "").is_none() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let seconds = started.elapsed().as_secs_f64();
    let token = login(PORT, "alice")?;
    let bearer = format!("Bearer {token}");
    let mut conn = KeepAlive::connect(PORT)?;
    let headers = [("Authorization", bearer.as_str())];
    for _ in 0..requests.min(200) {
        conn.get("/me", &headers)?; // warm-up
    }
    let timed = Instant::now();
    for _ in 0..requests {
        if conn.get("/me", &headers)? != 200 {
            return None;
        }
    }
    let me_micros = timed.elapsed().as_secs_f64() * 1e6 / requests as f64;
    let (rss_kib, peak_kib) = memory(pid)?;
    Some(Launch {
        build: "this",
        count,
        seconds,
        rss_kib,
        peak_kib,
        set_size: set_size(),
        me_micros,
    })
}

/// Resident and peak resident memory of `pid`, KiB (`/proc/<pid>/status`).
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The revocation set's size as the instance reports it to Prometheus.
fn set_size() -> Option<u64> {
    metric(&metrics(PORT)?, "jwt_guard_revocation_set_size").map(|n| n as u64)
}

/// Waits (5 s at most) until the port the last instance held is free again.
fn wait_for_free_port() {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpListener::bind(("127.0.0.1", PORT)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}
