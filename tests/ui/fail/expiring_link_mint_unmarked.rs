use jwt_guard::Links;
use rocket::get;

#[get("/plain")]
fn plain() {}

async fn mint(links: &Links) {
    let _ = links.mint::<plain>("alice").await;
}

fn main() {
    let _ = mint;
}
