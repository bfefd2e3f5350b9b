use jwt_guard::use_jwt;
use rocket::get;

// `acr` takes the accepted authentication classes as one string.
#[use_jwt(acr = 2)]
#[get("/a")]
fn number() {}

#[use_jwt(acr = "  ")]
#[get("/b")]
fn empty() {}

#[use_jwt(acr = "urn:ok has\"quote")]
#[get("/c")]
fn quoted() {}

fn main() {}
