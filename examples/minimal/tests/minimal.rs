//! The README's own-app example runs as written: login under `/api`, a protected
//! route, an admin-only route, refresh, and one error shape.

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
    let refreshed = client
        .post("/api/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": bob["refresh"] }).to_string())
        .dispatch()
        .await;
    assert_eq!(refreshed.status(), Status::Ok);
    // Nothing at the root, and the answer is JSON like every other.
    let root = client.post("/auth/token").dispatch().await;
    assert_eq!(root.status(), Status::NotFound);
    assert_eq!(body(root.into_string().await)["error"], "not_found");
    let _ = std::fs::remove_file(&db);
}
