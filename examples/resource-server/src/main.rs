//! A verify-only app (`cd examples/resource-server && cargo run`): `GET /orders`
//! for tokens of the outside issuer `partner` (the showcase's demo partner at
//! `http://127.0.0.1:8000/partner`) with scope `orders:read`. No database
//! is opened or created, and there is no key of its own.

use jwt_guard::{use_jwt, Claims, Jwt, JwtGuard, Scopes};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes};
use serde::{Deserialize, Serialize};

/// What the partner's tokens carry besides the registered claims.
#[derive(Claims, Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PartnerClaims {
    #[claims(scopes)]
    #[serde(default)]
    scope: Scopes,
}

/// The caller's orders: a partner token with scope `orders:read`.
#[use_jwt(issuer = "partner", claims = PartnerClaims, scope = "orders:read")]
#[get("/orders")]
fn orders(jwt: Jwt<PartnerClaims>) -> Json<Value> {
    Json(json!({ "customer": jwt.subject(), "orders": ["A-1001", "A-1002"] }))
}

/// The app: verify-only jwt-guard, one route, errors as JSON.
pub(crate) fn rocket() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .attach(JwtGuard::verify_only())
        .mount("/", routes![orders])
        .register("/", jwt_guard::catchers())
}

/// Serves it; a launch that fails says why (jwt-guard has logged its reason, a
/// port in use is said here) and exits 1 — no panic.
#[rocket::main]
async fn main() -> std::process::ExitCode {
    match rocket().launch().await {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match e.kind() {
                rocket::error::ErrorKind::FailedFairings(_) => {}
                other => eprintln!("resource-server: cannot launch: {other}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}
