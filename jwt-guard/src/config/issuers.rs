//! The `trusted_issuers` table: outside identity providers whose access tokens
//! routes may accept (`#[use_jwt(issuer = "…")]`).

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::HumanDuration;

/// One outside issuer (an OpenID Connect provider: Keycloak, Auth0, Entra ID,
/// Cognito, Google, …). Give exactly one of `jwks_url`, `jwks` and `discovery`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TrustedIssuerConfig {
    /// The name routes use: `#[use_jwt(issuer = "partner")]`.
    pub name: String,
    /// The exact `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` its tokens must carry for this API.
    pub audience: String,
    /// The URL of its JWKS.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// A JWKS file (no network at all).
    #[serde(default)]
    pub jwks: Option<String>,
    /// Its OpenID discovery URL: the issuer URL, or the full
    /// `…/.well-known/openid-configuration`; the JWKS URL is read from it.
    #[serde(default)]
    pub discovery: Option<String>,
    /// Accepted algorithms (asymmetric only). Default `["RS256"]`.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp`/`nbf`/`iat`. Default `0s`, at most `60s`.
    #[serde(default)]
    pub leeway: HumanDuration,
    /// How long fetched keys are used before they are fetched again, when the
    /// provider's answer has no `Cache-Control: max-age`. Default `1h`.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: HumanDuration,
    /// At most one fetch per this interval, however many unknown `kid`s arrive.
    /// Default `60s`.
    #[serde(default = "default_min_refetch")]
    pub min_refetch_interval: HumanDuration,
    /// Start even if the keys cannot be fetched at launch (tokens of this issuer are
    /// refused until they can). Default `false`: launch fails.
    #[serde(default)]
    pub start_without_keys: bool,
}

fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::RS256]
}
fn default_refresh_interval() -> HumanDuration {
    HumanDuration::from_secs(3600)
}
fn default_min_refetch() -> HumanDuration {
    HumanDuration::from_secs(60)
}
