use jwt_guard::{expiring_link, LinkUse};
use rocket::{get, post};

// A link that logs in must not be usable by a GET: mail scanners and link previews
// open every link they see.
#[expiring_link(magic, login)]
#[get("/magic")]
fn magic(link: LinkUse) -> String {
    link.subject().to_owned()
}

// The fix: `confirm` on a POST route (jwt-guard serves the GET confirmation page).
#[expiring_link(magic_confirmed, login, confirm)]
#[post("/magic-confirmed")]
fn magic_confirmed(link: LinkUse) -> String {
    link.subject().to_owned()
}

fn main() {}
