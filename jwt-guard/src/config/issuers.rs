//! The `trusted_issuers` table: outside identity providers whose access tokens
//! routes may accept (`#[use_jwt(issuer = "…")]`).

use std::collections::HashSet;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::error::{Problem, Problems};
use super::limits::MAX_LEEWAY_SECS;
use super::signals::{BackchannelLogoutConfig, SsfConfig};
use crate::duration::HumanDuration;

/// One outside issuer (an OpenID Connect provider: Keycloak, Auth0, Entra ID,
/// Cognito, Google, …). Give exactly one of `jwks_url`, `jwks` and `discovery`;
/// `name`, `issuer` and `audience` are required.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TrustedIssuerConfig {
    /// The name routes use: `#[use_jwt(issuer = "partner")]`.
    pub name: String,
    /// The exact `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` its tokens must carry for this API.
    pub audience: String,
    /// The URL of its JWKS.
    pub jwks_url: Option<String>,
    /// A JWKS, no network at all: the path of a file, or the JSON itself (text that
    /// starts with `{`).
    pub jwks: Option<String>,
    /// Its OpenID discovery URL: the issuer URL, or the full
    /// `…/.well-known/openid-configuration`; the JWKS URL is read from it.
    pub discovery: Option<String>,
    /// Accepted algorithms (asymmetric only). Default `["RS256"]`.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp`/`nbf`/`iat`. Default `0s`, at most `60s`.
    pub leeway: HumanDuration,
    /// How long fetched keys are used before they are fetched again, when the
    /// provider's answer has no `Cache-Control: max-age`. Default `1h`.
    pub refresh_interval: HumanDuration,
    /// At most one fetch per this interval, however many unknown `kid`s arrive.
    /// Default `10s`: a flood of made-up `kid`s costs the provider one request per
    /// 10 s, and a genuine key rotation is picked up within seconds. At least `1s`.
    pub min_refetch_interval: HumanDuration,
    /// Accept only tokens whose header says `typ: at+jwt` (RFC 9068 access tokens),
    /// so an ID token that carries this API's audience cannot pass as an access
    /// token. Providers that follow RFC 9068 send it (look at the header of one of
    /// yours); default `false` because not every provider does.
    pub require_access_token_type: bool,
    /// Fetch keys over plain `http` from a host that is not a loopback address.
    /// Default `false`: keys travel over `https` only.
    pub allow_http: bool,
    /// Start even if the keys cannot be fetched at launch (tokens of this issuer are
    /// refused until they can). Default `false`: launch fails.
    pub start_without_keys: bool,
    /// OpenID Connect Back-Channel Logout from this issuer (the
    /// `backchannel_logout` table). Off unless given.
    pub backchannel_logout: Option<BackchannelLogoutConfig>,
    /// Security events from this issuer as a Shared Signals transmitter (the
    /// `ssf` table). Off unless given.
    pub ssf: Option<SsfConfig>,
}

/// Longest `refresh_interval` and `min_refetch_interval`: a day.
const MAX_REFRESH_SECS: u64 = 24 * 3600;

impl Default for TrustedIssuerConfig {
    /// The defaults of the optional settings; `name`, `issuer`, `audience` and a
    /// key source are left empty (a configuration must give them).
    fn default() -> Self {
        Self {
            name: String::new(),
            issuer: String::new(),
            audience: String::new(),
            jwks_url: None,
            jwks: None,
            discovery: None,
            algorithms: vec![Algorithm::RS256],
            leeway: HumanDuration::default(),
            refresh_interval: HumanDuration::from_secs(3600),
            min_refetch_interval: HumanDuration::from_secs(10),
            start_without_keys: false,
            allow_http: false,
            require_access_token_type: false,
            backchannel_logout: None,
            ssf: None,
        }
    }
}

impl TrustedIssuerConfig {
    /// The `trusted_issuers` entries' rules; each entry's problems are keyed by its
    /// name (`jwt.trusted_issuers.partner.leeway`).
    pub(super) fn check_all(issuers: &[TrustedIssuerConfig], p: &mut Problems) {
        let mut names = HashSet::new();
        for (i, issuer) in issuers.iter().enumerate() {
            let entry = if issuer.name.is_empty() {
                i.to_string()
            } else {
                issuer.name.clone()
            };
            if issuer.name.is_empty() || !names.insert(issuer.name.as_str()) {
                p.add(&format!("{entry}.name"), Problem::NameNotUnique);
            }
            p.table(&entry, |p| issuer.check(p));
        }
    }

    fn check(&self, p: &mut Problems) {
        let sources = [&self.jwks_url, &self.jwks, &self.discovery]
            .iter()
            .filter(|s| s.is_some())
            .count();
        if sources != 1 {
            let which = "`jwks_url`, `jwks`, `discovery`";
            p.add("jwks_url", Problem::NotExactlyOne(which));
        }
        if self.algorithms.is_empty() {
            let needs = "one asymmetric algorithm";
            p.add("algorithms", Problem::Empty { needs });
        }
        let hmac =
            |a: &Algorithm| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
        if self.algorithms.iter().any(hmac) {
            p.add("algorithms", Problem::HmacFromOutside);
        }
        p.at_most("leeway", self.leeway, MAX_LEEWAY_SECS);
        p.at_most("refresh_interval", self.refresh_interval, MAX_REFRESH_SECS);
        p.at_most(
            "min_refetch_interval",
            self.min_refetch_interval,
            MAX_REFRESH_SECS,
        );
        p.positive("refresh_interval", self.refresh_interval);
        p.positive("min_refetch_interval", self.min_refetch_interval);
        if self.issuer.is_empty() {
            p.add("issuer", Problem::Missing("the exact `iss` of its tokens"));
        }
        if self.audience.is_empty() {
            p.add(
                "audience",
                Problem::Missing("the `aud` its tokens carry for this API"),
            );
        }
        if let Some(logout) = &self.backchannel_logout {
            p.table("backchannel_logout", |p| logout.check(p));
        }
        if let Some(ssf) = &self.ssf {
            p.table("ssf", |p| ssf.check(p));
        }
    }
}
