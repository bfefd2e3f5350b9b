//! The guard's verify path against a plain `jsonwebtoken::decode` of the same token.
//!
//! `cargo bench -p jwt-guard --features testing`. After criterion's report, prints the ratios the
//! project tracks, computed from this run's own estimates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_guard::config::JwtConfig;
use jwt_guard::keys::KeyRing;
use jwt_guard::testing::{Revocation, RevocationSet};
use jwt_guard::token::{Grant, Issuer, RegisteredClaims, Token};
use jwt_guard::verifier::Verifier;
use jwt_guard::{Clock, StandardClaims};

const POOL: usize = 4096;

struct Setup {
    name: &'static str,
    verifier: Verifier,
    /// The same keys, with 3000 unrelated revocations held.
    verifier_with_revocations: Verifier,
    tokens: Vec<String>,
    plain_key: DecodingKey,
    plain_validation: Validation,
}

fn setup(name: &'static str, config: JwtConfig, plain_key: DecodingKey, alg: Algorithm) -> Setup {
    let mut config = config;
    config.cache_capacity = 2 * POOL;
    let keys = Arc::new(KeyRing::from_config(&config).expect("bench keys load"));
    let verifier = Verifier::new(
        keys.clone(),
        &config,
        Clock::system(),
        Arc::new(RevocationSet::new()),
    );
    let verifier_with_revocations = Verifier::new(
        keys.clone(),
        &config,
        Clock::system(),
        Arc::new(unrelated_revocations()),
    );
    let issuer = Issuer::new(keys, &config, Clock::system());
    let claims = StandardClaims {
        roles: vec!["user".into(), "admin".into()],
        scope: "profile reports:read".parse().expect("scopes"),
    };
    let tokens = (0..POOL)
        .map(|i| {
            let subject = format!("user-{i}");
            let grant = Grant {
                subject: &subject,
                device_id: Some("device-1"),
                orig_iat: 0,
                acr: None,
                amr: &[],
                dpop_jkt: None,
            };
            issuer.access(&grant, &claims).expect("sign").token
        })
        .collect();
    let mut plain_validation = Validation::new(alg);
    plain_validation.validate_aud = false;
    Setup {
        name,
        verifier,
        verifier_with_revocations,
        tokens,
        plain_key,
        plain_validation,
    }
}

fn rsa_pem(file: &str) -> String {
    format!("{}/../tests/keys/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn bench_family(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group(s.name);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));

    group.bench_function("plain_decode", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % POOL;
            jsonwebtoken::decode::<Token<StandardClaims>>(
                black_box(&s.tokens[i]),
                &s.plain_key,
                &s.plain_validation,
            )
            .expect("plain decode")
        })
    });

    group.bench_function("guard_first_seen", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for n in 0..iters as usize {
                let i = n % POOL;
                if i == 0 {
                    s.verifier.forget_verified();
                }
                black_box(
                    s.verifier
                        .verify_access::<StandardClaims>(black_box(&s.tokens[i]))
                        .expect("verify"),
                );
            }
            start.elapsed()
        })
    });

    s.verifier.forget_verified();
    let hot = &s.tokens[0];
    group.bench_function("guard_cached", |b| {
        b.iter(|| {
            s.verifier
                .verify_access::<StandardClaims>(black_box(hot))
                .expect("verify")
        })
    });

    // The same, with a populated revocation set (none of which hits this token).
    group.bench_function("guard_cached_with_revocations", |b| {
        b.iter(|| {
            s.verifier_with_revocations
                .verify_access::<StandardClaims>(black_box(hot))
                .expect("verify")
        })
    });
    group.finish();
}

/// 1000 revoked tokens, devices and subjects, none of which the bench tokens hit.
fn unrelated_revocations() -> RevocationSet {
    (0..1000)
        .flat_map(|i| {
            [
                Revocation::Token {
                    jti: format!("revoked-{i}"),
                    until: u64::MAX,
                },
                Revocation::Device {
                    device_id: format!("device-revoked-{i}"),
                    until: u64::MAX,
                },
                Revocation::Subject {
                    subject: format!("subject-{i}"),
                    not_before: 1,
                    until: u64::MAX,
                },
            ]
        })
        .collect()
}

fn revocation_check(c: &mut Criterion) {
    let set = unrelated_revocations();
    let claims = RegisteredClaims {
        typ: jwt_guard::token::TokenKind::Access,
        sub: "user-1".into(),
        exp: u64::MAX,
        iat: 100,
        nbf: None,
        jti: "abcdefghijklmnopqrstuv".into(),
        did: Some("device-1".into()),
        orig_iat: None,
        iss: None,
        aud: None,
        auth_time: None,
        acr: None,
        amr: None,
        cnf: None,
    };
    c.bench_function("revocation_check_3000_entries", |b| {
        b.iter(|| black_box(&set).is_revoked(black_box(&claims)))
    });
}

/// Rounds of the interleaved first-seen/plain comparison.
const ROUNDS: usize = 15;

/// First-seen verification against a plain decode of the same tokens, in
/// alternating passes (the order flips every round) so that the drift of a shared
/// machine falls on both alike: (median, lower quartile, upper quartile) of the
/// per-round ratios. Criterion's estimates, taken minutes apart, can differ by a
/// third on a busy machine; this ratio does not.
fn interleaved_first_seen(s: &Setup) -> (f64, f64, f64) {
    let plain = || {
        let started = Instant::now();
        for token in &s.tokens {
            black_box(
                jsonwebtoken::decode::<Token<StandardClaims>>(
                    black_box(token),
                    &s.plain_key,
                    &s.plain_validation,
                )
                .expect("plain decode"),
            );
        }
        started.elapsed().as_secs_f64()
    };
    // As in the criterion bench: forgetting the previous pass's tokens is part of
    // what remembering them costs.
    let first_seen = || {
        let started = Instant::now();
        s.verifier.forget_verified();
        for token in &s.tokens {
            black_box(
                s.verifier
                    .verify_access::<StandardClaims>(black_box(token))
                    .expect("verify"),
            );
        }
        started.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            let (p, f) = if round % 2 == 0 {
                let p = plain();
                (p, first_seen())
            } else {
                let f = first_seen();
                (plain(), f)
            };
            f / p
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (
        ratios[ROUNDS / 2],
        ratios[ROUNDS / 4],
        ratios[3 * ROUNDS / 4],
    )
}

/// Where criterion wrote this run's results: `CRITERION_HOME`, else the
/// `criterion` folder of the target directory this bench was built into (its
/// binary is `<target>/<profile>/deps/<name>`), wherever `CARGO_TARGET_DIR` put it.
fn criterion_dir() -> std::path::PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .nth(3)
                .map(|target| target.join("criterion"))
        })
        .unwrap_or_else(|| format!("{}/../target/criterion", env!("CARGO_MANIFEST_DIR")).into())
}

/// When this run started: estimates written before it are an earlier run's (a
/// filter skipped that bench this time) and are not reported as this run's.
static STARTED: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();

/// The median criterion estimated in this run for `group`/`function`.
fn estimate_ns(group: &str, function: &str) -> Option<f64> {
    this_runs_median(&criterion_dir().join(group).join(function))
}

fn this_runs_median(bench_dir: &std::path::Path) -> Option<f64> {
    let path = bench_dir.join("new/estimates.json");
    let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if STARTED.get().is_some_and(|started| written < *started) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn print_ratios(families: &[&str], interleaved: &[(&str, (f64, f64, f64))]) {
    println!("\n== jwt-guard verify ratios (this run; medians) ==");
    for family in families {
        let plain = estimate_ns(family, "plain_decode");
        let first = estimate_ns(family, "guard_first_seen");
        let cached = estimate_ns(family, "guard_cached");
        let revoked = estimate_ns(family, "guard_cached_with_revocations");
        if let (Some(plain), Some(first), Some(cached), Some(revoked)) =
            (plain, first, cached, revoked)
        {
            println!(
                "{family:6} plain {:8.2} µs | first-seen {:8.2} µs = {:.2}× plain | cached {:6.3} µs = {:.3}× plain | revocation set adds {:+.3} µs",
                plain / 1000.0,
                first / 1000.0,
                first / plain,
                cached / 1000.0,
                cached / plain,
                (revoked - cached) / 1000.0,
            );
        }
    }
    for (family, (median, low, high)) in interleaved {
        println!(
            "{family:6} first-seen / plain, interleaved over {POOL} tokens: {median:.2}× (median of {ROUNDS} rounds; middle half {low:.2}–{high:.2}×)"
        );
    }
    if let Some(check) = this_runs_median(&criterion_dir().join("revocation_check_3000_entries")) {
        println!(
            "revocation check alone (3000 entries): {:.3} µs",
            check / 1000.0
        );
    }
}

fn main() {
    STARTED.get_or_init(std::time::SystemTime::now);
    let mut c = Criterion::default().configure_from_args();
    let secret = "bench-secret-that-is-long-enough-for-hs256";
    let hs = setup(
        "HS256",
        JwtConfig::hmac(secret),
        DecodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    );
    let rs_pem = std::fs::read(rsa_pem("rsa.pub.pem")).expect("rsa public key");
    let rs = setup(
        "RS256",
        JwtConfig::asymmetric(Algorithm::RS256, rsa_pem("rsa.pem")),
        DecodingKey::from_rsa_pem(&rs_pem).expect("rsa public key"),
        Algorithm::RS256,
    );
    let es_pem = std::fs::read(rsa_pem("ec256.pub.pem")).expect("ec public key");
    let es = setup(
        "ES256",
        JwtConfig::asymmetric(Algorithm::ES256, rsa_pem("ec256.pem")),
        DecodingKey::from_ec_pem(&es_pem).expect("ec public key"),
        Algorithm::ES256,
    );
    for s in [&hs, &rs, &es] {
        bench_family(&mut c, s);
    }
    revocation_check(&mut c);
    c.final_summary();
    let interleaved: Vec<_> = [&hs, &rs, &es]
        .into_iter()
        .map(|s| (s.name, interleaved_first_seen(s)))
        .collect();
    print_ratios(&["HS256", "RS256", "ES256"], &interleaved);
}
