//! Nothing a client can repeat grows without bound: devices per user (default 50,
//! oldest evicted), device lists come in pages, and requests without a valid link
//! token write a bounded number of log rows.

use jwt_guard_tests::{json_body, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

storage_tests!(
    a_user_has_at_most_fifty_devices_by_default,
    logins_at_once_never_pass_the_device_cap,
);

/// Twelve logins of one user at once against a cap of three: exactly three get a
/// device when the cap rejects, and three devices are left when it evicts. (On
/// PostgreSQL a login below the cap is one statement whose count is taken under
/// the subject's lock with a snapshot of its own: a login that committed while
/// another waited must be counted.)
async fn logins_at_once_never_pass_the_device_cap(db: DbKind) {
    for policy in ["reject", "evict_oldest"] {
        let jwt = json!({
            "secret": TEST_SECRET,
            "max_devices": 3,
            "device_cap_policy": policy,
            "login_throttle": { "ip_attempts": 1000, "account_attempts": 1000 },
        });
        let Some(app) = TestApp::on(db, jwt).await else {
            return;
        };
        let logins = (0..12).map(|_| {
            app.client
                .post("/auth/token")
                .header(ContentType::JSON)
                .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
                .dispatch()
        });
        let statuses: Vec<u16> = rocket::futures::future::join_all(logins)
            .await
            .iter()
            .map(|r| r.status().code)
            .collect();
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jwt_guard_devices WHERE subject = 'alice' AND revoked_at IS NULL",
        )
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1);
        assert_eq!(live, 3, "{policy}: live devices after {statuses:?}");
        let signed_in = statuses.iter().filter(|c| **c == 200).count();
        if policy == "reject" {
            assert_eq!(signed_in, 3, "{statuses:?}");
            assert!(
                statuses.iter().all(|c| *c == 200 || (400..500).contains(c)),
                "a refused login is a 4xx, never a server error: {statuses:?}"
            );
        } else {
            assert_eq!(signed_in, 12, "{statuses:?}");
        }
        app.finish().await;
    }
}

async fn a_user_has_at_most_fifty_devices_by_default(db: DbKind) {
    let Some(app) = TestApp::on(db, json!({ "secret": TEST_SECRET })).await else {
        return;
    };
    let first = app.login("alice").await;
    // Devices are ordered by the second they were last used: the first is older
    // than the rest by a second, not by the order of logins within one.
    app.clock.advance(1);
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
