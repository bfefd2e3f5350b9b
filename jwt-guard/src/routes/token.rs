//! `POST /auth/token`, `/auth/token/refresh`, `/auth/token/verify` and the JWKS.

use jsonwebtoken::jwk::JwkSet;
use rocket::serde::json::{self, Json};
use rocket::{get, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use crate::cookies;
use crate::error::{AuthError, Rejection};
use crate::login::start;
use crate::manifest::{declare_route, Protection};
use crate::private_response::mark_credential;
use crate::request::{json_body, RequestRef, Services};
use crate::runtime::JwtRuntime;
use crate::session::{refresh_session, verify_refresh, LoginResponse, SessionOrigin};
use crate::signer::TokenPair;
use crate::throttle::known_device;

/// Longest username or password the login route reads; longer ones are refused
/// before the app's password check runs (a slow hash is a DoS lever).
pub const MAX_CREDENTIAL_BYTES: usize = 1024;

/// `POST /auth/token` body.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct LoginRequest {
    /// Username (at most 1024 bytes: 256 characters are always within it).
    #[schemars(length(max = 256))]
    pub username: String,
    /// Password (at most 1024 bytes).
    #[schemars(length(max = 256))]
    pub password: String,
}

/// `POST /auth/token/refresh` body. In cookie mode the refresh token may come in
/// the cookie instead (send `{}`).
#[derive(Deserialize, schemars::JsonSchema)]
pub struct RefreshRequest {
    /// The refresh token.
    #[serde(default)]
    pub refresh: Option<String>,
}

/// `POST /auth/token/verify` body.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct VerifyRequest {
    /// The token to check.
    pub token: String,
}

/// `POST /auth/token/verify` answer for a valid token: `{"valid": true}`, and the
/// subject and expiry only when `verify_reveals_claims` is set (whoever holds a
/// token learns nothing else from this route by default).
#[derive(Serialize, Deserialize, Debug, schemars::JsonSchema)]
#[non_exhaustive]
pub struct VerifyResponse {
    /// Always `true` (an invalid token gets a 401 instead).
    pub valid: bool,
    /// The token's subject, with `verify_reveals_claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The token's expiry, with `verify_reveals_claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
}

#[post("/auth/token", data = "<body>")]
async fn obtain(
    body: Result<Json<LoginRequest>, json::Error<'_>>,
    services: Services<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let Services {
        req,
        rt,
        store,
        throttle,
        ..
    } = services;
    mark_credential(req);
    // A login is JSON (a form post or `text/plain` is what another site's page can
    // send without asking), and a browser's comes from this site.
    if !req.content_type().is_some_and(|ct| ct.is_json()) {
        return Err(Rejection::NotJson.into());
    }
    cookies::check_login_origin(req)?;
    // A bad DPoP proof is refused before any password is looked at (RFC 9449 §5).
    crate::dpop::precheck_sign_in(req)?;
    let body = json_body(body)?;
    if body.username.len() > MAX_CREDENTIAL_BYTES || body.password.len() > MAX_CREDENTIAL_BYTES {
        return Err(Rejection::CredentialsTooLong.into());
    }
    let authenticator = services.authenticator()?;
    // Throttled before any password is looked at (429), and at most so many checks
    // at once (503 past the queue's patience).
    // Every budget is the account's the app resolves the typed name to.
    let account = authenticator.0.account_key(&body.username);
    let mut attempt = throttle.admit(req, rt, store, &account).await?;
    let checked = authenticator
        .0
        .authenticate(req, &body.username, &body.password)
        .await?;
    attempt.checked();
    let Some((subject, claims)) = checked else {
        throttle.failed(req, store, attempt).await;
        crate::observe::login("password", "failure");
        return Err(Rejection::InvalidCredentials.into());
    };
    // The session's one transaction also resets the account and audits the login.
    let detail = attempt.success_detail(req);
    let origin = SessionOrigin::Login {
        attempts: attempt.key(),
        audit: &detail,
        amr: &["pwd".to_owned()],
        acr: None,
        method: "password",
        authenticated_at: None,
        upstream: None,
    };
    // This client is now known to the account: its own failure budget from now on
    // (signed before anything is stored, like the session's tokens).
    let device_cookie = known_device::issue(rt, &account)?;
    let (mut login, _) = start(req, rt, store, &subject, &claims, origin).await?;
    login.device_cookie = Some(device_cookie);
    cookies::move_known_device_into_cookie(req, &mut login.device_cookie, known_device::ttl(rt));
    let now = rt.issuer().clock().now();
    authenticator.0.record_login(req, &subject, now).await;
    Ok(Json(login))
}

#[post("/auth/token/refresh", data = "<body>")]
async fn refresh(
    body: Result<Json<RefreshRequest>, json::Error<'_>>,
    services: Services<'_>,
) -> Result<Json<TokenPair>, AuthError> {
    let Services { req, rt, store, .. } = services;
    mark_credential(req);
    let body = match body {
        // A browser refreshing through its cookie may send no body at all.
        Err(json::Error::Parse(input, _)) if input.trim().is_empty() => {
            RefreshRequest { refresh: None }
        }
        other => json_body(other)?,
    };
    let authenticator = services.authenticator()?;
    // A body token answers in the body (an API client); the cookie's answers in a
    // new cookie (a browser), after the CSRF check.
    let (token, from_cookie) = cookies::presented_refresh(req, body.refresh)?;
    let old = verify_refresh(rt, &token)?;
    // A device refreshes a few times an hour; a tight loop on one is throttled
    // (per instance) before it reaches the database.
    services.throttle.admit_refresh(old.did.as_deref())?;
    let mut pair = refresh_session(req, rt, store, authenticator, old, None).await?;
    if from_cookie {
        cookies::move_into_cookies(req, rt, &mut pair);
    }
    Ok(Json(pair))
}

// Verification needs no database: these two take the runtime alone, so that
// verify-only apps mount them too.
#[post("/auth/token/verify", data = "<body>")]
fn verify(
    body: Result<Json<VerifyRequest>, json::Error<'_>>,
    rt: &State<JwtRuntime>,
    req: RequestRef<'_>,
) -> Result<Json<VerifyResponse>, AuthError> {
    mark_credential(req.0);
    let body = json_body(body)?;
    rt.fresh_revocations()?;
    let token = rt
        .verifier()
        .verify_access::<serde_json::Value>(&body.token)?;
    let reveal = rt.config().verify_reveals_claims;
    Ok(Json(VerifyResponse {
        valid: true,
        sub: reveal.then(|| token.registered.sub.clone()),
        exp: reveal.then_some(token.registered.exp),
    }))
}

/// Whether this app signs tokens of its own (a verify-only app trusting only
/// outside issuers does not: it has no keys to publish).
struct SignsOwnTokens(bool);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for SignsOwnTokens {
    type Error = std::convert::Infallible;

    async fn from_request(
        req: &'r rocket::Request<'_>,
    ) -> rocket::request::Outcome<Self, Self::Error> {
        let signs = req.rocket().state::<crate::signer::Issuer>().is_some();
        rocket::request::Outcome::Success(SignsOwnTokens(signs))
    }
}

#[get("/.well-known/jwks.json")]
fn jwks(rt: &State<JwtRuntime>, own: SignsOwnTokens) -> Result<Json<JwkSet>, AuthError> {
    if !own.0 {
        return Err(Rejection::NoKeysOfItsOwn.into());
    }
    let set = rt.keys().jwks();
    if set.keys.is_empty() {
        return Err(Rejection::NoPublicKeys.into());
    }
    Ok(Json(set.clone()))
}

declare_route!(obtain, Post, "/auth/token", Protection::Public);
declare_route!(refresh, Post, "/auth/token/refresh", Protection::Public);
declare_route!(verify, Post, "/auth/token/verify", Protection::Public);
declare_route!(jwks, Get, "/.well-known/jwks.json", Protection::Public);

/// The token routes (`/auth/token`, `/auth/token/refresh`, `/auth/token/verify`)
/// and the JWKS route.
pub fn token_routes() -> Vec<Route> {
    routes![obtain, refresh, verify, jwks]
}

/// The routes that need no database: `/auth/token/verify` and the JWKS (what
/// [`JwtGuard::verify_only`](crate::JwtGuard::verify_only) mounts).
pub fn verification_routes() -> Vec<Route> {
    routes![verify, jwks]
}
