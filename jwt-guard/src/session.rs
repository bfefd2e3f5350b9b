//! Sessions: the application's [`Authenticator`], and the domain steps every way
//! of signing in shares — start a session (a device and its first token pair),
//! rotate a refresh token, and issue a device a new access token. The token routes,
//! magic-login links and [`DeviceSession`](crate::DeviceSession) all call these.

use std::sync::Arc;

use rocket::Request;
use serde::{Deserialize, Serialize};

use crate::claims::{Claims, NoClaims, RegisteredClaims, TokenKind, REGISTERED_CLAIM_NAMES};
use crate::client::describe_device;
use crate::dpop::DpopRefusal;
use crate::runtime::JwtRuntime;
use crate::secret::{random_id, TokenDigest};
use crate::signer::{decode_part, Grant, IssueError, IssuedToken, Issuer, TokenPair};
use crate::store::{
    CreateDeviceError, DeviceRecord, LinkConsumed, LinkDenial, PermanentRotateError, RotateError,
    Rotation, SessionRows, Store, StoreError, Successor,
};
use crate::verifier::VerifyError;

/// A user the application recognised, and the claims their tokens carry.
#[derive(Clone, Debug)]
pub struct Principal<C> {
    /// The subject (stable user id) written as `sub`.
    pub subject: String,
    /// The claims for this user's access tokens.
    pub claims: C,
}

/// The application's user store could not answer: the check was not made (its
/// database is down, say). Answered `503` with `Retry-After` — never `401`, which
/// would make a client throw its session away.
#[derive(Debug, thiserror::Error)]
#[error("the user store is unavailable: {0}")]
pub struct Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>);

impl Unavailable {
    /// Wraps what went wrong (it is logged, never sent).
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

impl From<sqlx::Error> for Unavailable {
    fn from(e: sqlx::Error) -> Self {
        Self::new(e)
    }
}

/// The application's user store, as the built-in routes see it.
///
/// Each method tells three answers apart: a user (`Ok(Some(…))`), no such user or
/// a wrong password (`Ok(None)`, answered 401), and "could not check"
/// (`Err(Unavailable)`, answered 503 — the client keeps its session and retries).
///
/// ```
/// use jwt_guard::{Authenticator, Principal, StandardClaims, Unavailable};
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
///     ) -> Result<Option<Principal<StandardClaims>>, Unavailable> {
///         Ok((username == "ada" && password == "correct horse").then(|| Principal {
///             subject: "ada".into(),
///             claims: StandardClaims::default(),
///         }))
///     }
///
///     async fn claims_for(
///         &self,
///         _req: &rocket::Request<'_>,
///         subject: &str,
///     ) -> Result<Option<StandardClaims>, Unavailable> {
///         Ok((subject == "ada").then(StandardClaims::default))
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

    /// Checks a username and password. Return `Ok(None)` for an unknown user and
    /// for a wrong password alike, taking the same time for both; `Err` when the
    /// check could not be made.
    ///
    /// `req` gives access to managed state (a database pool, say) and the client.
    /// Calls are throttled per account and client address, and at most
    /// `login_throttle.max_concurrent_checks` run at once (a slow password hash is a
    /// memory and CPU lever).
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal<Self::Claims>>, Unavailable>;

    /// The current claims of `subject`: `Ok(None)` if the user no longer exists
    /// (their refresh then fails with 401), `Err` if that cannot be told now (503;
    /// the refresh token stays usable). Called on every refresh, so role changes
    /// take effect.
    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<Self::Claims>, Unavailable>;

    /// Called after each successful login, e.g. to update a last-login column.
    async fn record_login(&self, _req: &Request<'_>, _subject: &str, _at: u64) {}
}

/// [`Authenticator`] with its claims type erased (to JSON), so the routes need no
/// generics.
#[rocket::async_trait]
pub(crate) trait ErasedAuthenticator: Send + Sync {
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<(String, serde_json::Value)>, Unavailable>;

    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<serde_json::Value>, Unavailable>;

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64);
}

#[rocket::async_trait]
impl<A: Authenticator> ErasedAuthenticator for A {
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<(String, serde_json::Value)>, Unavailable> {
        let Some(principal) = Authenticator::authenticate(self, req, username, password).await?
        else {
            return Ok(None);
        };
        let claims = serde_json::to_value(&principal.claims).map_err(Unavailable::new)?;
        Ok(Some((principal.subject, claims)))
    }

    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<serde_json::Value>, Unavailable> {
        match Authenticator::claims_for(self, req, subject).await? {
            Some(claims) => serde_json::to_value(&claims)
                .map(Some)
                .map_err(Unavailable::new),
            None => Ok(None),
        }
    }

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64) {
        Authenticator::record_login(self, req, subject, at).await
    }
}

/// The application's authenticator, as managed state.
#[derive(Clone)]
pub(crate) struct AppAuthenticator(pub(crate) Arc<dyn ErasedAuthenticator>);

impl AppAuthenticator {
    /// Erases `authenticator`'s claims type.
    pub(crate) fn new<A: Authenticator>(authenticator: A) -> Self {
        Self(Arc::new(authenticator))
    }
}

/// What [`DeviceSession::issue_access`](crate::DeviceSession::issue_access) hands
/// out, ready to answer: a new access token and the device's next permanent token
/// (the presented one is now superseded).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[non_exhaustive]
pub struct DeviceAccess {
    /// The new access token (`refresh` is absent: a device refreshes with its
    /// permanent token).
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// The device.
    pub device_id: String,
    /// The device's next permanent token, shown this once; only its digest is kept.
    /// Absent when it went back into the cookie it came in (a browser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_token: Option<String>,
    /// When the device expires unless used again (never past its absolute lifetime).
    pub device_expires_at: u64,
    /// The presented permanent token came in a cookie: the next one goes back there.
    #[serde(skip)]
    pub(crate) via_cookie: bool,
}

/// A new session: a token pair and the new device.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[non_exhaustive]
pub struct LoginResponse {
    /// Access and refresh tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// The device this login created.
    pub device_id: String,
    /// The device's permanent token, shown this once; only its digest is stored.
    /// Absent when it was set as an `HttpOnly` cookie instead (a browser in cookie
    /// mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_token: Option<String>,
    /// A password login's known-device credential: send it back in a
    /// `Device-Cookie` header on later logins, and guessing by others never locks
    /// this client out (see `login_throttle`). Absent when it was set as an
    /// `HttpOnly` cookie instead, and for other kinds of session start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_cookie: Option<String>,
}

/// Why a session step (start, refresh, device access) was refused or could not be
/// done. Each refusal is its own variant; an outage keeps its cause. `AuthError`'s
/// `From` table says what each answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The subject is at `max_devices` and the policy is to reject.
    #[error("the subject already has the most devices allowed")]
    DeviceCap,
    /// The login link could not be used; nothing was stored.
    #[error("the login link cannot be used: {}", .0.as_str())]
    Link(LinkDenial),
    /// The presented token does not verify.
    #[error("the token is not valid: {0}")]
    Token(#[from] VerifyError),
    /// The refresh window since the original login has passed.
    #[error("the refresh window since login has passed")]
    WindowPassed,
    /// The token's user no longer exists.
    #[error("the token's user no longer exists")]
    UserGone,
    /// The refresh token is unknown, revoked, or its device is gone.
    #[error("the refresh token is not current")]
    NotCurrent,
    /// The refresh token was already rotated: reuse. Its device has been revoked.
    #[error("the refresh token was already used; its device has been revoked")]
    Reused,
    /// The permanent token was already rotated: reuse. Its device has been revoked.
    #[error("the permanent token was already used; its device has been revoked")]
    PermanentReused,
    /// The permanent token is no longer any device's (signed out or removed).
    #[error("the permanent token is not current")]
    PermanentNotCurrent,
    /// The device expired; it has been removed.
    #[error("the device has expired")]
    DeviceExpired,
    /// The DPoP proof was refused (RFC 9449), or the session it continues is
    /// bound to another key: the answer is the refusal's own.
    #[error("the DPoP proof was refused: {0}")]
    Proof(DpopRefusal),
    /// Storage, the user store or the signer failed; nothing was changed.
    #[error("a session step could not be completed")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SessionError {
    /// An outage with its cause.
    pub(crate) fn unavailable(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        SessionError::Unavailable(Box::new(cause))
    }
}

impl From<DpopRefusal> for SessionError {
    fn from(e: DpopRefusal) -> Self {
        SessionError::Proof(e)
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::unavailable(e)
    }
}

impl From<Unavailable> for SessionError {
    fn from(e: Unavailable) -> Self {
        SessionError::unavailable(e)
    }
}

impl From<IssueError> for SessionError {
    fn from(e: IssueError) -> Self {
        SessionError::unavailable(e)
    }
}

impl From<CreateDeviceError> for SessionError {
    fn from(e: CreateDeviceError) -> Self {
        match e {
            CreateDeviceError::CapReached => SessionError::DeviceCap,
            CreateDeviceError::Link(denial) => SessionError::Link(denial),
            CreateDeviceError::Store(e) => e.into(),
        }
    }
}

impl From<RotateError> for SessionError {
    fn from(e: RotateError) -> Self {
        match e {
            RotateError::Invalid => SessionError::NotCurrent,
            RotateError::Reused => SessionError::Reused,
            RotateError::Store(e) => e.into(),
        }
    }
}

impl From<PermanentRotateError> for SessionError {
    fn from(e: PermanentRotateError) -> Self {
        match e {
            PermanentRotateError::Reused => SessionError::PermanentReused,
            PermanentRotateError::NotCurrent => SessionError::PermanentNotCurrent,
            PermanentRotateError::Expired => SessionError::DeviceExpired,
            PermanentRotateError::Store(e) => e.into(),
        }
    }
}

/// How a session is being started, and what its transaction records besides.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SessionOrigin<'a> {
    /// A login the app checked (a password, or its own way): clear the account's
    /// attempt counter, audit the login.
    Login {
        /// The attempt counter to clear.
        attempts: &'a str,
        /// The audit detail.
        audit: &'a str,
        /// How the user authenticated (`amr`, RFC 8176), e.g. `["pwd"]`.
        amr: &'a [String],
        /// The authentication context class (`acr`), if the app names one.
        acr: Option<&'a str>,
    },
    /// A login link: use it (link id, target) in the same transaction.
    Link(&'a str, &'a str),
}

/// Creates a device for `subject` (described from the request) and issues its first
/// token pair — what a password login and a magic-login link both do. Signing comes
/// first; then one transaction uses the link (if any), creates the device and
/// records the tokens, so an outage leaves nothing half-written.
pub(crate) async fn start_session(
    req: &Request<'_>,
    rt: &JwtRuntime,
    store: &Store,
    subject: &str,
    claims: &serde_json::Value,
    origin: SessionOrigin<'_>,
) -> Result<(LoginResponse, Option<LinkConsumed>), SessionError> {
    // A proof sent with the sign-in binds the new device to its key (RFC 9449
    // §5), whichever way the session starts.
    let dpop_jkt = crate::dpop::bind_sign_in(req).await?;
    let issuer = rt.issuer();
    let now = issuer.clock().now();
    let device_id = random_id();
    // A login link is a one-time secret sent out of band: `otp` (RFC 8176 §2).
    let link_amr = ["otp".to_owned()];
    let (amr, acr) = match origin {
        SessionOrigin::Login { amr, acr, .. } => (amr, acr),
        SessionOrigin::Link(..) => (&link_amr[..], None),
    };
    let grant = Grant {
        subject,
        device_id: Some(&device_id),
        orig_iat: now,
        acr,
        amr,
        dpop_jkt: dpop_jkt.as_deref(),
    };
    let (access, refresh) = issuer.pair(&grant, claims)?;
    let rows = SessionRows {
        device_id: device_id.clone(),
        tokens: vec![
            (&refresh.claims, None),
            (&access.claims, Some(refresh.claims.jti.as_str())),
        ],
        link: match origin {
            SessionOrigin::Link(id, target) => Some((id, target)),
            SessionOrigin::Login { .. } => None,
        },
        clear_attempts: match origin {
            SessionOrigin::Login { attempts, .. } => Some(attempts),
            SessionOrigin::Link(..) => None,
        },
        audit_login: match origin {
            SessionOrigin::Login { audit, .. } => Some(audit),
            SessionOrigin::Link(..) => None,
        },
        dpop_jkt: dpop_jkt.as_deref(),
    };
    let (device, permanent, consumed) = store
        .open_session(describe_device(req, subject), now, rows)
        .await?;
    let login = LoginResponse {
        tokens: issuer.pair_body(&access, &refresh),
        device_id: device.id,
        permanent_token: Some(permanent.expose().to_owned()),
        device_cookie: None,
    };
    Ok((login, consumed))
}

/// Verifies a refresh token (signature, kind, times, revocation): the first step
/// of [`refresh_session`], apart so a caller can budget by the token's device.
pub(crate) fn verify_refresh(
    rt: &JwtRuntime,
    refresh_token: &str,
) -> Result<RegisteredClaims, SessionError> {
    Ok(rt
        .verifier()
        .verify::<NoClaims>(refresh_token, TokenKind::Refresh, None)?
        .registered)
}

/// Trades a verified refresh token ([`verify_refresh`]) for a new pair: checks the
/// refresh window since login, reloads the user's claims, and rotates it (a second
/// use is reuse, and revokes the device).
pub(crate) async fn refresh_session(
    req: &Request<'_>,
    rt: &JwtRuntime,
    store: &Store,
    authenticator: &AppAuthenticator,
    old: RegisteredClaims,
) -> Result<TokenPair, SessionError> {
    let orig_iat = old.orig_iat.unwrap_or(old.iat);
    let window = rt.config().refresh_window.as_secs();
    if rt.verifier().clock().now() > orig_iat.saturating_add(window) {
        return Err(SessionError::WindowPassed);
    }
    // Nothing is written before this answer: when the user store cannot answer,
    // the refresh token stays as it was, to be presented again once it is back.
    // A bound refresh token is used only with a proof by its key (RFC 9449 §5.2),
    // checked before anything is written: a stolen copy cannot even burn it.
    let whose = crate::dpop::Whose {
        subject: &old.sub,
        device_id: old.did.as_deref(),
    };
    crate::dpop::continue_session(req, old.dpop_jkt(), whose).await?;
    let claims = authenticator
        .0
        .claims_for(req, &old.sub)
        .await?
        .ok_or(SessionError::UserGone)?;
    // The login's time, class and methods travel with the session (RFC 9470:
    // a refresh is no new authentication).
    let grant = Grant {
        subject: &old.sub,
        device_id: old.did.as_deref(),
        orig_iat,
        acr: old.acr.as_deref(),
        amr: old.amr.as_deref().unwrap_or_default(),
        // Bound at sign-in, bound for the session's life.
        dpop_jkt: old.dpop_jkt(),
    };
    let issuer = rt.issuer();
    let (access, refresh) = issuer.pair(&grant, &claims)?;
    let rotation = store
        .rotate_refresh(&old, successor(&refresh), successor(&access))
        .await;
    match &rotation {
        Ok(Rotation::Rotated) => crate::observe::refreshed("rotated"),
        Ok(Rotation::Retry { .. }) => crate::observe::refreshed("grace"),
        Err(RotateError::Reused) => crate::observe::refreshed("reuse"),
        Err(RotateError::Invalid) => crate::observe::refreshed("refused"),
        Err(_) => {}
    }
    match rotation? {
        Rotation::Rotated => Ok(issuer.pair_body(&access, &refresh)),
        Rotation::Retry { refresh, access } => {
            // What the store kept is signed again only if it is exactly what this
            // rotation would issue now: database write access must not become the
            // power to mint tokens (another subject, device, lifetime or claims).
            let expected = Expected {
                old: &old,
                orig_iat,
                now: rt.verifier().clock().now(),
                grace: rt.config().refresh_reuse_grace.as_secs(),
            };
            let resign = |input: &str, kind: TokenKind, ttl: u64| {
                let token = issuer.resign(input)?.ok_or(SessionError::NotCurrent)?;
                if expected.matches(&token.claims, kind, ttl) {
                    Ok(token)
                } else {
                    Err(SessionError::NotCurrent)
                }
            };
            let access = resign(&access, TokenKind::Access, issuer.access_ttl())?;
            if !same_app_claims(access.signing_input(), &claims) {
                return Err(SessionError::NotCurrent);
            }
            let refresh = resign(&refresh, TokenKind::Refresh, issuer.refresh_ttl())?;
            Ok(issuer.pair_body(&access, &refresh))
        }
    }
}

/// What a successor of `old`, issued within the reuse grace, must say.
struct Expected<'a> {
    old: &'a RegisteredClaims,
    orig_iat: u64,
    now: u64,
    grace: u64,
}

impl Expected<'_> {
    /// Whether `claims` are those of a `kind` successor of `old` with lifetime
    /// `ttl`, issued within the grace before now.
    fn matches(&self, claims: &RegisteredClaims, kind: TokenKind, ttl: u64) -> bool {
        claims.typ == kind
            && claims.sub == self.old.sub
            && claims.did == self.old.did
            && claims.orig_iat == Some(self.orig_iat)
            && claims.auth_time == Some(self.orig_iat)
            && claims.acr == self.old.acr
            && claims.amr == self.old.amr
            && claims.cnf == self.old.cnf
            && claims.iat <= self.now
            && self.now - claims.iat <= self.grace
            && claims.exp == claims.iat.saturating_add(ttl)
    }
}

/// Whether the access token signed as `signing_input` carries exactly the app's
/// current `claims` (its registered claims aside).
fn same_app_claims(signing_input: &str, claims: &serde_json::Value) -> bool {
    let stored = signing_input
        .split('.')
        .nth(1)
        .and_then(decode_part::<serde_json::Map<String, serde_json::Value>>);
    let Some(mut stored) = stored else {
        return false;
    };
    stored.retain(|name, _| !REGISTERED_CLAIM_NAMES.contains(&name.as_str()));
    let current = claims.as_object().cloned().unwrap_or_default();
    stored == current
}

/// What the store keeps of a freshly signed successor.
fn successor(token: &IssuedToken) -> Successor<'_> {
    Successor {
        claims: &token.claims,
        signing_input: token.signing_input(),
    }
}

/// Signs an access token for `device` carrying `claims` and rotates the device's
/// permanent token `presented`: what a `#[permanent_refresh]` route does.
pub(crate) async fn issue_device_access<C: Claims>(
    issuer: &Issuer,
    store: &Store,
    device: &DeviceRecord,
    presented: &TokenDigest,
    dpop_jkt: Option<&str>,
    claims: &C,
) -> Result<DeviceAccess, SessionError> {
    let grant = Grant {
        subject: &device.subject,
        device_id: Some(&device.id),
        orig_iat: device.orig_iat,
        acr: None,
        amr: &[],
        dpop_jkt,
    };
    let access = issuer.access(&grant, claims)?;
    let (permanent_token, device_expires_at) = store
        .rotate_permanent(device, presented, &access.claims)
        .await?;
    Ok(DeviceAccess {
        tokens: issuer.access_body(&access),
        device_id: device.id.clone(),
        permanent_token: Some(permanent_token.expose().to_owned()),
        device_expires_at,
        via_cookie: false,
    })
}
