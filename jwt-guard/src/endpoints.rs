//! Built-in routes: obtain, refresh and verify tokens, and the JWKS.

use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::{self, Json};
use rocket::{get, post, routes, Request, Route, State};
use serde::{Deserialize, Serialize};

use crate::claims::{Claims, NoClaims, TokenKind};
use crate::device::describe_device;
use crate::error::AuthError;
use crate::issuer::{Grant, TokenPair};
use crate::runtime::JwtRuntime;
use crate::store::CreateDeviceError;
use crate::store::{RotateError, Store};

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

/// [`Authenticator`] with its claims type erased (to JSON), so the routes need no
/// generics.
#[rocket::async_trait]
pub(crate) trait TokenGrants: Send + Sync {
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Option<(String, serde_json::Value)>;

    async fn claims_for(&self, req: &Request<'_>, subject: &str) -> Option<serde_json::Value>;

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64);
}

#[rocket::async_trait]
impl<A: Authenticator> TokenGrants for A {
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Option<(String, serde_json::Value)> {
        let principal = Authenticator::authenticate(self, req, username, password).await?;
        let claims = serde_json::to_value(&principal.claims).ok()?;
        Some((principal.subject, claims))
    }

    async fn claims_for(&self, req: &Request<'_>, subject: &str) -> Option<serde_json::Value> {
        let claims = Authenticator::claims_for(self, req, subject).await?;
        serde_json::to_value(&claims).ok()
    }

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64) {
        Authenticator::record_login(self, req, subject, at).await
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

fn runtime(rt: Option<&State<JwtRuntime>>) -> Result<&JwtRuntime, AuthError> {
    rt.map(|s| s.inner())
        .ok_or_else(|| AuthError::invalid_request("authentication is not configured"))
}

/// `POST /auth/token` answer: a token pair and the new device.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct LoginResponse {
    /// Access and refresh tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// The device this login created.
    pub device_id: String,
    /// The device's permanent token, shown this once; only its digest is stored.
    pub permanent_token: String,
}

/// Creates a device for `subject` (described from the request) and issues its first
/// token pair: what a password login and a magic-login link both do.
pub(crate) async fn start_session(
    req: &Request<'_>,
    rt: &JwtRuntime,
    devices: &Store,
    subject: &str,
    claims: &serde_json::Value,
) -> Result<LoginResponse, AuthError> {
    let issuer = rt.issuer();
    let now = issuer.clock().now();
    let (device, permanent) = devices
        .create_device(describe_device(req, subject), now)
        .await
        .map_err(|e| match e {
            CreateDeviceError::CapReached => AuthError::device_limit(),
            CreateDeviceError::Store(e) => AuthError::unavailable(e),
        })?;
    let grant = Grant {
        subject,
        device_id: Some(&device.id),
        orig_iat: now,
    };
    let (access, refresh) = issuer
        .pair(&grant, claims)
        .map_err(AuthError::unavailable)?;
    devices
        .record_issued(&refresh.claims, &device.id, None)
        .await
        .map_err(AuthError::unavailable)?;
    devices
        .record_issued(&access.claims, &device.id, Some(&refresh.claims.jti))
        .await
        .map_err(AuthError::unavailable)?;
    Ok(LoginResponse {
        tokens: issuer.pair_body(&access, &refresh),
        device_id: device.id,
        permanent_token: permanent.expose().to_owned(),
    })
}

/// The managed [`Store`], or a 503 when jwt-guard's fairing is missing.
pub(crate) fn store(store: Option<&State<Store>>) -> Result<&Store, AuthError> {
    store
        .map(|s| s.inner())
        .ok_or_else(|| AuthError::unavailable("device storage is not configured"))
}

#[post("/auth/token", data = "<body>")]
async fn obtain(
    body: Result<Json<LoginRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    grants: Option<&State<Grants>>,
    devices: Option<&State<Store>>,
    req: RequestRef<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let body = json_body(body)?;
    if body.username.len() > MAX_CREDENTIAL_BYTES || body.password.len() > MAX_CREDENTIAL_BYTES {
        return Err(AuthError::invalid_request(
            "username or password is too long",
        ));
    }
    let rt = runtime(rt)?;
    let devices = store(devices)?;
    let grants = grants.ok_or_else(|| AuthError::invalid_request("login is not configured"))?;
    let (subject, claims) = grants
        .0
        .authenticate(req.0, &body.username, &body.password)
        .await
        .ok_or_else(AuthError::invalid_credentials)?;
    let login = start_session(req.0, rt, devices, &subject, &claims).await?;
    let now = rt.issuer().clock().now();
    grants.0.record_login(req.0, &subject, now).await;
    Ok(Json(login))
}

#[post("/auth/token/refresh", data = "<body>")]
async fn refresh(
    body: Result<Json<RefreshRequest>, json::Error<'_>>,
    rt: Option<&State<JwtRuntime>>,
    grants: Option<&State<Grants>>,
    devices: Option<&State<Store>>,
    req: RequestRef<'_>,
) -> Result<Json<TokenPair>, AuthError> {
    let body = json_body(body)?;
    let rt = runtime(rt)?;
    let devices = store(devices)?;
    let grants = grants.ok_or_else(|| AuthError::invalid_request("login is not configured"))?;
    let token = rt
        .verifier()
        .verify::<NoClaims>(&body.refresh, TokenKind::Refresh, None)
        .map_err(|e| AuthError::invalid_token(e.description()))?;
    let old = token.registered;
    let orig_iat = old.orig_iat.unwrap_or(old.iat);
    let window = rt.config().refresh_window.as_secs();
    if rt.verifier().clock().now() > orig_iat.saturating_add(window) {
        return Err(AuthError::invalid_token(
            "the refresh window since login has passed; sign in again",
        ));
    }
    let claims = grants
        .0
        .claims_for(req.0, &old.sub)
        .await
        .ok_or_else(|| AuthError::invalid_token("the token's user no longer exists"))?;
    let grant = Grant {
        subject: &old.sub,
        device_id: old.did.as_deref(),
        orig_iat,
    };
    let issuer = rt.issuer();
    let (access, refresh) = issuer
        .pair(&grant, &claims)
        .map_err(AuthError::unavailable)?;
    match devices
        .rotate_refresh(&old, &refresh.claims, &access.claims)
        .await
    {
        Ok(()) => Ok(Json(issuer.pair_body(&access, &refresh))),
        Err(RotateError::Invalid) => Err(AuthError::invalid_token("refresh token is not valid")),
        Err(RotateError::Reused) => Err(AuthError::invalid_token(
            "refresh token was already used; the device has been signed out",
        )),
        Err(RotateError::Store(e)) => Err(AuthError::unavailable(e)),
    }
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
