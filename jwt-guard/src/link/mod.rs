//! Expiring links at request time: the guard `#[expiring_link]` injects and what a
//! handler receives ([`LinkUse`]). Minting is in `mint`, the scanner-safe
//! confirmation page in `confirm`, the log of every attempt in `log`.

mod confirm;
mod delivery;
mod log;
mod mint;
mod pages;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, RwLock};

use rocket::http::Method;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::claims::{NoClaims, TokenKind};
use crate::config::MAX_TOKEN_BYTES;
use crate::error::{fail, AuthError};
use crate::request::Services;
use crate::runtime::JwtRuntime;
use crate::secret::is_opaque_id;
use crate::session::{start_session, LoginResponse, SessionError, SessionOrigin};
use crate::store::{LinkDenial, LinkUseError};
use crate::verifier::VerifyError;

pub(crate) use confirm::{link_confirm, route_link_preview};
pub use delivery::{DeliveryError, DevOutbox, LinkMailer, LinkMessage, DEV_OUTBOX_CAPACITY};
pub(crate) use log::{finish_link_response, UnverifiedLogBudget};
pub(crate) use mint::default_base_url;
pub use mint::{LinkError, Links, MintOptions, MintedLink, SentLink};
pub(crate) use pages::AppLinkPages;
pub use pages::{DefaultLinkPages, LinkPage, LinkPages, DEFAULT_CSP};

/// The query parameter that carries a link token.
pub const LINK_TOKEN_PARAM: &str = "token";
pub(crate) const CONFIRM_PATH: &str = "/__jwt_guard/link-confirm";

/// A route declared with `#[expiring_link]`, described by the macro. Implemented on
/// the route's own type (the one `routes![]` names), so links can only be minted
/// for such routes: `links.mint::<unsubscribe>(subject)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an `#[expiring_link]` route",
    label = "links can only be minted for routes declared with `#[expiring_link]`",
    note = "add `#[expiring_link(...)]` above the route attribute of `{Self}`"
)]
pub trait LinkTarget: Send + Sync + 'static {
    /// The audience links for this route carry; links for other targets are refused.
    const TARGET: &'static str;
    /// The handler's name (Rocket's route name).
    const ROUTE: &'static str;
    /// The route's method.
    const METHOD: Method;
    /// The route's static path as written.
    const PATH: &'static str;
    /// Uses allowed; 0 for unlimited until expiry.
    const MAX_USES: u32;
    /// Lifetime of a minted link, in seconds.
    const TTL_SECS: u64;
    /// Whether using the link logs the recipient in (creates a device, returns tokens).
    const LOGIN: bool;
    /// Whether a GET shows a confirmation page and only the POST uses the link.
    const CONFIRM: bool;
}

/// A successful use of a link, handed to the route's handler.
#[derive(Clone, Debug)]
pub struct LinkUse {
    subject: String,
    link_id: String,
    use_number: u32,
    target: &'static str,
    login: Option<Arc<LoginResponse>>,
}

impl LinkUse {
    /// The recipient the link was minted for.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The link's id.
    pub fn link_id(&self) -> &str {
        &self.link_id
    }

    /// Which use this is (1 for the first).
    pub fn use_number(&self) -> u32 {
        self.use_number
    }

    /// The target the link was minted for.
    pub fn target(&self) -> &'static str {
        self.target
    }

    /// For `login` links: the new device's tokens, to return to the client.
    pub fn login(&self) -> Option<&LoginResponse> {
        self.login.as_deref()
    }
}

/// What happened to one request's link: the `outcome` of its log row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkOutcome {
    /// Used (counted).
    Used,
    /// A confirmation page was shown (not counted).
    ConfirmPage,
    /// A `HEAD` request looked at a link (never counted).
    Head,
    /// Refused for a reason of the link's own.
    Denied(LinkDenial),
    /// A login link whose user no longer exists.
    UserGone,
    /// A login link whose user is at the device cap.
    DeviceLimit,
    /// Storage (or the user store) failed; never counted.
    Unavailable,
}

impl LinkOutcome {
    /// The stored name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LinkOutcome::Used => "used",
            LinkOutcome::ConfirmPage => "confirm_page",
            LinkOutcome::Head => "head",
            LinkOutcome::Denied(denial) => denial.as_str(),
            LinkOutcome::UserGone => "user_gone",
            LinkOutcome::DeviceLimit => "device_limit",
            LinkOutcome::Unavailable => "unavailable",
        }
    }

    /// Whether the request carried no verified link token (anyone can send those
    /// without limit, so their log rows are budgeted).
    pub(crate) fn unverified(self) -> bool {
        matches!(
            self,
            LinkOutcome::Denied(LinkDenial::Tampered | LinkDenial::Missing | LinkDenial::WrongKind)
        )
    }
}

/// What happened to this request's link, for the response fairing's log row.
pub(crate) struct LinkAttempt {
    pub(crate) target: &'static str,
    pub(crate) link_id: Option<String>,
    pub(crate) outcome: LinkOutcome,
    pub(crate) use_number: Option<u32>,
}

#[derive(Default)]
pub(crate) struct RecordedAttempt(OnceLock<LinkAttempt>);

impl RecordedAttempt {
    pub(crate) fn record(req: &Request<'_>, attempt: LinkAttempt) {
        let _ = req.local_cache(RecordedAttempt::default).0.set(attempt);
    }

    pub(crate) fn get<'r>(req: &'r Request<'_>) -> Option<&'r LinkAttempt> {
        req.local_cache(RecordedAttempt::default).0.get()
    }
}

#[derive(Default)]
struct CachedUse(OnceLock<LinkUse>);

/// Mounted link routes by target: path, and whether GET shows a confirmation page.
#[derive(Default)]
pub(crate) struct LinkRoutes {
    by_target: RwLock<HashMap<&'static str, (String, bool)>>,
}

impl LinkRoutes {
    pub(crate) fn path_of(&self, target: &str) -> Option<String> {
        self.by_target
            .read()
            .ok()?
            .get(target)
            .map(|(path, _)| path.clone())
    }

    /// The target mounted at `path`, and whether it is a `confirm` link route.
    pub(crate) fn target_at(&self, path: &str) -> Option<(&'static str, bool)> {
        self.by_target
            .read()
            .ok()?
            .iter()
            .find(|(_, (p, _))| p == path)
            .map(|(t, (_, confirm))| (*t, *confirm))
    }
}

/// Cuts a claimed (unverified) link id down to something safe to log.
pub(crate) fn claimed_link_id(token: &str) -> Option<String> {
    let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let jti = claims.get("jti")?.as_str()?;
    is_opaque_id(jti).then(|| jti.to_owned())
}

/// Checks a link token's signature and binding to `target` (not its row).
pub(crate) fn verify_link(
    rt: &JwtRuntime,
    token: &str,
    target: &str,
) -> Result<(String, String), LinkDenial> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(LinkDenial::Tampered);
    }
    let verifier = rt.verifier();
    match verifier.verify::<NoClaims>(token, TokenKind::Link, Some(target)) {
        Ok(t) => Ok((t.registered.jti, t.registered.sub)),
        Err(VerifyError::Expired) => Err(LinkDenial::Expired),
        Err(VerifyError::Revoked) => Err(LinkDenial::Revoked),
        Err(VerifyError::WrongKind { .. }) => Err(LinkDenial::WrongKind),
        Err(VerifyError::WrongAudience) => {
            // Genuine, but for another target, or another kind of token altogether?
            let claims: Option<serde_json::Value> =
                jsonwebtoken::dangerous::insecure_decode_claims(token).ok();
            let aud = claims
                .as_ref()
                .and_then(|c| c.get("aud"))
                .and_then(|a| a.as_str())
                .map(str::to_owned);
            match verifier.verify::<NoClaims>(token, TokenKind::Link, aud.as_deref()) {
                Ok(_) => Err(LinkDenial::WrongTarget),
                Err(VerifyError::WrongKind { .. }) => Err(LinkDenial::WrongKind),
                Err(_) => Err(LinkDenial::Tampered),
            }
        }
        Err(_) => Err(LinkDenial::Tampered),
    }
}

pub(crate) fn link_token<'r>(req: &'r Request<'_>) -> Result<&'r str, LinkDenial> {
    match req.query_value::<&str>(LINK_TOKEN_PARAM) {
        None => Err(LinkDenial::Missing),
        Some(Err(_)) => Err(LinkDenial::Tampered),
        Some(Ok(token)) => Ok(token),
    }
}

/// The guard `#[expiring_link]` injects: verifies the link in `?token=`, uses it
/// once (atomically), and leaves a [`LinkUse`] for the handler.
pub struct LinkGuard<T: LinkTarget> {
    _target: PhantomData<fn() -> T>,
}

/// A refused link use: the outcome to log, the link it claimed to be, the answer.
struct Refusal {
    outcome: LinkOutcome,
    link_id: Option<String>,
    error: AuthError,
}

impl Refusal {
    fn denied(denial: LinkDenial, link_id: Option<String>) -> Self {
        Self {
            outcome: LinkOutcome::Denied(denial),
            link_id,
            error: denial.into(),
        }
    }

    fn unavailable(error: AuthError, link_id: Option<String>) -> Self {
        Self {
            outcome: LinkOutcome::Unavailable,
            link_id,
            error,
        }
    }

    /// A session that a login link could not start, logged with its real reason.
    fn session(e: SessionError, link_id: String) -> Self {
        let outcome = match &e {
            SessionError::Link(denial) => LinkOutcome::Denied(*denial),
            SessionError::DeviceCap => LinkOutcome::DeviceLimit,
            SessionError::UserGone => LinkOutcome::UserGone,
            _ => LinkOutcome::Unavailable,
        };
        let error = match e {
            // The link is refused, not a token: the user it was minted for is gone.
            SessionError::UserGone => AuthError::invalid_link("this link's user does not exist"),
            e => e.into(),
        };
        Self {
            outcome,
            link_id: Some(link_id),
            error,
        }
    }
}

async fn use_link<T: LinkTarget>(req: &Request<'_>) -> Result<LinkUse, Refusal> {
    let token = link_token(req).map_err(|d| Refusal::denied(d, None))?;
    let claimed = claimed_link_id(token);
    let services = Services::of(req).map_err(|e| Refusal::unavailable(e, claimed.clone()))?;
    let (link_id, subject) = verify_link(services.rt, token, T::TARGET)
        .map_err(|d| Refusal::denied(d, claimed.clone()))?;
    if T::LOGIN {
        return login_with_link::<T>(&services, link_id, &subject).await;
    }
    let consumed = match services.store.consume_link(&link_id, T::TARGET).await {
        Ok(consumed) => consumed,
        Err(LinkUseError::Denied(d)) => return Err(Refusal::denied(d, Some(link_id))),
        Err(LinkUseError::Store(e)) => return Err(Refusal::unavailable(e.into(), Some(link_id))),
    };
    Ok(LinkUse {
        subject: consumed.subject,
        link_id,
        use_number: consumed.use_number,
        target: T::TARGET,
        login: None,
    })
}

/// A magic-login link: the recipient's claims first (nothing is written if the
/// user store cannot answer), then one transaction uses the link and creates the
/// device and its tokens.
async fn login_with_link<T: LinkTarget>(
    services: &Services<'_>,
    link_id: String,
    subject: &str,
) -> Result<LinkUse, Refusal> {
    let Services { req, rt, store, .. } = *services;
    let authenticator = match services.authenticator() {
        Ok(authenticator) => authenticator,
        Err(e) => return Err(Refusal::unavailable(e, Some(link_id))),
    };
    let claims = match authenticator.0.claims_for(req, subject).await {
        Ok(Some(claims)) => claims,
        Ok(None) => return Err(Refusal::session(SessionError::UserGone, link_id)),
        Err(e) => return Err(Refusal::session(e.into(), link_id)),
    };
    let origin = SessionOrigin::Link(&link_id, T::TARGET);
    let (mut login, consumed) = match start_session(req, rt, store, subject, &claims, origin).await
    {
        Ok((login, Some(consumed))) => (login, consumed),
        Ok((_, None)) => {
            let e = AuthError::unavailable("the login link was not used");
            return Err(Refusal::unavailable(e, Some(link_id)));
        }
        Err(e) => return Err(Refusal::session(e, link_id)),
    };
    authenticator
        .0
        .record_login(req, subject, rt.issuer().clock().now())
        .await;
    crate::cookies::move_into_cookies(req, rt, &mut login.tokens);
    Ok(LinkUse {
        subject: consumed.subject,
        link_id,
        use_number: consumed.use_number,
        target: T::TARGET,
        login: Some(Arc::new(login)),
    })
}

#[rocket::async_trait]
impl<'r, T: LinkTarget> FromRequest<'r> for LinkGuard<T> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match use_link::<T>(req).await {
            Ok(used) => {
                RecordedAttempt::record(
                    req,
                    LinkAttempt {
                        target: T::TARGET,
                        link_id: Some(used.link_id.clone()),
                        outcome: LinkOutcome::Used,
                        use_number: Some(used.use_number),
                    },
                );
                let _ = req.local_cache(CachedUse::default).0.set(used);
                Outcome::Success(LinkGuard {
                    _target: PhantomData,
                })
            }
            Err(Refusal {
                outcome,
                link_id,
                error,
            }) => {
                RecordedAttempt::record(
                    req,
                    LinkAttempt {
                        target: T::TARGET,
                        link_id,
                        outcome,
                        use_number: None,
                    },
                );
                fail(req, error)
            }
        }
    }
}

impl<T: LinkTarget> Sentinel for LinkGuard<T> {
    /// Registers the route's mounted path under its target; stops launch when
    /// jwt-guard is missing or two routes claim one target.
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        let Some(routes) = rocket.state::<Arc<LinkRoutes>>() else {
            rocket::error!(
                "`#[expiring_link]` route `{}` needs jwt-guard: attach `jwt_guard::JwtGuard::fairing()`",
                T::ROUTE
            );
            return true;
        };
        let Ok(mut map) = routes.by_target.write() else {
            return true;
        };
        for route in rocket.routes() {
            let same = route.name.as_deref() == Some(T::ROUTE)
                && route.method == T::METHOD
                && route.uri.path().ends_with(T::PATH);
            if !same {
                continue;
            }
            let path = route.uri.path().to_owned();
            if let Some((existing, _)) = map.get(T::TARGET) {
                if *existing != path {
                    rocket::error!(
                        "link target `{}` is declared by two routes ({existing} and {path}); \
                         give each `#[expiring_link]` its own target",
                        T::TARGET
                    );
                    return true;
                }
            }
            map.insert(T::TARGET, (path, T::CONFIRM));
        }
        false
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LinkUse {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match req.local_cache(CachedUse::default).0.get() {
            Some(used) => Outcome::Success(used.clone()),
            None => {
                let error =
                    AuthError::invalid_link("this route is not an `#[expiring_link]` route");
                fail(req, error)
            }
        }
    }
}
