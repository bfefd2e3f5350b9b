//! The standards a resource server speaks: RFC 9728 metadata and the
//! `resource_metadata` its challenges point to, RFC 6750 §3 scopes in challenges,
//! RFC 9470 step-up with the app's own tokens, RFC 9068 access-token typing.

use jwt_guard::config::JwtConfig;
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::Clock;
use jwt_guard_tests::{challenge, json_body, TestApp, TEST_SECRET};
use rocket::http::Status;
use serde_json::json;

fn runtime(config: JwtConfig) -> Result<JwtRuntime, String> {
    JwtRuntime::new(config, Clock::system()).map_err(|e| e.to_string())
}

/// Launch refuses a resource identifier that is not an https URL without a
/// fragment (RFC 9728 §1.2), and one for which no token could have been issued:
/// no audience the app accepts names it (RFC 9728 §7.4, MCP).
#[test]
fn a_resource_must_be_a_url_some_audience_accepts() {
    let mut config = JwtConfig::hmac(TEST_SECRET);
    config.resource.resource = Some("https://api.example/mcp".into());
    let err = runtime(config.clone()).err().unwrap_or_default();
    assert!(
        err.contains("jwt.resource.resource") && err.contains("no audience"),
        "{err}"
    );
    config.audience = Some("https://api.example/mcp".into());
    assert!(runtime(config.clone()).is_ok());
    for bad in ["http://api.example/mcp", "https://api.example/mcp#x", "mcp"] {
        config.resource.resource = Some(bad.into());
        config.audience = Some(bad.into());
        let err = runtime(config.clone()).err().unwrap_or_default();
        assert!(err.contains("not a resource identifier"), "{bad}: {err}");
    }
}

/// With the app as a whole a resource (`https://api.example`), every `Bearer`
/// challenge points to its metadata; a route's scopes are named in its 401 as in
/// its 403; the metadata is served at the well-known root only, and lists the
/// routes' scopes.
#[rocket::async_test]
async fn challenges_point_to_the_metadata_and_name_the_scopes() {
    let resource = "https://api.example";
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "audience": resource,
        "resource": { "resource": resource, "resource_name": "Test \"API\"" },
    }))
    .await;
    let metadata = "https://api.example/.well-known/oauth-protected-resource";
    let res = app.client.get("/reports").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    let c = challenge(&res);
    assert_eq!(
        c,
        format!(
            "Bearer realm=\"jwt-guard\", scope=\"reports:read\", resource_metadata=\"{metadata}\""
        )
    );
    // A token without the scope: 403 naming it, and the metadata.
    let token = app
        .tokens()
        .access("bob")
        .roles(["user"])
        .scope("profile")
        .mint();
    let res = app.get_with_token("/reports", &token).await;
    assert_eq!(res.status(), Status::Forbidden);
    let c = challenge(&res);
    assert!(c.contains("error=\"insufficient_scope\""), "{c}");
    assert!(c.contains("scope=\"reports:read\""), "{c}");
    assert!(
        c.contains(&format!("resource_metadata=\"{metadata}\"")),
        "{c}"
    );
    // A route without scopes: the challenge names none.
    let c = challenge(&app.client.get("/me").dispatch().await);
    assert_eq!(
        c,
        format!("Bearer realm=\"jwt-guard\", resource_metadata=\"{metadata}\"")
    );

    let res = app
        .client
        .get("/.well-known/oauth-protected-resource")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let doc = json_body(res).await;
    assert_eq!(doc["resource"], resource);
    assert_eq!(doc["resource_name"], "Test \"API\"");
    let scopes = doc["scopes_supported"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(scopes.contains(&json!("reports:read")), "{doc}");
    assert!(
        doc.get("authorization_servers").is_none(),
        "none configured: {doc}"
    );
    // No resource lives at a path: nothing is served there, odd segments included.
    for path in ["/v1", "/reports", "/.hidden", "/a/../b"] {
        let res = app
            .client
            .get(format!("/.well-known/oauth-protected-resource{path}"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::NotFound, "{path}");
        assert_eq!(json_body(res).await["error"], "not_found", "{path}");
    }
}

/// RFC 9728 §3.3: a client that called a URL takes only metadata whose
/// `resource` is that URL or a prefix of it. A resource at `/v1` is not what
/// `/reports` is: its challenges name no metadata, and the root serves none.
#[rocket::async_test]
async fn a_resource_speaks_only_for_the_paths_below_it() {
    let resource = "https://api.example/v1";
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "audience": resource,
        "resource": { "resource": resource },
    }))
    .await;
    let c = challenge(&app.client.get("/reports").dispatch().await);
    assert_eq!(c, "Bearer realm=\"jwt-guard\", scope=\"reports:read\"");
    let root = app
        .client
        .get("/.well-known/oauth-protected-resource")
        .dispatch()
        .await;
    assert_eq!(root.status(), Status::NotFound);
    let own = app
        .client
        .get("/.well-known/oauth-protected-resource/v1")
        .dispatch()
        .await;
    assert_eq!(own.status(), Status::Ok);
    assert_eq!(json_body(own).await["resource"], resource);
}

/// `[[jwt.resources]]`: each needs an identifier an audience accepts, and two
/// resources cannot share a metadata URL.
#[test]
fn more_resources_are_checked_like_the_first() {
    let mut config = JwtConfig::hmac(TEST_SECRET);
    config.audience = Some("https://api.example".into());
    config.resource.resource = Some("https://api.example".into());
    let mut nameless = jwt_guard::config::ResourceConfig::default();
    nameless.resource_name = Some("no identifier".into());
    config.resources = vec![nameless];
    let err = runtime(config.clone()).err().unwrap_or_default();
    assert!(err.contains("jwt.resources[0].resource"), "{err}");
    let mut again = jwt_guard::config::ResourceConfig::default();
    again.resource = Some("https://api.example/".into());
    config.resources = vec![again];
    let err = runtime(config.clone()).err().unwrap_or_default();
    assert!(err.contains("described twice"), "{err}");
    let mut other = jwt_guard::config::ResourceConfig::default();
    other.resource = Some("https://api.example/mcp".into());
    config.resources = vec![other];
    let err = runtime(config.clone()).err().unwrap_or_default();
    assert!(
        err.contains("jwt.resources[0].resource") && err.contains("no audience"),
        "{err}"
    );
}

/// Without a resource, challenges are as before and nothing is served.
#[rocket::async_test]
async fn without_a_resource_nothing_changes() {
    let app = TestApp::hs256().await;
    let c = challenge(&app.client.get("/me").dispatch().await);
    assert_eq!(c, "Bearer realm=\"jwt-guard\"");
    let res = app
        .client
        .get("/.well-known/oauth-protected-resource")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NotFound);
}

/// The utoipa adapter: a document utoipa describes gains jwt-guard's schemes and,
/// on the operations the manifest knows, their security; the rest is untouched.
#[rocket::async_test]
async fn utoipa_documents_gain_the_manifests_security() {
    use utoipa::Modify as _;
    let app = TestApp::hs256().await;
    let routes = jwt_guard::manifest::table(app.client.rocket().routes());
    let config = app.runtime().config().clone();
    let mut doc: utoipa::openapi::OpenApi = serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": { "title": "app", "version": "1" },
        "paths": {
            "/reports": { "get": { "responses": { "200": { "description": "reports" } } } },
            "/not-ours": { "get": { "responses": { "200": { "description": "x" } } } },
        },
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    jwt_guard::openapi::UtoipaSecurity::new(&routes, &config).modify(&mut doc);
    let merged = serde_json::to_value(&doc).unwrap_or_default();
    assert_eq!(
        merged["paths"]["/reports"]["get"]["security"],
        json!([{ "bearer": ["reports:read"] }]),
        "{merged}"
    );
    assert_eq!(
        merged["paths"]["/reports"]["get"]["responses"]["200"]["description"], "reports",
        "the app's own description stays"
    );
    assert!(merged["paths"]["/not-ours"]["get"]
        .get("security")
        .is_none());
    assert_eq!(
        merged["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// Own tokens: a login records `auth_time` and `amr`, a refresh keeps them, and
/// access tokens are typed `at+jwt` in the header (RFC 9068) unless configured.
#[rocket::async_test]
async fn own_tokens_say_how_and_when_the_user_authenticated() {
    let app = TestApp::hs256().await;
    let login = app.login("alice").await;
    let access = login["access"].as_str().unwrap_or_default();
    let (header, claims) = jwt_guard_tests::parts(access);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["amr"], json!(["pwd"]));
    let auth_time = claims["auth_time"].as_u64().unwrap_or(0);
    assert!(auth_time > 0, "{claims}");
    let (refresh_header, _) = jwt_guard_tests::parts(login["refresh"].as_str().unwrap_or_default());
    assert_eq!(
        refresh_header["typ"], "JWT",
        "only access tokens are at+jwt"
    );

    app.clock.advance(30);
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let next = json_body(res).await;
    let (_, claims) = jwt_guard_tests::parts(next["access"].as_str().unwrap_or_default());
    assert_eq!(claims["auth_time"].as_u64(), Some(auth_time), "kept");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(claims["iat"].as_u64().unwrap_or(0) > auth_time);

    let typed =
        TestApp::with_jwt(json!({ "secret": TEST_SECRET, "access_token_typ": "JWT" })).await;
    let login = typed.login("alice").await;
    let (header, _) = jwt_guard_tests::parts(login["access"].as_str().unwrap_or_default());
    assert_eq!(header["typ"], "JWT");
}
