use jwt_guard::{expiring_link, LinkUse};
use rocket::{get, post};

#[expiring_link(unsubscribe, max_uses = 0, ttl = "7 fortnights")]
#[get("/unsubscribe")]
fn zero_uses(link: LinkUse) -> String {
    link.subject().to_owned()
}

#[expiring_link(verify, max_use = 3, ttl = "1d", ttl = "2d")]
#[get("/verify")]
fn typo(link: LinkUse) -> String {
    link.subject().to_owned()
}

#[get("/below")]
#[expiring_link(below)]
fn below() {}

#[expiring_link(dynamic)]
#[get("/items/<id>/share")]
fn dynamic(id: u32) -> String {
    id.to_string()
}

#[expiring_link(confirmed, confirm)]
#[get("/confirm")]
fn confirm_on_get() {}

#[expiring_link(fine, confirm)]
#[post("/fine")]
fn fine() {}

fn main() {}
