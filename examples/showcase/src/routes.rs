//! The showcase's own protected routes.

use jwt_guard::{use_jwt, Jwt};
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Route};

use crate::claims::{AppClaims, Role};

/// Any valid access token.
#[use_jwt(claims = AppClaims)]
#[get("/me")]
fn me(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({
        "sub": jwt.subject(),
        "roles": jwt.roles,
        "scope": jwt.scope,
        "device_id": jwt.device_id(),
    }))
}

/// Administrators only; a valid non-admin token gets 403.
#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/stats")]
fn admin_stats(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({ "requested_by": jwt.subject(), "users": crate::users::DEMO_USERS.len() }))
}

/// Needs the `reports:read` scope.
#[use_jwt(claims = AppClaims, scope = "reports:read")]
#[get("/reports")]
fn reports(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({ "reports": ["q1", "q2"], "for": jwt.subject() }))
}

/// Works with or without a token; an invalid token is still refused.
#[use_jwt(claims = AppClaims, optional)]
#[get("/hello")]
fn hello(jwt: Option<Jwt<AppClaims>>) -> String {
    match jwt {
        Some(jwt) => format!("hello, {}", jwt.subject()),
        None => "hello, stranger".to_owned(),
    }
}

/// The showcase's routes.
pub fn routes() -> Vec<Route> {
    routes![me, admin_stats, reports, hello]
}
