//! The `jwt` table of Rocket's configuration.

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::duration::HumanDuration;
use crate::store::{CapPolicy, StoreSettings};

/// Largest token, in bytes, that jwt-guard will look at. Longer ones are refused
/// before any base64 or JSON parsing happens.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Largest leeway accepted for `exp`/`nbf` checks.
pub const MAX_LEEWAY_SECS: u64 = 60;

/// jwt-guard's settings, read from the `jwt` table of Rocket's figment.
///
/// Every source Rocket reads works: `Rocket.toml` (`[default.jwt]`), or the
/// environment (`ROCKET_JWT='{algorithm="HS512",secret="…"}'`).
///
/// Key material (`private_key`, `public_key`) is either inline PEM text (it starts
/// with `-----BEGIN`) or the path of a PEM file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// Signing algorithm: `HS256/384/512`, `RS256/384/512`, `PS256/384/512`,
    /// `ES256/384` or `EdDSA`. Default `HS256`.
    #[serde(default = "default_algorithm")]
    pub algorithm: Algorithm,
    /// HMAC secret (HS* only); at least as long as the hash (32/48/64 bytes).
    #[serde(default)]
    pub secret: Option<String>,
    /// PEM private key, inline or a path (RS*, PS*, ES*, EdDSA).
    #[serde(default)]
    pub private_key: Option<String>,
    /// Key id written into every token's header. Default: derived from the key
    /// (the RFC 7638 thumbprint for public keys, a digest for a secret).
    #[serde(default)]
    pub kid: Option<String>,
    /// Older or foreign keys still accepted for verification, selected by `kid`.
    #[serde(default)]
    pub verification_keys: Vec<VerificationKeyConfig>,
    /// Lifetime of access tokens. Default `5m`.
    #[serde(default = "default_access_ttl")]
    pub access_ttl: HumanDuration,
    /// Lifetime of refresh tokens. Default `1d`.
    #[serde(default = "default_refresh_ttl")]
    pub refresh_ttl: HumanDuration,
    /// How long after the original login (`orig_iat`) refreshing stays possible.
    /// Default `7d`.
    #[serde(default = "default_refresh_window")]
    pub refresh_window: HumanDuration,
    /// Clock-skew allowance for `exp`/`nbf`. Default `0s`, at most `60s`.
    #[serde(default)]
    pub leeway: HumanDuration,
    /// `iss` written into tokens and required when verifying.
    #[serde(default)]
    pub issuer: Option<String>,
    /// `aud` written into access and refresh tokens and required when verifying.
    #[serde(default)]
    pub audience: Option<String>,
    /// Accepted `Authorization` schemes. Default `["Bearer", "JWT"]`; the first one is
    /// reported as `token_type`.
    #[serde(default = "default_prefixes")]
    pub header_prefixes: Vec<String>,
    /// `realm` of the `WWW-Authenticate` challenge. Default `jwt-guard`.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Sliding lifetime of a device's permanent token. Default `7d`.
    #[serde(default = "default_permanent_ttl")]
    pub permanent_ttl: HumanDuration,
    /// A device's `last_used` is written at most once per this window. Default `30m`.
    #[serde(default = "default_permanent_accuracy")]
    pub permanent_accuracy: HumanDuration,
    /// Most active devices per user; unlimited when unset.
    #[serde(default)]
    pub max_devices: Option<u32>,
    /// At the cap: `reject` the login (default) or `evict_oldest` device.
    #[serde(default)]
    pub device_cap_policy: CapPolicy,
    /// How long a rotated refresh token may be retried while its successor is
    /// unused (`0s`–`60s`). Default `0s`: any second use is reuse.
    #[serde(default)]
    pub refresh_reuse_grace: HumanDuration,
    /// How often revocations made by other instances are read from the database;
    /// the bound on how stale this instance can be. Default `2s`.
    #[serde(default = "default_revocation_poll")]
    pub revocation_poll: HumanDuration,
    /// How long dead devices and tokens are kept before archiving. Default `30d`.
    #[serde(default = "default_archive_after")]
    pub archive_after: HumanDuration,
    /// How long audit events are kept. Default `90d`.
    #[serde(default = "default_audit_retention")]
    pub audit_retention: HumanDuration,
    /// Run the archiver on this interval; off when unset.
    #[serde(default)]
    pub archive_interval: Option<HumanDuration>,
    /// Scheme, host and port that minted link URLs start with, e.g.
    /// `https://app.example`. Default: `http://` and Rocket's address and port. Never
    /// taken from the request's `Host` header, which a client controls.
    #[serde(default)]
    pub link_base_url: Option<String>,
    /// How many verified tokens are remembered so that a repeat request skips the
    /// signature check. `0` disables the cache. Default `10000`.
    #[serde(default = "default_cache_capacity")]
    pub cache_capacity: usize,
}

/// One extra verification key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationKeyConfig {
    /// The `kid` tokens signed with this key carry.
    pub kid: String,
    /// The algorithm this key verifies; tokens naming another are refused.
    pub algorithm: Algorithm,
    /// HMAC secret, for HS* keys.
    #[serde(default)]
    pub secret: Option<String>,
    /// PEM public key (inline or a path), for asymmetric keys.
    #[serde(default)]
    pub public_key: Option<String>,
}

fn default_algorithm() -> Algorithm {
    Algorithm::HS256
}
fn default_access_ttl() -> HumanDuration {
    HumanDuration::from_secs(5 * 60)
}
fn default_refresh_ttl() -> HumanDuration {
    HumanDuration::from_secs(24 * 3600)
}
fn default_refresh_window() -> HumanDuration {
    HumanDuration::from_secs(7 * 24 * 3600)
}
fn default_prefixes() -> Vec<String> {
    vec!["Bearer".into(), "JWT".into()]
}
fn default_realm() -> String {
    "jwt-guard".into()
}
fn default_cache_capacity() -> usize {
    10_000
}
fn default_permanent_ttl() -> HumanDuration {
    HumanDuration::from_secs(7 * 24 * 3600)
}
fn default_permanent_accuracy() -> HumanDuration {
    HumanDuration::from_secs(30 * 60)
}
fn default_revocation_poll() -> HumanDuration {
    HumanDuration::from_secs(2)
}
fn default_archive_after() -> HumanDuration {
    HumanDuration::from_secs(30 * 24 * 3600)
}
fn default_audit_retention() -> HumanDuration {
    HumanDuration::from_secs(90 * 24 * 3600)
}

impl JwtConfig {
    /// A configuration with every default and the given HMAC secret (HS256).
    pub fn hmac(secret: impl Into<String>) -> Self {
        Self {
            algorithm: default_algorithm(),
            secret: Some(secret.into()),
            private_key: None,
            kid: None,
            verification_keys: Vec::new(),
            access_ttl: default_access_ttl(),
            refresh_ttl: default_refresh_ttl(),
            refresh_window: default_refresh_window(),
            leeway: HumanDuration::default(),
            issuer: None,
            audience: None,
            header_prefixes: default_prefixes(),
            realm: default_realm(),
            cache_capacity: default_cache_capacity(),
            permanent_ttl: default_permanent_ttl(),
            permanent_accuracy: default_permanent_accuracy(),
            max_devices: None,
            device_cap_policy: CapPolicy::default(),
            refresh_reuse_grace: HumanDuration::default(),
            revocation_poll: default_revocation_poll(),
            archive_after: default_archive_after(),
            audit_retention: default_audit_retention(),
            archive_interval: None,
            link_base_url: None,
        }
    }

    /// A configuration with every default, signing with `algorithm` and the given
    /// PEM private key (inline text or a path).
    pub fn asymmetric(algorithm: Algorithm, private_key: impl Into<String>) -> Self {
        Self {
            algorithm,
            secret: None,
            private_key: Some(private_key.into()),
            ..Self::hmac(String::new())
        }
    }

    /// Checks the settings that are not about keys.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.leeway.as_secs() > MAX_LEEWAY_SECS {
            return Err(format!(
                "jwt.leeway is {}; at most {MAX_LEEWAY_SECS}s is allowed",
                self.leeway
            ));
        }
        if self.access_ttl.as_secs() == 0 {
            return Err("jwt.access_ttl must be longer than 0s".into());
        }
        if self.refresh_ttl.as_secs() == 0 {
            return Err("jwt.refresh_ttl must be longer than 0s".into());
        }
        if self.refresh_reuse_grace.as_secs() > MAX_LEEWAY_SECS {
            return Err(format!(
                "jwt.refresh_reuse_grace is {}; at most {MAX_LEEWAY_SECS}s is allowed",
                self.refresh_reuse_grace
            ));
        }
        if self.permanent_ttl.as_secs() == 0 {
            return Err("jwt.permanent_ttl must be longer than 0s".into());
        }
        if self.revocation_poll.as_secs() == 0 {
            return Err("jwt.revocation_poll must be at least 1s".into());
        }
        if self.max_devices == Some(0) {
            return Err("jwt.max_devices must be at least 1 (or unset for no cap)".into());
        }
        if let Some(base) = &self.link_base_url {
            let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
            if !scheme_ok || base.contains('?') || base.contains('#') {
                return Err(format!(
                    "jwt.link_base_url `{base}` must be an http(s) URL without query or fragment"
                ));
            }
        }
        if self.header_prefixes.is_empty() {
            return Err("jwt.header_prefixes must name at least one scheme, e.g. `Bearer`".into());
        }
        for prefix in &self.header_prefixes {
            let valid_token68 = !prefix.is_empty()
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
            if !valid_token68 {
                return Err(format!(
                    "jwt.header_prefixes contains `{prefix}`, which is not a valid auth scheme"
                ));
            }
        }
        Ok(())
    }
}

impl JwtConfig {
    /// The store's share of the settings.
    pub fn store_settings(&self) -> StoreSettings {
        StoreSettings {
            permanent_ttl: self.permanent_ttl.as_secs(),
            permanent_accuracy: self.permanent_accuracy.as_secs(),
            max_devices: self.max_devices,
            cap_policy: self.device_cap_policy,
            reuse_grace: self.refresh_reuse_grace.as_secs(),
            max_token_ttl: self
                .access_ttl
                .as_secs()
                .max(self.refresh_ttl.as_secs())
                .saturating_add(self.leeway.as_secs()),
            archive_after: self.archive_after.as_secs(),
            audit_retention: self.audit_retention.as_secs(),
        }
    }
}
