//! `POST /auth/token`, `/auth/token/refresh`, `/auth/token/verify` and the JWKS.

use jsonwebtoken::jwk::JwkSet;
use rocket::serde::json::{self, Json};
use rocket::{get, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use crate::cookies;
use crate::error::AuthError;
use crate::guard::stale_revocations;
use crate::issuer::TokenPair;
use crate::manifest::{declare_route, Protection};
use crate::private_response::mark_private;
use crate::request::{json_body, runtime, store, RequestRef};
use crate::runtime::JwtRuntime;
use crate::session::{
    refresh_session, start_session, AppAuthenticator, LoginResponse, SessionOrigin, StartError,
};
use crate::store::Store;
use crate::throttle::LoginThrottle;

/// Longest username or password the login route reads; longer ones are refused
/// before the app's password check runs (a slow hash is a DoS lever).
pub const MAX_CREDENTIAL_BYTES: usize = 1024;

/// `POST /auth/token` body.
#[derive(Deserialize)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `POST /auth/token/refresh` body. In cookie mode the refresh token may come in
/// the cookie instead (send `{}`).
#[derive(Deserialize)]
pub struct RefreshRequest {
    /// The refresh token.
    #[serde(default)]
    pub refresh: Option<String>,
}

/// `POST /auth/token/verify` body.
#[derive(Deserialize)]
pub struct VerifyRequest {
    /// The token to check.
    pub token: String,
}

/// `POST /auth/token/verify` answer for a valid token: `{"valid": true}`, and the
/// subject and expiry only when `verify_reveals_claims` is set (whoever holds a
/// token learns nothing else from this route by default).
#[derive(Serialize, Deserialize, Debug)]
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

fn authenticator(state: Option<&State<AppAuthenticator>>) -> Result<&AppAuthenticator, AuthError> {
    state
        .map(|s| s.inner())
        .ok_or_else(|| AuthError::invalid_request("login is not configured"))
}

#[post("/auth/token", data = "<body>")]
async fn obtain(
    body: Result<Json<LoginRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    authenticator_state: Option<&State<AppAuthenticator>>,
    devices: Option<&State<Store>>,
    throttle: Option<&State<LoginThrottle>>,
    req: RequestRef<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    mark_private(req.0);
    let body = json_body(body)?;
    if body.username.len() > MAX_CREDENTIAL_BYTES || body.password.len() > MAX_CREDENTIAL_BYTES {
        return Err(AuthError::invalid_request(
            "username or password is too long",
        ));
    }
    let rt = runtime(rt)?;
    let devices = store(devices)?;
    let authenticator = authenticator(authenticator_state)?;
    let throttle = throttle
        .map(|s| s.inner())
        .ok_or_else(|| AuthError::unavailable("jwt-guard's fairing is not attached"))?;
    // Throttled before any password is looked at (429), and at most so many checks
    // at once (503 past the queue's patience).
    let attempt = throttle.admit(req.0, devices, &body.username).await?;
    let checked = authenticator
        .0
        .authenticate(req.0, &body.username, &body.password)
        .await
        .map_err(AuthError::unavailable)?;
    let Some((subject, claims)) = checked else {
        throttle.failed(req.0, devices, attempt).await;
        return Err(AuthError::invalid_credentials());
    };
    // The session's one transaction also resets the account and audits the login.
    let detail = attempt.success_detail(req.0);
    let origin = SessionOrigin::Password {
        attempts: attempt.key(),
        audit: &detail,
    };
    let (mut login, _) = start_session(req.0, rt, devices, &subject, &claims, origin)
        .await
        .map_err(|e| match e {
            StartError::Refused(e) => e,
            StartError::Link(_) => AuthError::unavailable("a password login used a link"),
        })?;
    drop(attempt);
    cookies::move_into_cookies(req.0, rt, &mut login.tokens);
    let now = rt.issuer().clock().now();
    authenticator.0.record_login(req.0, &subject, now).await;
    Ok(Json(login))
}

#[post("/auth/token/refresh", data = "<body>")]
async fn refresh(
    body: Result<Json<RefreshRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    authenticator_state: Option<&State<AppAuthenticator>>,
    devices: Option<&State<Store>>,
    req: RequestRef<'_>,
) -> Result<Json<TokenPair>, AuthError> {
    mark_private(req.0);
    let body = match body {
        // A browser refreshing through its cookie may send no body at all.
        Err(json::Error::Parse(input, _)) if input.trim().is_empty() => {
            RefreshRequest { refresh: None }
        }
        other => json_body(other)?,
    };
    let rt = runtime(rt)?;
    let devices = store(devices)?;
    let authenticator = authenticator(authenticator_state)?;
    // A body token answers in the body (an API client); the cookie's answers in a
    // new cookie (a browser), after the CSRF check.
    let (token, from_cookie) = match body.refresh {
        Some(token) => (token, false),
        None => match cookies::refresh_from_cookie(req.0)? {
            Some(token) => (token.to_owned(), true),
            None => {
                return Err(AuthError::invalid_request(
                    "no refresh token: send {\"refresh\": \"…\"} or the refresh cookie",
                ))
            }
        },
    };
    let mut pair = refresh_session(req.0, rt, devices, authenticator, &token).await?;
    if from_cookie {
        cookies::move_into_cookies(req.0, rt, &mut pair);
    }
    Ok(Json(pair))
}

#[post("/auth/token/verify", data = "<body>")]
fn verify(
    body: Result<Json<VerifyRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    req: RequestRef<'_>,
) -> Result<Json<VerifyResponse>, AuthError> {
    mark_private(req.0);
    let body = json_body(body)?;
    let rt = runtime(rt)?;
    if rt.revocations_too_stale().is_some() {
        return Err(stale_revocations(rt));
    }
    let token = rt
        .verifier()
        .verify_access::<serde_json::Value>(&body.token)
        .map_err(|e| AuthError::invalid_token(e.description()))?;
    let reveal = rt.config().verify_reveals_claims;
    Ok(Json(VerifyResponse {
        valid: true,
        sub: reveal.then(|| token.registered.sub.clone()),
        exp: reveal.then_some(token.registered.exp),
    }))
}

#[get("/.well-known/jwks.json")]
fn jwks(rt: Option<&State<JwtRuntime>>) -> Option<Json<JwkSet>> {
    let rt = rt?;
    let set = rt.keys().jwks();
    if set.keys.is_empty() {
        return None;
    }
    Some(Json(set.clone()))
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
