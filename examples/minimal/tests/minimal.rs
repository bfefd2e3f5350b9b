//! The README's own-app example (compiled from the README's text by `build.rs`)
//! runs: users from its own table, login under `/api`, a protected route, an
//! admin-only route, both refreshes, and one error shape for every refusal.

#[allow(dead_code)] // `#[launch]` adds a `main` this test does not call
#[path = "../src/main.rs"]
mod minimal;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

#[rocket::async_test]
async fn the_minimal_app_logs_in_protects_and_refreshes_under_api() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let db = std::env::temp_dir().join(format!("minimal-{}-{nanos}.sqlite", std::process::id()));
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge((
            "databases.jwt_guard.url",
            format!("sqlite://{}", db.display()),
        ));
    let client = Client::untracked(minimal::rocket().configure(figment))
        .await
        .unwrap_or_else(|e| panic!("{:?}", e.kind()));
    let body = |text: Option<String>| -> Value {
        serde_json::from_str(&text.unwrap_or_default()).unwrap_or(Value::Null)
    };
    let login = |user: &'static str| {
        client
            .post("/api/auth/token")
            .header(ContentType::JSON)
            .body(json!({ "username": user, "password": format!("{user}-password") }).to_string())
            .dispatch()
    };
    let ada = body(login("ada").await.into_string().await);
    let bob = body(login("bob").await.into_string().await);
    let get = |path: &'static str, token: &Value| {
        client
            .get(path)
            .header(Header::new(
                "Authorization",
                format!("Bearer {}", token.as_str().unwrap_or_default()),
            ))
            .dispatch()
    };
    let me = get("/api/me", &ada["access"]).await;
    assert_eq!(me.status(), Status::Ok);
    assert_eq!(me.into_string().await.unwrap_or_default(), "hello, ada");
    assert_eq!(get("/api/admin", &ada["access"]).await.status(), Status::Ok);
    assert_eq!(
        get("/api/admin", &bob["access"]).await.status(),
        Status::Forbidden
    );
    // Wrong password and unknown user: the same 401.
    for (user, password) in [("ada", "wrong"), ("nobody", "nobody-password")] {
        let refused = client
            .post("/api/auth/token")
            .header(ContentType::JSON)
            .body(json!({ "username": user, "password": password }).to_string())
            .dispatch()
            .await;
        assert_eq!(refused.status(), Status::Unauthorized, "{user}");
        assert_eq!(
            body(refused.into_string().await)["error"],
            "invalid_credentials"
        );
    }
    let refreshed = client
        .post("/api/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": bob["refresh"] }).to_string())
        .dispatch()
        .await;
    assert_eq!(refreshed.status(), Status::Ok);
    // The device's permanent token, at the app's `#[permanent_refresh]` route:
    // a new access token (with the user's claims from the table) and the next
    // permanent token; the one presented is spent.
    let permanent = ada["permanent_token"].as_str().unwrap_or_default();
    assert!(!permanent.is_empty(), "{ada}");
    let device = |token: String| {
        client
            .post("/api/auth/device/refresh")
            .header(Header::new("Permanent-Token", token))
            .dispatch()
    };
    let renewed = device(permanent.to_owned()).await;
    assert_eq!(renewed.status(), Status::Ok);
    let renewed = body(renewed.into_string().await);
    assert_eq!(
        get("/api/admin", &renewed["access"]).await.status(),
        Status::Ok
    );
    assert_ne!(renewed["permanent_token"], ada["permanent_token"]);
    let reused = device(permanent.to_owned()).await;
    assert_eq!(reused.status(), Status::Unauthorized);
    // Nothing at the root, and the answer is JSON like every other.
    let root = client.post("/auth/token").dispatch().await;
    assert_eq!(root.status(), Status::NotFound);
    assert_eq!(body(root.into_string().await)["error"], "not_found");
    let _ = std::fs::remove_file(&db);
}
