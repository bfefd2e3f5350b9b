//! Expiring links over HTTP, on SQLite and on PostgreSQL: one use at a time under
//! a 50-way race, every attempt logged, cross-target and cross-kind refusals,
//! revocation after issue, the scanner-safe confirmation flow and magic login.

use jwt_guard_tests::{json_body, parts, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::{Header, Method, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

fn jwt() -> Value {
    // Behind a reverse proxy at 192.0.2.1, whose `X-Real-IP` is believed.
    json!({ "secret": TEST_SECRET, "trusted_proxies": ["192.0.2.1"] })
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The path and query of a minted URL (the client talks to the app directly).
fn local(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.find('/')
        .map(|i| rest[i..].to_owned())
        .unwrap_or_default()
}

fn token_of(url: &str) -> String {
    url.split("token=").nth(1).unwrap_or_default().to_owned()
}

async fn mint(app: &TestApp, path: &str, access: &str) -> Value {
    let res = app.send_with_token(Method::Post, path, access).await;
    assert_eq!(res.status(), Status::Ok, "minting at {path}");
    json_body(res).await
}

async fn open<'a>(app: &'a TestApp, url: &str) -> LocalResponse<'a> {
    app.client
        .get(local(url))
        .header(Header::new("User-Agent", "link-test/1.0"))
        // As a reverse proxy at 192.0.2.1 (a trusted one) forwards it.
        .remote("192.0.2.1:4000".parse().unwrap_or_else(|e| panic!("{e}")))
        .header(Header::new("X-Real-IP", "198.51.100.7"))
        .dispatch()
        .await
}

/// The confirm page's button: a POST of the link URL.
async fn confirm<'a>(app: &'a TestApp, url: &str) -> LocalResponse<'a> {
    app.client
        .post(local(url))
        .header(Header::new("User-Agent", "link-test/1.0"))
        .dispatch()
        .await
}

async fn use_count(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar("SELECT use_count FROM jwt_guard_links WHERE id = $1")
        .bind(id.to_owned())
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1)
}

fn assert_link_headers(res: &LocalResponse<'_>) {
    assert_eq!(
        res.headers().get_one("Referrer-Policy"),
        Some("no-referrer")
    );
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
}

storage_tests!(
    one_time_link_works_once_then_is_gone,
    head_requests_and_previews_never_use_a_link,
    logging_out_everywhere_or_revoking_a_user_kills_their_links,
    fifty_concurrent_uses_succeed_exactly_once,
    links_are_bound_to_their_target,
    links_and_session_tokens_never_stand_in_for_each_other,
    tampered_and_missing_tokens_are_refused_and_logged,
    expired_and_revoked_links_are_gone,
    scanner_safe_links_are_used_only_by_the_button,
    magic_login_link_creates_a_device,
    admins_read_the_log_of_a_link,
    archiver_purges_old_links_and_log_rows,
    the_log_records_what_the_handler_answered,
);

/// A use's log row carries the handler's own answer: on PostgreSQL it is written
/// with the use (as 200, in the one statement that counts it) and corrected when
/// the handler answers otherwise; on SQLite written after the answer.
async fn the_log_records_what_the_handler_answered(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let links = app
        .client
        .rocket()
        .state::<jwt_guard::Links>()
        .unwrap_or_else(|| panic!("Links is not managed"));
    let minted = links
        .mint::<jwt_guard_tests::app::queued>("alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..2 {
        assert_eq!(open(&app, &minted.url).await.status(), Status::Accepted);
    }
    assert_eq!(open(&app, &minted.url).await.status(), Status::Gone);
    let uses = app.store().link_uses(&minted.id).await.unwrap_or_default();
    let summary: Vec<(String, u16, Option<u32>)> = uses
        .iter()
        .map(|u| (u.outcome.clone(), u.status, u.use_number))
        .collect();
    assert_eq!(
        summary,
        [
            ("used".to_owned(), 202, Some(1)),
            ("used".to_owned(), 202, Some(2)),
            ("used_up".to_owned(), 410, None),
        ]
    );
    assert_eq!(uses[0].ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(uses[0].user_agent.as_deref(), Some("link-test/1.0"));
    app.finish().await;
}

/// Rocket writes each request's URI, query included, to its log after the request
/// fairings ran: jwt-guard's fairing takes a link's token out of the URI first, so
/// the handler and the log see the path and the app's other parameters only
/// (`tests/tests/tracing.rs` reads the log itself).
#[rocket::async_test]
async fn the_token_leaves_the_uri_before_anything_logs_it() {
    let app = TestApp::hs256().await;
    let access = app.access_token("alice").await;
    let minted = mint(&app, "/links/unsubscribe", &access).await;
    let token = token_of(&s(&minted["url"]));
    let res = app
        .client
        .get(format!(
            "/newsletter/unsubscribe?utm=mail&token={token}&ref=2"
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    assert_eq!(body["unsubscribed"], "alice");
    assert_eq!(body["uri"], "/newsletter/unsubscribe?utm=mail&ref=2");
    // Used once, as before: the token taken out still counts.
    let again = app
        .client
        .get(format!("/newsletter/unsubscribe?token={token}"))
        .dispatch()
        .await;
    assert_eq!(again.status(), Status::Gone);
}

async fn one_time_link_works_once_then_is_gone(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let minted = mint(&app, "/links/unsubscribe", &access).await;
    let url = s(&minted["url"]);
    assert!(
        url.starts_with("http://127.0.0.1:8000/newsletter/unsubscribe?token="),
        "{url}"
    );
    assert_eq!(minted["max_uses"], 1);
    let (_, claims) = parts(&token_of(&url));
    assert_eq!(claims["typ"], "link");
    assert_eq!(claims["aud"], "unsubscribe");
    assert_eq!(claims["jti"], minted["id"]);

    let first = open(&app, &url).await;
    assert_eq!(first.status(), Status::Ok);
    assert_link_headers(&first);
    assert_eq!(json_body(first).await["unsubscribed"], "alice");

    let again = open(&app, &url).await;
    assert_eq!(again.status(), Status::Gone);
    assert_link_headers(&again);
    assert_eq!(json_body(again).await["error"], "link_gone");
    assert_eq!(use_count(&app, &s(&minted["id"])).await, 1);
    app.finish().await;
}

async fn fifty_concurrent_uses_succeed_exactly_once(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("bob").await;
    let minted = mint(&app, "/links/unsubscribe", &access).await;
    let path = local(&s(&minted["url"]));
    let requests = (0..50).map(|_| app.client.get(path.clone()).dispatch());
    let responses = rocket::futures::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().code).collect();
    assert_eq!(
        statuses.iter().filter(|c| **c == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|c| **c == 410).count(),
        49,
        "{statuses:?}"
    );
    drop(responses);
    assert_eq!(use_count(&app, &s(&minted["id"])).await, 1);
    let logged: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_link_uses WHERE link_id = $1")
            .bind(s(&minted["id"]))
            .fetch_one(app.pool())
            .await
            .unwrap_or(-1);
    assert_eq!(logged, 50, "every attempt is logged");
    app.finish().await;
}

async fn links_are_bound_to_their_target(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let unsubscribe = s(&mint(&app, "/links/unsubscribe", &access).await["url"]);
    let verify = s(&mint(&app, "/links/verify-email", &access).await["url"]);
    assert!(verify.contains("/links/verify-email?token="));

    let crossed = format!("/links/verify-email?token={}", token_of(&unsubscribe));
    let res = app.client.get(crossed).dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(json_body(res).await["error"], "invalid_link");
    let crossed = format!("/newsletter/unsubscribe?token={}", token_of(&verify));
    assert_eq!(
        app.client.get(crossed).dispatch().await.status(),
        Status::Forbidden
    );
    // A magic-login link cannot unsubscribe either.
    let magic = app
        .post_json("/links/magic-login", json!({ "username": "alice" }))
        .await;
    let magic = s(&json_body(magic).await["url"]);
    let crossed = format!("/newsletter/unsubscribe?token={}", token_of(&magic));
    assert_eq!(
        app.client.get(crossed).dispatch().await.status(),
        Status::Forbidden
    );

    // The refusals used nothing: each link still works at its own target.
    assert_eq!(open(&app, &unsubscribe).await.status(), Status::Ok);
    assert_eq!(open(&app, &verify).await.status(), Status::Ok);
    app.finish().await;
}

async fn links_and_session_tokens_never_stand_in_for_each_other(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let access = s(&login["access"]);
    for token in [access.clone(), s(&login["refresh"])] {
        let res = app
            .client
            .get(format!("/newsletter/unsubscribe?token={token}"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden);
        assert_eq!(
            json_body(res).await["error_description"],
            "this is not a link token"
        );
    }
    let url = s(&mint(&app, "/links/unsubscribe", &access).await["url"]);
    let link = token_of(&url);
    let res = app.get_with_token("/me", &link).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = app
        .post_json("/auth/token/refresh", json!({ "refresh": link }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = app
        .post_json("/auth/token/verify", json!({ "token": link }))
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        open(&app, &url).await.status(),
        Status::Ok,
        "the link itself still works"
    );
    app.finish().await;
}

async fn tampered_and_missing_tokens_are_refused_and_logged(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let minted = mint(&app, "/links/unsubscribe", &access).await;
    let token = token_of(&s(&minted["url"]));
    let (header, mut payload) = parts(&token);
    payload["sub"] = json!("admin");
    let sig = token.rsplit('.').next().unwrap_or_default();
    let forged = jwt_guard_tests::assemble(&header, &payload, sig);
    for bad in [forged.as_str(), "garbage", "a.b.c", &"x".repeat(9000)] {
        let res = app
            .client
            .get(format!("/newsletter/unsubscribe?token={bad}"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "{bad:.20}");
        assert_link_headers(&res);
    }
    let res = app.client.get("/newsletter/unsubscribe").dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    let res = app
        .client
        .get("/newsletter/unsubscribe?token=%ZZ")
        .dispatch()
        .await;
    assert!(res.status().code >= 400 && res.status().code < 500);

    let uses = app
        .store()
        .link_uses(&s(&minted["id"]))
        .await
        .unwrap_or_default();
    assert_eq!(
        uses.len(),
        1,
        "the forgery is logged against the link it claims: {uses:?}"
    );
    assert_eq!(uses[0].outcome, "tampered");
    assert_eq!(uses[0].status, 403);
    assert_eq!(use_count(&app, &s(&minted["id"])).await, 0);
    let all: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jwt_guard_link_uses WHERE outcome IN ('tampered', 'missing')",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or(-1);
    assert!(all >= 6, "every denial is logged ({all})");
    app.finish().await;
}

async fn expired_and_revoked_links_are_gone(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let expiring = s(&mint(&app, "/links/verify-email", &access).await["url"]);
    let revoked = mint(&app, "/links/unsubscribe", &access).await;

    let res = app
        .send_with_token(
            Method::Delete,
            &format!("/links/{}", s(&revoked["id"])),
            &access,
        )
        .await;
    assert_eq!(res.status(), Status::NoContent);
    let res = open(&app, &s(&revoked["url"])).await;
    assert_eq!(res.status(), Status::Gone);
    assert_eq!(
        json_body(res).await["error_description"],
        "this link has been revoked"
    );

    // Another user cannot revoke alice's links.
    let other = mint(&app, "/links/unsubscribe", &access).await;
    let bob = app.access_token("bob").await;
    let res = app
        .send_with_token(Method::Delete, &format!("/links/{}", s(&other["id"])), &bob)
        .await;
    assert_eq!(res.status(), Status::NotFound);
    // … but alice can revoke all of hers at once.
    let res = app.send_with_token(Method::Delete, "/links", &access).await;
    assert_eq!(json_body(res).await["revoked"], 2);
    assert_eq!(open(&app, &s(&other["url"])).await.status(), Status::Gone);

    app.clock.advance(3 * 24 * 3600);
    let res = open(&app, &expiring).await;
    assert_eq!(res.status(), Status::Gone);
    assert_eq!(
        json_body(res).await["error_description"],
        "this link has expired"
    );
    app.finish().await;
}

async fn scanner_safe_links_are_used_only_by_the_button(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let minted = mint(&app, "/links/newsletter-confirm", &access).await;
    let url = s(&minted["url"]);
    let id = s(&minted["id"]);

    // A scanner (or the person) opens the link twice: a page, nothing used.
    for _ in 0..2 {
        let res = open(&app, &url).await;
        assert_eq!(res.status(), Status::Ok);
        assert_link_headers(&res);
        assert_eq!(res.content_type(), Some(rocket::http::ContentType::HTML));
        let html = res.into_string().await.unwrap_or_default();
        assert!(html.contains("<form method=\"post\""), "{html}");
        assert!(
            html.contains(&token_of(&url)),
            "the button carries the token"
        );
    }
    assert_eq!(use_count(&app, &id).await, 0, "GET must not use the link");

    // The button: a POST to the same URL uses it, once.
    let res = app.client.post(local(&url)).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_body(res).await["subscribed"], "alice");
    assert_eq!(use_count(&app, &id).await, 1);
    assert_eq!(
        app.client.post(local(&url)).dispatch().await.status(),
        Status::Gone
    );
    let page = open(&app, &url).await;
    assert_eq!(
        page.status(),
        Status::Gone,
        "the page says so once it is used"
    );

    let outcomes: Vec<String> = app
        .store()
        .link_uses(&id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.outcome)
        .collect();
    assert_eq!(
        outcomes,
        ["confirm_page", "confirm_page", "used", "used_up", "used_up"]
    );
    app.finish().await;
}

/// Rocket answers HEAD by running the GET route; mail scanners and chat previews
/// send HEADs. A HEAD checks a link and uses nothing.
async fn head_requests_and_previews_never_use_a_link(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let minted = mint(&app, "/links/unsubscribe", &access).await;
    let (url, id) = (s(&minted["url"]), s(&minted["id"]));
    for _ in 0..3 {
        let res = app.client.head(local(&url)).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "a HEAD says the link is usable");
        assert_link_headers(&res);
    }
    assert_eq!(use_count(&app, &id).await, 0, "HEAD must not use the link");
    let res = open(&app, &url).await;
    assert_eq!(res.status(), Status::Ok, "the person's click still works");
    assert_eq!(json_body(res).await["unsubscribed"], "alice");
    assert_eq!(use_count(&app, &id).await, 1);
    let res = app.client.head(local(&url)).dispatch().await;
    assert_eq!(res.status(), Status::Gone, "a HEAD of a used link says so");

    // A confirm link (and a magic login, which grants a session) alike.
    let minted = mint(&app, "/links/newsletter-confirm", &access).await;
    let (url, id) = (s(&minted["url"]), s(&minted["id"]));
    assert_eq!(
        app.client.head(local(&url)).dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(use_count(&app, &id).await, 0);
    let magic = app
        .post_json("/links/magic-login", json!({ "username": "bob" }))
        .await;
    let magic = s(&json_body(magic).await["url"]);
    assert_eq!(
        app.client.head(local(&magic)).dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(
        confirm(&app, &magic).await.status(),
        Status::Ok,
        "still usable once"
    );

    let outcomes: Vec<String> = app
        .store()
        .link_uses(&s(&minted["id"]))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.outcome)
        .collect();
    assert_eq!(outcomes, ["head"]);
    app.finish().await;
}

async fn logging_out_everywhere_or_revoking_a_user_kills_their_links(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let unsubscribe = s(&mint(&app, "/links/unsubscribe", &access).await["url"]);
    let magic = app
        .post_json("/links/magic-login", json!({ "username": "alice" }))
        .await;
    let magic = s(&json_body(magic).await["url"]);
    let res = app
        .send_with_token(Method::Post, "/auth/logout-all", &access)
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(open(&app, &unsubscribe).await.status(), Status::Gone);
    assert_eq!(
        confirm(&app, &magic).await.status(),
        Status::Gone,
        "a magic link cannot start a session after logout everywhere"
    );

    // Revoking the user: tokens, devices (permanent tokens) and links.
    let login = app.login("alice").await;
    let access = s(&login["access"]);
    let link = s(&mint(&app, "/links/verify-email", &access).await["url"]);
    app.store()
        .revoke_subject("alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(open(&app, &link).await.status(), Status::Gone);
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        app.device_refresh(&s(&login["permanent_token"]))
            .await
            .status(),
        Status::Unauthorized
    );
    let refresh = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(refresh.status(), Status::Unauthorized);
    app.finish().await;
}

async fn magic_login_link_creates_a_device(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let res = app
        .post_json("/links/magic-login", json!({ "username": "bob" }))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let url = s(&json_body(res).await["url"]);
    assert!(url.contains("/auth/magic?token="));

    // Opening the link shows the confirmation page and logs nobody in.
    let page = open(&app, &url).await;
    assert_eq!(page.status(), Status::Ok);
    assert!(page
        .into_string()
        .await
        .unwrap_or_default()
        .contains("<form method=\"post\""));
    let res = confirm(&app, &url).await;
    assert_eq!(res.status(), Status::Ok);
    let login = json_body(res).await;
    let access = s(&login["access"]);
    assert!(s(&login["permanent_token"]).starts_with("jgp_"));
    let me = json_body(app.get_with_token("/me", &access).await).await;
    assert_eq!(me["sub"], "bob");
    assert_eq!(me["device_id"], login["device_id"]);
    // A login link is a one-time secret sent out of band: `amr` `otp` (RFC 8176).
    let (_, claims) = jwt_guard_tests::parts(&access);
    assert_eq!(claims["amr"], json!(["otp"]));
    let devices = json_body(app.get_with_token("/auth/devices", &access).await).await;
    assert_eq!(devices.as_array().map(Vec::len), Some(1));
    assert_eq!(confirm(&app, &url).await.status(), Status::Gone);

    // A link minted for nobody logs nobody in.
    let res = app
        .post_json("/links/magic-login", json!({ "username": "mallory" }))
        .await;
    assert_eq!(
        res.status(),
        Status::Ok,
        "minting does not reveal whether a user exists"
    );
    let url = s(&json_body(res).await["url"]);
    assert_eq!(confirm(&app, &url).await.status(), Status::Forbidden);
    let bad = app
        .post_json("/links/magic-login", json!({ "name": 1 }))
        .await;
    assert_eq!(bad.status(), Status::BadRequest);
    app.finish().await;
}

async fn admins_read_the_log_of_a_link(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let alice = app.access_token("alice").await;
    let minted = mint(&app, "/links/unsubscribe", &alice).await;
    let url = s(&minted["url"]);
    open(&app, &url).await;
    open(&app, &url).await;
    let crossed = format!("/links/verify-email?token={}", token_of(&url));
    app.client.get(crossed).dispatch().await;

    let path = format!("/admin/links/{}/uses", s(&minted["id"]));
    assert_eq!(
        app.get_with_token(&path, &alice).await.status(),
        Status::Forbidden
    );
    let admin = app.access_token("admin").await;
    let res = app.get_with_token(&path, &admin).await;
    assert_eq!(res.status(), Status::Ok);
    let body = json_body(res).await;
    assert_eq!(body["link"]["subject"], "alice");
    assert_eq!(body["link"]["use_count"], 1);
    let uses = body["uses"].as_array().cloned().unwrap_or_default();
    let summary: Vec<(String, u64, String)> = uses
        .iter()
        .map(|u| {
            (
                s(&u["outcome"]),
                u["status"].as_u64().unwrap_or(0),
                s(&u["target"]),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("used".to_owned(), 200, "unsubscribe".to_owned()),
            ("used_up".to_owned(), 410, "unsubscribe".to_owned()),
            ("wrong_target".to_owned(), 403, "verify_email".to_owned()),
        ]
    );
    assert_eq!(uses[0]["ip"], "198.51.100.7");
    assert_eq!(uses[0]["user_agent"], "link-test/1.0");
    assert_eq!(uses[0]["use_number"], 1);
    let missing = app.get_with_token("/admin/links/nope/uses", &admin).await;
    assert_eq!(missing.status(), Status::NotFound);
    app.finish().await;
}

async fn archiver_purges_old_links_and_log_rows(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let access = app.access_token("alice").await;
    let old = s(&mint(&app, "/links/verify-email", &access).await["url"]);
    open(&app, &old).await;
    app.clock.advance(100 * 24 * 3600);
    let fresh = app.access_token("alice").await;
    let kept = mint(&app, "/links/unsubscribe", &fresh).await;
    let report = app
        .store()
        .archive()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.links, 1, "{report:?}");
    assert_eq!(report.link_uses, 1, "{report:?}");
    assert!(app
        .store()
        .link(&s(&kept["id"]))
        .await
        .ok()
        .flatten()
        .is_some());
    app.finish().await;
}
