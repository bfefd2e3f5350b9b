use jwt_guard::use_jwt;
use rocket::get;

struct NotClaims {
    tenant: String,
}

#[use_jwt(claims = NotClaims)]
#[get("/")]
fn handler() {}

fn main() {}
