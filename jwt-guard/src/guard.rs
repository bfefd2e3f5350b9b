//! Request guards: [`Jwt`] (verified claims) and [`Authorized`] (a compiled policy).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use jwt_guard_grammar::is_token68;

use crate::claims::{Claims, RegisteredClaims, StandardClaims, Token};
use crate::config::MAX_TOKEN_BYTES;
use crate::cookies;
use crate::dpop::{self, Dpop, Scheme, DPOP_SCHEME};
use crate::error::{fail, AuthError};
use crate::header_scan;
use crate::observe::{route_template, AuthSpan};
use crate::policy::Policy;
use crate::private_response::mark_private;
use crate::runtime::JwtRuntime;
use crate::trusted_issuers::TrustedIssuers;
use crate::verifier::VerifyError;

/// Finds the bearer token in `Authorization`.
///
/// `Ok(None)`: no header, or a scheme that is not one of ours (e.g. `Basic`).
/// `Err`: several `Authorization` headers, or a scheme of ours with no token or a
/// token that is not token68 (RFC 7235).
pub(crate) fn bearer_token<'r>(
    req: &'r Request<'_>,
    prefixes: &[String],
) -> Result<Option<&'r str>, AuthError> {
    parse_bearer(
        header_scan::values(req.headers(), "Authorization"),
        prefixes,
    )
}

/// [`bearer_token`] on the header's values, as sent.
pub(crate) fn parse_bearer<'a>(
    values: impl Iterator<Item = &'a str>,
    prefixes: &[String],
) -> Result<Option<&'a str>, AuthError> {
    let token = parse_authorization(values, prefixes, false)?.map(|(_, token)| token);
    token.map(check_token68).transpose()?;
    Ok(token)
}

/// The token in `Authorization` and its scheme: one of `prefixes`, or `DPoP`
/// (RFC 9449 §7.1) when `dpop` is on. `Ok(None)` for no header or another scheme.
fn parse_authorization<'a>(
    mut values: impl Iterator<Item = &'a str>,
    prefixes: &[String],
    dpop: bool,
) -> Result<Option<(Scheme, &'a str)>, AuthError> {
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::invalid_request(
            "more than one Authorization header was sent",
        ));
    }
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if dpop && scheme.eq_ignore_ascii_case(DPOP_SCHEME) {
        Scheme::Dpop
    } else if prefixes.iter().any(|p| p.eq_ignore_ascii_case(scheme)) {
        Scheme::Bearer
    } else {
        return Ok(None);
    };
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthError::invalid_request(
            "the Authorization header has no token",
        ));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::invalid_token("token is too large"));
    }
    Ok(Some((scheme, token)))
}

/// RFC 6750 §2.1: a bearer credential is token68 text; anything else is a
/// malformed request.
fn check_token68(token: &str) -> Result<(), AuthError> {
    if is_token68(token) {
        Ok(())
    } else {
        Err(AuthError::invalid_request(
            "the Authorization header is malformed",
        ))
    }
}

/// The request's access token in `Authorization` (any of our schemes), and how
/// it came.
fn authorization<'r>(
    req: &'r Request<'_>,
    rt: &JwtRuntime,
) -> Result<Option<(Scheme, &'r str)>, AuthError> {
    let found = unchecked_authorization(req, rt)?;
    found.map(|(_, token)| check_token68(token)).transpose()?;
    Ok(found)
}

/// [`authorization`] without the token68 check, for a caller that makes it only
/// for a token it has not verified before.
fn unchecked_authorization<'r>(
    req: &'r Request<'_>,
    rt: &JwtRuntime,
) -> Result<Option<(Scheme, &'r str)>, AuthError> {
    parse_authorization(
        header_scan::values(req.headers(), "Authorization"),
        &rt.config().header_prefixes,
        Dpop::of(req).is_some(),
    )
}

/// The request's own access token (`Authorization`, else the access cookie).
fn presented<'r>(
    req: &'r Request<'_>,
    rt: &JwtRuntime,
) -> Result<Option<(Scheme, &'r str)>, AuthError> {
    match authorization(req, rt)? {
        Some(found) => Ok(Some(found)),
        None => Ok(from_cookie(req)?),
    }
}

/// Server-rendered apps: the access cookie (cookie mode).
fn from_cookie<'r>(req: &'r Request<'_>) -> Result<Option<(Scheme, &'r str)>, AuthError> {
    Ok(cookies::access_from_cookie(req)?.map(|token| (Scheme::Cookie, token)))
}

/// RFC 9449: a verified token may be used as it was presented — a bound one
/// only with the `DPoP` scheme and a proof by its key; an unbound one not where
/// the route (`route_requires`) or the app insists on binding.
async fn confirm_binding(
    req: &Request<'_>,
    registered: &RegisteredClaims,
    route_requires: bool,
    as_dpop: bool,
) -> Result<(), AuthError> {
    // Most requests: DPoP off and a bearer token — nothing to look at.
    if registered.cnf.is_none() && Dpop::of(req).is_none() {
        return Ok(());
    }
    // An unbound token: only the scheme it came with matters (the request was
    // parsed whole when the token was verified; no need to read it again).
    if registered.cnf.is_none() {
        return dpop::confirm_unbound(req, as_dpop, route_requires).map_err(AuthError::from);
    }
    let rt = JwtRuntime::from_request(req).ok_or_else(|| {
        AuthError::invalid_token("authentication is not configured on this server")
    })?;
    let Some((scheme, token)) = presented(req, rt)? else {
        return Err(AuthError::missing_token());
    };
    // Boxed: the proof check's future is large, and every guard's future would
    // otherwise carry (and copy) its space.
    Box::pin(dpop::confirm(
        req,
        registered,
        token,
        scheme,
        route_requires,
    ))
    .await
    .map_err(AuthError::from)
}

type Verification<C> = Result<Option<Arc<Token<C>>>, AuthError>;

/// The verdict on the request's token and the scheme it came with (`None`: no
/// token of ours was found), kept together so that `Authorization` is read once
/// for the check, the DPoP rules and the span and counters.
struct CachedVerification<C> {
    verdict: Verification<C>,
    scheme: Option<Scheme>,
}

/// What the guards of one request keep about its own token, per claims type: one
/// request-local entry (each entry is a type-map insert on the request).
struct OwnToken<C> {
    /// Verified at most once per request.
    verification: OnceLock<CachedVerification<C>>,
    /// What the route's policy accepted (see [`accepted`]).
    accepted: OnceLock<Arc<Token<C>>>,
}

fn own_token<'r, C: Claims>(req: &'r Request<'_>) -> &'r OwnToken<C> {
    req.local_cache(|| OwnToken::<C> {
        verification: OnceLock::new(),
        accepted: OnceLock::new(),
    })
}

fn verify_request<'r, C: Claims>(req: &'r Request<'_>) -> (&'r Verification<C>, Option<Scheme>) {
    let cached = own_token::<C>(req).verification.get_or_init(|| {
        let mut scheme = None;
        let verdict = verify_own(req, &mut scheme);
        CachedVerification::<C> { verdict, scheme }
    });
    (&cached.verdict, cached.scheme)
}

/// The request's own access token (bearer, else the access cookie), verified;
/// `scheme` set to how it came as soon as that is known.
fn verify_own<C: Claims>(req: &Request<'_>, scheme: &mut Option<Scheme>) -> Verification<C> {
    let rt = JwtRuntime::from_request(req).ok_or_else(|| {
        AuthError::invalid_token("authentication is not configured on this server")
    })?;
    let (token, in_header) = match unchecked_authorization(req, rt)? {
        Some((found, token)) => {
            *scheme = Some(found);
            (token, true)
        }
        None => match from_cookie(req)? {
            Some((found, token)) => {
                *scheme = Some(found);
                (token, false)
            }
            None => return Ok(None),
        },
    };
    // One cache look-up. The exact bytes of a token verified before were token68
    // then: the check (a pass over hundreds of bytes) is for new tokens only.
    let verifier = rt.verifier();
    let remembered = verifier.remembered::<C>(token);
    if remembered.is_none() && in_header {
        check_token68(token)?;
    }
    rt.fresh_revocations()?;
    let verified = match remembered {
        Some(verdict) => verdict?,
        None => verifier.verify_first_seen::<C>(token)?,
    };
    Ok(Some(verified))
}

/// The token the route's policy (`#[use_jwt]`, which runs first) accepted: what
/// `Jwt<C>` hands the handler, so a route of an outside issuer gets that issuer's
/// token and nothing is verified twice.
fn accepted<'r, C: Claims>(req: &'r Request<'_>) -> &'r OnceLock<Arc<Token<C>>> {
    &own_token::<C>(req).accepted
}

/// The outside issuer whose tokens this request's route takes, as its
/// `#[use_jwt]` policy said before anything was verified; never set on a route
/// that takes the app's own tokens.
struct RouteIssuer(OnceLock<&'static str>);

fn route_issuer<'r>(req: &'r Request<'_>) -> &'r OnceLock<&'static str> {
    &req.local_cache(|| RouteIssuer(OnceLock::new())).0
}

/// The request's token from the outside issuer `name`, verified at most once per
/// request and claims type, and the scheme it came with.
struct CachedOutside<C> {
    verdict: Verification<C>,
    scheme: Option<Scheme>,
}

async fn verify_outside<'r, C: Claims>(
    req: &'r Request<'_>,
    name: &str,
) -> (&'r Verification<C>, Option<Scheme>) {
    let cached = req
        .local_cache_async(async {
            let mut found = None;
            let verdict = async {
                let rt = JwtRuntime::from_request(req).ok_or_else(|| {
                    AuthError::invalid_token("authentication is not configured on this server")
                })?;
                let Some((scheme, token)) = authorization(req, rt)? else {
                    return Ok(None);
                };
                found = Some(scheme);
                rt.fresh_revocations()?;
                let issuer = req
                    .rocket()
                    .state::<TrustedIssuers>()
                    .and_then(|issuers| issuers.get(name))
                    .ok_or_else(|| {
                        AuthError::unavailable(format!("issuer `{name}` is not configured"))
                    })?;
                match issuer.verify::<C>(token, rt.verifier().revocations()).await {
                    Ok(token) => Ok(Some(Arc::new(token))),
                    // The app's own token, or another provider's: say whose this
                    // route takes.
                    Err(VerifyError::WrongIssuer) => Err(AuthError::invalid_token(format!(
                        "this route accepts tokens of the issuer `{name}` only"
                    ))),
                    Err(e) => Err(e.into()),
                }
            }
            .await;
            CachedOutside::<C> {
                verdict,
                scheme: found,
            }
        })
        .await;
    (&cached.verdict, cached.scheme)
}

/// The `401` for a request without a token this app reads. A token sent with a
/// token scheme that is not configured (djangorestframework-jwt's `JWT`) gets a
/// hint; the challenge still carries no `error` (RFC 6750 §3.1: no credentials).
fn no_token(req: &Request<'_>) -> AuthError {
    let scheme = req
        .headers()
        .get_one("Authorization")
        .and_then(|value| value.trim().split(' ').next())
        .filter(|scheme| {
            ["JWT", "Bearer", "Token"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme))
        });
    let accepted = JwtRuntime::from_request(req).map(|rt| rt.config().header_prefixes.clone());
    match (scheme, accepted) {
        (Some(scheme), Some(accepted)) => {
            let first = accepted.first().map_or("Bearer", String::as_str);
            AuthError::missing_token_because(format!(
                "the `{scheme}` scheme is not accepted here: send `Authorization: {first} <token>`, \
                 or add \"{scheme}\" to jwt.header_prefixes"
            ))
        }
        _ => AuthError::missing_token(),
    }
}

fn runtime_missing(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if rocket.state::<JwtRuntime>().is_none() {
        rocket::error!(
            "`{guard}` needs jwt-guard's state: attach `jwt_guard::JwtGuard::fairing()` to this Rocket"
        );
        return true;
    }
    false
}

/// The verified claims of the request's access token.
///
/// Take it as a handler parameter. The token is verified once per request, however
/// many guards ask for it. `Option<Jwt<C>>` makes the token optional (an invalid
/// token then yields `None`; pair it with `#[use_jwt(optional)]` to refuse invalid
/// tokens while accepting none).
///
/// Dereferences to the application's claims `C`.
pub struct Jwt<C: Claims = StandardClaims> {
    token: Arc<Token<C>>,
}

impl<C: Claims> Clone for Jwt<C> {
    fn clone(&self) -> Self {
        Self {
            token: self.token.clone(),
        }
    }
}

impl<C: Claims + std::fmt::Debug> std::fmt::Debug for Jwt<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("registered", &self.token.registered)
            .field("claims", &self.token.claims)
            .finish()
    }
}

impl<C: Claims> Jwt<C> {
    /// The application's claims.
    pub fn claims(&self) -> &C {
        &self.token.claims
    }

    /// The registered claims (`sub`, `exp`, `jti`, `did`, …).
    pub fn registered(&self) -> &RegisteredClaims {
        &self.token.registered
    }

    /// The subject (user id).
    pub fn subject(&self) -> &str {
        &self.token.registered.sub
    }

    /// The device (login) this token belongs to, if any.
    pub fn device_id(&self) -> Option<&str> {
        self.token.registered.did.as_deref()
    }

    /// The token id.
    pub fn token_id(&self) -> &str {
        &self.token.registered.jti
    }
}

impl<C: Claims> Deref for Jwt<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.token.claims
    }
}

#[rocket::async_trait]
impl<'r, C: Claims> FromRequest<'r> for Jwt<C> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        if let Some(token) = accepted::<C>(req).get() {
            return Outcome::Success(Jwt {
                token: token.clone(),
            });
        }
        // The route's policy takes an outside issuer's tokens and accepted none:
        // the app's own token (a cookie, say) must not stand in for one.
        if route_issuer(req).get().is_some() {
            return fail(req, no_token(req));
        }
        // A route that takes `Jwt` without `#[use_jwt]` (jwt-guard's own device
        // routes): any valid own token is authorized.
        let started = std::time::Instant::now();
        let route = route_template(req);
        let span = start_span(req, route, None);
        let (verification, found) = span.in_scope(|| verify_request::<C>(req));
        let scheme = scheme_label(req, None, found);
        let verified = match verification {
            Ok(Some(token)) => {
                let as_dpop = found == Some(Scheme::Dpop);
                match confirm_binding(req, &token.registered, false, as_dpop).await {
                    Ok(()) => Ok(Some(token.clone())),
                    Err(e) => Err(e),
                }
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e.clone()),
        };
        match &verified {
            Ok(Some(token)) => {
                observe(req, &span, route, scheme, Ok(()), started);
                mark_private(req);
                Outcome::Success(Jwt {
                    token: token.clone(),
                })
            }
            Ok(None) => {
                let e = no_token(req);
                observe(req, &span, route, scheme, Err(&e), started);
                fail(req, e)
            }
            Err(e) => {
                observe(req, &span, route, scheme, Err(e), started);
                fail(req, e.clone())
            }
        }
    }
}

impl<C: Claims> Sentinel for Jwt<C> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        runtime_missing(rocket, "Jwt")
    }
}

/// Proof that the request passed the policy `P`. Injected by `#[use_jwt]`; handlers
/// normally take [`Jwt`] instead.
pub struct Authorized<P: Policy> {
    jwt: Option<Jwt<P::Claims>>,
    _policy: PhantomData<fn() -> P>,
}

impl<P: Policy> Authorized<P> {
    /// The verified token (`None` only for an `optional` route reached without one).
    pub fn jwt(&self) -> Option<&Jwt<P::Claims>> {
        self.jwt.as_ref()
    }
}

#[rocket::async_trait]
impl<'r, P: Policy> FromRequest<'r> for Authorized<P> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let started = std::time::Instant::now();
        let route = route_template(req);
        let span = start_span(req, route, P::ISSUER);
        #[cfg(feature = "tracing")]
        let (outcome, found) = {
            use tracing::Instrument as _;
            authorize::<P>(req).instrument(span.span().clone()).await
        };
        #[cfg(not(feature = "tracing"))]
        let (outcome, found) = authorize::<P>(req).await;
        let scheme = scheme_label(req, P::ISSUER, found);
        match &outcome {
            Outcome::Success(_) => observe(req, &span, route, scheme, Ok(()), started),
            Outcome::Error((_, e)) => observe(req, &span, route, scheme, Err(e), started),
            Outcome::Forward(_) => {}
        }
        outcome
    }
}

/// Counts what [`Authorized`] decided: the authentication (scheme, result,
/// duration) and, for a token that authenticated, the authorization on the
/// route's template — through the handles the runtime holds.
fn observe(
    req: &Request<'_>,
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
        Err(e) if e.code() == crate::error::ErrorCode::InsufficientScope => {
            ("denied", Some(e.code().as_str()), "success", Some(false))
        }
        Err(e) => ("failure", Some(e.code().as_str()), e.code().as_str(), None),
    };
    span.finish(scheme, result, error);
    match JwtRuntime::from_request(req).map(JwtRuntime::held_metrics) {
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
fn scheme_label(
    req: &Request<'_>,
    issuer: Option<&'static str>,
    found: Option<Scheme>,
) -> &'static str {
    match (issuer, found) {
        (Some(_), _) => "outside_bearer",
        (None, Some(Scheme::Bearer | Scheme::Dpop)) => "bearer",
        (None, Some(Scheme::Cookie)) => "cookie",
        (None, None) if header_scan::contains(req.headers(), "Authorization") => "bearer",
        (None, None) => "cookie",
    }
}

/// The span of this request's authentication.
fn start_span(req: &Request<'_>, route: &str, issuer: Option<&'static str>) -> AuthSpan {
    let token = || {
        let rt = JwtRuntime::from_request(req)?;
        bearer_token(req, &rt.config().header_prefixes)
            .ok()
            .flatten()
    };
    AuthSpan::start(route, issuer, token)
}

/// The decision of [`Authorized`] — verification, step-up, the policy — and the
/// scheme the token came with.
async fn authorize<P: Policy>(
    req: &Request<'_>,
) -> (Outcome<Authorized<P>, AuthError>, Option<Scheme>) {
    if let Some(name) = P::ISSUER {
        let _ = route_issuer(req).set(name);
    }
    let (verification, found) = match P::ISSUER {
        // Boxed: an outside issuer's check (its key fetch included) is a future
        // of kilobytes; unboxed, every route's guard would copy that much per
        // request.
        Some(name) => Box::pin(verify_outside::<P::Claims>(req, name)).await,
        None => verify_request::<P::Claims>(req),
    };
    (decide::<P>(req, verification, found).await, found)
}

/// [`authorize`] once the token is verified (or refused).
async fn decide<P: Policy>(
    req: &Request<'_>,
    verification: &Verification<P::Claims>,
    found: Option<Scheme>,
) -> Outcome<Authorized<P>, AuthError> {
    let as_dpop = found == Some(Scheme::Dpop);
    // Every refusal names the route's scopes (RFC 6750 §3), and on a route that
    // takes bound tokens only, the `DPoP` challenge alone.
    let refuse = |e: AuthError| {
        let e = e.for_route_scope(P::SCOPE);
        fail(req, if P::DPOP { e.dpop_only() } else { e })
    };
    let token = match verification {
        Err(e) => return refuse(e.clone()),
        Ok(None) if P::OPTIONAL => {
            return Outcome::Success(Authorized {
                jwt: None,
                _policy: PhantomData,
            })
        }
        Ok(None) => return refuse(no_token(req)),
        Ok(Some(token)) => token.clone(),
    };
    if let Err(e) = confirm_binding(req, &token.registered, P::DPOP, as_dpop).await {
        return refuse(e);
    }
    if let Err(e) = step_up::<P>(req, &token.registered) {
        return refuse(e);
    }
    if let Err(denied) = P::authorize(&token.claims) {
        return refuse(AuthError::insufficient_scope(
            denied.description,
            denied.scope,
        ));
    }
    mark_private(req);
    let _ = accepted::<P::Claims>(req).set(token.clone());
    Outcome::Success(Authorized {
        jwt: Some(Jwt { token }),
        _policy: PhantomData,
    })
}

/// RFC 9470 §3: a valid token whose authentication is too old for `fresh`, or of
/// a class `acr` does not list, asks the client to authenticate again (`401
/// insufficient_user_authentication` with `max_age` / `acr_values`).
fn step_up<P: Policy>(req: &Request<'_>, registered: &RegisteredClaims) -> Result<(), AuthError> {
    if let Some(max_age) = P::MAX_LOGIN_AGE {
        // The token's own `auth_time` (own tokens: their login's, kept through
        // refreshes); never its `iat`, which a refresh renews.
        let login = registered.auth_time.or(registered.orig_iat);
        let now = JwtRuntime::from_request(req).map(|rt| rt.verifier().clock().now());
        let recent = match (login, now) {
            (Some(login), Some(now)) => now.saturating_sub(login) <= max_age,
            _ => false,
        };
        if !recent {
            let why = if login.is_some() {
                "this route needs a more recent authentication; sign in again"
            } else {
                "this route needs to know when the user authenticated (`auth_time`)"
            };
            return Err(AuthError::insufficient_user_authentication(
                why,
                Some(max_age),
                None,
            ));
        }
    }
    if let Some(accepted) = P::ACR {
        let reached = registered
            .acr
            .as_deref()
            .is_some_and(|acr| accepted.split(' ').any(|a| a == acr));
        if !reached {
            return Err(AuthError::insufficient_user_authentication(
                "this route needs a stronger authentication",
                None,
                Some(accepted),
            ));
        }
    }
    Ok(())
}

impl<P: Policy> Sentinel for Authorized<P> {
    /// Stops launch without jwt-guard, or when the route names an outside issuer
    /// that `trusted_issuers` does not configure.
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if runtime_missing(rocket, "#[use_jwt]") {
            return true;
        }
        let Some(name) = P::ISSUER else {
            return false;
        };
        let issuers = rocket.state::<TrustedIssuers>();
        if issuers.is_some_and(|i| i.get(name).is_some()) {
            return false;
        }
        let known = issuers.map(|i| i.names().join("`, `")).unwrap_or_default();
        rocket::error!(
            "`#[use_jwt(issuer = \"{name}\")]`: no trusted issuer `{name}` is configured \
             (jwt.trusted_issuers names: `{known}`); add it to the `jwt` table"
        );
        true
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["Bearer".to_owned(), "JWT".to_owned()]
    }

    proptest! {
        #![proptest_config(crate::test_cases())]

        /// Any header text: no panic, and a token found is token68, bounded, and
        /// taken from the header itself.
        #[test]
        fn any_header_is_parsed_safely(value in any::<String>(), second in proptest::option::of(any::<String>())) {
            let values: Vec<&str> = std::iter::once(value.as_str()).chain(second.as_deref()).collect();
            if let Ok(Some(token)) = parse_bearer(values.into_iter(), &prefixes()) {
                prop_assert!(second.is_none());
                prop_assert!(is_token68(token) && !token.is_empty());
                prop_assert!(token.len() <= MAX_TOKEN_BYTES);
                prop_assert!(value.contains(token));
            }
        }

        /// A well-formed header always yields its token, whatever the scheme's case.
        #[test]
        fn well_formed_headers_yield_their_token(token in "[A-Za-z0-9._~+/=-]{1,200}", upper in any::<bool>()) {
            let scheme = if upper { "BEARER" } else { "bearer" };
            let header = format!("{scheme} {token}");
            let found = parse_bearer(std::iter::once(header.as_str()), &prefixes());
            prop_assert_eq!(found.ok().flatten(), Some(token.as_str()));
        }
    }
}
