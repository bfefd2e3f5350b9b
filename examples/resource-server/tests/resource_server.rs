//! The verify-only example: partner tokens with the scope reach `/orders`, others
//! are refused, and no database is opened.

#[allow(dead_code)] // its `main` is not called here
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
        "iss": "http://127.0.0.1:8000/partner", "aud": audience, "sub": "pat",
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
            json!([{ "name": "partner", "issuer": "http://127.0.0.1:8000/partner",
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
    // No keys of its own to publish, and it says so (not "HMAC": it has none).
    let jwks = client.get("/.well-known/jwks.json").dispatch().await;
    assert_eq!(jwks.status(), Status::NotFound);
    let said = jwks.into_string().await.unwrap_or_default();
    assert!(said.contains("no keys of its own"), "{said}");
    assert!(!said.contains("HMAC"), "{said}");
}

/// From a directory with no configuration, the example stops with one line that
/// fits an app that only verifies (no "set a secret"), and no panic.
#[test]
fn with_no_configuration_it_says_what_a_verify_only_app_needs() {
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_resource-server"));
    let dir = std::env::temp_dir().join(format!("resource-server-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(binary)
        .current_dir(&dir)
        .env_remove("ROCKET_JWT")
        .env_remove("ROCKET_CONFIG")
        .env("ROCKET_PORT", "0")
        .env("ROCKET_CLI_COLORS", "false")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!said.contains("panicked"), "{said}");
    assert!(
        said.contains("a verify-only app needs keys to verify with"),
        "{said}"
    );
    assert!(said.contains("jwt.trusted_issuers"), "{said}");
    assert!(!said.contains("set e.g."), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
