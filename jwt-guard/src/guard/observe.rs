//! What a guard's check tells operators: its span (`jwt_guard.authenticate`)
//! and the authentication and authorization counters, labelled from what the
//! check read.

use rocket::request::Request;

use super::credential::Credential;
use crate::dpop::Scheme;
use crate::error::{AuthError, ErrorCode};
use crate::observe::AuthSpan;
use crate::runtime::JwtRuntime;

/// The span of this request's authentication, with the presented token's header
/// (`kid`, `alg`) when a subscriber listens.
pub(super) fn start_span(
    req: &Request<'_>,
    credential: &Credential,
    route: &str,
    issuer: Option<&'static str>,
) -> AuthSpan {
    AuthSpan::start(route, issuer, || match issuer {
        Some(_) => credential.in_header().ok().flatten().map(|p| p.token),
        None => credential.own(req).ok().flatten().map(|p| p.token),
    })
}

/// Counts what a guard decided: the authentication (scheme, result, duration)
/// and, for a token that authenticated, the authorization on the route's
/// template — through the handles the runtime holds (the free counters when
/// jwt-guard is not attached).
pub(super) fn observe(
    rt: Option<&JwtRuntime>,
    span: &AuthSpan,
    route: &str,
    scheme: &'static str,
    outcome: Result<(), &AuthError>,
    started: std::time::Instant,
) {
    let seconds = started.elapsed().as_secs_f64();
    // (span result, error code, authentication counted as, authorization if
    // the token authenticated)
    let (result, error, authentication, allowed) = match outcome {
        Ok(()) => ("success", None, "success", Some(true)),
        Err(e) if e.code() == ErrorCode::InsufficientScope => {
            ("denied", Some(e.code().as_str()), "success", Some(false))
        }
        Err(e) => ("failure", Some(e.code().as_str()), e.code().as_str(), None),
    };
    span.finish(scheme, result, error);
    match rt.map(JwtRuntime::held_metrics) {
        Some(held) => {
            held.authenticated(scheme, authentication, seconds);
            if let Some(allowed) = allowed {
                held.authorized(route, allowed);
            }
        }
        None => crate::observe::authenticated(scheme, authentication, seconds),
    }
}

/// How the credentials came, as a bounded label: an outside issuer's bearer
/// token, ours in `Authorization` (`bearer`, whatever the scheme), or ours in
/// the access cookie. `found` is the scheme the check read the token with; when
/// none was read, a request with `Authorization` (another scheme, a malformed
/// header) still counts as `bearer`.
pub(super) fn scheme_label(
    credential: Option<&Credential>,
    issuer: Option<&'static str>,
    found: Option<Scheme>,
) -> &'static str {
    match (issuer, found) {
        (Some(_), _) => "outside_bearer",
        (None, Some(Scheme::Bearer | Scheme::Dpop)) => "bearer",
        (None, Some(Scheme::Cookie)) => "cookie",
        (None, None) if credential.is_some_and(Credential::authorization_sent) => "bearer",
        (None, None) => "cookie",
    }
}
