//! Devices at request time: who is logging in from where, the `Permanent-Token`
//! guard of `#[permanent_refresh]` routes, and the rule that keeps that header away
//! from every other route.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use rocket::http::Method;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{get, Ignite, Rocket, Sentinel};

use crate::claims::Claims;
use crate::error::{fail, AuthError};
use crate::issuer::{Grant, IssuedToken, Issuer};
use crate::secret::PermanentToken;
use crate::store::{DeviceRecord, NewDevice, Store, DEVICE_NAME_MAX};

/// The header carrying a permanent token.
pub const PERMANENT_TOKEN_HEADER: &str = "Permanent-Token";
/// The header naming a device model at login (as drf-jwt-devices).
pub const DEVICE_MODEL_HEADER: &str = "X-Device-Model";
/// Where a request that sent `Permanent-Token` to the wrong route is sent instead.
pub(crate) const MISPLACED_TOKEN_PATH: &str = "/__jwt_guard/misplaced-permanent-token";

const USER_AGENT_MAX: usize = 512;

/// Keeps printable text only, trimmed and cut to `max` characters.
fn clean(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Describes the device a login comes from: `X-Device-Model` if sent, else the
/// browser and OS parsed from `User-Agent` (by `woothee`), and the client IP as
/// Rocket sees it (its `ip_header` setting respected).
pub fn describe_device(req: &Request<'_>, subject: &str) -> NewDevice {
    let user_agent = req
        .headers()
        .get_one("User-Agent")
        .map(|ua| clean(ua, USER_AGENT_MAX))
        .filter(|ua| !ua.is_empty());
    let parsed = user_agent
        .as_deref()
        .and_then(|ua| woothee::parser::Parser::new().parse(ua));
    let known = |s: &str| (!s.is_empty() && s != "UNKNOWN").then(|| s.to_owned());
    let browser = parsed.as_ref().and_then(|p| known(p.name));
    let os = parsed.as_ref().and_then(|p| known(p.os));
    let kind = parsed.as_ref().and_then(|p| known(p.category));
    let model = req
        .headers()
        .get_one(DEVICE_MODEL_HEADER)
        .map(|m| clean(m, DEVICE_NAME_MAX))
        .filter(|m| !m.is_empty());
    let name = model.unwrap_or_else(|| match (&browser, &os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => "unknown device".to_owned(),
    });
    NewDevice {
        subject: subject.to_owned(),
        name: clean(&name, DEVICE_NAME_MAX),
        user_agent,
        browser,
        os,
        kind,
        ip: req.client_ip().map(|ip: IpAddr| ip.to_string()),
    }
}

/// A device authenticated by its permanent token, on a `#[permanent_refresh]` route.
///
/// Mint a new access token with [`DeviceSession::issue_access`].
#[derive(Clone, Debug)]
pub struct DeviceSession {
    device: DeviceRecord,
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

    /// Signs an access token for this device carrying `claims`, and records it in
    /// the device's token tree.
    pub async fn issue_access<C: Claims>(
        &self,
        issuer: &Issuer,
        store: &Store,
        claims: &C,
    ) -> Result<IssuedToken, AuthError> {
        let grant = Grant {
            subject: &self.device.subject,
            device_id: Some(&self.device.id),
            orig_iat: self.device.orig_iat,
        };
        let token = issuer
            .access(&grant, claims)
            .map_err(|e| AuthError::unavailable(e.to_string()))?;
        store
            .record_issued(&token.claims, &self.device.id, None)
            .await
            .map_err(|e| AuthError::unavailable(e.to_string()))?;
        Ok(token)
    }
}

struct CachedSession(Result<DeviceSession, AuthError>);

async fn resolve_session<'r>(req: &'r Request<'_>) -> &'r Result<DeviceSession, AuthError> {
    &req.local_cache_async(async { CachedSession(lookup_session(req).await) })
        .await
        .0
}

async fn lookup_session(req: &Request<'_>) -> Result<DeviceSession, AuthError> {
    let mut values = req.headers().get(PERMANENT_TOKEN_HEADER);
    let Some(raw) = values.next() else {
        return Err(AuthError::missing_token());
    };
    if values.next().is_some() {
        return Err(AuthError::invalid_request(
            "more than one Permanent-Token header was sent",
        ));
    }
    let token = PermanentToken::parse(raw.trim())
        .ok_or_else(|| AuthError::invalid_token("permanent token is malformed"))?;
    let store = req
        .rocket()
        .state::<Store>()
        .ok_or_else(|| AuthError::unavailable("device storage is not configured"))?;
    match store.device_for_permanent(&token).await {
        Ok(crate::store::PermanentLookup::Active(device)) => Ok(DeviceSession { device }),
        Ok(crate::store::PermanentLookup::Expired) => Err(AuthError::invalid_token(
            "the device has expired; sign in again",
        )),
        Ok(crate::store::PermanentLookup::Unknown) => {
            Err(AuthError::invalid_token("permanent token is not valid"))
        }
        Err(e) => Err(AuthError::unavailable(e.to_string())),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for DeviceSession {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match resolve_session(req).await {
            Ok(session) => Outcome::Success(session.clone()),
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

/// Where misplaced `Permanent-Token` requests end: a 400, and no handler of the
/// app runs.
#[get("/__jwt_guard/misplaced-permanent-token")]
pub(crate) fn misplaced_permanent_token() -> AuthError {
    AuthError::invalid_request(
        "the Permanent-Token header is only accepted by the device refresh route",
    )
}
