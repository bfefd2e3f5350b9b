//! Device routes: list and log out devices, logout here or everywhere, and the token
//! tree of a device (drf-jwt-devices, knox, wc-django-jwt).

use rocket::http::{Header, Status};
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route};
use serde::{Deserialize, Serialize};

use crate::claims::NoClaims;
use crate::cookies;
use crate::error::{AuthError, Rejection};
use crate::guard::Jwt;
use crate::manifest::{declare_route, OWN_ACCESS_TOKEN};
use crate::request::Services;
use crate::secret::is_opaque_id;
use crate::store::{DeviceId, DeviceRecord, Jti, PendingLogout, Store, Subject, TokenPage};

use crate::headers::DEVICE_ID_HEADER;

/// One device as listed to its owner.
#[derive(Serialize, Deserialize, Debug, schemars::JsonSchema)]
#[non_exhaustive]
pub struct DeviceView {
    /// The device.
    #[serde(flatten)]
    pub device: DeviceRecord,
    /// Whether the listing request came from this device.
    pub current: bool,
}

/// How many devices a logout revoked.
#[derive(Serialize, Deserialize, Debug, schemars::JsonSchema)]
#[non_exhaustive]
pub struct LogoutResponse {
    /// Devices revoked.
    pub revoked: usize,
}

/// The token ids a force-expiry revoked.
#[derive(Serialize, Deserialize, Debug, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ExpireResponse {
    /// Revoked token ids (the node and its subtree).
    pub revoked: Vec<String>,
}

/// A query parameter given at most once. Rocket reads a field given twice as
/// absent; here it is a `400` naming it, never silently ignored.
fn query_once<'r>(
    req: &'r rocket::Request<'_>,
    name: &'static str,
    value: Option<&'r str>,
) -> Result<Option<&'r str>, AuthError> {
    match req.query_fields().filter(|f| f.name == name).count() {
        0 | 1 => Ok(value),
        _ => Err(Rejection::QueryParameterTwice(name).into()),
    }
}

/// A whole-number query parameter: absent is `None`, anything else that is not a
/// number (or a number given twice) is a `400` naming the parameter.
fn query_number<T: std::str::FromStr>(
    req: &rocket::Request<'_>,
    name: &'static str,
    value: Option<&str>,
) -> Result<Option<T>, AuthError> {
    query_once(req, name, value)?
        .map(|text| {
            text.parse()
                .map_err(|_| Rejection::NotAWholeNumber(name).into())
        })
        .transpose()
}

/// One page of the caller's devices: a JSON array, oldest first, at most
/// `device_page_size` long (`?offset=0&limit=…`). `X-Total-Count` says how many
/// there are; `Link: <…>; rel="next"` points at the next page, if any.
#[get("/auth/devices?<offset>&<limit>")]
async fn list(
    offset: Option<&str>,
    limit: Option<&str>,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<DevicePage, AuthError> {
    let page_size = services.rt.config().devices.page_size;
    let offset: u32 = query_number(services.req, "offset", offset)?.unwrap_or(0);
    let limit: u32 = query_number(services.req, "limit", limit)?
        .unwrap_or(page_size)
        .clamp(1, page_size);
    let (devices, total) = services
        .store
        .devices_page(jwt.subject(), offset, limit)
        .await?;
    let end = u64::from(offset).saturating_add(devices.len() as u64);
    let next =
        (end < total).then(|| format!("</auth/devices?offset={end}&limit={limit}>; rel=\"next\""));
    Ok(DevicePage {
        body: Json(
            devices
                .into_iter()
                .map(|device| DeviceView {
                    current: Some(device.id.as_str()) == jwt.device_id(),
                    device,
                })
                .collect(),
        ),
        total: Header::new("X-Total-Count", total.to_string()),
        next: next.map(|link| Header::new("Link", link)),
    })
}

/// A page of devices with its paging headers.
struct DevicePage {
    body: Json<Vec<DeviceView>>,
    total: Header<'static>,
    next: Option<Header<'static>>,
}

impl<'r> rocket::response::Responder<'r, 'static> for DevicePage {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = self.body.respond_to(req)?;
        res.set_header(self.total);
        if let Some(next) = self.next {
            res.set_header(next);
        }
        Ok(res)
    }
}

async fn log_out(
    req: &rocket::Request<'_>,
    jwt: &Jwt<NoClaims>,
    store: &Store,
    id: &str,
) -> Result<Status, AuthError> {
    if !is_opaque_id(id) {
        return Err(Rejection::NoSuchDevice.into());
    }
    let revoked = match store
        .revoke_device_of(
            Subject(jwt.subject()),
            DeviceId(id),
            "logged out by its owner",
        )
        .await
    {
        Ok(revoked) => revoked,
        Err(e) => {
            // Storage is down: the client will retry (503), but this instance
            // stops honouring the device now, as `POST /auth/logout` does. A
            // device id is 128 random bits shown only to its owner (the login
            // answer, the device list); the write, once storage is back, checks
            // the owner again.
            store.log_out_while_unreachable(PendingLogout::Device {
                subject: jwt.subject().to_owned(),
                device_id: id.to_owned(),
            });
            return Err(e.into());
        }
    };
    if revoked {
        if jwt.device_id() == Some(id) {
            cookies::clear_session(req);
        }
        Ok(Status::NoContent)
    } else {
        // Unknown and someone else's look the same.
        Err(Rejection::NoSuchDevice.into())
    }
}

#[delete("/auth/devices/<id>")]
async fn delete_device(
    id: &str,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Status, AuthError> {
    log_out(services.req, &jwt, services.store, id).await
}

/// `Device-Id` header value.
struct DeviceIdHeader(Option<String>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for DeviceIdHeader {
    type Error = std::convert::Infallible;

    async fn from_request(
        req: &'r rocket::Request<'_>,
    ) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(DeviceIdHeader(
            req.headers()
                .get_one(DEVICE_ID_HEADER)
                .map(|v| v.trim().to_owned()),
        ))
    }
}

#[delete("/auth/device-logout")]
async fn device_logout(
    jwt: Jwt<NoClaims>,
    header: DeviceIdHeader,
    services: Services<'_>,
) -> Result<Status, AuthError> {
    let id = header.0.ok_or(Rejection::DeviceIdRequired)?;
    log_out(services.req, &jwt, services.store, &id).await
}

#[post("/auth/logout")]
async fn logout(jwt: Jwt<NoClaims>, services: Services<'_>) -> Result<Status, AuthError> {
    let Services { req, store, .. } = services;
    // The browser's cookies go whatever the database says: this client is out.
    cookies::clear_session(req);
    let id = jwt
        .device_id()
        .ok_or(Rejection::TokenOfNoDevice)?
        .to_owned();
    match store
        .revoke_device_of(
            Subject(jwt.subject()),
            DeviceId(&id),
            "logged out by its owner",
        )
        .await
    {
        Ok(true) => Ok(Status::NoContent),
        Ok(false) => Err(Rejection::NoSuchDevice.into()),
        Err(e) => {
            // Storage is down: the client will retry (503), but this instance stops
            // honouring the device now rather than after the outage.
            store.log_out_while_unreachable(PendingLogout::Device {
                subject: jwt.subject().to_owned(),
                device_id: id,
            });
            Err(e.into())
        }
    }
}

#[post("/auth/logout-all?<keep_current>")]
async fn logout_all(
    keep_current: Option<&str>,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Json<LogoutResponse>, AuthError> {
    let Services { req, store, .. } = services;
    let keep_current = match query_once(req, "keep_current", keep_current)? {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Rejection::KeepCurrentNotBoolean.into()),
    };
    let keep = if keep_current {
        Some(jwt.device_id().ok_or(Rejection::TokenOfNoDevice)?)
    } else {
        cookies::clear_session(req);
        None
    };
    match store
        .revoke_all_devices(Subject(jwt.subject()), keep.map(DeviceId))
        .await
    {
        Ok(revoked) => Ok(Json(LogoutResponse { revoked })),
        Err(e) => {
            // As for logout: 503 so the client retries, and nothing of the subject
            // is honoured here meanwhile (unless the current device is to be kept).
            if keep.is_none() {
                store.log_out_while_unreachable(PendingLogout::Everywhere {
                    subject: jwt.subject().to_owned(),
                });
            }
            Err(e.into())
        }
    }
}

/// One page of a device's token tree (`?offset=0&limit=100`, at most
/// [`MAX_TREE_PAGE`](crate::store::MAX_TREE_PAGE) a page), in pre-order with parent ids.
#[get("/auth/devices/<id>/tokens?<offset>&<limit>")]
async fn token_tree(
    id: &str,
    offset: Option<&str>,
    limit: Option<&str>,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Json<TokenPage>, AuthError> {
    let store = services.store;
    if !is_opaque_id(id) {
        return Err(Rejection::NoSuchDevice.into());
    }
    let device = store.device(id).await?;
    if device.as_ref().map(|d| d.subject.as_str()) != Some(jwt.subject()) {
        return Err(Rejection::NoSuchDevice.into());
    }
    Ok(Json(
        store
            .token_tree(
                id,
                query_number::<u32>(services.req, "offset", offset)?.map_or(0, |n| n as usize),
                query_number::<u32>(services.req, "limit", limit)?.map_or(100, |n| n as usize),
            )
            .await?,
    ))
}

#[delete("/auth/tokens/<jti>")]
async fn expire_token(
    jti: &str,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Json<ExpireResponse>, AuthError> {
    if !is_opaque_id(jti) {
        return Err(Rejection::NoSuchToken.into());
    }
    let revoked = services
        .store
        .force_expire(Subject(jwt.subject()), Jti(jti))
        .await?;
    if revoked.is_empty() {
        return Err(Rejection::NoSuchToken.into());
    }
    Ok(Json(ExpireResponse { revoked }))
}

declare_route!(
    list,
    Get,
    "/auth/devices?<offset>&<limit>",
    OWN_ACCESS_TOKEN
);
declare_route!(
    delete_device,
    Delete,
    "/auth/devices/<id>",
    OWN_ACCESS_TOKEN
);
declare_route!(
    device_logout,
    Delete,
    "/auth/device-logout",
    OWN_ACCESS_TOKEN
);
declare_route!(logout, Post, "/auth/logout", OWN_ACCESS_TOKEN);
declare_route!(
    logout_all,
    Post,
    "/auth/logout-all?<keep_current>",
    OWN_ACCESS_TOKEN
);
declare_route!(
    token_tree,
    Get,
    "/auth/devices/<id>/tokens?<offset>&<limit>",
    OWN_ACCESS_TOKEN
);
declare_route!(expire_token, Delete, "/auth/tokens/<jti>", OWN_ACCESS_TOKEN);

/// The device routes.
pub fn device_routes() -> Vec<Route> {
    routes![
        list,
        delete_device,
        device_logout,
        logout,
        logout_all,
        token_tree,
        expire_token
    ]
}
