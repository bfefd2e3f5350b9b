//! Cookie mode for browsers: the refresh token (and, if asked, the access token)
//! in `HttpOnly` cookies that scripts cannot read, and the CSRF rule for requests
//! those cookies authenticate.

use rocket::http::{Cookie, CookieJar, Method, SameSite};
use rocket::Request;

use crate::config::{CookieClients, CookieConfig, SameSitePolicy};
use crate::error::Rejection;
use crate::runtime::JwtRuntime;
use crate::session::LoginResponse;
use crate::signer::TokenPair;

/// The cookie settings of the app serving `req`, when cookie mode is on.
pub(crate) fn cookie_mode<'r>(req: &'r Request<'_>) -> Option<&'r CookieConfig> {
    JwtRuntime::from_request(req)
        .map(|rt| &rt.config().cookies)
        .filter(|c| c.enabled)
}

/// Whether a browser sent `req`: browsers add `Sec-Fetch-Site` (every current one)
/// or `Origin` (on every POST) themselves, and no page script can forge or remove
/// either. A mobile app, a script or a server sends neither.
pub(crate) fn from_browser(req: &Request<'_>) -> bool {
    let headers = req.headers();
    headers.contains("Sec-Fetch-Site") || headers.contains("Origin")
}

/// The CSRF rule for requests that start a session (password and magic-link
/// logins): in cookie mode, a request a browser sent must come from this site, or
/// a page elsewhere could log the visitor's browser into another account (login
/// CSRF). Requests without `Origin` or `Sec-Fetch-Site` — API clients — pass.
pub(crate) fn check_login_origin(req: &Request<'_>) -> Result<(), Rejection> {
    match cookie_mode(req) {
        Some(config) if from_browser(req) => check_origin(req, config),
        _ => Ok(()),
    }
}

/// The cookie settings that apply to this request's session answer: cookie mode is
/// on and the client is one that keeps its session in cookies (`cookies.clients`).
fn session_cookies<'r>(req: &'r Request<'_>) -> Option<&'r CookieConfig> {
    cookie_mode(req).filter(|c| c.clients == CookieClients::All || from_browser(req))
}

fn same_site(config: &CookieConfig) -> SameSite {
    match config.same_site {
        SameSitePolicy::Strict => SameSite::Strict,
        SameSitePolicy::Lax => SameSite::Lax,
    }
}

/// Whether cookies get `Secure`: as configured, else whenever Rocket serves TLS.
fn secure(req: &Request<'_>, config: &CookieConfig) -> bool {
    config
        .secure
        .unwrap_or_else(|| req.rocket().config().tls_enabled())
}

/// Which session cookie a name is for: the refresh and permanent cookies live under
/// the cookie path, the access cookie on the whole site.
#[derive(Clone, Copy)]
enum Jar {
    Refresh,
    Permanent,
    Access,
    Device,
}

/// The cookie's name as sent: with `Secure`, the browser-enforced prefix —
/// `__Host-` for the site-wide access cookie (no `Domain`, `Path=/`), `__Secure-`
/// for the others — so a sibling subdomain or a plain-HTTP page cannot plant one.
fn name_of(req: &Request<'_>, config: &CookieConfig, jar: Jar) -> String {
    let base = match jar {
        Jar::Refresh => &config.refresh_name,
        Jar::Permanent => &config.permanent_name,
        Jar::Access => &config.access_name,
        Jar::Device => &config.device_name,
    };
    match (secure(req, config), jar) {
        (false, _) => base.clone(),
        (true, Jar::Access) => format!("__Host-{base}"),
        (true, _) => format!("__Secure-{base}"),
    }
}

fn cookie(
    req: &Request<'_>,
    config: &CookieConfig,
    name: String,
    value: String,
    path: String,
    max_age: u64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(same_site(config))
        .secure(secure(req, config))
        .path(path)
        .max_age(rocket::time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .build()
}

/// For a client that keeps its session in cookies, moves the refresh token of
/// `pair` from the JSON body into an `HttpOnly` cookie (and sets the access cookie,
/// if that is on). A no-op for every other client, and without cookie mode.
pub(crate) fn move_into_cookies(req: &Request<'_>, rt: &JwtRuntime, pair: &mut TokenPair) {
    let Some(config) = session_cookies(req) else {
        return;
    };
    let Some(refresh) = pair.refresh.take() else {
        return;
    };
    let issuer = rt.issuer();
    set_session(
        req,
        config,
        (&refresh, issuer.refresh_ttl()),
        (&pair.access, issuer.access_ttl()),
    );
}

/// [`move_into_cookies`] for a new session: the permanent token goes into its own
/// `HttpOnly` cookie too, so a browser's JSON holds no long-lived credential.
pub(crate) fn move_login_into_cookies(
    req: &Request<'_>,
    rt: &JwtRuntime,
    login: &mut LoginResponse,
) {
    let Some(config) = session_cookies(req) else {
        return;
    };
    move_into_cookies(req, rt, &mut login.tokens);
    move_permanent_into_cookie(req, rt, config, &mut login.permanent_token);
}

/// Moves a permanent token from a JSON body into its `HttpOnly` cookie.
fn move_permanent_into_cookie(
    req: &Request<'_>,
    rt: &JwtRuntime,
    config: &CookieConfig,
    token: &mut Option<String>,
) {
    if let Some(permanent) = token.take() {
        req.cookies().add(cookie(
            req,
            config,
            name_of(req, config, Jar::Permanent),
            permanent,
            config.path.clone(),
            rt.config().permanent.ttl.as_secs(),
        ));
    }
}

/// A device refresh whose permanent token came in its cookie: the next one goes
/// back into the cookie, not the body.
pub(crate) fn move_next_permanent_into_cookie(
    req: &Request<'_>,
    rt: &JwtRuntime,
    token: &mut Option<String>,
) {
    if let Some(config) = cookie_mode(req) {
        move_permanent_into_cookie(req, rt, config, token);
    }
}

/// For a client that keeps its session in cookies, moves the known-device
/// credential of a password login into its `HttpOnly` cookie (below `path`, where
/// the login route lives), valid `ttl` seconds.
pub(crate) fn move_known_device_into_cookie(
    req: &Request<'_>,
    credential: &mut Option<String>,
    ttl: u64,
) {
    let Some(config) = session_cookies(req) else {
        return;
    };
    if let Some(value) = credential.take() {
        req.cookies().add(cookie(
            req,
            config,
            name_of(req, config, Jar::Device),
            value,
            config.path.clone(),
            ttl,
        ));
    }
}

/// The known-device credential in its cookie (cookie mode). No CSRF check of its
/// own: it is read by the login route, which checks the origin first, and it
/// authenticates nothing — it only decides whose failure budget a login spends.
pub(crate) fn known_device_from_cookie<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    let config = cookie_mode(req)?;
    // Two credentials for one login: neither is believed (the login goes on as
    // an unknown client's, under the account's budget).
    refuse_tossed_cookies(req, config).ok()?;
    req.cookies()
        .get(&name_of(req, config, Jar::Device))
        .map(|c| c.value())
}

/// Sets the session cookies of a login or a refresh on the response: the refresh
/// token under `path` (the refresh and logout routes), the access token (if the
/// access cookie is on) for the whole site.
fn set_session(
    req: &Request<'_>,
    config: &CookieConfig,
    refresh: (&str, u64),
    access: (&str, u64),
) {
    let jar: &CookieJar<'_> = req.cookies();
    jar.add(cookie(
        req,
        config,
        name_of(req, config, Jar::Refresh),
        refresh.0.to_owned(),
        config.path.clone(),
        refresh.1,
    ));
    if config.access_cookie {
        jar.add(cookie(
            req,
            config,
            name_of(req, config, Jar::Access),
            access.0.to_owned(),
            "/".to_owned(),
            access.1,
        ));
    }
}

/// Clears the session cookies (every kind of logout).
pub(crate) fn clear_session(req: &Request<'_>) {
    let Some(config) = cookie_mode(req) else {
        return;
    };
    // Sent whether or not this request carried them (a logout by bearer token
    // clears the browser's cookies all the same).
    let jar = req.cookies();
    for name in [
        name_of(req, config, Jar::Refresh),
        name_of(req, config, Jar::Permanent),
    ] {
        jar.add(cookie(
            req,
            config,
            name.clone(),
            String::new(),
            config.path.clone(),
            0,
        ));
    }
    if config.access_cookie {
        jar.add(cookie(
            req,
            config,
            name_of(req, config, Jar::Access),
            String::new(),
            "/".to_owned(),
            0,
        ));
    }
}

/// The value of the session cookie `jar` (cookie mode; the access cookie only
/// when it is on), after the CSRF check when the cookie authenticates this
/// request: a browser sends cookies whoever made it send the request.
fn session_cookie<'r>(
    req: &'r Request<'_>,
    jar: Jar,
    check: CsrfCheck,
) -> Result<Option<&'r str>, Rejection> {
    let Some(config) = cookie_mode(req) else {
        return Ok(None);
    };
    if matches!(jar, Jar::Access) && !config.access_cookie {
        return Ok(None);
    }
    refuse_tossed_cookies(req, config)?;
    let Some(value) = req
        .cookies()
        .get(&name_of(req, config, jar))
        .map(|c| c.value())
    else {
        return Ok(None);
    };
    let safe_method = matches!(req.method(), Method::Get | Method::Head | Method::Options);
    if check == CsrfCheck::Always || !safe_method {
        check_origin(req, config)?;
    }
    Ok(Some(value))
}

/// Cookie tossing: a sibling subdomain (or a plain-HTTP page of the domain) can
/// plant a cookie of the same name for the parent domain, which the browser then
/// sends beside the real one — and which of two a server reads is up to it. A
/// request carrying any of jwt-guard's session cookie names twice is refused
/// (400) before any of them is read or rotated.
fn refuse_tossed_cookies(req: &Request<'_>, config: &CookieConfig) -> Result<(), Rejection> {
    let names = [Jar::Refresh, Jar::Permanent, Jar::Access, Jar::Device]
        .map(|jar| name_of(req, config, jar));
    let mut seen = [0u8; 4];
    for pair in crate::header_scan::values(req.headers(), "Cookie").flat_map(|v| v.split(';')) {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name).trim();
        if let Some(i) = names.iter().position(|n| n == name) {
            seen[i] += 1;
            if seen[i] > 1 {
                return Err(Rejection::TossedCookie);
            }
        }
    }
    Ok(())
}

/// When a cookie's CSRF check applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CsrfCheck {
    /// On every request (the cookie is spent or rotated by it).
    Always,
    /// On unsafe methods only (the cookie authenticates a read).
    UnsafeMethods,
}

/// The refresh token in the refresh cookie, after the CSRF check.
pub(crate) fn refresh_from_cookie<'r>(req: &'r Request<'_>) -> Result<Option<&'r str>, Rejection> {
    session_cookie(req, Jar::Refresh, CsrfCheck::Always)
}

/// The refresh token a request presents: the body's (an API client), else the
/// refresh cookie's after the CSRF check (a browser), and which it was — the
/// answer goes back the same way. None at all is `401 missing_token`.
pub(crate) fn presented_refresh(
    req: &Request<'_>,
    in_body: Option<String>,
) -> Result<(String, bool), Rejection> {
    match in_body {
        Some(token) => Ok((token, false)),
        None => match refresh_from_cookie(req)? {
            Some(token) => Ok((token.to_owned(), true)),
            None => Err(Rejection::NoRefreshToken),
        },
    }
}

/// The permanent token in the permanent-token cookie, after the CSRF check.
pub(crate) fn permanent_from_cookie<'r>(
    req: &'r Request<'_>,
) -> Result<Option<&'r str>, Rejection> {
    session_cookie(req, Jar::Permanent, CsrfCheck::Always)
}

/// The access token in the access cookie (when that cookie is on); for unsafe
/// methods only after the CSRF check.
pub(crate) fn access_from_cookie<'r>(req: &'r Request<'_>) -> Result<Option<&'r str>, Rejection> {
    session_cookie(req, Jar::Access, CsrfCheck::UnsafeMethods)
}

/// `scheme://host[:port]` of a URL, as browsers write `Origin`.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

/// The CSRF rule for cookie-authenticated requests: the request must say
/// `Sec-Fetch-Site: same-origin`, or come from one of `allowed_origins` (its
/// `Origin`, or failing that its `Referer`). Otherwise 403: a page of another site made the
/// browser send it.
pub(crate) fn check_origin(req: &Request<'_>, config: &CookieConfig) -> Result<(), Rejection> {
    let allowed = |origin: &str| {
        config
            .allowed_origins
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    };
    let headers = req.headers();
    // Browsers set it, and no page can: the request comes from this very site —
    // or, said as plainly, from another one, whatever `Origin` or `Referer` say.
    match headers.get_one("Sec-Fetch-Site") {
        Some(site) if site.eq_ignore_ascii_case("same-origin") => return Ok(()),
        Some(site) if site.eq_ignore_ascii_case("cross-site") => {
            return Err(Rejection::CrossSiteFetch)
        }
        _ => {}
    }
    if let Some(origin) = headers.get_one("Origin") {
        return if allowed(origin) {
            Ok(())
        } else {
            Err(Rejection::CrossSiteOrigin)
        };
    }
    if let Some(referer) = headers.get_one("Referer") {
        return match origin_of(referer) {
            Some(origin) if allowed(origin) => Ok(()),
            _ => Err(Rejection::CrossSiteReferer),
        };
    }
    Err(Rejection::OriginUnknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_from_referers() {
        assert_eq!(
            origin_of("https://app.example:8443/path?q#f"),
            Some("https://app.example:8443")
        );
        assert_eq!(origin_of("http://a.b"), Some("http://a.b"));
        assert_eq!(origin_of("no scheme"), None);
    }
}
