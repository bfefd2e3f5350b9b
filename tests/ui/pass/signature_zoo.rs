//! Handlers of every shape keep compiling under `#[use_jwt]`, warning-free.
#![deny(warnings, missing_docs, unused_qualifications)]

use jwt_guard::{use_jwt, Claims, Jwt, Scopes, StandardClaims};
use rocket::http::Status;
use rocket::response::Responder;
use rocket::serde::json::Json;
use rocket::{get, post, routes, State};
use serde::{Deserialize, Serialize};

/// Roles.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Role {
    /// A user.
    User,
    /// An admin.
    Admin,
}

impl AsRef<str> for Role {
    fn as_ref(&self) -> &str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

/// Claims.
#[derive(Claims, Serialize, Deserialize)]
pub struct AppClaims {
    /// Roles.
    #[claims(roles)]
    pub roles: Vec<Role>,
    /// Scopes.
    #[claims(scopes)]
    pub scope: Scopes,
    /// Tenant.
    pub tenant: String,
}

fn same_tenant(claims: &AppClaims) -> bool {
    !claims.tenant.is_empty()
}

struct Counter(u32);

#[use_jwt]
#[get("/sync")]
fn sync_handler() -> &'static str {
    "ok"
}

#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/async")]
async fn async_handler(jwt: Jwt<AppClaims>) -> String {
    jwt.tenant.clone()
}

#[use_jwt(claims = AppClaims, role = all(Role::Admin, Role::User), scope = "a b")]
#[get("/borrowed/<name>")]
fn borrowed<'r>(name: &'r str, counter: &'r State<Counter>) -> String
where
    'r: 'r,
{
    format!("{name} {}", counter.0)
}

#[use_jwt(claims = AppClaims, role = any(Role::Admin, "user"), check = same_tenant)]
#[get("/responder")]
fn responder<'r>() -> impl Responder<'r, 'static> {
    Status::NoContent
}

#[use_jwt(optional)]
#[get("/question")]
fn question(jwt: Option<Jwt>) -> Result<String, Status> {
    let jwt: Jwt<StandardClaims> = jwt.ok_or(Status::NotFound)?;
    Ok(jwt.subject().to_owned())
}

#[use_jwt(role = "admin", fresh = "15m")]
#[post("/data", data = "<body>")]
fn with_data(body: Json<Vec<u32>>) -> Json<usize> {
    Json(body.len())
}

macro_rules! protected_ping {
    ($name:ident, $path:literal) => {
        #[use_jwt(scope = "ping")]
        #[get($path)]
        fn $name() -> &'static str {
            "pong"
        }
    };
}

protected_ping!(ping, "/ping");

/// Mounts everything.
pub fn main() {
    let _ = rocket::build().manage(Counter(1)).mount(
        "/",
        routes![sync_handler, async_handler, borrowed, responder, question, with_data, ping],
    );
}
