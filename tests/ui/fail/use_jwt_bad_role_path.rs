use jwt_guard::{use_jwt, Claims};
use rocket::get;
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
enum Role {
    User,
    Admin,
}

#[derive(Claims, Serialize, Deserialize)]
struct AppClaims {
    #[claims(roles)]
    roles: Vec<Role>,
}

#[use_jwt(claims = AppClaims, role = Role::Admn)]
#[get("/")]
fn handler() {}

fn main() {}
