//! Devices at request time: the `Permanent-Token` guard of `#[permanent_refresh]`
//! routes, and the rule that keeps that header away from every other route.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use rocket::http::uri::Origin;
use rocket::http::Method;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{get, Ignite, Rocket, Sentinel};

use crate::claims::Claims;
use crate::cookies;
use crate::error::{fail, AuthError, Rejection};
use crate::header_scan;
use crate::manifest::{declare_route, Protection};
use crate::private_response::{mark_credential, mark_private};
use crate::request::Services;
use crate::runtime::JwtRuntime;
use crate::secret::{PermanentToken, TokenDigest};
use crate::session::{issue_device_access, DeviceAccess, SessionError};
use crate::signer::Issuer;
use crate::store::{DeviceRecord, PermanentLookup, Store};

pub(crate) use crate::headers::PERMANENT_TOKEN_HEADER;
/// Where a request that sent `Permanent-Token` to the wrong route is sent instead.
const MISPLACED_TOKEN_PATH: &str = "/__jwt_guard/misplaced-permanent-token";

/// A device authenticated by its permanent token, on a `#[permanent_refresh]` route.
///
/// Mint a new access token with [`DeviceSession::issue_access`], which also rotates
/// the permanent token: answer the client what it returns.
#[derive(Clone, Debug)]
pub struct DeviceSession {
    device: DeviceRecord,
    presented: TokenDigest,
    /// The permanent token came in its cookie (a browser in cookie mode).
    via_cookie: bool,
    /// The DPoP key the device is (or, by this request's proof, becomes) bound to.
    dpop_jkt: Option<String>,
    issuer: Issuer,
    store: Store,
}

impl DeviceSession {
    /// The device.
    pub fn device(&self) -> &DeviceRecord {
        &self.device
    }

    /// The device id.
    pub fn device_id(&self) -> &str {
        &self.device.id
    }

    /// The device's owner.
    pub fn subject(&self) -> &str {
        &self.device.subject
    }

    /// Signs an access token for this device carrying `claims`, records it in the
    /// device's token tree, and rotates the permanent token — all in one
    /// transaction — and returns the answer: `{access, token_type, expires_in,
    /// device_id, permanent_token, device_expires_at}` as JSON (a `Responder`; a
    /// browser that sent its permanent token in the cookie gets the next one there,
    /// not in the body). Call it once per request: the presented permanent token is
    /// superseded afterwards, and presenting it again revokes the device.
    pub async fn issue_access<C: Claims>(&self, claims: &C) -> Result<DeviceAccess, AuthError> {
        let mut issued = issue_device_access(
            &self.issuer,
            &self.store,
            &self.device,
            &self.presented,
            self.dpop_jkt.as_deref(),
            claims,
        )
        .await?;
        issued.via_cookie = self.via_cookie;
        Ok(issued)
    }
}

impl<'r> Responder<'r, 'static> for DeviceAccess {
    fn respond_to(mut self, req: &'r Request<'_>) -> response::Result<'static> {
        if self.via_cookie {
            if let Some(rt) = JwtRuntime::from_request(req) {
                cookies::move_next_permanent_into_cookie(req, rt, &mut self.permanent_token);
            }
        }
        mark_credential(req);
        Json(self).respond_to(req)
    }
}

struct CachedSession(Result<DeviceSession, AuthError>);

async fn resolve_session<'r>(req: &'r Request<'_>) -> &'r Result<DeviceSession, AuthError> {
    let route = crate::observe::route_template(req);
    &req.local_cache_async(async {
        let check = lookup_session(req);
        let code = |e: &AuthError| e.code().as_str();
        CachedSession(crate::observe::checking(route, "permanent", check, code).await)
    })
    .await
    .0
}

async fn lookup_session(req: &Request<'_>) -> Result<DeviceSession, AuthError> {
    let mut values = header_scan::values(req.headers(), PERMANENT_TOKEN_HEADER);
    let (raw, via_cookie) = match values.next() {
        Some(raw) => (raw, false),
        // A browser in cookie mode keeps it in an `HttpOnly` cookie.
        None => match cookies::permanent_from_cookie(req)? {
            Some(raw) => (raw, true),
            None => return Err(Rejection::NoPermanentToken.into()),
        },
    };
    if values.next().is_some() {
        return Err(Rejection::SeveralPermanentTokens.into());
    }
    let token = PermanentToken::parse(raw.trim()).ok_or(Rejection::PermanentTokenMalformed)?;
    let services = Services::of(req)?;
    match services.store.device_for_permanent(&token).await {
        Ok(PermanentLookup::Active(device)) => {
            // A bound device proves its key (RFC 9449 §5.2); an unbound one sending
            // a proof becomes bound to it.
            let whose = crate::dpop::Whose {
                subject: &device.subject,
                device_id: Some(&device.id),
            };
            let bound = device.dpop_jkt.as_deref();
            let proof_key = crate::dpop::continue_session(req, bound, whose).await?;
            Ok(DeviceSession {
                dpop_jkt: device.dpop_jkt.clone().or(proof_key),
                device: *device,
                presented: token.digest(),
                via_cookie,
                issuer: services.rt.issuer().clone(),
                store: services.store.clone(),
            })
        }
        Ok(PermanentLookup::Reused) => Err(SessionError::PermanentReused.into()),
        Ok(PermanentLookup::Expired) => Err(SessionError::DeviceExpired.into()),
        Ok(PermanentLookup::Unknown) => Err(SessionError::PermanentNotCurrent.into()),
        Err(e) => Err(e.into()),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for DeviceSession {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match resolve_session(req).await {
            Ok(session) => {
                mark_private(req);
                Outcome::Success(session.clone())
            }
            Err(e) => fail(req, e.clone()),
        }
    }
}

/// A `#[permanent_refresh]` route, described by the macro: its handler name, method
/// and static path.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a permanent-refresh route",
    note = "these types are generated by `#[permanent_refresh]`; do not name them directly"
)]
pub trait PermanentRoute: Send + Sync + 'static {
    /// The handler's name (Rocket's route name).
    const NAME: &'static str;
    /// The HTTP method.
    const METHOD: Method;
    /// The static path, as written in the route attribute.
    const PATH: &'static str;
}

/// The routes allowed to receive `Permanent-Token`: (method, mounted path).
#[derive(Default)]
pub(crate) struct PermanentRoutes(RwLock<HashSet<(Method, String)>>);

impl PermanentRoutes {
    pub(crate) fn allows(&self, method: Method, path: &str) -> bool {
        self.0
            .read()
            .map(|set| set.contains(&(method, path.to_owned())))
            .unwrap_or(false)
    }

    /// Whether `path` is a `#[permanent_refresh]` route's, whatever the method
    /// (another method there is Rocket's to answer: 405).
    pub(crate) fn has_path(&self, path: &str) -> bool {
        self.0
            .read()
            .map(|set| set.iter().any(|(_, p)| p == path))
            .unwrap_or(false)
    }
}

/// The guard `#[permanent_refresh]` injects: authenticates the device and marks the
/// route as the one place `Permanent-Token` is accepted.
pub struct PermanentRefresh<R: PermanentRoute> {
    _route: PhantomData<fn() -> R>,
}

#[rocket::async_trait]
impl<'r, R: PermanentRoute> FromRequest<'r> for PermanentRefresh<R> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match resolve_session(req).await {
            Ok(_) => Outcome::Success(PermanentRefresh {
                _route: PhantomData,
            }),
            Err(e) => fail(req, e.clone()),
        }
    }
}

impl<R: PermanentRoute> Sentinel for PermanentRefresh<R> {
    /// Registers this route (with its mount point) as allowed to receive the
    /// header; stops launch if jwt-guard is not attached.
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        let (Some(routes), Some(_)) = (
            rocket.state::<Arc<PermanentRoutes>>(),
            rocket.state::<Store>(),
        ) else {
            rocket::error!(
                "`#[permanent_refresh]` route `{}` needs jwt-guard: attach `jwt_guard::JwtGuard::fairing()`",
                R::NAME
            );
            return true;
        };
        let Ok(mut set) = routes.0.write() else {
            return true;
        };
        for route in rocket.routes() {
            let same_name = route.name.as_deref() == Some(R::NAME);
            if same_name && route.method == R::METHOD && route.uri.path().ends_with(R::PATH) {
                set.insert((route.method, route.uri.path().to_owned()));
            }
        }
        false
    }
}

/// Sends a request carrying `Permanent-Token` to a route that is not a
/// `#[permanent_refresh]` route where it can only get a 400: the app's handler never
/// runs. Called by the fairing on every request.
pub(crate) fn divert_misplaced_permanent_token(req: &mut Request<'_>) {
    // Every request passes here: a scan, not Rocket's hashed look-up.
    if !header_scan::contains(req.headers(), PERMANENT_TOKEN_HEADER) {
        return;
    }
    let path = req.uri().path().as_str().to_owned();
    let allowed = req
        .rocket()
        .state::<Arc<PermanentRoutes>>()
        .is_some_and(|routes| routes.allows(req.method(), &path) || routes.has_path(&path));
    if !allowed {
        req.set_method(Method::Get);
        if let Ok(uri) = Origin::parse(MISPLACED_TOKEN_PATH) {
            req.set_uri(uri);
        }
    }
}

// An error sink, not a resource: it answers 400 to anything diverted here.
declare_route!(
    misplaced_permanent_token,
    Get,
    "/__jwt_guard/misplaced-permanent-token",
    Protection::Public
);

/// Where misplaced `Permanent-Token` requests end: a 400, and no handler of the
/// app runs.
#[get("/__jwt_guard/misplaced-permanent-token")]
pub(crate) fn misplaced_permanent_token() -> AuthError {
    Rejection::MisplacedPermanentToken.into()
}
