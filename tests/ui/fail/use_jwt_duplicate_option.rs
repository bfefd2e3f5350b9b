use jwt_guard::use_jwt;
use rocket::get;

#[use_jwt(role = "admin", scope = "a", role = "user")]
#[get("/")]
fn handler() {}

fn main() {}
