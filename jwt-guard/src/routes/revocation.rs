//! RFC 7009 token revocation: `POST /oauth/revoke`
//! ([`JwtGuard::revocation_endpoint`](crate::JwtGuard::revocation_endpoint)).

use rocket::data::Data;
use rocket::http::Status;
use rocket::{post, routes, Route};

use super::presented_token::{classify, read_form, Presented};
use crate::error::AuthError;
use crate::manifest::{declare_route, Protection};
use crate::request::Services;
use crate::store::DeviceId;

/// Why a device is revoked here, for its audit row.
const REASON: &str = "revoked through the token revocation endpoint (RFC 7009)";

/// RFC 7009 §2.1: the holder of a token asks that it be revoked. All of this
/// app's clients are public clients (RFC 6749 §2.1), so no client authentication
/// is asked; whoever holds a token may end it, and nothing else. Throttled per
/// client address.
///
/// - an access token enters the revocation set until it would expire;
/// - a refresh token revokes its device: every token issued from the same login
///   (RFC 7009 §2.1: "SHOULD also invalidate all access tokens based on the same
///   authorization grant");
/// - a permanent token revokes its device.
///
/// RFC 7009 §2.2: `200` whether the token was revoked or was invalid, unknown or
/// already spent — the answer tells nothing about it. §2.2.1: `503` with
/// `Retry-After` when storage is down (the client retries).
#[post("/oauth/revoke", data = "<data>")]
async fn revoke(data: Data<'_>, services: Services<'_>) -> Result<Status, AuthError> {
    let Services {
        req,
        rt,
        store,
        throttle,
        ..
    } = services;
    throttle.admit_address(req)?;
    let (token, hint) = read_form(req, data).await?;
    match classify(rt, store, &token, hint.as_deref()).await? {
        Presented::Access(token) => {
            store
                .revoke_jti(&token.registered.jti, token.registered.exp)
                .await?;
        }
        Presented::Refresh(claims) => match claims.did.as_deref() {
            Some(device) => {
                store.revoke_device(DeviceId(device), REASON).await?;
            }
            None => store.revoke_jti(&claims.jti, claims.exp).await?,
        },
        Presented::Permanent(device) => {
            store.revoke_device(DeviceId(&device.id), REASON).await?;
        }
        Presented::Inactive => {}
    }
    Ok(Status::Ok)
}

declare_route!(revoke, Post, "/oauth/revoke", Protection::Public);

/// `POST /oauth/revoke`.
pub fn revocation_routes() -> Vec<Route> {
    routes![revoke]
}
