//! The verify-only example: partner tokens with the scope reach `/orders`, others
//! are refused, and no database is opened.

#[allow(dead_code)] // `#[launch]` adds a `main` this test does not call
#[path = "../src/main.rs"]
mod server;

use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

const PARTNER_KEY: &str = include_str!("../../showcase/partner/demo-partner-key.pem");
const PARTNER_JWKS: &str = include_str!("../partner-jwks.json");

fn partner_token(scope: &str, audience: &str) -> String {
    let kid = serde_json::from_str::<serde_json::Value>(PARTNER_JWKS)
        .ok()
        .and_then(|jwks| jwks["keys"][0]["kid"].as_str().map(str::to_owned));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = kid;
    let now = jwt_guard::Clock::system().now();
    let claims = json!({
        "iss": "https://partner.example", "aud": audience, "sub": "pat",
        "iat": now, "exp": now + 300, "scope": scope,
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(PARTNER_KEY.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    jsonwebtoken::encode(&header, &claims, &key).unwrap_or_default()
}

#[rocket::async_test]
async fn partner_tokens_with_the_scope_reach_orders_and_nothing_is_stored() {
    // The example's own settings, with the JWKS given inline (the test runs from
    // any directory).
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge((
            "jwt.trusted_issuers",
            json!([{ "name": "partner", "issuer": "https://partner.example",
                 "audience": "resource-server", "jwks": PARTNER_JWKS }]),
        ));
    let rocket = server::rocket().configure(figment);
    let client = Client::untracked(rocket)
        .await
        .unwrap_or_else(|e| panic!("{:?}", e.kind()));
    assert!(
        client.rocket().state::<jwt_guard::store::JwtDb>().is_none(),
        "no database in verify-only mode"
    );
    let get = |token: String| {
        client
            .get("/orders")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
    };
    let ok = get(partner_token("orders:read profile", "resource-server")).await;
    assert_eq!(ok.status(), Status::Ok);
    let body: serde_json::Value =
        serde_json::from_str(&ok.into_string().await.unwrap_or_default()).unwrap_or_default();
    assert_eq!(body["customer"], "pat");
    assert_eq!(
        get(partner_token("profile", "resource-server"))
            .await
            .status(),
        Status::Forbidden
    );
    assert_eq!(
        get(partner_token("orders:read", "another-api"))
            .await
            .status(),
        Status::Unauthorized
    );
    assert_eq!(
        client.get("/orders").dispatch().await.status(),
        Status::Unauthorized
    );
    // No login route: nothing stateful is mounted.
    assert_eq!(
        client.post("/auth/token").dispatch().await.status(),
        Status::NotFound
    );
}
