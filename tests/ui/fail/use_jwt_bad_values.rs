use jwt_guard::use_jwt;
use rocket::get;

#[use_jwt(scope = 5, role = any(), optional = true)]
#[get("/")]
fn handler() {}

#[use_jwt(scope = "has\"quote", role = 3 + 4)]
#[get("/b")]
fn other() {}

#[use_jwt(issuer = "")]
#[get("/c")]
fn no_issuer_name() {}

fn main() {}
