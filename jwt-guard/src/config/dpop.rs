//! The `dpop` table: sender-constrained tokens (RFC 9449).

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::error::{Problem, Problems};
use super::limits::MAX_LEEWAY_SECS;
use crate::duration::HumanDuration;

/// Whether tokens may, or must, be bound to a client's key with DPoP proofs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DpopMode {
    /// No DPoP: a `DPoP` header is ignored and the `DPoP` scheme is not read.
    #[default]
    Off,
    /// A client that sends a proof when it signs in gets bound tokens, and must
    /// prove its key from then on; clients without proofs keep bearer tokens.
    Allowed,
    /// Every session must be bound: sign-ins without a proof and bearer tokens
    /// are refused.
    Required,
}

/// Where the `jti` of accepted proofs is remembered (RFC 9449 §11.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReplayCache {
    /// jwt-guard's database: a proof is accepted once across every instance that
    /// shares it.
    Database,
    /// This process's memory: for a single instance (or a verify-only app,
    /// which has no database).
    Memory,
}

/// DPoP (RFC 9449): tokens bound to a key pair the client holds, every request
/// carrying a fresh proof signed with it. A stolen access or refresh token is
/// useless without the key.
///
/// ```toml
/// [default.jwt.dpop]
/// mode = "allowed"
/// public_url = "https://api.example"
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DpopConfig {
    /// `off` (default), `allowed` or `required`.
    pub mode: DpopMode,
    /// Scheme, host, port and any path prefix clients reach this app under, e.g.
    /// `https://api.example/v1` behind a proxy that strips `/v1`: proofs' `htu`
    /// must be this followed by the request's path (RFC 9449 §4.3 check 9). Never
    /// taken from the request's `Host` header. Default: `link_base_url`, else
    /// `http://` and Rocket's address and port — and, when that is a loopback
    /// address, the same with `localhost` (a browser page needs that name to be
    /// a secure context, for WebAuthn among others).
    pub public_url: Option<String>,
    /// Signature algorithms accepted for proofs (asymmetric only). Default
    /// `["ES256", "ES384", "EdDSA", "RS256", "PS256"]`.
    pub algorithms: Vec<Algorithm>,
    /// How old a proof's `iat` may be. Default `60s`, at most `5m`.
    pub proof_lifetime: HumanDuration,
    /// How far in the future a proof's `iat` may be (client clocks run fast).
    /// Default `5s`, at most `60s`.
    pub skew: HumanDuration,
    /// Where used proofs are remembered: `database` (default; shared by every
    /// instance) or `memory`. A verify-only app always uses memory.
    pub replay_cache: Option<ReplayCache>,
    /// Require server-provided nonces in proofs (RFC 9449 §8, §9). Default
    /// `false`. Nonces are stateless (a MAC over a time window, valid on every
    /// instance sharing the keys).
    pub nonce: bool,
    /// How long a nonce stays valid. Default `5m`.
    pub nonce_lifetime: HumanDuration,
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self {
            mode: DpopMode::Off,
            public_url: None,
            algorithms: vec![
                Algorithm::ES256,
                Algorithm::ES384,
                Algorithm::EdDSA,
                Algorithm::RS256,
                Algorithm::PS256,
            ],
            proof_lifetime: HumanDuration::from_secs(60),
            skew: HumanDuration::from_secs(5),
            replay_cache: None,
            nonce: false,
            nonce_lifetime: HumanDuration::from_secs(300),
        }
    }
}

/// Longest `proof_lifetime`: a proof is a one-request credential.
pub const MAX_PROOF_LIFETIME_SECS: u64 = 300;

impl DpopConfig {
    /// Whether proofs are read at all.
    pub fn enabled(&self) -> bool {
        self.mode != DpopMode::Off
    }

    /// The accepted algorithms, space-separated (the challenges' `algs`).
    pub fn algorithm_names(&self) -> String {
        self.algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `dpop` table's rules.
    pub(super) fn check(&self, p: &mut Problems) {
        if self.algorithms.is_empty() {
            let needs = "one algorithm, e.g. `ES256`";
            p.add("algorithms", Problem::Empty { needs });
        }
        for alg in &self.algorithms {
            if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                // RFC 9449 §4.2: a proof is signed with the client's private key.
                p.add("algorithms", Problem::HmacFromOutside);
            }
        }
        p.positive("proof_lifetime", self.proof_lifetime);
        p.at_most(
            "proof_lifetime",
            self.proof_lifetime,
            MAX_PROOF_LIFETIME_SECS,
        );
        p.at_most("skew", self.skew, MAX_LEEWAY_SECS);
        p.positive("nonce_lifetime", self.nonce_lifetime);
        if let Some(url) = &self.public_url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.contains('?') || url.contains('#') {
                p.add("public_url", Problem::NotHttpUrl(url.clone()));
            }
        }
    }
}
