//! Sessions an application starts itself, for users it authenticated its own way —
//! an SSO callback, a one-time code, a passkey, a partner's token: [`Sessions`].

use rocket::request::{FromRequest, Outcome};
use rocket::{Ignite, Request, Rocket, Sentinel};

use crate::claims::Claims;
use crate::cookies;
use crate::device_description::clean_text;
use crate::error::Rejection;
use crate::error::{fail, AuthError};
use crate::guard::Jwt;
use crate::peer::client_ip;
use crate::private_response::mark_credential;
use crate::request::Services;
use crate::runtime::JwtRuntime;
use crate::session::{
    claims_json, open_session, LoginResponse, Principal, SessionError, SessionOrigin,
};
use crate::store::counter_key;
use crate::store::{LinkConsumed, Store};
use rocket::http::Method;

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
    /// The login-CSRF origin check applies (see [`Sessions::from_identity_provider`]).
    check_origin: bool,
}

/// What the login a session rests on said about the user's authentication, when
/// the user authenticated elsewhere (a partner's or an identity provider's
/// token): when, and of which class. The session's tokens carry it, so `fresh`
/// and `acr` routes (RFC 9470) judge the real authentication, not the moment this
/// app heard of it.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Upstream<'a> {
    /// When the user authenticated (seconds since the epoch), e.g. the outside
    /// token's `auth_time`. The session's refresh window and its device's
    /// absolute lifetime run from it too.
    pub auth_time: Option<u64>,
    /// The authentication context class the provider vouched for (`acr`).
    pub acr: Option<&'a str>,
    /// The provider (its `iss`) and the `sub` it gave the user: recorded with
    /// the session, so a logout or account signal from that provider
    /// (`backchannel_logout`, `ssf`) ends it. Both or neither.
    pub login: Option<(&'a str, &'a str)>,
    /// The provider's login session (`sid`, OpenID Connect Front-/Back-Channel
    /// Logout): a logout token naming it ends this session alone.
    pub session_id: Option<&'a str>,
}

impl<'a> Upstream<'a> {
    /// What a verified outside token says: its `auth_time` and `acr`, and whose
    /// login it is (`iss` and `sub`, recorded for logout signals). A token
    /// without `auth_time` says nothing of when the user authenticated (its `iat`
    /// is when it was issued), and the session then counts from now.
    pub fn of<C: Claims>(token: &'a Jwt<C>) -> Self {
        let registered = token.registered();
        Self {
            auth_time: registered.auth_time,
            acr: registered.acr.as_deref(),
            login: registered
                .iss
                .as_deref()
                .map(|iss| (iss, registered.sub.as_str())),
            session_id: None,
        }
    }

    /// The provider's login session (the `sid` of its ID token, or of the
    /// token the login rests on): a back-channel logout naming that `sid` ends
    /// this session, and no other of the user's.
    pub fn with_session_id(mut self, sid: &'a str) -> Self {
        self.session_id = Some(sid);
        self
    }
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
    /// `"face"`…) — and `auth_time` is now ([`Sessions::start_upstream`] when the
    /// user authenticated earlier, elsewhere).
    ///
    /// A browser's non-`GET` request in cookie mode must come from this site
    /// (login CSRF, as for the password and link logins: `403`); an identity
    /// provider's callback that arrives cross-site by design says so with
    /// [`Sessions::from_identity_provider`].
    ///
    /// Fails as the password login does after its check: `403 device_limit` at the
    /// cap with `devices.cap_policy = "reject"`, `503` when storage is down.
    pub async fn start<C: Claims>(
        &self,
        principal: &Principal<C>,
        method: &str,
    ) -> Result<LoginResponse, AuthError> {
        self.start_upstream(principal, method, Upstream::default())
            .await
    }

    /// The login-CSRF origin check off, for an identity provider's callback that
    /// arrives from the provider's site by design (an OpenID Connect
    /// `response_mode=form_post`, a SAML POST binding). The callback must prove
    /// itself otherwise — its `state` and `nonce`, checked by the app.
    pub fn from_identity_provider(mut self) -> Self {
        self.check_origin = false;
        self
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
        let upstream = Upstream {
            acr,
            ..Upstream::default()
        };
        self.start_upstream(principal, method, upstream).await
    }

    /// [`Sessions::start`] for a user who authenticated earlier, elsewhere: the
    /// session's tokens carry `upstream`'s `auth_time` and `acr`
    /// ([`Upstream::of`] reads them from a verified outside token). An
    /// `auth_time` after now (past the leeway) is refused (`401`).
    ///
    /// With `upstream.login` (the provider's `iss` and `sub`; [`Upstream::of`]
    /// sets it) the session records the login it rests on — and its `sid`, given
    /// with [`Upstream::with_session_id`] — before the device is created, so a
    /// back-channel logout or a security event from that provider
    /// ([`signals`](crate::signals)) ends it on every instance.
    pub async fn start_upstream<C: Claims>(
        &self,
        principal: &Principal<C>,
        method: &str,
        upstream: Upstream<'_>,
    ) -> Result<LoginResponse, AuthError> {
        let Services { req, rt, store, .. } = self.services;
        mark_credential(req);
        let unsafe_method = !matches!(req.method(), Method::Get | Method::Head);
        if self.check_origin && unsafe_method {
            cookies::check_login_origin(req)?;
        }
        let now = rt.issuer().clock().now();
        if let Some(at) = upstream.auth_time {
            if at > now.saturating_add(rt.config().leeway.as_secs()) {
                return Err(Rejection::AuthenticationInFuture.into());
            }
        }
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
            acr: upstream.acr,
            method,
            authenticated_at: upstream.auth_time,
            upstream: upstream
                .login
                .map(|(iss, sub)| (iss, sub, upstream.session_id)),
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
            Ok(services) => Outcome::Success(Sessions {
                services,
                check_origin: true,
            }),
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
