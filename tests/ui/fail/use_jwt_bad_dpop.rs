use jwt_guard::use_jwt;
use rocket::get;

#[use_jwt(dpop = true)]
#[get("/")]
fn with_a_value() {}

#[use_jwt(dpop, role = "admin", dpop)]
#[get("/b")]
fn twice() {}

fn main() {}
