use jwt_guard::permanent_refresh;
use rocket::post;

#[permanent_refresh(window = "7d")]
#[post("/refresh")]
fn with_options() {}

#[post("/below")]
#[permanent_refresh]
fn below() {}

#[permanent_refresh]
const NOT_A_HANDLER: u8 = 1;

fn main() {}
