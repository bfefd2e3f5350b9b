//! Routes mounted under a base path: the `Permanent-Token` rule and link URLs follow
//! the mount point, and an app without an authenticator still gets guards and links.

use jwt_guard::config::JwtConfig;
use jwt_guard::store::{DeviceDescription, NewDevice, Store};
use jwt_guard::{expiring_link, permanent_refresh, DeviceSession, JwtGuard, LinkUse, Links};
use jwt_guard_tests::{base_figment, json_body, temp_sqlite_url, TEST_SECRET};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::{get, post, routes, State};

#[permanent_refresh]
#[post("/device/refresh")]
fn refresh(device: DeviceSession) -> String {
    device.subject().to_owned()
}

#[post("/other")]
fn other() -> &'static str {
    "ran"
}

#[expiring_link(invite, max_uses = 2, ttl = "1h")]
#[get("/invite")]
fn accept(link: LinkUse) -> String {
    format!("{} #{}", link.subject(), link.use_number())
}

#[get("/mint")]
async fn mint(links: &State<Links>) -> String {
    links
        .mint::<invite>("carol")
        .await
        .map(|l| l.url)
        .unwrap_or_else(|e| e.to_string())
}

async fn client() -> Client {
    let figment = base_figment(&temp_sqlite_url());
    let rocket = rocket::custom(figment)
        .attach(JwtGuard::fairing().config(JwtConfig::hmac(TEST_SECRET)))
        .mount("/api/v1", routes![refresh, other, accept, mint]);
    Client::tracked(rocket)
        .await
        .unwrap_or_else(|e| panic!("launch failed: {:?}", e.kind()))
}

#[rocket::async_test]
async fn permanent_token_rule_follows_the_mount_point() {
    let client = client().await;
    let store = client
        .rocket()
        .state::<Store>()
        .unwrap_or_else(|| panic!("no store"));
    let new = NewDevice {
        subject: "dave".into(),
        description: DeviceDescription {
            name: "cli".into(),
            ..DeviceDescription::default()
        },
        ..NewDevice::default()
    };
    let (_, token) = store
        .create_device(new, store.clock().now())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let send = |path: &'static str| {
        client
            .post(path)
            .header(Header::new("Permanent-Token", token.expose().to_owned()))
            .dispatch()
    };
    let ok = send("/api/v1/device/refresh").await;
    assert_eq!(ok.status(), Status::Ok);
    assert_eq!(ok.into_string().await.as_deref(), Some("dave"));
    assert_eq!(send("/device/refresh").await.status(), Status::BadRequest);
    let refused = send("/api/v1/other").await;
    assert_eq!(refused.status(), Status::BadRequest);
    assert_eq!(json_body(refused).await["error"], "invalid_request");
    assert_eq!(
        client.post("/api/v1/other").dispatch().await.status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn link_urls_include_the_mount_point() {
    let client = client().await;
    let url = client
        .get("/api/v1/mint")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default();
    assert!(
        url.starts_with("http://127.0.0.1:8000/api/v1/invite?token="),
        "{url}"
    );
    let path = url.trim_start_matches("http://127.0.0.1:8000").to_owned();
    for n in 1..=2 {
        let res = client.get(path.clone()).dispatch().await;
        assert_eq!(res.status(), Status::Ok);
        assert_eq!(res.into_string().await, Some(format!("carol #{n}")));
    }
    assert_eq!(client.get(path).dispatch().await.status(), Status::Gone);
}
