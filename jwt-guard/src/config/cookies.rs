//! The `cookies` table: cookie mode for browsers.

use serde::{Deserialize, Serialize};

use super::error::{Problem, Problems};

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

/// Which clients keep their session in cookies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CookieClients {
    /// Browsers (the default): a request carrying `Sec-Fetch-Site` or `Origin` —
    /// headers a browser adds itself and no page script can forge or remove — gets
    /// its refresh and permanent tokens only as `HttpOnly` cookies. Any other client
    /// (a mobile app, a script, a server) gets them in the JSON body, and no cookie.
    #[default]
    Browsers,
    /// Every client gets its tokens only as cookies.
    All,
}

/// Cookie mode: login, magic-login and refresh set the refresh token (and, at login,
/// the permanent token) as `HttpOnly` cookies for the clients that keep their session
/// in cookies (`clients`; browsers by default) — their JSON body then carries
/// neither —, the refresh and device-refresh routes accept them, logout clears
/// them; optionally the access token too, for server-rendered apps. Every request a
/// cookie authenticates and that changes state must come from an allowed origin
/// (CSRF). API clients are answered as without cookie mode.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CookieConfig {
    /// Turns cookie mode on. Default `false`.
    pub enabled: bool,
    /// Which clients get cookies: `browsers` (default) or `all`.
    pub clients: CookieClients,
    /// `strict` (default) or `lax`.
    pub same_site: SameSitePolicy,
    /// Whether cookies are `Secure`. Default: whenever Rocket serves TLS. Behind a
    /// TLS-terminating proxy set it to `true`; plain-HTTP development needs `false`
    /// (browsers drop `Secure` cookies on `http://`, except on `localhost`).
    pub secure: Option<bool>,
    /// Also set the access token as a cookie, which `#[use_jwt]` then accepts.
    /// Default `false` (single-page apps keep it in memory).
    pub access_cookie: bool,
    /// The refresh cookie's name. Default `jwt_guard_refresh`.
    pub refresh_name: String,
    /// The access cookie's name. Default `jwt_guard_access`.
    pub access_name: String,
    /// The permanent-token cookie's name (sent to the device refresh route, below
    /// `path`). Default `jwt_guard_permanent`.
    pub permanent_name: String,
    /// The known-device cookie's name (see `login_throttle.known_device_ttl`; sent
    /// to the login route, below `path`). Default `jwt_guard_device`.
    pub device_name: String,
    /// The refresh cookie's `Path`: the refresh and logout routes live below it.
    /// Default `/auth`.
    pub path: String,
    /// Origins (`scheme://host[:port]`) allowed to send cookie-authenticated
    /// requests that change state. Default: the app's own (`link_base_url`, else
    /// `http://<address>:<port>`, and `localhost` for a loopback address).
    pub allowed_origins: Vec<String>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            clients: CookieClients::default(),
            same_site: SameSitePolicy::default(),
            secure: None,
            access_cookie: false,
            refresh_name: "jwt_guard_refresh".into(),
            access_name: "jwt_guard_access".into(),
            permanent_name: "jwt_guard_permanent".into(),
            device_name: "jwt_guard_device".into(),
            path: "/auth".into(),
            allowed_origins: Vec::new(),
        }
    }
}

impl CookieConfig {
    /// The `cookies` table's rules.
    pub(super) fn check(&self, p: &mut Problems) {
        let names = [
            ("refresh_name", &self.refresh_name),
            ("access_name", &self.access_name),
            ("permanent_name", &self.permanent_name),
            ("device_name", &self.device_name),
        ];
        for (i, (key, name)) in names.iter().enumerate() {
            if !is_cookie_name(name) {
                p.add(key, Problem::NotCookieName);
            } else if let Some((other, _)) = names[..i].iter().find(|(_, n)| n == name) {
                p.add(key, Problem::SameCookieName(other));
            }
        }
        if !self.path.starts_with('/') || self.path.contains([';', ' ']) {
            p.add("path", Problem::NotAPath);
        }
        for origin in self.allowed_origins.iter().filter(|o| !is_origin(o)) {
            p.add("allowed_origins", Problem::NotAnOrigin(origin.clone()));
        }
    }
}

/// `scheme://host[:port]` with an http(s) scheme and no path.
fn is_origin(text: &str) -> bool {
    match text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    {
        Some(rest) => !rest.contains('/'),
        None => false,
    }
}

/// A cookie name: an RFC 6265 token.
fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The origins an app listening at `base_url` is reached under by default: that
/// URL, and its `localhost` spelling when it is a loopback address (one server
/// under the name a browser page needs to be a secure context). Cookie mode's
/// `allowed_origins` and DPoP's `htu` default to them.
pub(crate) fn default_origins(base_url: &str) -> Vec<String> {
    let mut origins = vec![base_url.trim_end_matches('/').to_owned()];
    for loopback in ["127.0.0.1", "[::1]"] {
        if let Some(rest) = origins[0].strip_prefix(&format!("http://{loopback}")) {
            origins.push(format!("http://localhost{rest}"));
        }
    }
    origins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_apps_also_allow_localhost() {
        assert_eq!(
            default_origins("http://127.0.0.1:8000"),
            ["http://127.0.0.1:8000", "http://localhost:8000"]
        );
        assert_eq!(
            default_origins("https://app.example/"),
            ["https://app.example"]
        );
    }
}
