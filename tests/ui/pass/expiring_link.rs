//! `#[expiring_link]` in its forms, and typed minting.
#![deny(warnings, missing_docs, unused_qualifications)]

use jwt_guard::{expiring_link, LinkUse, Links};
use jwt_guard::link::MintOptions;
use rocket::{get, post, routes, State};

#[expiring_link(unsubscribe, max_uses = 1, ttl = "7d")]
#[get("/newsletter/unsubscribe")]
fn unsubscribe(link: LinkUse) -> String {
    link.subject().to_owned()
}

#[expiring_link(share, max_uses = unlimited, ttl = "1h")]
#[get("/share?<page>")]
async fn share_page(page: Option<u32>, link: LinkUse) -> String {
    format!("{} {page:?} {}", link.subject(), link.use_number())
}

#[expiring_link(magic, login, confirm)]
#[post("/magic")]
fn magic(link: LinkUse) -> String {
    link.login().map(|l| l.device_id.clone()).unwrap_or_default()
}

#[expiring_link(confirm)]
#[post("/confirm")]
fn confirm(link: LinkUse) -> String {
    link.target().to_owned()
}

#[get("/mint")]
async fn mint(links: &State<Links>) -> String {
    let a = links.mint::<unsubscribe>("alice").await.map(|l| l.url);
    let b = links
        .mint_with::<share>("bob", MintOptions { ttl: Some(60), max_uses: Some(Some(3)) })
        .await
        .map(|l| l.url);
    let c = links.mint::<magic>("carol").await.map(|l| l.url);
    let d = links.mint::<confirm>("dave").await.map(|l| l.url);
    format!("{a:?} {b:?} {c:?} {d:?}")
}

/// Mounts them.
pub fn main() {
    let _ = rocket::build().mount("/", routes![unsubscribe, share_page, magic, confirm, mint]);
}
