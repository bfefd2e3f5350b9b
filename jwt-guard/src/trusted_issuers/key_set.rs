//! A provider's keys as jwt-guard keeps them: asymmetric only, each with its
//! `kid`, family and (if its JWK names one) algorithm.

use std::time::Instant;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One verification key of a provider.
pub(super) struct OutsideKey {
    pub(super) kid: Option<String>,
    /// The key's own `alg`, if its JWK names one.
    pub(super) alg: Option<Algorithm>,
    pub(super) family: KeyFamily,
    pub(super) key: DecodingKey,
}

/// The kind of key an algorithm needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyFamily {
    Rsa,
    Ec,
    Okp,
}

/// The key family `alg` verifies with; `None` for HMAC and `none`.
pub(super) fn family_of(alg: Algorithm) -> Option<KeyFamily> {
    use Algorithm::*;
    match alg {
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => Some(KeyFamily::Rsa),
        ES256 | ES384 => Some(KeyFamily::Ec),
        EdDSA => Some(KeyFamily::Okp),
        _ => None,
    }
}

/// The keys of one fetch, and until when they are fresh.
pub(super) struct KeySet {
    pub(super) keys: Vec<OutsideKey>,
    pub(super) fresh_until: Instant,
}

/// The keys of `set` that can verify one of `algorithms`: asymmetric only (a
/// symmetric `oct` key in a public JWKS is refused, so no token is ever checked as
/// HMAC with a public key).
pub(super) fn usable_keys(set: &JwkSet, algorithms: &[Algorithm]) -> Vec<OutsideKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let family = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
                AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
                AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Okp,
                _ => return None,
            };
            let alg = jwk_algorithm(jwk);
            let fits = algorithms
                .iter()
                .any(|a| family_of(*a) == Some(family) && alg.is_none_or(|k| k == *a));
            if !fits {
                return None;
            }
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some(OutsideKey {
                kid: jwk.common.key_id.clone(),
                alg,
                family,
                key,
            })
        })
        .collect()
}

fn jwk_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let name = jwk.common.key_algorithm.as_ref()?.to_string();
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_keys_in_a_jwks_are_never_used() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({
            "keys": [{ "kty": "oct", "kid": "h", "k": "c2VjcmV0", "alg": "HS256" }]
        }))
        .unwrap();
        assert!(usable_keys(&set, &[Algorithm::RS256, Algorithm::HS256]).is_empty());
    }
}
