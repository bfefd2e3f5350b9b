//! The `jwt` table of Rocket's configuration, and the durations it is written in.

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use std::collections::HashSet;

mod cookies;
mod dpop;
mod error;
mod families;
mod introspection;
mod issuers;
pub(crate) mod legacy;
mod limits;
mod passkeys;
mod resource;
mod signals;
mod throttle;

pub use crate::duration::{parse_duration, DurationError, HumanDuration};
use crate::secret::SecretText;
pub(crate) use cookies::default_origins;
pub use cookies::{CookieClients, CookieConfig, SameSitePolicy};
pub use dpop::{DpopConfig, DpopMode, ReplayCache, MAX_PROOF_LIFETIME_SECS};
use error::Problems;
pub use error::{check_environment, ConfigError, ConfigProblem, Problem};
pub use families::{
    ArchiveConfig, CapPolicy, DevicesConfig, PermanentConfig, RevocationConfig, StalenessPolicy,
};
pub use introspection::IntrospectionClient;
pub use issuers::TrustedIssuerConfig;
use jwt_guard_grammar::is_auth_scheme;
pub use limits::{MAX_LEEWAY_SECS, MAX_TOKEN_BYTES};
pub use passkeys::{PasskeyConfig, UserVerification, MAX_CHALLENGE_TTL_SECS};
pub use resource::{ResourceConfig, WELL_KNOWN as RESOURCE_METADATA_PATH};
pub use signals::{BackchannelLogoutConfig, CredentialChangeEffect, SsfConfig};
pub use throttle::ThrottleConfig;

/// jwt-guard's settings, read from the `jwt` table of Rocket's figment.
///
/// Every source Rocket reads works: `Rocket.toml` (`[default.jwt]`), or the
/// environment (`ROCKET_JWT='{algorithm="HS512",secret="…"}'`).
///
/// Key material (`private_key`, `public_key`) is either inline PEM text (it starts
/// with `-----BEGIN`) or the path of a PEM file. A key left out takes its value from
/// [`JwtConfig::default`], where every default is written once.
#[derive(Clone, Debug, Deserialize)]
// `remote = "Self"`: the derive is `JwtConfig::deserialize`, which the
// `Deserialize` impl below wraps to move the old flat keys into their tables.
#[serde(remote = "Self", default, deny_unknown_fields)]
#[non_exhaustive]
pub struct JwtConfig {
    /// Signing algorithm: `HS256/384/512`, `RS256/384/512`, `PS256/384/512`,
    /// `ES256/384` or `EdDSA`. Default `HS256`.
    pub algorithm: Algorithm,
    /// HMAC secret (HS* only); at least as long as the hash (32/48/64 bytes).
    pub secret: Option<SecretText>,
    /// A file holding the HMAC secret instead (a mounted Docker or Kubernetes
    /// secret, say); a trailing line break is ignored. Give `secret` or this.
    pub secret_file: Option<String>,
    /// PEM private key, inline or a path (RS*, PS*, ES*, EdDSA).
    pub private_key: Option<SecretText>,
    /// Key id written into every token's header. Default: derived from the key
    /// (the RFC 7638 thumbprint for public keys, a digest for a secret).
    pub kid: Option<String>,
    /// Older or foreign keys still accepted for verification, selected by `kid`.
    pub verification_keys: Vec<VerificationKeyConfig>,
    /// Lifetime of access tokens. Default `5m`.
    pub access_ttl: HumanDuration,
    /// Lifetime of refresh tokens. Default `1d`.
    pub refresh_ttl: HumanDuration,
    /// How long after the original login (`orig_iat`) refreshing stays possible.
    /// Default `7d`.
    pub refresh_window: HumanDuration,
    /// Longest lifetime of a token minted outside the login routes (`jwt-guard token
    /// mint --ttl`). A revocation of a subject ("log out everywhere") lasts at
    /// least this long, so none expires before what it revokes. Default:
    /// `refresh_window`.
    pub max_minted_ttl: Option<HumanDuration>,
    /// Clock-skew allowance for `exp`/`nbf`. Default `0s`, at most `60s`.
    pub leeway: HumanDuration,
    /// `iss` written into tokens and required when verifying.
    pub issuer: Option<String>,
    /// `aud` written into access and refresh tokens and required when verifying.
    pub audience: Option<String>,
    /// Accepted `Authorization` schemes. Default `["Bearer"]` (RFC 6750); add `"JWT"`
    /// for clients of djangorestframework-jwt. The first one is reported as
    /// `token_type`.
    pub header_prefixes: Vec<String>,
    /// `realm` of the `WWW-Authenticate` challenge. Default `jwt-guard`.
    pub realm: String,
    /// Devices' permanent tokens (the `permanent` table).
    pub permanent: PermanentConfig,
    /// Devices per user (the `devices` table).
    pub devices: DevicesConfig,
    /// How revocations reach every instance (the `revocation` table).
    pub revocation: RevocationConfig,
    /// Purging what is dead (the `archive` table).
    pub archive: ArchiveConfig,
    /// How long a rotated refresh token may be retried while its successor is
    /// unused (`0s`–`60s`). Default `0s`: any second use is reuse.
    pub refresh_reuse_grace: HumanDuration,
    /// Scheme, host and port that minted link URLs start with, e.g.
    /// `https://app.example`. Default: `http://` and Rocket's address and port. Never
    /// taken from the request's `Host` header, which a client controls.
    pub link_base_url: Option<String>,
    /// How many verified tokens are remembered so that a repeat request skips the
    /// signature check. `0` disables the cache. Default `10000`.
    pub cache_capacity: usize,
    /// Whether `POST /auth/token/verify` answers the token's `sub` and `exp` as well
    /// as `valid`. Default `false`: anyone holding a token learns nothing more.
    pub verify_reveals_claims: bool,
    /// Refuse to launch while a mounted route carries none of `#[use_jwt]`,
    /// `#[expiring_link]`, `#[permanent_refresh]` or `#[public]` (deny by default).
    /// Default `false`: such routes are only listed as unprotected at launch.
    pub require_protection: bool,
    /// Proxies (CIDRs, e.g. `["10.0.0.0/8", "127.0.0.1/32"]`) whose word about the
    /// client's address (Rocket's `ip_header`, `X-Real-IP` by default) is taken.
    /// From any other peer the header is ignored: a client cannot claim an address
    /// to dodge the per-address login budget or forge device and audit rows.
    /// Default empty: the peer's own address counts.
    pub trusted_proxies: Vec<String>,
    /// Cookie mode for browsers (the `cookies` table).
    pub cookies: CookieConfig,
    /// Outside identity providers whose tokens routes may accept.
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
    /// This API as an OAuth protected resource (RFC 9728 metadata; the `resource`
    /// table). Off unless `resource.resource` is set.
    pub resource: ResourceConfig,
    /// More protected resources beside `resource` (`[[jwt.resources]]`), each
    /// with metadata of its own: say the app as a whole at
    /// `https://api.example` and its MCP endpoint at `https://api.example/mcp`.
    /// A route's challenges name the resource whose URL is the longest prefix of
    /// the route's (RFC 9728 §3.3).
    pub resources: Vec<ResourceConfig>,
    /// Sender-constrained tokens (RFC 9449 DPoP; the `dpop` table). Off by default.
    pub dpop: DpopConfig,
    /// Passkeys (WebAuthn; the `passkeys` table). Off unless `rp_id` is set.
    pub passkeys: PasskeyConfig,
    /// The header `typ` of the app's access tokens. Default `"at+jwt"` (RFC 9068
    /// §2.1, RFC 8725 §3.11): explicitly typed, so no other JWT — an ID token, a
    /// refresh token — can pass as one with a service that checks the type. `"JWT"`
    /// for consumers that insist on it.
    pub access_token_typ: String,
    /// Clients that may introspect tokens with HTTP Basic credentials (RFC 7662;
    /// `JwtGuard::introspection_endpoint`). An access token with scope
    /// `token:introspect` may too. Default none.
    pub introspection_clients: Vec<IntrospectionClient>,
    /// Limits on password guessing and on messages sent to an account.
    pub login_throttle: ThrottleConfig,
    /// Most link-log rows written per client address per minute for requests that
    /// carry no valid link token (garbage, tampered, missing). Default `30`; beyond
    /// it such requests are still refused, just not logged.
    pub invalid_link_logs_per_minute: u32,

    // The family tables' keys under their old flat names: still read, moved into
    // their tables as the table is read (`legacy.rs`), named at launch.
    permanent_ttl: Option<HumanDuration>,
    permanent_max_lifetime: Option<HumanDuration>,
    permanent_accuracy: Option<HumanDuration>,
    revocation_poll: Option<HumanDuration>,
    revocation_listen: Option<bool>,
    revocation_max_staleness: Option<HumanDuration>,
    revocation_staleness: Option<StalenessPolicy>,
    archive_after: Option<HumanDuration>,
    archive_interval: Option<HumanDuration>,
    audit_retention: Option<HumanDuration>,
    max_devices: Option<u32>,
    device_cap_policy: Option<CapPolicy>,
    device_page_size: Option<u32>,
    /// The keys that were read under their old names.
    #[serde(skip)]
    renamed: Vec<legacy::RenamedKey>,
}

impl<'de> Deserialize<'de> for JwtConfig {
    /// The table as written, then the old flat keys moved into their tables.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut config = JwtConfig::deserialize(deserializer)?;
        config
            .adopt_legacy_keys()
            .map_err(<D::Error as serde::de::Error>::custom)?;
        Ok(config)
    }
}

impl Default for JwtConfig {
    /// Every default, and no key: give a `secret` (HS*) or a `private_key`.
    fn default() -> Self {
        const MINUTE: u64 = 60;
        const HOUR: u64 = 60 * MINUTE;
        const DAY: u64 = 24 * HOUR;
        Self {
            algorithm: Algorithm::HS256,
            secret: None,
            secret_file: None,
            private_key: None,
            kid: None,
            verification_keys: Vec::new(),
            access_ttl: HumanDuration::from_secs(5 * MINUTE),
            refresh_ttl: HumanDuration::from_secs(DAY),
            refresh_window: HumanDuration::from_secs(7 * DAY),
            max_minted_ttl: None,
            leeway: HumanDuration::default(),
            issuer: None,
            audience: None,
            header_prefixes: vec!["Bearer".into()],
            realm: "jwt-guard".into(),
            permanent: PermanentConfig::default(),
            devices: DevicesConfig::default(),
            revocation: RevocationConfig::default(),
            archive: ArchiveConfig::default(),
            refresh_reuse_grace: HumanDuration::default(),
            link_base_url: None,
            cache_capacity: 10_000,
            verify_reveals_claims: false,
            require_protection: false,
            cookies: CookieConfig::default(),
            trusted_proxies: Vec::new(),
            trusted_issuers: Vec::new(),
            resource: ResourceConfig::default(),
            resources: Vec::new(),
            dpop: DpopConfig::default(),
            passkeys: PasskeyConfig::default(),
            access_token_typ: "at+jwt".into(),
            introspection_clients: Vec::new(),
            login_throttle: ThrottleConfig::default(),
            invalid_link_logs_per_minute: 30,
            permanent_ttl: None,
            permanent_max_lifetime: None,
            permanent_accuracy: None,
            revocation_poll: None,
            revocation_listen: None,
            revocation_max_staleness: None,
            revocation_staleness: None,
            archive_after: None,
            archive_interval: None,
            audit_retention: None,
            max_devices: None,
            device_cap_policy: None,
            device_page_size: None,
            renamed: Vec::new(),
        }
    }
}

impl JwtConfig {
    /// Moves the old keys' values into their tables; the keys that conflict.
    pub(super) fn adopt_legacy_keys(&mut self) -> Result<(), String> {
        let (mut renamed, mut conflicts) = (Vec::new(), Vec::new());
        let permanent = PermanentConfig::default();
        let revocation = RevocationConfig::default();
        let archive = ArchiveConfig::default();
        let devices = DevicesConfig::default();
        let config = self;
        legacy::adopt_all! { config, renamed, conflicts;
            permanent_ttl => permanent.ttl from permanent;
            permanent_max_lifetime => permanent.max_lifetime from permanent as Some;
            permanent_accuracy => permanent.accuracy from permanent;
            revocation_poll => revocation.poll from revocation;
            revocation_listen => revocation.listen from revocation;
            revocation_max_staleness => revocation.max_staleness from revocation as Some;
            revocation_staleness => revocation.staleness from revocation;
            archive_after => archive.after from archive;
            archive_interval => archive.interval from archive as Some;
            audit_retention => archive.audit_retention from archive;
            max_devices => devices.max from devices as Some;
            device_cap_policy => devices.cap_policy from devices;
            device_page_size => devices.page_size from devices;
        }
        if !conflicts.is_empty() {
            let listed: Vec<String> = conflicts
                .iter()
                .map(|k| {
                    format!(
                        "jwt.{} and jwt.{} are both set, to different values",
                        k.old, k.new
                    )
                })
                .collect();
            return Err(format!(
                "{}; keep the new one (jwt.{})",
                listed.join("; "),
                conflicts[0].new
            ));
        }
        config.renamed = renamed;
        Ok(())
    }

    /// The keys this configuration was written with under their old names.
    pub(crate) fn renamed_keys(&self) -> &[legacy::RenamedKey] {
        &self.renamed
    }
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

impl JwtConfig {
    /// The longest lifetime of a minted token (`max_minted_ttl`, else
    /// `refresh_window`).
    pub fn max_minted_lifetime(&self) -> HumanDuration {
        self.max_minted_ttl.unwrap_or(self.refresh_window)
    }

    /// The longest any token this configuration issues can live, leeway included:
    /// how long a revocation of a whole subject must last.
    pub fn longest_token_lifetime(&self) -> u64 {
        self.access_ttl
            .as_secs()
            .max(self.refresh_ttl.as_secs())
            .max(self.max_minted_lifetime().as_secs())
            .saturating_add(self.leeway.as_secs())
    }

    /// How long a device's revocation must last, leeway included: as long as an
    /// access token, the one token that names a device (`did`) and is accepted
    /// on memory alone. Its refresh tokens are checked against the database at
    /// every use (and revoked there with it), its permanent token too, and
    /// minted tokens name no device.
    pub fn device_token_lifetime(&self) -> u64 {
        self.access_ttl
            .as_secs()
            .saturating_add(self.leeway.as_secs())
    }

    /// The absolute lifetime of a device (`permanent.max_lifetime`, else
    /// `refresh_window`).
    pub fn permanent_lifetime(&self) -> HumanDuration {
        self.permanent.max_lifetime.unwrap_or(self.refresh_window)
    }

    /// A configuration with every default and the given HMAC secret (HS256).
    pub fn hmac(secret: impl Into<String>) -> Self {
        Self {
            secret: Some(SecretText::new(secret)),
            ..Self::default()
        }
    }

    /// A configuration with every default, signing with `algorithm` and the given
    /// PEM private key (inline text or a path).
    pub fn asymmetric(algorithm: Algorithm, private_key: impl Into<String>) -> Self {
        Self {
            algorithm,
            private_key: Some(SecretText::new(private_key)),
            ..Self::default()
        }
    }

    /// Checks the settings that are not about keys: every problem, each table
    /// by its own rules.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Problems::new("jwt");
        self.check(&mut problems);
        problems.table("login_throttle", |p| self.login_throttle.check(p));
        problems.table("cookies", |p| self.cookies.check(p));
        problems.table("trusted_issuers", |p| {
            TrustedIssuerConfig::check_all(&self.trusted_issuers, p)
        });
        problems.table("introspection_clients", |p| {
            IntrospectionClient::check_all(&self.introspection_clients, p)
        });
        problems.table("dpop", |p| self.dpop.check(p));
        problems.table("passkeys", |p| self.passkeys.check(p));
        problems.table("resource", |p| self.check_resource(&self.resource, p));
        let mut paths = HashSet::new();
        for (i, resource) in self.resources.iter().enumerate() {
            problems.table(&format!("resources[{i}]"), |p| {
                if resource.resource.is_none() {
                    p.add("resource", Problem::Missing("a resource identifier"));
                }
                self.check_resource(resource, p);
            });
        }
        for resource in self.protected_resources() {
            if let Some(path) = resource.metadata_path() {
                if !paths.insert(path) {
                    let named = resource.resource.clone().unwrap_or_default();
                    problems.add("resources", Problem::ResourceTwice(named));
                }
            }
        }
        problems.finish()
    }

    /// Every protected resource this app describes (RFC 9728): `resource`, then
    /// each of `resources`, those with an identifier only.
    pub fn protected_resources(&self) -> impl Iterator<Item = &ResourceConfig> {
        std::iter::once(&self.resource)
            .chain(&self.resources)
            .filter(|r| r.resource.is_some())
    }

    /// One resource's rules, and RFC 9728 §7.4 / MCP: a token must have been
    /// issued for it — an audience this app accepts names it.
    fn check_resource(&self, resource: &ResourceConfig, p: &mut Problems) {
        resource.check(p);
        if let Some(id) = &resource.resource {
            let accepted = self.audience.as_deref() == Some(id.as_str())
                || self.trusted_issuers.iter().any(|i| i.audience == *id);
            if !accepted {
                p.add("resource", Problem::ResourceNotAnAudience(id.clone()));
            }
        }
    }

    /// The top level's own rules.
    fn check(&self, p: &mut Problems) {
        let typ = &self.access_token_typ;
        if typ.is_empty() || !typ.bytes().all(|b| b.is_ascii_graphic()) {
            p.add(
                "access_token_typ",
                Problem::Missing("a media type such as `at+jwt`"),
            );
        }
        p.at_most("leeway", self.leeway, MAX_LEEWAY_SECS);
        p.at_most(
            "refresh_reuse_grace",
            self.refresh_reuse_grace,
            MAX_LEEWAY_SECS,
        );
        p.positive("access_ttl", self.access_ttl);
        p.positive("refresh_ttl", self.refresh_ttl);
        p.positive("permanent.ttl", self.permanent.ttl);
        p.positive("permanent.max_lifetime", self.permanent_lifetime());
        p.positive("revocation.poll", self.revocation.poll);
        p.positive("max_minted_ttl", self.max_minted_lifetime());
        if self
            .revocation
            .max_staleness
            .is_some_and(|s| s.as_secs() < self.revocation.poll.as_secs())
        {
            let min = "revocation.poll";
            p.add("revocation.max_staleness", Problem::TooShort { min });
        }
        p.nonzero("devices.page_size", self.devices.page_size);
        if self.devices.max == Some(0) {
            p.add("devices.max", Problem::NoDevicesAllowed);
        }
        if let Some(base) = &self.link_base_url {
            let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
            if !scheme_ok || base.contains('?') || base.contains('#') {
                p.add("link_base_url", Problem::NotHttpUrl(base.clone()));
            }
        }
        if self.header_prefixes.is_empty() {
            let needs = "one scheme, e.g. `Bearer`";
            p.add("header_prefixes", Problem::Empty { needs });
        }
        for bad in self
            .trusted_proxies
            .iter()
            .filter(|net| crate::peer::parse_network(net).is_none())
        {
            p.add("trusted_proxies", Problem::NotANetwork(bad.clone()));
        }
        for bad in self.header_prefixes.iter().filter(|s| !is_auth_scheme(s)) {
            p.add("header_prefixes", Problem::NotAuthScheme(bad.clone()));
        }
    }
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
                Box::new(|c| c.permanent.ttl = HumanDuration::from_secs(0)),
                "jwt.permanent.ttl",
            ),
            (
                Box::new(|c| c.revocation.poll = HumanDuration::from_secs(0)),
                "jwt.revocation.poll",
            ),
            (Box::new(|c| c.devices.max = Some(0)), "jwt.devices.max"),
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
    fn every_problem_is_reported_at_once_with_its_key_as_written() {
        let err = with(|c| {
            c.leeway = HumanDuration::from_secs(61);
            c.devices.max = Some(0);
            c.login_throttle.ip_attempts = 0;
            c.cookies.path = "auth".into();
        });
        let keys: Vec<String> = err
            .as_ref()
            .err()
            .map(|e| e.problems().iter().map(|p| p.key.clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "jwt.leeway",
                "jwt.devices.max",
                "jwt.login_throttle.ip_attempts",
                "jwt.cookies.path"
            ]
        );
        let message = err.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(
            message.starts_with("4 problems: jwt.leeway is 1m 1s"),
            "{message}"
        );
    }

    #[test]
    fn a_signal_configuration_without_what_it_needs_is_named() {
        let err = with(|c| {
            c.trusted_issuers = vec![TrustedIssuerConfig {
                name: "partner".into(),
                issuer: "https://idp.example".into(),
                audience: "api".into(),
                jwks_url: Some("https://idp.example/jwks".into()),
                backchannel_logout: Some(BackchannelLogoutConfig {
                    max_age: HumanDuration::from_secs(2 * 24 * 3600),
                    ..BackchannelLogoutConfig::default()
                }),
                ssf: Some(SsfConfig {
                    push_token: Some(SecretText::new("short")),
                    ..SsfConfig::default()
                }),
                ..TrustedIssuerConfig::default()
            }]
        });
        let keys: Vec<String> = err
            .map(|_| Vec::new())
            .unwrap_or_else(|e| e.problems().iter().map(|p| p.key.clone()).collect());
        assert_eq!(
            keys,
            [
                "jwt.trusted_issuers.partner.backchannel_logout.client_id",
                "jwt.trusted_issuers.partner.backchannel_logout.max_age",
                "jwt.trusted_issuers.partner.ssf.audience",
                "jwt.trusted_issuers.partner.ssf.push_token",
            ]
        );
    }

    #[test]
    fn a_trusted_issuer_is_named_in_its_problems() {
        let err = with(|c| {
            c.trusted_issuers = vec![TrustedIssuerConfig {
                name: "partner".into(),
                algorithms: vec![Algorithm::HS256],
                ..TrustedIssuerConfig::default()
            }]
        });
        let keys: Vec<String> = err
            .map(|_| Vec::new())
            .unwrap_or_else(|e| e.problems().iter().map(|p| p.key.clone()).collect());
        assert_eq!(
            keys,
            [
                "jwt.trusted_issuers.partner.jwks_url",
                "jwt.trusted_issuers.partner.algorithms",
                "jwt.trusted_issuers.partner.issuer",
                "jwt.trusted_issuers.partner.audience"
            ]
        );
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_named_by_its_key() {
        use rocket::figment::providers::Serialized;
        use rocket::figment::Figment;

        let figment = Figment::from(Serialized::defaults(serde_json::json!({
            "jwt": { "secret": SECRET, "access_ttl": "soon" }
        })));
        let message = figment
            .extract_inner::<JwtConfig>("jwt")
            .map(|_| String::new())
            .unwrap_or_else(|e| ConfigError::Unreadable(Box::new(e)).to_string());
        assert!(message.contains("jwt.access_ttl: "), "{message}");
        assert!(!message.contains("jwt.jwt."), "{message}");
    }

    #[test]
    fn a_partial_table_takes_every_other_default() {
        use rocket::figment::providers::Serialized;
        use rocket::figment::Figment;

        let figment = Figment::from(Serialized::defaults(serde_json::json!({
            "access_ttl": "1m", "cookies": { "enabled": true }
        })));
        let config: Option<JwtConfig> = figment.extract().ok();
        let config = config.unwrap_or_default();
        assert_eq!(config.access_ttl.as_secs(), 60);
        assert!(config.cookies.enabled);
        assert_eq!(config.cookies.path, "/auth");
        assert_eq!(
            config.refresh_ttl.as_secs(),
            JwtConfig::default().refresh_ttl.as_secs()
        );
    }

    fn read(table: serde_json::Value) -> Result<JwtConfig, String> {
        use rocket::figment::providers::Serialized;
        use rocket::figment::Figment;
        Figment::from(Serialized::defaults(serde_json::json!({ "jwt": table })))
            .extract_inner::<JwtConfig>("jwt")
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_families_are_tables_of_their_own() {
        let config = read(serde_json::json!({
            "permanent": { "ttl": "3d", "accuracy": "1m" },
            "revocation": { "poll": "5s", "listen": false, "staleness": "serve" },
            "archive": { "interval": "1h" },
            "devices": { "max": 7, "cap_policy": "reject", "page_size": 9 },
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.permanent.ttl.as_secs(), 3 * 86_400);
        assert_eq!(config.permanent.accuracy.as_secs(), 60);
        assert_eq!(config.revocation.poll.as_secs(), 5);
        assert!(!config.revocation.listen);
        assert_eq!(config.revocation.staleness, StalenessPolicy::Serve);
        assert_eq!(config.archive.interval.map(|d| d.as_secs()), Some(3600));
        assert_eq!(config.devices.max, Some(7));
        assert_eq!(config.devices.cap_policy, CapPolicy::Reject);
        assert_eq!(config.devices.page_size, 9);
        assert!(config.renamed_keys().is_empty());
    }

    #[test]
    fn the_old_flat_keys_still_work_and_are_named_with_their_new_ones() {
        let config = read(serde_json::json!({
            "permanent_ttl": "3d",
            "revocation_poll": "5s",
            "revocation_listen": false,
            "archive_interval": "1h",
            "max_devices": 7,
            "device_cap_policy": "reject",
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.permanent.ttl.as_secs(), 3 * 86_400);
        assert_eq!(config.revocation.poll.as_secs(), 5);
        assert!(!config.revocation.listen);
        assert_eq!(config.archive.interval.map(|d| d.as_secs()), Some(3600));
        assert_eq!(config.devices.max, Some(7));
        assert_eq!(config.devices.cap_policy, CapPolicy::Reject);
        let renamed: Vec<(&str, &str)> = config
            .renamed_keys()
            .iter()
            .map(|k| (k.old, k.new))
            .collect();
        assert_eq!(
            renamed,
            [
                ("permanent_ttl", "permanent.ttl"),
                ("revocation_poll", "revocation.poll"),
                ("revocation_listen", "revocation.listen"),
                ("archive_interval", "archive.interval"),
                ("max_devices", "devices.max"),
                ("device_cap_policy", "devices.cap_policy"),
            ]
        );
    }

    #[test]
    fn a_key_set_both_ways_to_two_values_is_a_conflict() {
        let err = read(serde_json::json!({
            "revocation_poll": "5s",
            "revocation": { "poll": "7s" },
        }))
        .map(|_| String::new())
        .unwrap_or_else(|e| e);
        assert!(
            err.contains("jwt.revocation_poll and jwt.revocation.poll are both set"),
            "{err}"
        );
        // The same value both ways says one thing: no conflict.
        let same = read(serde_json::json!({
            "revocation_poll": "7s",
            "revocation": { "poll": "7s" },
        }));
        assert_eq!(same.map(|c| c.revocation.poll.as_secs()), Ok(7));
    }

    #[test]
    fn the_largest_allowed_values_pass() {
        assert!(with(|c| c.leeway = HumanDuration::from_secs(MAX_LEEWAY_SECS)).is_ok());
        assert!(with(|c| c.devices.max = Some(1)).is_ok());
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
        "devices",
        "permanent",
        "revocation",
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
