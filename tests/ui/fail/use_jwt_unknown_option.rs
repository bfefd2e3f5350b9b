use jwt_guard::use_jwt;
use rocket::get;

#[use_jwt(rol = "admin")]
#[get("/")]
fn handler() {}

fn main() {}
