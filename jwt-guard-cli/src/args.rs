//! Typed argument values: clap checks them before any command runs, and a bad one
//! is one clear line naming its flag.

use clap::ValueEnum;
use jsonwebtoken::Algorithm;
use jwt_guard::config::{parse_duration, HumanDuration};
use serde_json::{Map, Value};

/// An algorithm a new signing key can be made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub(crate) enum KeyAlgorithm {
    /// HMAC with SHA-256 (a random 512-bit secret).
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSA 2048, PKCS#1 v1.5 with SHA-256.
    RS256,
    /// RSA 2048, PKCS#1 v1.5 with SHA-384.
    RS384,
    /// RSA 2048, PKCS#1 v1.5 with SHA-512.
    RS512,
    /// RSA 2048, PSS with SHA-256.
    PS256,
    /// RSA 2048, PSS with SHA-384.
    PS384,
    /// RSA 2048, PSS with SHA-512.
    PS512,
    /// ECDSA P-256.
    ES256,
    /// ECDSA P-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl KeyAlgorithm {
    /// The `jsonwebtoken` algorithm.
    pub(crate) fn algorithm(self) -> Algorithm {
        match self {
            KeyAlgorithm::HS256 => Algorithm::HS256,
            KeyAlgorithm::HS384 => Algorithm::HS384,
            KeyAlgorithm::HS512 => Algorithm::HS512,
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::RS384 => Algorithm::RS384,
            KeyAlgorithm::RS512 => Algorithm::RS512,
            KeyAlgorithm::PS256 => Algorithm::PS256,
            KeyAlgorithm::PS384 => Algorithm::PS384,
            KeyAlgorithm::PS512 => Algorithm::PS512,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::ES384 => Algorithm::ES384,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }

    /// The name as written in configuration (`HS256`, `EdDSA`).
    pub(crate) fn name(self) -> String {
        format!("{:?}", self.algorithm())
    }
}

/// `--ttl`, `--since`: a duration in jwt-guard's grammar with its unit (`15m`,
/// `7d`). A bare number is refused here: `--ttl 15` meant minutes as often as
/// seconds.
pub(crate) fn duration(text: &str) -> Result<HumanDuration, String> {
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{trimmed}` has no unit; write e.g. `{trimmed}s`, `{trimmed}m` or `{trimmed}h`"
        ));
    }
    parse_duration(text)
        .map(HumanDuration)
        .map_err(|e| e.to_string())
}

/// `--claim key=value`: one claim; the value is JSON when it reads as JSON
/// (`true`, `3`, `["a"]`), else a string.
pub(crate) fn claim(text: &str) -> Result<(String, Value), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| "expected `key=value`".to_owned())?;
    let key = key.trim();
    if key.is_empty() {
        return Err("the claim has no name".to_owned());
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

/// `--claims`: a JSON object.
pub(crate) fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("must be a JSON object".to_owned()),
        Err(e) => Err(format!("is not JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_algorithm_round_trips_its_configured_name() {
        for alg in KeyAlgorithm::value_variants() {
            let name = alg.name();
            let parsed: Result<Algorithm, _> = name.parse();
            assert_eq!(parsed.ok(), Some(alg.algorithm()), "{name}");
        }
    }

    #[test]
    fn a_duration_needs_its_unit() {
        assert_eq!(duration("15m").map(|d| d.as_secs()), Ok(900));
        let bare = duration("15").err().unwrap_or_default();
        assert!(bare.contains("no unit") && bare.contains("`15m`"), "{bare}");
    }

    #[test]
    fn a_claim_is_json_when_it_reads_as_json() {
        assert_eq!(
            claim("tenant=acme"),
            Ok(("tenant".into(), Value::from("acme")))
        );
        assert_eq!(claim("level=3"), Ok(("level".into(), Value::from(3))));
        assert_eq!(
            claim("groups=[\"a\"]"),
            Ok(("groups".into(), serde_json::json!(["a"])))
        );
        assert!(claim("novalue").is_err() && claim("=x").is_err());
    }

    #[test]
    fn claims_must_be_an_object() {
        assert!(json_object("{\"a\":1}").is_ok());
        assert!(json_object("[1]").is_err());
        assert!(json_object("{").is_err());
    }
}
