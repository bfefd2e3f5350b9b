//! Property tests of token verification for every algorithm family: random bytes
//! and random mutations of valid tokens never panic and are never accepted.
//! `cargo test --test properties` runs a bounded number of cases (64 per property);
//! `PROPTEST_CASES=20000 cargo test -p jwt-guard-tests --test properties` runs long.

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use jwt_guard::config::JwtConfig;
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::token::{Grant, TokenKind};
use jwt_guard::{Clock, StandardClaims};
use jwt_guard_tests::{key_path, TEST_SECRET};
use proptest::prelude::*;

fn cases() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig::with_cases(cases)
}

/// One runtime per family, and a valid access token of each.
fn families() -> &'static [(JwtRuntime, String)] {
    static FAMILIES: std::sync::OnceLock<Vec<(JwtRuntime, String)>> = std::sync::OnceLock::new();
    FAMILIES.get_or_init(|| {
        let configs = vec![
            JwtConfig::hmac(TEST_SECRET),
            JwtConfig::asymmetric(Algorithm::RS256, key_path("rsa.pem")),
            JwtConfig::asymmetric(Algorithm::PS256, key_path("rsa.pem")),
            JwtConfig::asymmetric(Algorithm::ES256, key_path("ec256.pem")),
            JwtConfig::asymmetric(Algorithm::ES384, key_path("ec384.pem")),
            JwtConfig::asymmetric(Algorithm::EdDSA, key_path("ed25519.pem")),
        ];
        configs
            .into_iter()
            .map(|config| {
                let rt = JwtRuntime::new(config, Clock::system(), Arc::default())
                    .unwrap_or_else(|e| panic!("{e}"));
                let grant = Grant {
                    subject: "alice",
                    device_id: None,
                    orig_iat: 0,
                };
                let token = rt
                    .issuer()
                    .access(&grant, &StandardClaims::default())
                    .unwrap_or_else(|e| panic!("{e}"))
                    .token;
                assert!(rt
                    .verifier()
                    .verify_access::<StandardClaims>(&token)
                    .is_ok());
                (rt, token)
            })
            .collect()
    })
}

/// A character of a compact JWS (base64url and the dot), other than `not`.
fn other_jws_char(not: char, pick: u8) -> char {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let mut c = ALPHABET[usize::from(pick) % ALPHABET.len()] as char;
    if c == not {
        c = ALPHABET[(usize::from(pick) + 1) % ALPHABET.len()] as char;
    }
    c
}

proptest! {
    #![proptest_config(cases())]

    /// Random text is refused by every family, on every kind of token.
    #[test]
    fn random_text_is_never_accepted(text in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        for (rt, _) in families() {
            for candidate in [&text, &lossy] {
                prop_assert!(rt.verifier().verify_access::<StandardClaims>(candidate).is_err());
                prop_assert!(rt.verifier().verify::<StandardClaims>(candidate, TokenKind::Refresh, None).is_err());
            }
        }
    }

    /// Any one character of a valid token changed, removed or added: refused.
    #[test]
    fn mutated_tokens_are_never_accepted(at in any::<prop::sample::Index>(), pick in any::<u8>(), how in 0u8..3) {
        for (rt, token) in families() {
            let mut chars: Vec<char> = token.chars().collect();
            let i = at.index(chars.len());
            match how {
                0 => chars[i] = other_jws_char(chars[i], pick),
                1 => { chars.remove(i); }
                _ => chars.insert(i, other_jws_char('\0', pick)),
            }
            let mutated: String = chars.into_iter().collect();
            prop_assume!(mutated != *token);
            let verdict = rt.verifier().verify_access::<StandardClaims>(&mutated);
            prop_assert!(verdict.is_err(), "accepted {mutated} (from {token})");
        }
    }
}
