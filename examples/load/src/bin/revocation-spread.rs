//! How fast a logout reaches every other instance. N release showcase processes
//! share one PostgreSQL database (as behind a load balancer). Each trial logs
//! alice in on the first, checks that every instance accepts her access token,
//! logs that device out on the first, and from the logout's answer has one
//! client per other instance ask `GET /me` with the token (a new connection per
//! request) until it is refused. The trial's spread is the time from the answer
//! to the last instance's first refusal; requests that a refusing instance would
//! have had to refuse but accepted are counted. Reported over the trials as
//! p50/p99/max, with `LISTEN/NOTIFY` and with polling alone
//! (`revocation.listen = false`, `poll` = 2 s); trials start at phases spread
//! over the poll period.
//!
//! ```sh
//! cargo build --release -p showcase -p load
//! target/release/revocation-spread                       # 2 and 4 instances, 40 trials each
//! target/release/revocation-spread --instances 3 --trials 100
//! ```
//!
//! Traffic goes to 127.0.0.1 only; every loop is bounded in time.

use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use load::{login, request, showcase_binary_or_exit, showcase_env, start_instances};
use load::{ScratchDatabase, LOAD_SECRET};

/// Logout propagation across instances.
#[derive(Parser, Debug)]
#[command(name = "revocation-spread")]
struct Args {
    /// Instance counts to try (each at least 2).
    #[arg(long, value_delimiter = ',', default_value = "2,4")]
    instances: Vec<u16>,
    /// Logouts per instance count and mode.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    trials: u64,
}

const FIRST_PORT: u16 = 8131;

/// One mode's trials: each trial's spread, and acceptances after the logout.
struct Spread {
    instances: u16,
    mode: &'static str,
    millis: Vec<f64>,
    accepted_after: u64,
}

fn main() {
    let args = Args::parse();
    let showcase = showcase_binary_or_exit();
    if args.instances.iter().any(|&n| !(2..=8).contains(&n)) {
        eprintln!("--instances: each count between 2 and 8");
        std::process::exit(2);
    }
    let mut results = Vec::new();
    for &n in &args.instances {
        for (mode, listen) in [("LISTEN/NOTIFY", true), ("polling alone (2 s)", false)] {
            match spread(&showcase, n, listen, args.trials) {
                Some(mut spread) => {
                    spread.mode = mode;
                    results.push(spread);
                }
                None => {
                    eprintln!("the run with {n} instances ({mode}) failed");
                    std::process::exit(1);
                }
            }
        }
    }
    println!("| instances | revocations arrive by | trials | p50 (ms) | p99 (ms) | max (ms) | accepted after the logout |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
    for s in &mut results {
        s.millis.sort_by(f64::total_cmp);
        let at = |q: f64| s.millis[((s.millis.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {} |",
            s.instances,
            s.mode,
            s.millis.len(),
            at(0.5),
            at(0.99),
            at(1.0),
            s.accepted_after
        );
    }
}

/// Says why a run stops.
fn said<T>(why: &str) -> Option<T> {
    eprintln!("{why}");
    None
}

/// `n` instances on a fresh database, `trials` logouts on the first.
fn spread(showcase: &std::path::Path, n: u16, listen: bool, trials: u64) -> Option<Spread> {
    let db = ScratchDatabase::create(&format!("spread{n}"))?;
    // One audience for all (the load balancer's address): the showcase otherwise
    // names its own port, and the others would refuse the first one's tokens.
    let jwt = format!(
        "{LOAD_SECRET}, audience=\"http://127.0.0.1:{FIRST_PORT}\", \
         revocation={{poll=\"2s\", listen={listen}}}, devices={{max=1000000}}, \
         login_throttle={{ip_attempts=100000000, account_attempts=100000000}}"
    );
    let env = showcase_env(&db.url, &jwt);
    let ports: Vec<u16> = (0..n).map(|i| FIRST_PORT + i).collect();
    let _instances = start_instances(showcase, &ports, &env)?;
    let mut millis = Vec::new();
    let mut accepted_after = 0;
    for trial in 0..trials {
        // Logouts spread over the poll period (a golden-ratio sequence), so that
        // polling's delay is sampled at every phase, not always just after a poll.
        let phase = (trial as f64 * 0.618_034).fract();
        thread::sleep(Duration::from_secs_f64(phase * 2.0));
        let token =
            login(ports[0], "alice").or_else(|| said("the login on the first instance failed"))?;
        let bearer = format!("Bearer {token}");
        let me = |port: u16| request(port, "GET", "/me", &[("Authorization", &bearer)], "");
        if let Some(port) = ports.iter().find(|&&p| !matches!(me(p), Some((200, _)))) {
            return said(&format!("the instance on {port} refused a fresh token"));
        }
        let (status, _) = request(
            ports[0],
            "POST",
            "/auth/logout",
            &[("Authorization", &bearer)],
            "",
        )
        .or_else(|| said("the logout got no answer"))?;
        let answered = Instant::now();
        if status != 204 {
            return said(&format!("the logout answered {status}"));
        }
        // One client per other instance, each until its instance refuses.
        let waits: Vec<_> = ports[1..]
            .iter()
            .map(|&port| {
                let bearer = bearer.clone();
                thread::spawn(move || {
                    let mut accepted = 0u64;
                    while answered.elapsed() < Duration::from_secs(10) {
                        match request(port, "GET", "/me", &[("Authorization", &bearer)], "") {
                            Some((401, _)) => return Some((answered.elapsed(), accepted)),
                            Some((200, _)) => accepted += 1,
                            _ => {}
                        }
                    }
                    None
                })
            })
            .collect();
        let mut slowest = Duration::ZERO;
        for wait in waits {
            let (took, accepted) = wait
                .join()
                .ok()
                .flatten()
                .or_else(|| said("an instance still accepted the token after 10 s"))?;
            slowest = slowest.max(took);
            accepted_after += accepted;
        }
        millis.push(slowest.as_secs_f64() * 1000.0);
    }
    Some(Spread {
        instances: n,
        mode: "",
        millis,
        accepted_after,
    })
}
