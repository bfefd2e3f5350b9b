use jwt_guard::{use_jwt, Claims, Jwt};
use rocket::get;
use serde::{Deserialize, Serialize};

// One mistake in the derive is one error: the type still implements `Claims`, so
// the routes that use it report nothing more.
#[derive(Claims, Serialize, Deserialize)]
struct AppClaims {
    #[claims(role)]
    roles: Vec<String>,
}

#[use_jwt(claims = AppClaims)]
#[get("/me")]
fn me(jwt: Jwt<AppClaims>) -> String {
    jwt.subject().to_owned()
}

#[use_jwt(claims = AppClaims, role = "admin")]
#[get("/admin")]
fn admin(jwt: Jwt<AppClaims>) -> String {
    jwt.subject().to_owned()
}

fn main() {}
