//! The token routes and `#[use_jwt]` guards over HTTP, on the test app.

use jwt_guard_tests::{challenge, json_body, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Status};
use serde_json::json;

#[rocket::async_test]
async fn login_returns_a_token_pair() {
    let app = TestApp::hs256().await;
    let body = app.login("alice").await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert!(body["access"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert!(body["refresh"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
}

#[rocket::async_test]
async fn bad_credentials_are_refused_without_saying_which_part_was_wrong() {
    let app = TestApp::hs256().await;
    let wrong_password = app
        .post_json(
            "/auth/token",
            json!({"username": "alice", "password": "nope"}),
        )
        .await;
    assert_eq!(wrong_password.status(), Status::Unauthorized);
    let a = json_body(wrong_password).await;
    let unknown_user = app
        .post_json(
            "/auth/token",
            json!({"username": "mallory", "password": "nope"}),
        )
        .await;
    assert_eq!(unknown_user.status(), Status::Unauthorized);
    let b = json_body(unknown_user).await;
    assert_eq!(a, b, "both failures must look the same");
    assert_eq!(a["error"], "invalid_credentials");
}

#[rocket::async_test]
async fn me_needs_a_valid_token() {
    let app = TestApp::hs256().await;
    let token = app.access_token("alice").await;

    let ok = app.get_with_token("/me", &token).await;
    assert_eq!(ok.status(), Status::Ok);
    assert_eq!(json_body(ok).await["sub"], "alice");

    let none = app.client.get("/me").dispatch().await;
    assert_eq!(none.status(), Status::Unauthorized);
    let c = challenge(&none);
    // No error when no token was sent (RFC 6750 §3.1): the bare challenge.
    assert_eq!(c, "Bearer realm=\"jwt-guard\"");

    let bad = app.get_with_token("/me", "not.a.token").await;
    assert_eq!(bad.status(), Status::Unauthorized);
    assert!(challenge(&bad).contains("error=\"invalid_token\""));
    assert_eq!(json_body(bad).await["error"], "invalid_token");
}

#[rocket::async_test]
async fn admin_route_needs_the_admin_role() {
    let app = TestApp::hs256().await;
    let alice = app.access_token("alice").await;
    let res = app.get_with_token("/admin/stats", &alice).await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(challenge(&res).contains("error=\"insufficient_scope\""));
    let body = json_body(res).await;
    assert_eq!(body["error"], "insufficient_scope");
    // The role is named as tokens carry it (`#[serde(rename_all = "lowercase")]`).
    assert_eq!(body["error_description"], "the role `admin` is required");

    let admin = app.access_token("admin").await;
    let res = app.get_with_token("/admin/stats", &admin).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_body(res).await["requested_by"], "admin");
}

#[rocket::async_test]
async fn scope_route_names_the_missing_scope() {
    let app = TestApp::hs256().await;
    let bob = app.access_token("bob").await;
    let res = app.get_with_token("/reports", &bob).await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(
        challenge(&res).contains("scope=\"reports:read\""),
        "{}",
        challenge(&res)
    );
    assert_eq!(
        json_body(res).await["error_description"],
        "the scope `reports:read` is required"
    );

    let alice = app.access_token("alice").await;
    assert_eq!(
        app.get_with_token("/reports", &alice).await.status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn optional_route_runs_without_a_token_but_refuses_a_bad_one() {
    let app = TestApp::hs256().await;
    let anon = app.client.get("/hello").dispatch().await;
    assert_eq!(anon.status(), Status::Ok);
    assert_eq!(anon.into_string().await.as_deref(), Some("hello, stranger"));

    let alice = app.access_token("alice").await;
    let named = app.get_with_token("/hello", &alice).await;
    assert_eq!(named.into_string().await.as_deref(), Some("hello, alice"));

    let bad = app
        .get_with_token("/hello", "garbage.garbage.garbage")
        .await;
    assert_eq!(bad.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn the_jwt_scheme_is_accepted_when_configured() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "header_prefixes": ["Bearer", "JWT"],
    }))
    .await;
    let token = app.access_token("alice").await;
    let res = app
        .client
        .get("/me")
        .header(Header::new("Authorization", format!("JWT {token}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

#[rocket::async_test]
async fn authorization_header_forms() {
    let app = TestApp::hs256().await;
    let token = app.access_token("alice").await;
    let send = |value: String| {
        app.client
            .get("/me")
            .header(Header::new("Authorization", value))
            .dispatch()
    };
    assert_eq!(send(format!("bearer {token}")).await.status(), Status::Ok);
    // djangorestframework-jwt's `JWT` scheme is off by default (RFC 6750 says
    // `Bearer`): such a header is as good as none.
    let jwt_scheme = send(format!("JWT {token}")).await;
    assert_eq!(jwt_scheme.status(), Status::Unauthorized);
    assert_eq!(challenge(&jwt_scheme), "Bearer realm=\"jwt-guard\"");
    // … but the body says what to do about it.
    let hint = json_body(jwt_scheme).await;
    assert_eq!(hint["error"], "missing_token");
    let hint = hint["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        hint.contains("`JWT`") && hint.contains("jwt.header_prefixes"),
        "{hint}"
    );

    let basic = send("Basic YWxpY2U6eA==".into()).await;
    assert_eq!(basic.status(), Status::Unauthorized);
    assert_eq!(challenge(&basic), "Bearer realm=\"jwt-guard\"");

    let empty = send("Bearer ".into()).await;
    assert_eq!(empty.status(), Status::BadRequest);
    assert_eq!(json_body(empty).await["error"], "invalid_request");

    let junk = send(format!("Bearer {token} extra")).await;
    assert_eq!(junk.status(), Status::BadRequest);

    let binaryish = send("Bearer \u{7f}\u{1}abc".into()).await;
    assert!(binaryish.status().code >= 400 && binaryish.status().code < 500);

    let twice = app
        .client
        .get("/me")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(twice.status(), Status::BadRequest);
}

#[rocket::async_test]
async fn oversized_token_is_refused() {
    let app = TestApp::hs256().await;
    let huge = "a".repeat(9 * 1024);
    let res = app.get_with_token("/me", &huge).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_body(res).await["error_description"],
        "token is too large"
    );
}

#[rocket::async_test]
async fn refresh_returns_a_new_pair_and_keeps_kinds_apart() {
    let app = TestApp::hs256().await;
    let pair = app.login("alice").await;
    let refresh = pair["refresh"].as_str().unwrap_or_default();
    let access = pair["access"].as_str().unwrap_or_default();

    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let new = json_body(res).await;
    let new_access = new["access"].as_str().unwrap_or_default();
    assert_ne!(new_access, access);
    assert_eq!(
        app.get_with_token("/me", new_access).await.status(),
        Status::Ok
    );

    let wrong = app
        .post_json("/auth/token/refresh", json!({ "refresh": access }))
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    assert_eq!(
        json_body(wrong).await["error_description"],
        "a refresh token is required"
    );

    let as_access = app.get_with_token("/me", refresh).await;
    assert_eq!(as_access.status(), Status::Unauthorized);
    assert_eq!(
        json_body(as_access).await["error_description"],
        "an access token is required"
    );
}

#[rocket::async_test]
async fn refresh_is_bounded_by_the_window_since_login() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET, "refresh_ttl": "30d", "refresh_window": "2d",
    }))
    .await;
    let pair = app.login("alice").await;
    let refresh = pair["refresh"].as_str().unwrap_or_default().to_owned();
    app.clock.advance(24 * 3600);
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let second = json_body(res).await["refresh"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.clock.advance(2 * 24 * 3600);
    let late = app
        .post_json("/auth/token/refresh", json!({ "refresh": second }))
        .await;
    assert_eq!(late.status(), Status::Unauthorized);
    assert!(json_body(late).await["error_description"]
        .as_str()
        .is_some_and(|d| d.contains("refresh window")));
}

#[rocket::async_test]
async fn expiry_applies_even_to_a_token_verified_before() {
    let app = TestApp::hs256().await;
    let token = app.access_token("alice").await;
    assert_eq!(app.get_with_token("/me", &token).await.status(), Status::Ok);
    app.clock.advance(301);
    let res = app.get_with_token("/me", &token).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_body(res).await["error_description"],
        "token has expired"
    );
}

#[rocket::async_test]
async fn verify_endpoint() {
    let app = TestApp::hs256().await;
    let pair = app.login("alice").await;
    let res = app
        .post_json("/auth/token/verify", json!({ "token": pair["access"] }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    assert_eq!(body, json!({ "valid": true }), "nothing more by default");
    let revealing =
        TestApp::with_jwt(json!({ "secret": TEST_SECRET, "verify_reveals_claims": true })).await;
    let pair2 = revealing.login("alice").await;
    let res = revealing
        .post_json("/auth/token/verify", json!({ "token": pair2["access"] }))
        .await;
    let body = json_body(res).await;
    assert_eq!(body["sub"], "alice", "revealed when configured");
    assert!(body["exp"].is_number());

    let refresh = app
        .post_json("/auth/token/verify", json!({ "token": pair["refresh"] }))
        .await;
    assert_eq!(refresh.status(), Status::Unauthorized);
    let junk = app
        .post_json("/auth/token/verify", json!({ "token": "x" }))
        .await;
    assert_eq!(junk.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn malformed_bodies_get_a_clear_400() {
    let app = TestApp::hs256().await;
    for body in [
        "{",
        "[]",
        "{\"username\": 5}",
        "",
        "null",
        "{\"refresh\": null}",
    ] {
        for path in ["/auth/token", "/auth/token/refresh", "/auth/token/verify"] {
            let res = app
                .client
                .post(path)
                .header(ContentType::JSON)
                .body(body)
                .dispatch()
                .await;
            // A refresh with no body (a browser's, through its cookie) or a body
            // that reads as one without a token (serde takes an empty array for a
            // struct of optional fields) carries no credential: 401, as `{}` does.
            let no_token = path == "/auth/token/refresh"
                && ["", "[]", "{\"refresh\": null}", "{\"username\": 5}"].contains(&body);
            let (status, code) = match no_token {
                true => (Status::Unauthorized, "missing_token"),
                false => (Status::BadRequest, "invalid_request"),
            };
            assert_eq!(res.status(), status, "{path} with {body:?}");
            assert_eq!(json_body(res).await["error"], code, "{path} with {body:?}");
        }
    }
    let long = "x".repeat(2000);
    let res = app
        .post_json(
            "/auth/token",
            json!({"username": "alice", "password": long}),
        )
        .await;
    assert_eq!(res.status(), Status::BadRequest);
}

#[rocket::async_test]
async fn jwks_is_absent_for_hmac_keys() {
    let app = TestApp::hs256().await;
    let res = app.client.get("/.well-known/jwks.json").dispatch().await;
    assert_eq!(res.status(), Status::NotFound);
}

#[rocket::async_test]
async fn login_records_last_login_through_the_authenticator() {
    use rocket_db_pools::Database;
    let app = TestApp::hs256().await;
    app.login("bob").await;
    let db = jwt_guard::store::JwtDb::fetch(app.client.rocket()).unwrap_or_else(|| panic!("no db"));
    let last: Option<i64> =
        sqlx::query_scalar("SELECT last_login FROM app_users WHERE username = $1")
            .bind("bob")
            .fetch_one(&**db.pool())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(last.is_some_and(|t| t > 0));
}

#[rocket::async_test]
async fn a_genuine_token_whose_claims_do_not_fit_says_which_claim() {
    let app = TestApp::hs256().await;
    let now = jwt_guard_tests::now();
    let sign = |claims: &serde_json::Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .unwrap_or_default()
    };
    // Positive control: the app's claims fit.
    let full = jwt_guard_tests::access_claims("alice", now);
    assert_eq!(
        app.get_with_token("/me", &sign(&full)).await.status(),
        Status::Ok
    );
    // Signed with the app's key, but minted without `roles` (by hand, say).
    let mut without_roles = full.clone();
    without_roles.as_object_mut().map(|o| o.remove("roles"));
    let res = app.get_with_token("/me", &sign(&without_roles)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body = json_body(res).await;
    assert_eq!(
        body["error_description"],
        "the token's claims do not match `AppClaims`: missing field `roles`"
    );
    // Forged with another key: still only "invalid", nothing about its claims.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &without_roles,
        &jsonwebtoken::EncodingKey::from_secret(b"another secret of at least 32 bytes!!"),
    )
    .unwrap_or_default();
    let res = app.get_with_token("/me", &forged).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body = json_body(res).await;
    assert!(
        !body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("roles"),
        "{body}"
    );
    app.finish().await;
}

#[rocket::async_test]
async fn bad_input_is_a_400_that_names_what_is_wrong() {
    let app = TestApp::hs256().await;
    // A login body without its password names the field, and no value.
    let res = app
        .post_json("/auth/token", json!({ "username": "alice" }))
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    let body = json_body(res).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .ends_with("missing field `password`"),
        "{body}"
    );
    // Query parameters that are not numbers are refused, not ignored.
    let alice = app.access_token("alice").await;
    assert_eq!(
        app.get_with_token("/auth/devices?limit=2", &alice)
            .await
            .status(),
        Status::Ok
    );
    let res = app.get_with_token("/auth/devices?limit=abc", &alice).await;
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(
        json_body(res).await["error_description"],
        "`limit` must be a whole number"
    );
    // A parameter given twice is refused, not read as absent (Rocket's way).
    let res = app
        .get_with_token("/auth/devices?offset=1&offset=2", &alice)
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(
        json_body(res).await["error_description"],
        "`offset` is given more than once"
    );
    for query in [
        "keep_current=maybe",
        "keep_current=",
        "keep_current=true&keep_current=true",
    ] {
        let res = app
            .client
            .post(format!("/auth/logout-all?{query}"))
            .header(Header::new("Authorization", format!("Bearer {alice}")))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::BadRequest, "{query}");
    }
    // Nothing was logged out by the refused request.
    assert_eq!(app.get_with_token("/me", &alice).await.status(), Status::Ok);
    app.finish().await;
}
