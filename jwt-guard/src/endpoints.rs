//! Built-in routes: obtain, refresh and verify tokens, and the JWKS.

use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use rocket::serde::json::{self, Json};
use rocket::request::{FromRequest, Outcome};
use rocket::{get, post, routes, Request, Route, State};
use serde::{Deserialize, Serialize};

use crate::claims::{Claims, NoClaims, TokenKind};
use crate::error::AuthError;
use crate::issuer::{Grant, Issuer, TokenPair};
use crate::runtime::JwtRuntime;

/// Longest username or password the login route reads; longer ones are refused
/// before the app's password check runs (a slow hash is a DoS lever).
pub const MAX_CREDENTIAL_BYTES: usize = 1024;

/// A user the application recognised, and the claims their tokens carry.
#[derive(Clone, Debug)]
pub struct Principal<C> {
    /// The subject (stable user id) written as `sub`.
    pub subject: String,
    /// The claims for this user's access tokens.
    pub claims: C,
}

/// The application's user store, as the built-in routes see it.
///
/// ```
/// use jwt_guard::{Authenticator, Principal, StandardClaims};
///
/// struct OneUser;
///
/// #[rocket::async_trait]
/// impl Authenticator for OneUser {
///     type Claims = StandardClaims;
///
///     async fn authenticate(
///         &self,
///         _req: &rocket::Request<'_>,
///         username: &str,
///         password: &str,
///     ) -> Option<Principal<StandardClaims>> {
///         (username == "ada" && password == "correct horse").then(|| Principal {
///             subject: "ada".into(),
///             claims: StandardClaims::default(),
///         })
///     }
///
///     async fn claims_for(&self, _req: &rocket::Request<'_>, subject: &str) -> Option<StandardClaims> {
///         (subject == "ada").then(StandardClaims::default)
///     }
/// }
/// ```
#[rocket::async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a jwt-guard authenticator",
    note = "implement `jwt_guard::Authenticator` for `{Self}` with `#[rocket::async_trait]`"
)]
pub trait Authenticator: Send + Sync + 'static {
    /// The claims access tokens carry.
    type Claims: Claims;

    /// Checks a username and password. Return `None` for an unknown user and for a
    /// wrong password alike, taking the same time for both.
    ///
    /// `req` gives access to managed state (a database pool, say) and the client.
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Option<Principal<Self::Claims>>;

    /// The current claims of `subject`, or `None` if the user no longer exists (their
    /// refresh then fails). Called on every refresh, so role changes take effect.
    async fn claims_for(&self, req: &Request<'_>, subject: &str) -> Option<Self::Claims>;

    /// Called after each successful login, e.g. to update a last-login column.
    async fn record_login(&self, _req: &Request<'_>, _subject: &str, _at: u64) {}
}

/// [`Authenticator`] with its claims type erased, so the routes need no generics.
#[rocket::async_trait]
pub(crate) trait TokenGrants: Send + Sync {
    async fn login(
        &self,
        req: &Request<'_>,
        issuer: &Issuer,
        username: &str,
        password: &str,
    ) -> Result<TokenPair, AuthError>;

    async fn refresh(
        &self,
        req: &Request<'_>,
        issuer: &Issuer,
        grant: Grant<'_>,
    ) -> Result<TokenPair, AuthError>;
}

fn issue_failed(e: impl std::fmt::Display) -> AuthError {
    rocket::error!("jwt-guard: {e}");
    AuthError::invalid_request("the token could not be issued")
}

#[rocket::async_trait]
impl<A: Authenticator> TokenGrants for A {
    async fn login(
        &self,
        req: &Request<'_>,
        issuer: &Issuer,
        username: &str,
        password: &str,
    ) -> Result<TokenPair, AuthError> {
        let principal = self
            .authenticate(req, username, password)
            .await
            .ok_or_else(AuthError::invalid_credentials)?;
        let now = issuer.clock().now();
        let grant = Grant {
            subject: &principal.subject,
            device_id: None,
            orig_iat: now,
        };
        let (access, refresh) = issuer
            .pair(&grant, &principal.claims)
            .map_err(issue_failed)?;
        self.record_login(req, &principal.subject, now).await;
        Ok(issuer.pair_body(&access, &refresh))
    }

    async fn refresh(
        &self,
        req: &Request<'_>,
        issuer: &Issuer,
        grant: Grant<'_>,
    ) -> Result<TokenPair, AuthError> {
        let claims = self
            .claims_for(req, grant.subject)
            .await
            .ok_or_else(|| AuthError::invalid_token("the token's user no longer exists"))?;
        let (access, refresh) = issuer.pair(&grant, &claims).map_err(issue_failed)?;
        Ok(issuer.pair_body(&access, &refresh))
    }
}

/// The request itself, for handing to the [`Authenticator`].
pub(crate) struct RequestRef<'r>(pub(crate) &'r Request<'r>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestRef<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(RequestRef(req))
    }
}

/// The application's authenticator, as managed state.
pub(crate) struct Grants(pub(crate) Arc<dyn TokenGrants>);

/// `POST /auth/token` body.
#[derive(Deserialize)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `POST /auth/token/refresh` body.
#[derive(Deserialize)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh: String,
}

/// `POST /auth/token/verify` body.
#[derive(Deserialize)]
pub struct VerifyRequest {
    /// The token to check.
    pub token: String,
}

/// `POST /auth/token/verify` answer for a valid token.
#[derive(Serialize, Deserialize, Debug)]
pub struct VerifyResponse {
    /// Always `true` (an invalid token gets a 401 instead).
    pub valid: bool,
    /// The token's subject.
    pub sub: String,
    /// The token's expiry.
    pub exp: u64,
}

/// Turns Rocket's JSON error into a 400 with our body.
pub(crate) fn json_body<T>(body: Result<Json<T>, json::Error<'_>>) -> Result<T, AuthError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(json::Error::Io(_)) => Err(AuthError::invalid_request(
            "the request body could not be read",
        )),
        Err(json::Error::Parse(_, _)) => Err(AuthError::invalid_request(
            "the request body is not the expected JSON object",
        )),
    }
}

fn runtime<'r>(rt: Option<&'r State<JwtRuntime>>) -> Result<&'r JwtRuntime, AuthError> {
    rt.map(|s| s.inner())
        .ok_or_else(|| AuthError::invalid_request("authentication is not configured"))
}

#[post("/auth/token", data = "<body>")]
async fn obtain(
    body: Result<Json<LoginRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    grants: Option<&State<Grants>>,
    req: RequestRef<'_>,
) -> Result<Json<TokenPair>, AuthError> {
    let body = json_body(body)?;
    if body.username.len() > MAX_CREDENTIAL_BYTES || body.password.len() > MAX_CREDENTIAL_BYTES {
        return Err(AuthError::invalid_request("username or password is too long"));
    }
    let rt = runtime(rt)?;
    let grants = grants.ok_or_else(|| AuthError::invalid_request("login is not configured"))?;
    let pair = grants
        .0
        .login(req.0, rt.issuer(), &body.username, &body.password)
        .await?;
    Ok(Json(pair))
}

#[post("/auth/token/refresh", data = "<body>")]
async fn refresh(
    body: Result<Json<RefreshRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    grants: Option<&State<Grants>>,
    req: RequestRef<'_>,
) -> Result<Json<TokenPair>, AuthError> {
    let body = json_body(body)?;
    let rt = runtime(rt)?;
    let grants = grants.ok_or_else(|| AuthError::invalid_request("login is not configured"))?;
    let token = rt
        .verifier()
        .verify::<NoClaims>(&body.refresh, TokenKind::Refresh, None)
        .map_err(|e| AuthError::invalid_token(e.description()))?;
    let reg = token.registered;
    let orig_iat = reg.orig_iat.unwrap_or(reg.iat);
    let window = rt.config().refresh_window.as_secs();
    if rt.verifier().clock().now() > orig_iat.saturating_add(window) {
        return Err(AuthError::invalid_token(
            "the refresh window since login has passed; sign in again",
        ));
    }
    let grant = Grant {
        subject: &reg.sub,
        device_id: reg.did.as_deref(),
        orig_iat,
    };
    Ok(Json(grants.0.refresh(req.0, rt.issuer(), grant).await?))
}

#[post("/auth/token/verify", data = "<body>")]
fn verify(
    body: Result<Json<VerifyRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
) -> Result<Json<VerifyResponse>, AuthError> {
    let body = json_body(body)?;
    let rt = runtime(rt)?;
    let token = rt
        .verifier()
        .verify_access::<serde_json::Value>(&body.token)
        .map_err(|e| AuthError::invalid_token(e.description()))?;
    Ok(Json(VerifyResponse {
        valid: true,
        sub: token.registered.sub.clone(),
        exp: token.registered.exp,
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

/// The token routes (`/auth/token`, `/auth/token/refresh`, `/auth/token/verify`)
/// and the JWKS route, for mounting by hand; [`JwtGuard`](crate::JwtGuard) mounts
/// them when given an [`Authenticator`].
pub fn routes() -> Vec<Route> {
    routes![obtain, refresh, verify, jwks]
}
