//! The `jwt` table of Rocket's configuration, and the durations it is written in.

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

mod cookies;
mod issuers;
mod throttle;

pub use crate::duration::{parse_duration, DurationError, HumanDuration};
use crate::secret::SecretText;
pub use cookies::{CookieConfig, SameSitePolicy};
pub use issuers::TrustedIssuerConfig;
pub use throttle::ThrottleConfig;

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
#[non_exhaustive]
pub struct JwtConfig {
    /// Signing algorithm: `HS256/384/512`, `RS256/384/512`, `PS256/384/512`,
    /// `ES256/384` or `EdDSA`. Default `HS256`.
    #[serde(default = "default_algorithm")]
    pub algorithm: Algorithm,
    /// HMAC secret (HS* only); at least as long as the hash (32/48/64 bytes).
    #[serde(default)]
    pub secret: Option<SecretText>,
    /// PEM private key, inline or a path (RS*, PS*, ES*, EdDSA).
    #[serde(default)]
    pub private_key: Option<SecretText>,
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
    /// Accepted `Authorization` schemes. Default `["Bearer"]` (RFC 6750); add `"JWT"`
    /// for clients of djangorestframework-jwt. The first one is reported as
    /// `token_type`.
    #[serde(default = "default_prefixes")]
    pub header_prefixes: Vec<String>,
    /// `realm` of the `WWW-Authenticate` challenge. Default `jwt-guard`.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Sliding lifetime of a device's permanent token. Default `7d`.
    #[serde(default = "default_permanent_ttl")]
    pub permanent_ttl: HumanDuration,
    /// Absolute lifetime of a device and its permanent token, from the login that
    /// created it, however often it is used. Default: `refresh_window`.
    #[serde(default)]
    pub permanent_max_lifetime: Option<HumanDuration>,
    /// A device's `last_used` is written at most once per this window. Default `30m`.
    #[serde(default = "default_permanent_accuracy")]
    pub permanent_accuracy: HumanDuration,
    /// Most active devices per user. Default `50`, so no client can grow a user's
    /// device list without bound.
    #[serde(default = "default_max_devices")]
    pub max_devices: Option<u32>,
    /// At the cap: `evict_oldest` device (default) or `reject` the login.
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
    /// How long this instance may go without reading revocations from the database
    /// before `revocation_staleness` applies. Default: three times `revocation_poll`.
    #[serde(default)]
    pub revocation_max_staleness: Option<HumanDuration>,
    /// What protected routes do past that bound: `fail_closed` (503, the default) or
    /// `serve` (keep accepting verified tokens).
    #[serde(default)]
    pub revocation_staleness: StalenessPolicy,
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
    /// Whether `POST /auth/token/verify` answers the token's `sub` and `exp` as well
    /// as `valid`. Default `false`: anyone holding a token learns nothing more.
    #[serde(default)]
    pub verify_reveals_claims: bool,
    /// Refuse to launch while a mounted route carries none of `#[use_jwt]`,
    /// `#[expiring_link]`, `#[permanent_refresh]` or `#[public]` (deny by default).
    /// Default `false`: such routes are only listed as unprotected at launch.
    #[serde(default)]
    pub require_protection: bool,
    /// Cookie mode for browsers (the `cookies` table).
    #[serde(default)]
    pub cookies: CookieConfig,
    /// Outside identity providers whose tokens routes may accept.
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
    /// Limits on password guessing and on messages sent to an account.
    #[serde(default)]
    pub login_throttle: ThrottleConfig,
    /// Most devices listed per page by `GET /auth/devices` (`?limit=` may ask for
    /// fewer). Default `100`.
    #[serde(default = "default_device_page")]
    pub device_page_size: u32,
    /// Most link-log rows written per client address per minute for requests that
    /// carry no valid link token (garbage, tampered, missing). Default `30`; beyond
    /// it such requests are still refused, just not logged.
    #[serde(default = "default_invalid_link_logs")]
    pub invalid_link_logs_per_minute: u32,
}

fn default_device_page() -> u32 {
    100
}
fn default_invalid_link_logs() -> u32 {
    30
}
fn default_max_devices() -> Option<u32> {
    Some(50)
}

/// What happens when a subject already has `max_devices` active devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CapPolicy {
    /// Refuse the new login.
    Reject,
    /// Log out the least recently used device.
    #[default]
    EvictOldest,
}

/// What protected routes do when this instance's revocations may be out of date
/// (polling the database has failed for longer than `revocation_max_staleness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StalenessPolicy {
    /// Answer 503 (`Retry-After`) rather than trust a set that may miss a
    /// revocation made on another instance.
    #[default]
    FailClosed,
    /// Keep accepting tokens verified from memory: available, but a revocation made
    /// elsewhere during the outage is not enforced here until polling recovers.
    Serve,
}

/// A setting of the `jwt` table that cannot be used. Reported at launch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The `jwt` table is missing or does not have the expected shape.
    #[error(
        "invalid or missing `jwt` configuration: {0}; set e.g. `[default.jwt] secret = \"…\"` \
         in Rocket.toml or ROCKET_JWT='{{secret=\"…\"}}'"
    )]
    Unreadable(#[source] Box<rocket::figment::Error>),
    /// A duration is longer than jwt-guard allows.
    #[error("jwt.{setting} is {value}; at most {max}s is allowed")]
    TooLong {
        /// The setting.
        setting: &'static str,
        /// The configured value.
        value: HumanDuration,
        /// The most allowed, in seconds.
        max: u64,
    },
    /// A duration that must be positive is zero.
    #[error("jwt.{setting} must be at least {min}")]
    TooShort {
        /// The setting.
        setting: &'static str,
        /// The least allowed.
        min: &'static str,
    },
    /// A `cookies` setting is unusable.
    #[error("jwt.cookies.{setting}: {why}")]
    Cookies {
        /// The setting.
        setting: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A `trusted_issuers` entry is unusable.
    #[error("jwt.trusted_issuers `{name}`: {why}")]
    TrustedIssuer {
        /// The entry's name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// A count that must be at least 1 is 0.
    #[error("jwt.{0} must be at least 1")]
    Zero(&'static str),
    /// `max_devices = 0`.
    #[error("jwt.max_devices must be at least 1 (or unset for no cap)")]
    NoDevicesAllowed,
    /// `link_base_url` is not an http(s) URL without query or fragment.
    #[error("jwt.link_base_url `{0}` must be an http(s) URL without query or fragment")]
    LinkBaseUrl(String),
    /// `header_prefixes` is empty.
    #[error("jwt.header_prefixes must name at least one scheme, e.g. `Bearer`")]
    NoHeaderPrefix,
    /// An entry of `header_prefixes` is not an auth scheme.
    #[error("jwt.header_prefixes contains `{0}`, which is not a valid auth scheme")]
    HeaderPrefix(String),
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
    pub secret: Option<SecretText>,
    /// PEM public key (inline or a path), for asymmetric keys.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The `iss` every token signed by this key must carry (a key of another party
    /// speaks only for that party). Default: the app's own `issuer` rule.
    #[serde(default)]
    pub issuer: Option<String>,
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
    vec!["Bearer".into()]
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
    /// The staleness bound in seconds (`revocation_max_staleness`, else three polls).
    pub fn revocation_staleness_bound(&self) -> std::time::Duration {
        match self.revocation_max_staleness {
            Some(bound) => bound.into(),
            None => std::time::Duration::from(self.revocation_poll).saturating_mul(3),
        }
    }

    /// The absolute lifetime of a device (`permanent_max_lifetime`, else
    /// `refresh_window`).
    pub fn permanent_lifetime(&self) -> HumanDuration {
        self.permanent_max_lifetime.unwrap_or(self.refresh_window)
    }

    /// A configuration with every default and the given HMAC secret (HS256).
    pub fn hmac(secret: impl Into<String>) -> Self {
        Self {
            algorithm: default_algorithm(),
            secret: Some(SecretText::new(secret)),
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
            permanent_max_lifetime: None,
            max_devices: default_max_devices(),
            device_cap_policy: CapPolicy::default(),
            refresh_reuse_grace: HumanDuration::default(),
            revocation_poll: default_revocation_poll(),
            revocation_max_staleness: None,
            revocation_staleness: StalenessPolicy::default(),
            archive_after: default_archive_after(),
            audit_retention: default_audit_retention(),
            archive_interval: None,
            link_base_url: None,
            verify_reveals_claims: false,
            require_protection: false,
            cookies: CookieConfig::default(),
            trusted_issuers: Vec::new(),
            login_throttle: ThrottleConfig::default(),
            device_page_size: default_device_page(),
            invalid_link_logs_per_minute: default_invalid_link_logs(),
        }
    }

    /// A configuration with every default, signing with `algorithm` and the given
    /// PEM private key (inline text or a path).
    pub fn asymmetric(algorithm: Algorithm, private_key: impl Into<String>) -> Self {
        Self {
            algorithm,
            secret: None,
            private_key: Some(SecretText::new(private_key)),
            ..Self::hmac(String::new())
        }
    }

    /// Checks the settings that are not about keys.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let at_most = |setting, value: HumanDuration, max| {
            if value.as_secs() > max {
                Err(ConfigError::TooLong {
                    setting,
                    value,
                    max,
                })
            } else {
                Ok(())
            }
        };
        at_most("leeway", self.leeway, MAX_LEEWAY_SECS)?;
        at_most(
            "refresh_reuse_grace",
            self.refresh_reuse_grace,
            MAX_LEEWAY_SECS,
        )?;
        for (setting, value) in [
            ("access_ttl", self.access_ttl),
            ("refresh_ttl", self.refresh_ttl),
            ("permanent_ttl", self.permanent_ttl),
            ("permanent_max_lifetime", self.permanent_lifetime()),
            ("revocation_poll", self.revocation_poll),
        ] {
            if value.as_secs() == 0 {
                return Err(ConfigError::TooShort { setting, min: "1s" });
            }
        }
        if self
            .revocation_max_staleness
            .is_some_and(|s| s.as_secs() < self.revocation_poll.as_secs())
        {
            return Err(ConfigError::TooShort {
                setting: "revocation_max_staleness",
                min: "revocation_poll",
            });
        }
        let throttle = &self.login_throttle;
        for (setting, value) in [
            ("login_throttle.account_attempts", throttle.account_attempts),
            ("login_throttle.ip_attempts", throttle.ip_attempts),
            (
                "login_throttle.max_concurrent_checks",
                throttle.max_concurrent_checks,
            ),
            (
                "login_throttle.messages_per_account",
                throttle.messages_per_account,
            ),
            ("device_page_size", self.device_page_size),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(setting));
            }
        }
        for (setting, value) in [
            ("login_throttle.account_window", throttle.account_window),
            ("login_throttle.ip_window", throttle.ip_window),
        ] {
            if value.as_secs() == 0 {
                return Err(ConfigError::TooShort { setting, min: "1s" });
            }
        }
        self.validate_cookies()?;
        self.validate_issuers()?;
        if self.max_devices == Some(0) {
            return Err(ConfigError::NoDevicesAllowed);
        }
        if let Some(base) = &self.link_base_url {
            let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
            if !scheme_ok || base.contains('?') || base.contains('#') {
                return Err(ConfigError::LinkBaseUrl(base.clone()));
            }
        }
        if self.header_prefixes.is_empty() {
            return Err(ConfigError::NoHeaderPrefix);
        }
        if let Some(bad) = self.header_prefixes.iter().find(|p| !is_auth_scheme(p)) {
            return Err(ConfigError::HeaderPrefix(bad.clone()));
        }
        Ok(())
    }
}

impl JwtConfig {
    fn validate_cookies(&self) -> Result<(), ConfigError> {
        let c = &self.cookies;
        let bad = |setting, why: &str| ConfigError::Cookies {
            setting,
            why: why.to_owned(),
        };
        if !cookies::is_cookie_name(&c.refresh_name) {
            return Err(bad("refresh_name", "not a cookie name"));
        }
        if !cookies::is_cookie_name(&c.access_name) || c.access_name == c.refresh_name {
            return Err(bad(
                "access_name",
                "not a cookie name, or the refresh cookie's",
            ));
        }
        if !c.path.starts_with('/') || c.path.contains([';', ' ']) {
            return Err(bad("path", "must be a path starting with `/`"));
        }
        if let Some(origin) = c.allowed_origins.iter().find(|o| {
            !(o.starts_with("https://") || o.starts_with("http://"))
                || o.trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .contains('/')
        }) {
            return Err(ConfigError::Cookies {
                setting: "allowed_origins",
                why: format!("`{origin}` is not an origin (scheme://host[:port])"),
            });
        }
        Ok(())
    }

    fn validate_issuers(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for issuer in &self.trusted_issuers {
            let bad = |why: &str| ConfigError::TrustedIssuer {
                name: issuer.name.clone(),
                why: why.to_owned(),
            };
            if issuer.name.is_empty() || !names.insert(issuer.name.as_str()) {
                return Err(bad("names must be non-empty and unique"));
            }
            let sources = [&issuer.jwks_url, &issuer.jwks, &issuer.discovery]
                .iter()
                .filter(|s| s.is_some())
                .count();
            if sources != 1 {
                return Err(bad("give exactly one of `jwks_url`, `jwks`, `discovery`"));
            }
            if issuer.algorithms.is_empty() {
                return Err(bad("`algorithms` is empty"));
            }
            if issuer
                .algorithms
                .iter()
                .any(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            {
                return Err(bad(
                    "HMAC algorithms cannot be trusted from another party; use its public keys",
                ));
            }
            if issuer.leeway.as_secs() > MAX_LEEWAY_SECS {
                return Err(bad("`leeway` is at most 60s"));
            }
            if issuer.issuer.is_empty() || issuer.audience.is_empty() {
                return Err(bad("`issuer` and `audience` are required"));
            }
        }
        Ok(())
    }
}

/// An RFC 7235 auth-scheme: a non-empty token of the token68 alphabet.
fn is_auth_scheme(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a secret of at least thirty-two bytes!!";

    type Change = Box<dyn FnOnce(&mut JwtConfig)>;

    fn with(f: impl FnOnce(&mut JwtConfig)) -> Result<(), ConfigError> {
        let mut config = JwtConfig::hmac(SECRET);
        f(&mut config);
        config.validate()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(with(|_| {}).is_ok());
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|c| c.leeway = HumanDuration::from_secs(61)),
                "jwt.leeway",
            ),
            (
                Box::new(|c| c.refresh_reuse_grace = HumanDuration::from_secs(120)),
                "jwt.refresh_reuse_grace",
            ),
            (
                Box::new(|c| c.access_ttl = HumanDuration::from_secs(0)),
                "jwt.access_ttl",
            ),
            (
                Box::new(|c| c.refresh_ttl = HumanDuration::from_secs(0)),
                "jwt.refresh_ttl",
            ),
            (
                Box::new(|c| c.permanent_ttl = HumanDuration::from_secs(0)),
                "jwt.permanent_ttl",
            ),
            (
                Box::new(|c| c.revocation_poll = HumanDuration::from_secs(0)),
                "jwt.revocation_poll",
            ),
            (Box::new(|c| c.max_devices = Some(0)), "jwt.max_devices"),
            (
                Box::new(|c| c.link_base_url = Some("ftp://x".into())),
                "jwt.link_base_url",
            ),
            (
                Box::new(|c| c.link_base_url = Some("https://x/?a".into())),
                "jwt.link_base_url",
            ),
            (
                Box::new(|c| c.header_prefixes.clear()),
                "jwt.header_prefixes",
            ),
            (
                Box::new(|c| c.header_prefixes = vec!["Bear er".into()]),
                "`Bear er`",
            ),
        ];
        for (change, needle) in cases {
            let message = with(change)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(needle), "`{message}` lacks `{needle}`");
        }
    }

    #[test]
    fn the_largest_allowed_values_pass() {
        assert!(with(|c| c.leeway = HumanDuration::from_secs(MAX_LEEWAY_SECS)).is_ok());
        assert!(with(|c| c.max_devices = Some(1)).is_ok());
        assert!(with(|c| c.link_base_url = Some("https://app.example".into())).is_ok());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use rocket::figment::providers::Serialized;
    use rocket::figment::Figment;

    use super::*;

    /// A JSON value of any shape, a few levels deep.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
            "[0-9]{1,4}(ms|s|m|h|d)".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::hash_map("[a-z_]{1,12}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const KEYS: &[&str] = &[
        "algorithm",
        "secret",
        "access_ttl",
        "refresh_ttl",
        "refresh_window",
        "leeway",
        "header_prefixes",
        "max_devices",
        "device_cap_policy",
        "refresh_reuse_grace",
        "revocation_poll",
        "login_throttle",
        "link_base_url",
        "cache_capacity",
    ];

    proptest! {
        #![proptest_config(crate::test_cases())]

        /// Any value under any setting: read and checked, or refused; never a panic.
        #[test]
        fn any_jwt_table_is_read_or_refused(
            entries in proptest::collection::vec((proptest::sample::select(KEYS), any_json()), 0..5)
        ) {
            let mut table = serde_json::Map::new();
            table.insert("secret".into(), "a secret of at least thirty-two bytes!!".into());
            for (key, value) in entries {
                table.insert(key.to_owned(), value);
            }
            let figment = Figment::from(Serialized::defaults(serde_json::Value::Object(table)));
            if let Ok(config) = figment.extract::<JwtConfig>() {
                let _ = config.validate();
            }
        }
    }
}
