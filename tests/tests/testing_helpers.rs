//! `jwt_guard::testing` against a real app: minted tokens pass the app's guards
//! exactly as issued ones do, and each ready-made bad token gets its 401.

use jwt_guard::testing::TestTokens;
use jwt_guard::Clock;
use jwt_guard_tests::app::Role;
use jwt_guard_tests::{temp_sqlite_url, TestApp, TEST_SECRET};
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn minted_tokens_meet_the_apps_policies() {
    let app = TestApp::hs256().await;
    let tokens = app.tokens();
    let status = |path: &'static str, token: String| {
        let app = &app;
        async move { app.get_with_token(path, &token).await.status() }
    };
    let admin = tokens.access("root").roles([Role::Admin]).scope("").mint();
    assert_eq!(status("/admin/stats", admin).await, Status::Ok);
    let user = tokens.access("ann").roles([Role::User]).scope("").mint();
    assert_eq!(status("/admin/stats", user).await, Status::Forbidden);
    let reader = tokens
        .access("ann")
        .roles([Role::User])
        .scope("reports:read")
        .mint();
    assert_eq!(status("/reports", reader).await, Status::Ok);
    let other = tokens
        .access("ann")
        .roles([Role::User])
        .scope("profile")
        .mint();
    assert_eq!(status("/reports", other).await, Status::Forbidden);
    let me = app
        .get_with_token(
            "/me",
            &tokens
                .access("ann")
                .claims(&jwt_guard_tests::app::AppClaims {
                    roles: vec![Role::User],
                    scope: "profile".parse().unwrap_or_default(),
                })
                .mint(),
        )
        .await;
    assert_eq!(jwt_guard_tests::json_body(me).await["sub"], "ann");
}

#[rocket::async_test]
async fn every_ready_made_bad_token_is_refused() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "issuer": "https://app.example",
        "audience": "app",
    }))
    .await;
    let tokens = app.tokens();
    let good = tokens.access("ann").roles([Role::User]).scope("").mint();
    assert_eq!(app.get_with_token("/me", &good).await.status(), Status::Ok);
    for (what, token) in [
        ("expired", tokens.expired("ann")),
        ("not yet valid", tokens.not_yet_valid("ann")),
        ("issued in the future", tokens.issued_in_the_future("ann")),
        ("wrong key", tokens.wrong_key("ann")),
        ("wrong audience", tokens.wrong_audience("ann")),
        ("tampered", tokens.tampered("ann")),
        ("refresh as access", tokens.refresh_as_access("ann")),
        ("malformed", TestTokens::malformed()),
    ] {
        let res = app.get_with_token("/me", &token).await;
        assert_eq!(res.status(), Status::Unauthorized, "{what}");
        let body = jwt_guard_tests::json_body(res).await;
        assert_eq!(body["error"], "invalid_token", "{what}: {body}");
    }
}

#[rocket::async_test]
async fn a_fixed_clock_expires_tokens_without_sleeping() {
    let clock = Clock::fixed(1_900_000_000);
    let app = TestApp::start_on(
        &temp_sqlite_url(),
        json!({ "secret": TEST_SECRET }),
        clock.clone(),
    )
    .await;
    let token = app
        .tokens()
        .access("ann")
        .roles([Role::User])
        .scope("")
        .ttl(60)
        .mint();
    assert_eq!(app.get_with_token("/me", &token).await.status(), Status::Ok);
    clock.advance(59);
    assert_eq!(app.get_with_token("/me", &token).await.status(), Status::Ok);
    clock.advance(1);
    assert_eq!(
        app.get_with_token("/me", &token).await.status(),
        Status::Unauthorized
    );
    // Logging in through the built-in route works on the same clock.
    let login = jwt_guard::testing::login(&app.client, "alice", "alice-password").await;
    assert_eq!(
        login.tokens.expires_in,
        app.runtime().config().access_ttl.as_secs()
    );
}
