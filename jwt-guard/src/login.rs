//! Sessions an application starts itself, for users it authenticated its own way —
//! an SSO callback, a one-time code, a passkey, a partner's token: [`Sessions`].

use rocket::request::{FromRequest, Outcome};
use rocket::{Ignite, Request, Rocket, Sentinel};

use crate::claims::Claims;
use crate::cookies;
use crate::device_description::clean_text;
use crate::error::{fail, AuthError};
use crate::peer::client_ip;
use crate::private_response::mark_credential;
use crate::request::Services;
use crate::runtime::JwtRuntime;
use crate::session::{
    claims_json, open_session, LoginResponse, Principal, SessionError, SessionOrigin,
};
use crate::store::counter_key;
use crate::store::{LinkConsumed, Store};

/// Starts a session — the one start path of every way of signing in (a
/// password, a login link, an app's own check through [`Sessions`]): the
/// session opened, counted as a login by its method, and the client's session
/// cookies set when it keeps its session in cookies.
pub(crate) async fn start(
    req: &Request<'_>,
    rt: &JwtRuntime,
    store: &Store,
    subject: &str,
    claims: &serde_json::Value,
    origin: SessionOrigin<'_>,
) -> Result<(LoginResponse, Option<LinkConsumed>), SessionError> {
    let method = match origin {
        SessionOrigin::Login { method, .. } => method,
        SessionOrigin::Link(..) => "link",
    };
    let (mut login, consumed) = open_session(req, rt, store, subject, claims, origin).await?;
    crate::observe::login(method, "success");
    cookies::move_login_into_cookies(req, rt, &mut login);
    Ok((login, consumed))
}

/// Longest login method name written to the audit log.
const METHOD_MAX: usize = 32;

/// Starts device sessions for users the application authenticated itself.
///
/// A request guard: take `sessions: Sessions<'_>` in the handler that finished the
/// app's own check, then answer what [`Sessions::start`] returns — the same body as
/// `POST /auth/token`.
///
/// ```no_run
/// use jwt_guard::{public, AuthError, LoginResponse, Principal, Sessions, StandardClaims};
/// use rocket::post;
/// use rocket::serde::json::Json;
///
/// #[public] // the app checks the one-time code itself
/// #[post("/login/code/<code>")]
/// async fn login_with_code(code: &str, sessions: Sessions<'_>) -> Result<Json<LoginResponse>, AuthError> {
///     let Some(user) = (code == "424242").then(|| "ada".to_owned()) else {
///         return Err(AuthError::invalid_credentials());
///     };
///     let principal = Principal { subject: user, claims: StandardClaims::default() };
///     Ok(Json(sessions.start(&principal, "code").await?))
/// }
/// ```
pub struct Sessions<'r> {
    services: Services<'r>,
}

impl std::fmt::Debug for Sessions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions<'_> {
    /// Starts a device session for `principal` exactly as the password login does:
    /// a device described from this request (`X-Device-Model`, user agent, address)
    /// and its first token pair, under the same device cap, in one transaction that
    /// also clears the account's failed-login counter and writes a
    /// `login_succeeded` audit row naming `method` (`"sso"`, `"code"`,
    /// `"passkey"`…); browsers in cookie mode get the same cookies. Answer the
    /// client the result.
    ///
    /// The session's tokens say how the user authenticated: `amr` is `[method]` —
    /// name it with an RFC 8176 value where one fits (`"otp"`, `"hwk"`, `"mfa"`,
    /// `"face"`…) — and `auth_time` is now.
    ///
    /// Fails as the password login does after its check: `403 device_limit` at the
    /// cap with `device_cap_policy = "reject"`, `503` when storage is down.
    pub async fn start<C: Claims>(
        &self,
        principal: &Principal<C>,
        method: &str,
    ) -> Result<LoginResponse, AuthError> {
        self.start_at_level(principal, method, None).await
    }

    /// [`Sessions::start`] for a login that reached an authentication context
    /// class `acr` (e.g. `"urn:example:mfa"`, or the `acr` of the provider that
    /// vouched for the user): routes that require it (`#[use_jwt(acr = …)]`,
    /// RFC 9470) accept this session's tokens, through every refresh.
    pub async fn start_at_level<C: Claims>(
        &self,
        principal: &Principal<C>,
        method: &str,
        acr: Option<&str>,
    ) -> Result<LoginResponse, AuthError> {
        let Services { req, rt, store, .. } = self.services;
        mark_credential(req);
        let claims = claims_json(&principal.claims)?;
        let attempts = counter_key("login", &principal.subject);
        let audit = serde_json::json!({
            "method": clean_text(method, METHOD_MAX),
            "ip": client_ip(req).unwrap_or_default(),
        })
        .to_string();
        let amr = [clean_text(method, METHOD_MAX)];
        let origin = SessionOrigin::Login {
            attempts: &attempts,
            audit: &audit,
            amr: &amr,
            acr,
            method,
        };
        let (login, _) = start(req, rt, store, &principal.subject, &claims, origin).await?;
        Ok(login)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Sessions<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match Services::of(req) {
            Ok(services) => Outcome::Success(Sessions { services }),
            Err(e) => fail(req, e),
        }
    }
}

impl Sentinel for Sessions<'_> {
    /// Stops launch when the route is mounted without jwt-guard's fairing.
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        <Services<'_> as Sentinel>::abort(rocket)
    }
}
