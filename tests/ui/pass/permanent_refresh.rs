//! `#[permanent_refresh]` on static routes, sync or async, with other guards.
#![deny(warnings, missing_docs, unused_qualifications)]

use jwt_guard::{permanent_refresh, DeviceSession};
use jwt_guard::token::Issuer;
use rocket::{post, route, routes, State};

#[permanent_refresh]
#[post("/auth/device/refresh")]
async fn refresh(device: DeviceSession, _issuer: &State<Issuer>) -> String {
    device.subject().to_owned()
}

#[permanent_refresh]
#[route(POST, uri = "/v2/refresh?<verbose>")]
fn refresh_v2(verbose: Option<bool>, device: DeviceSession) -> String {
    format!("{} {verbose:?}", device.device_id())
}

/// Mounts them.
pub fn main() {
    let _ = rocket::build().mount("/api", routes![refresh, refresh_v2]);
}
