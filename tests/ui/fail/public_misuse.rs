use jwt_guard::{expiring_link, public, use_jwt, LinkUse};
use rocket::get;

#[public]
#[use_jwt]
#[get("/both")]
fn public_above_a_guard() {}

#[use_jwt]
#[public]
#[get("/both-again")]
fn guard_above_public() {}

#[expiring_link]
#[public]
#[get("/link")]
fn link_and_public(_link: LinkUse) {}

#[public(always)]
#[get("/options")]
fn with_options() {}

#[get("/below")]
#[public]
fn below_the_route() {}

#[public]
struct NotAHandler;

fn main() {}
