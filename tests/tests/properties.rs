//! Property tests of token verification for every algorithm family: random bytes
//! and random mutations of valid tokens never panic and are never accepted; and
//! near-valid tokens — correctly signed by the app's own key, well-formed, with one
//! field off — are refused for that field.
//! `cargo test --test properties` runs a bounded number of cases (64 per property);
//! `PROPTEST_CASES=20000 cargo test -p jwt-guard-tests --test properties` runs long.

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
                let rt = JwtRuntime::new(config, Clock::system()).unwrap_or_else(|e| panic!("{e}"));
                let grant = Grant {
                    subject: "alice",
                    device_id: None,
                    orig_iat: 0,
                    acr: None,
                    amr: &[],
                    dpop_jkt: None,
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

/// The HMAC runtime with an issuer and an audience configured (so that those
/// fields can be off too), and a valid token's header and payload.
fn strict_hmac() -> &'static (JwtRuntime, serde_json::Value, serde_json::Value) {
    static STRICT: std::sync::OnceLock<(JwtRuntime, serde_json::Value, serde_json::Value)> =
        std::sync::OnceLock::new();
    STRICT.get_or_init(|| {
        let mut config = JwtConfig::hmac(TEST_SECRET);
        config.issuer = Some("https://app.example".into());
        config.audience = Some("app-api".into());
        let rt = JwtRuntime::new(config, Clock::system()).unwrap_or_else(|e| panic!("{e}"));
        let grant = Grant {
            subject: "alice",
            device_id: None,
            orig_iat: 0,
            acr: None,
            amr: &[],
            dpop_jkt: None,
        };
        let token = rt
            .issuer()
            .access(&grant, &StandardClaims::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .token;
        let (header, payload) = jwt_guard_tests::parts(&token);
        (rt, header, payload)
    })
}

/// Signs `header.payload` with the test secret under `alg`, as the app would.
fn hmac_signed(header: &serde_json::Value, payload: &serde_json::Value, alg: Algorithm) -> String {
    let input = format!(
        "{}.{}",
        jwt_guard_tests::b64(header.to_string().as_bytes()),
        jwt_guard_tests::b64(payload.to_string().as_bytes())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).unwrap_or_else(|e| panic!("{e}"));
    format!("{input}.{signature}")
}

proptest! {
    #![proptest_config(cases())]

    /// A token signed with the app's own key, well-formed, exactly one field off:
    /// the kind, a time, the issuer, the audience, the algorithm, the key id, a
    /// critical header, a required claim. Each is refused; the same token with the
    /// field left alone is accepted (so the refusal is for that field).
    #[test]
    fn near_valid_tokens_are_refused_for_their_one_field(field in 0u8..12, shift in 1u64..100_000, pick in any::<u8>()) {
        let (rt, header, payload) = strict_hmac();
        let now = jwt_guard_tests::now();
        let mut header = header.clone();
        let mut payload = payload.clone();
        payload["iat"] = now.into();
        payload["nbf"] = now.into();
        payload["exp"] = (now + 300).into();
        let control = hmac_signed(&header, &payload, Algorithm::HS256);
        prop_assert!(rt.verifier().verify_access::<StandardClaims>(&control).is_ok());
        let kid = header["kid"].as_str().unwrap_or_default().to_owned();
        let mut alg = Algorithm::HS256;
        let what = match field {
            0 => {
                let kinds = ["refresh", "link", "device", "Access", "", "access "];
                payload["typ"] = kinds[usize::from(pick) % kinds.len()].into();
                "typ"
            }
            1 => { payload["exp"] = now.saturating_sub(shift).into(); "exp in the past" }
            2 => { payload["nbf"] = (now + shift).into(); "nbf in the future" }
            3 => { payload["iat"] = (now + shift).into(); "iat in the future" }
            4 => { payload["iss"] = format!("https://app.example{}", "/x".repeat(usize::from(pick % 3) + 1)).into(); "iss" }
            5 => { payload["aud"] = format!("app-api{}", shift).into(); "aud" }
            6 => {
                alg = if pick % 2 == 0 { Algorithm::HS384 } else { Algorithm::HS512 };
                header["alg"] = format!("{alg:?}").into();
                "alg"
            }
            7 => {
                let near = [format!("{kid} "), kid.to_uppercase(), kid[..kid.len().saturating_sub(1)].to_owned(), format!("{kid}\u{0}")];
                let near = near[usize::from(pick) % near.len()].clone();
                prop_assume!(near != kid);
                header["kid"] = near.into();
                "kid"
            }
            8 => { header["crit"] = serde_json::json!(["exp"]); "crit" }
            9 => {
                let required = ["exp", "sub", "typ", "jti", "iat"];
                let name = required[usize::from(pick) % required.len()];
                if let Some(claims) = payload.as_object_mut() {
                    claims.remove(name);
                }
                "a required claim"
            }
            10 => { payload["exp"] = serde_json::json!(format!("{}", now + 300)); "exp as a string" }
            _ => { header["alg"] = "none".into(); "alg none" }
        };
        let token = hmac_signed(&header, &payload, alg);
        let verdict = rt.verifier().verify_access::<StandardClaims>(&token);
        prop_assert!(verdict.is_err(), "accepted with {what} off: {payload}");
    }
}
