//! RFC 7009 token revocation and RFC 7662 token introspection, on SQLite and
//! PostgreSQL.

use base64::Engine as _;
use jwt_guard::config::IntrospectionClient;
use jwt_guard_tests::{json_body, storage_tests, DbKind, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn jwt() -> Value {
    let client = IntrospectionClient::with_secret("demo-rs", "demo-rs-secret");
    json!({
        "secret": TEST_SECRET,
        "introspection_clients": [
            { "client_id": client.client_id, "secret_sha256": client.secret_sha256 }
        ],
    })
}

async fn revoke<'a>(app: &'a TestApp, form: &str) -> LocalResponse<'a> {
    app.client
        .post("/oauth/revoke")
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await
}

fn basic(id: &str, secret: &str) -> Header<'static> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    Header::new("Authorization", format!("Basic {encoded}"))
}

async fn introspect<'a>(
    app: &'a TestApp,
    auth: Option<Header<'static>>,
    form: &str,
) -> LocalResponse<'a> {
    let mut req = app
        .client
        .post("/oauth/introspect")
        .header(ContentType::Form)
        .body(form);
    if let Some(auth) = auth {
        req = req.header(auth);
    }
    req.dispatch().await
}

async fn active(app: &TestApp, token: &str) -> Value {
    let res = introspect(
        app,
        Some(basic("demo-rs", "demo-rs-secret")),
        &format!("token={token}"),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    json_body(res).await
}

storage_tests!(revocation_follows_rfc_7009, introspection_follows_rfc_7662);

async fn revocation_follows_rfc_7009(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    // §2.1: a form; `token` required.
    // A JSON body is told the type it needs.
    for endpoint in ["/oauth/revoke", "/oauth/introspect"] {
        let res = app
            .client
            .post(endpoint)
            .header(rocket::http::ContentType::JSON)
            .header(basic("demo-rs", "demo-rs-secret"))
            .body(json!({ "token": "x" }).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::UnsupportedMediaType);
        let body = json_body(res).await;
        assert_eq!(body["error"], "unsupported_media_type");
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(
            description.contains("application/x-www-form-urlencoded"),
            "{endpoint}: {description}"
        );
    }
    assert_eq!(
        revoke(&app, "token_type_hint=access_token").await.status(),
        Status::BadRequest
    );
    // §2.2: invalid and unknown tokens are a 200 too.
    for junk in [
        "token=garbage",
        "token=jgp_notatoken",
        "token=eyJhbGciOiJIUzI1NiJ9.e30.x",
    ] {
        let res = revoke(&app, junk).await;
        assert_eq!(res.status(), Status::Ok, "{junk}");
    }

    // An access token: refused from now on; its refresh token still works.
    let login = app.login_as("alice", "one").await;
    let access = s(&login["access"]);
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    assert_eq!(
        revoke(&app, &format!("token={access}")).await.status(),
        Status::Ok
    );
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Unauthorized
    );
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(
        res.status(),
        Status::Ok,
        "revoking an access token leaves the grant"
    );

    // A refresh token: its whole device ends (§2.1, the same grant).
    let login = app.login_as("alice", "two").await;
    let res = revoke(
        &app,
        &format!(
            "token={}&token_type_hint=refresh_token",
            s(&login["refresh"])
        ),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        app.get_with_token("/me", &s(&login["access"]))
            .await
            .status(),
        Status::Unauthorized
    );
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // Again: already gone, still a 200.
    let again = revoke(&app, &format!("token={}", s(&login["refresh"]))).await;
    assert_eq!(again.status(), Status::Ok);

    // A permanent token (a wrong hint is only a hint): its device ends.
    let login = app.login_as("alice", "three").await;
    let permanent = s(&login["permanent_token"]);
    let res = revoke(
        &app,
        &format!("token={permanent}&token_type_hint=access_token"),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        app.device_refresh(&permanent).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        app.get_with_token("/me", &s(&login["access"]))
            .await
            .status(),
        Status::Unauthorized
    );
    app.finish().await;
}

async fn introspection_follows_rfc_7662(db: DbKind) {
    let Some(app) = TestApp::on(db, jwt()).await else {
        return;
    };
    let login = app.login("alice").await;
    let access = s(&login["access"]);
    // §2.1: callers authenticate; §2.3: 401 otherwise, with a Basic challenge.
    for auth in [
        None,
        Some(basic("demo-rs", "wrong")),
        Some(basic("someone", "demo-rs-secret")),
        Some(Header::new("Authorization", format!("Bearer {access}"))),
    ] {
        let res = introspect(&app, auth, &format!("token={access}")).await;
        assert_eq!(res.status(), Status::Unauthorized);
        let challenge = res
            .headers()
            .get_one("WWW-Authenticate")
            .unwrap_or_default();
        assert!(challenge.starts_with("Basic realm="), "{challenge}");
        assert_eq!(json_body(res).await["error"], "invalid_client");
    }

    // §2.2: an active access token.
    let doc = active(&app, &access).await;
    assert_eq!(doc["active"], true);
    assert_eq!(doc["sub"], "alice");
    assert_eq!(doc["token_type"], "Bearer");
    assert_eq!(doc["did"], login["device_id"]);
    assert!(
        doc["scope"]
            .as_str()
            .is_some_and(|s| s.contains("reports:read")),
        "{doc}"
    );
    for field in ["exp", "iat", "jti"] {
        assert!(!doc[field].is_null(), "{field}: {doc}");
    }
    // A refresh token, and a permanent token.
    let doc = active(&app, &s(&login["refresh"])).await;
    assert_eq!(
        (doc["active"].clone(), doc["token_type"].clone()),
        (json!(true), json!("refresh_token"))
    );
    let doc = active(&app, &s(&login["permanent_token"])).await;
    assert_eq!(
        (doc["active"].clone(), doc["sub"].clone()),
        (json!(true), json!("alice"))
    );

    // A service with an access token scoped token:introspect may ask too.
    let service = app
        .tokens()
        .access("reports-service")
        .roles(["user"])
        .scope("token:introspect")
        .mint();
    let res = introspect(
        &app,
        Some(Header::new("Authorization", format!("Bearer {service}"))),
        &format!("token={access}"),
    )
    .await;
    assert_eq!(json_body(res).await["active"], true);

    // Inactive: exactly {"active": false} — spent, revoked, unknown, expired.
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    let rotated = json_body(res).await;
    let inactive = json!({ "active": false });
    assert_eq!(
        active(&app, &s(&login["refresh"])).await,
        inactive,
        "spent by rotation"
    );
    assert_eq!(
        revoke(&app, &format!("token={access}")).await.status(),
        Status::Ok
    );
    assert_eq!(active(&app, &access).await, inactive, "revoked");
    assert_eq!(active(&app, "garbage").await, inactive, "unknown");
    // Another issuer's token, well formed and signed (by a key this app does not
    // hold): not this app's to call active.
    let foreign = app.tokens().wrong_key("alice");
    assert_eq!(active(&app, &foreign).await, inactive, "foreign");
    assert_eq!(
        active(&app, "jgp_nothing").await,
        inactive,
        "unknown permanent"
    );
    let fresh = s(&rotated["access"]);
    assert_eq!(active(&app, &fresh).await["active"], true);
    app.clock.advance(3600);
    assert_eq!(active(&app, &fresh).await, inactive, "expired");
    app.finish().await;
}
