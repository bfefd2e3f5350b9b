//! The guard `#[expiring_link]` injects ([`LinkGuard`]) and what a handler receives
//! ([`LinkUse`]): the link verified, used once (atomically), or refused with the
//! reason its log row records.

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use super::log::ASSUMED_STATUS;
use super::{
    claimed_link_id, link_token, verify_link, LinkAttempt, LinkOutcome, LinkRoutes, LinkTarget,
    RecordedAttempt,
};
use crate::device_description::user_agent;
use crate::error::{fail, AuthError};
use crate::login::start;
use crate::peer::client_ip;
use crate::request::Services;
use crate::session::{LoginResponse, SessionError, SessionOrigin};
use crate::store::{LinkDenial, LinkId, LinkUseError};

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

#[derive(Default)]
struct CachedUse(OnceLock<LinkUse>);

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

    fn cross_site(error: AuthError, link_id: String) -> Self {
        Self {
            outcome: LinkOutcome::CrossSite,
            link_id: Some(link_id),
            error,
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
            SessionError::UserGone => crate::error::Rejection::LinkUserGone.into(),
            e => e.into(),
        };
        Self {
            outcome,
            link_id: Some(link_id),
            error,
        }
    }
}

/// Uses the request's link; also the id of the log row written with the use, if
/// one was (see [`LinkAttempt::logged`](super::LinkAttempt)).
async fn use_link<T: LinkTarget>(req: &Request<'_>) -> Result<(LinkUse, Option<String>), Refusal> {
    let token = link_token(req).map_err(|d| Refusal::denied(d, None))?;
    let claimed = claimed_link_id(token);
    let services = Services::of(req).map_err(|e| Refusal::unavailable(e, claimed.clone()))?;
    let (link_id, subject) = verify_link(services.rt, token, T::TARGET)
        .map_err(|d| Refusal::denied(d, claimed.clone()))?;
    if T::LOGIN {
        return Ok((
            login_with_link::<T>(&services, link_id, &subject).await?,
            None,
        ));
    }
    let used = services
        .store
        .consume_link_logged(
            LinkId(&link_id),
            T::TARGET,
            client_ip(req).as_deref(),
            user_agent(req).as_deref(),
            LinkOutcome::Used.as_str(),
            ASSUMED_STATUS,
        )
        .await;
    let (consumed, logged) = match used {
        Ok(used) => used,
        Err(LinkUseError::Denied(d)) => return Err(Refusal::denied(d, Some(link_id))),
        Err(LinkUseError::Store(e)) => return Err(Refusal::unavailable(e.into(), Some(link_id))),
    };
    let used = LinkUse {
        subject: consumed.subject,
        link_id,
        use_number: consumed.use_number,
        target: T::TARGET,
        login: None,
    };
    Ok((used, logged))
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
    // A login link used from a page of another site would log the visitor's
    // browser into the link's account (login CSRF): refused, nothing is used.
    if let Err(e) = crate::cookies::check_login_origin(req) {
        return Err(Refusal::cross_site(e.into(), link_id));
    }
    let authenticator = match services.authenticator() {
        Ok(authenticator) => authenticator,
        Err(e) => return Err(Refusal::unavailable(e, Some(link_id))),
    };
    let claims = match authenticator.0.claims_for(req, subject).await {
        Ok(Some(claims)) => claims,
        Ok(None) => return Err(Refusal::session(SessionError::UserGone, link_id)),
        Err(e) => return Err(Refusal::session(e, link_id)),
    };
    let origin = SessionOrigin::Link(&link_id, T::TARGET);
    let (login, consumed) = match start(req, rt, store, subject, &claims, origin).await {
        Ok((login, Some(consumed))) => (login, consumed),
        Ok((_, None)) => {
            let e = crate::error::Rejection::LinkNotConsumed.into();
            return Err(Refusal::unavailable(e, Some(link_id)));
        }
        Err(e) => return Err(Refusal::session(e, link_id)),
    };
    authenticator
        .0
        .record_login(req, subject, rt.issuer().clock().now())
        .await;
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
        let route = crate::observe::route_template(req);
        let code = |r: &Refusal| r.error.code().as_str();
        match crate::observe::checking(route, "link", use_link::<T>(req), code).await {
            Ok((used, logged)) => {
                RecordedAttempt::record(
                    req,
                    LinkAttempt {
                        target: T::TARGET,
                        link_id: Some(used.link_id.clone()),
                        outcome: LinkOutcome::Used,
                        use_number: Some(used.use_number),
                        logged,
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
                        logged: None,
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
                let error = crate::error::Rejection::NotALinkRoute.into();
                fail(req, error)
            }
        }
    }
}
