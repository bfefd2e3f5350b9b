//! RFC 7009 token revocation: `POST /oauth/revoke`
//! ([`JwtGuard::revocation_endpoint`](crate::JwtGuard::revocation_endpoint)).

use rocket::data::Data;
use rocket::http::Status;
use rocket::{post, routes, Route};

use super::presented_token::{classify, read_form, Presented};
use crate::dpop::{self, DpopRefusal, Whose};
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
/// A token bound to a DPoP key (RFC 9449: `cnf.jkt`, or a bound device's
/// permanent token) is revoked only with a proof by that key: a stolen copy
/// cannot even burn it. Without one the answer is the same `200` (RFC 7009
/// §2.2: an invalid token is no error), and nothing is revoked.
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
    let presented = classify(rt, store, &token, hint.as_deref()).await?;
    if let Some((bound, whose)) = binding(&presented) {
        match dpop::continue_session(req, Some(bound), whose).await {
            Ok(_) => {}
            Err(e @ DpopRefusal::Unavailable(_)) => return Err(e.into()),
            Err(_) => return Ok(Status::Ok),
        }
    }
    match presented {
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

/// The key a presented token is bound to, and whose session it continues.
fn binding(presented: &Presented) -> Option<(&str, Whose<'_>)> {
    let (jkt, subject, device_id) = match presented {
        Presented::Access(token) => (
            token.registered.dpop_jkt()?,
            &token.registered.sub,
            token.registered.did.as_deref(),
        ),
        Presented::Refresh(claims) => (claims.dpop_jkt()?, &claims.sub, claims.did.as_deref()),
        Presented::Permanent(device) => (
            device.dpop_jkt.as_deref()?,
            &device.subject,
            Some(device.id.as_str()),
        ),
        Presented::Inactive => return None,
    };
    Some((jkt, Whose { subject, device_id }))
}

declare_route!(revoke, Post, "/oauth/revoke", Protection::Public);

/// `POST /oauth/revoke`.
pub fn revocation_routes() -> Vec<Route> {
    routes![revoke]
}
