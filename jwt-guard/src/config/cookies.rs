//! The `cookies` table: cookie mode for browsers.

use serde::{Deserialize, Serialize};

/// `SameSite` of the session cookies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SameSitePolicy {
    /// Sent only to requests this site starts (the default).
    #[default]
    Strict,
    /// Also sent when a user follows a link here from another site.
    Lax,
}

/// Cookie mode: login, magic-login and refresh set the refresh token as an
/// `HttpOnly` cookie (the JSON body then carries none), the refresh route accepts
/// it, logout clears it; optionally the access token too, for server-rendered apps.
/// Every request a cookie authenticates and that changes state must come from an
/// allowed origin (CSRF).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CookieConfig {
    /// Turns cookie mode on. Default `false`.
    #[serde(default)]
    pub enabled: bool,
    /// `strict` (default) or `lax`.
    #[serde(default)]
    pub same_site: SameSitePolicy,
    /// Whether cookies are `Secure`. Default: whenever Rocket serves TLS. Behind a
    /// TLS-terminating proxy set it to `true`; plain-HTTP development needs `false`
    /// (browsers drop `Secure` cookies on `http://`, except on `localhost`).
    #[serde(default)]
    pub secure: Option<bool>,
    /// Also set the access token as a cookie, which `#[use_jwt]` then accepts.
    /// Default `false` (single-page apps keep it in memory).
    #[serde(default)]
    pub access_cookie: bool,
    /// The refresh cookie's name. Default `jwt_guard_refresh`.
    #[serde(default = "default_refresh_name")]
    pub refresh_name: String,
    /// The access cookie's name. Default `jwt_guard_access`.
    #[serde(default = "default_access_name")]
    pub access_name: String,
    /// The refresh cookie's `Path`: the refresh and logout routes live below it.
    /// Default `/auth`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Origins (`scheme://host[:port]`) allowed to send cookie-authenticated
    /// requests that change state. Default: the app's own (`link_base_url`, else
    /// `http://<address>:<port>`, and `localhost` for a loopback address).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            same_site: SameSitePolicy::default(),
            secure: None,
            access_cookie: false,
            refresh_name: default_refresh_name(),
            access_name: default_access_name(),
            path: default_path(),
            allowed_origins: Vec::new(),
        }
    }
}

fn default_refresh_name() -> String {
    "jwt_guard_refresh".into()
}
fn default_access_name() -> String {
    "jwt_guard_access".into()
}
fn default_path() -> String {
    "/auth".into()
}

/// A cookie name: an RFC 6265 token.
pub(super) fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
