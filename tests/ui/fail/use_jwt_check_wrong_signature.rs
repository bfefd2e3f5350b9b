use jwt_guard::{use_jwt, StandardClaims};
use rocket::get;

fn same_tenant(_claims: &StandardClaims, _tenant: &str) -> bool {
    true
}

#[use_jwt(check = same_tenant)]
#[get("/")]
fn handler() {}

fn main() {}
