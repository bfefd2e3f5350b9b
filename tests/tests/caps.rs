//! Nothing a client can repeat grows without bound: devices per user (default 50,
//! oldest evicted), device lists come in pages, and requests without a valid link
//! token write a bounded number of log rows.

use jwt_guard_tests::{json_body, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::Status;
use serde_json::{json, Value};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

storage_tests!(a_user_has_at_most_fifty_devices_by_default);

async fn a_user_has_at_most_fifty_devices_by_default(db: DbKind) {
    let Some(app) = TestApp::on(db, json!({ "secret": TEST_SECRET })).await else {
        return;
    };
    let first = app.login("alice").await;
    for _ in 0..51 {
        app.login("alice").await;
    }
    let active: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jwt_guard_devices WHERE subject = 'alice' AND revoked_at IS NULL",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or(-1);
    assert_eq!(active, 50);
    // The oldest went first, and its tokens with it.
    assert_eq!(
        app.get_with_token("/me", &s(&first["access"]))
            .await
            .status(),
        Status::Unauthorized
    );
    app.finish().await;
}

#[rocket::async_test]
async fn device_lists_come_in_pages() {
    let app = TestApp::with_jwt(json!({ "secret": TEST_SECRET, "device_page_size": 3 })).await;
    let mut access = String::new();
    for _ in 0..5 {
        access = s(&app.login("bob").await["access"]);
    }
    let res = app.get_with_token("/auth/devices?limit=100", &access).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.headers().get_one("X-Total-Count"), Some("5"));
    let next = res.headers().get_one("Link").unwrap_or_default().to_owned();
    assert_eq!(next, "</auth/devices?offset=3&limit=3>; rel=\"next\"");
    let page = json_body(res).await;
    assert_eq!(
        page.as_array().map(Vec::len),
        Some(3),
        "clamped to the page size"
    );
    let res = app.get_with_token("/auth/devices?offset=3", &access).await;
    assert!(res.headers().get_one("Link").is_none(), "the last page");
    let rest = json_body(res).await;
    assert_eq!(rest.as_array().map(Vec::len), Some(2));
    let current = page
        .as_array()
        .into_iter()
        .chain(rest.as_array())
        .flatten()
        .filter(|d| d["current"] == true)
        .count();
    assert_eq!(current, 1, "the caller's device is flagged once");
    let past = app.get_with_token("/auth/devices?offset=9", &access).await;
    assert_eq!(past.headers().get_one("X-Total-Count"), Some("5"));
    assert_eq!(json_body(past).await, json!([]));
}

#[rocket::async_test]
async fn garbage_link_requests_write_a_bounded_log() {
    let app = TestApp::hs256().await;
    for n in 0..100 {
        let res = app
            .client
            .get(format!("/newsletter/unsubscribe?token=not.a.token{n}"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_link_uses")
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1);
    assert!(
        (1..=30).contains(&logged),
        "{logged} rows for 100 garbage requests"
    );
    // A real link is still used and logged.
    let access = app.access_token("alice").await;
    let minted = json_body(
        app.send_with_token(rocket::http::Method::Post, "/links/unsubscribe", &access)
            .await,
    )
    .await;
    let url = s(&minted["url"]);
    let res = app
        .client
        .get(url[url.find("/newsletter").unwrap_or(0)..].to_owned())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let used: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_link_uses WHERE outcome = 'used'")
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(used, 1);
}
