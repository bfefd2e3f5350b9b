use jwt_guard::use_jwt;
use rocket::get;

#[get("/")]
#[use_jwt(role = "admin")]
fn handler() {}

fn main() {}
