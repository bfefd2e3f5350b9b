//! The showcase's own protected routes.

use std::sync::atomic::{AtomicU64, Ordering};

use jwt_guard::manifest::RouteManifest;
use jwt_guard::store::JwtDb;
use jwt_guard::{permanent_refresh, public, use_jwt, AuthError, DeviceAccess, DeviceSession, Jwt};
use rocket::serde::json::{Json, Value};
use rocket::{get, post, routes, Route, State};

use crate::api::{self, AdminStats, Me, Reports, Vault};
use crate::claims::{AppClaims, Role};

/// Any valid access token.
#[use_jwt(claims = AppClaims)]
#[get("/me")]
fn me(jwt: Jwt<AppClaims>) -> Json<Me> {
    Json(Me {
        sub: jwt.subject().to_owned(),
        roles: jwt.roles.clone(),
        scope: jwt.scope.clone(),
        device_id: jwt.device_id().map(str::to_owned),
    })
}

/// Administrators only; a valid non-admin token gets 403.
#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/stats")]
fn admin_stats(jwt: Jwt<AppClaims>) -> Json<AdminStats> {
    Json(AdminStats {
        requested_by: jwt.subject().to_owned(),
        users: crate::users::DEMO_USERS.len(),
    })
}

/// Needs the `reports:read` scope.
#[use_jwt(claims = AppClaims, scope = "reports:read")]
#[get("/reports")]
fn reports(jwt: Jwt<AppClaims>) -> Json<Reports> {
    Json(Reports {
        reports: vec!["q1".into(), "q2".into()],
        for_subject: jwt.subject().to_owned(),
    })
}

/// Changing the password needs a recent login (RFC 9470 step-up): a token whose
/// login is older than five minutes gets `401 insufficient_user_authentication`
/// with `max_age="300"`, and the client signs in again. (A stub: it changes
/// nothing.)
#[use_jwt(claims = AppClaims, fresh = "5m")]
#[post("/account/password")]
fn change_password(_jwt: Jwt<AppClaims>) -> rocket::http::Status {
    rocket::http::Status::NoContent
}

/// A phishing-resistant sign-in only (`acr` `phr`, RFC 9470): a passkey login's,
/// or a session stepped up with a passkey. Any other token gets `401
/// insufficient_user_authentication` with `acr_values="phr"`.
#[use_jwt(claims = AppClaims, acr = "phr")]
#[get("/account/vault")]
fn vault(jwt: Jwt<AppClaims>) -> Json<Vault> {
    let registered = jwt.registered();
    Json(Vault {
        sub: jwt.subject().to_owned(),
        acr: registered.acr.clone().unwrap_or_default(),
        amr: registered.amr.clone().unwrap_or_default(),
    })
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

/// A new access token (and the next permanent token) for the device holding
/// `Permanent-Token` (drf-jwt-devices).
#[permanent_refresh]
#[post("/auth/device/refresh")]
async fn device_refresh(
    device: DeviceSession,
    db: &State<JwtDb>,
) -> Result<DeviceAccess, AuthError> {
    let claims = crate::users::claims_of(db, device.subject())
        .await?
        .ok_or_else(|| AuthError::invalid_token("the device's user no longer exists"))?;
    // Rotated on every use: the permanent token just presented is now superseded.
    device.issue_access(&claims).await
}

/// Visits counted by an unprotected route with a side effect.
#[derive(Default)]
pub struct Visits(pub AtomicU64);

/// Counts a visit (a side effect that must not happen for a refused request).
#[public]
#[post("/visits")]
fn count_visit(visits: &State<Visits>) -> Json<api::Visits> {
    let n = visits.0.fetch_add(1, Ordering::SeqCst) + 1;
    Json(api::Visits { visits: n })
}

/// The visit count.
#[public]
#[get("/visits")]
fn visits(visits: &State<Visits>) -> Json<api::Visits> {
    Json(api::Visits {
        visits: visits.0.load(Ordering::SeqCst),
    })
}

/// The route-protection manifest: every mounted route and how it is protected.
#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/routes")]
fn admin_routes(manifest: RouteManifest) -> Json<RouteManifest> {
    Json(manifest)
}

/// The showcase as an OpenAPI 3.1 document: how every route is protected (from
/// the route manifest), what each takes and answers (from the types in
/// [`api`] and jwt-guard's own).
#[public]
#[get("/openapi.json")]
fn openapi(manifest: RouteManifest, rt: &State<jwt_guard::runtime::JwtRuntime>) -> Json<Value> {
    Json(jwt_guard::openapi::document_with(
        &manifest.0,
        rt.config(),
        "jwt-guard showcase",
        env!("CARGO_PKG_VERSION"),
        &api::described(),
    ))
}

/// The showcase's routes.
pub fn routes() -> Vec<Route> {
    routes![
        me,
        admin_stats,
        reports,
        hello,
        device_refresh,
        count_visit,
        visits,
        admin_routes,
        change_password,
        vault,
        openapi
    ]
}
