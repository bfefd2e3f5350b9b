use jwt_guard::use_jwt;
use rocket::get;

#[use_jwt(fresh = "5 parsecs")]
#[get("/")]
fn handler() {}

#[use_jwt(fresh = "0s")]
#[get("/zero")]
fn zero() {}

fn main() {}
