//! Fixes from the security review, each with the test that failed before it:
//! token responses are never cached (and a protected route's data neither), secrets never print, impossible mint options
//! fail closed, and a key of another party speaks only for that party.

use jsonwebtoken::{EncodingKey, Header};
use jwt_guard::config::JwtConfig;
use jwt_guard::link::{LinkError, MintOptions};
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::Links;
use jwt_guard_tests::app::unsubscribe;
use jwt_guard_tests::{access_claims, json_body, key_path, key_pem, now, TestApp, TEST_SECRET};
use rocket::http::{Header as HttpHeader, Method, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::json;

fn assert_not_cached(res: &LocalResponse<'_>, what: &str) {
    assert_eq!(
        res.headers().get_one("Cache-Control"),
        Some("no-store"),
        "{what}"
    );
    assert_eq!(res.headers().get_one("Pragma"), Some("no-cache"), "{what}");
}

/// A protected route's data: `Cache-Control: no-store`, without the HTTP/1.0
/// `Pragma` of credential responses (RFC 9111 §5.4: undefined in a response).
fn assert_private(res: &LocalResponse<'_>, what: &str) {
    assert_eq!(
        res.headers().get_one("Cache-Control"),
        Some("no-store"),
        "{what}"
    );
    assert_eq!(res.headers().get_one("Pragma"), None, "{what}");
}

#[rocket::async_test]
async fn every_response_carrying_a_token_or_link_is_no_store() {
    let app = TestApp::hs256().await;
    let res = app
        .post_json(
            "/auth/token",
            json!({"username": "alice", "password": "alice-password"}),
        )
        .await;
    assert_not_cached(&res, "login");
    let login = json_body(res).await;
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_not_cached(&res, "refresh");
    let res = app
        .device_refresh(login["permanent_token"].as_str().unwrap_or_default())
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_not_cached(&res, "device refresh");
    let access = app.access_token("alice").await;
    let res = app
        .send_with_token(Method::Post, "/links/unsubscribe", &access)
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_not_cached(&res, "link mint");
    let res = app
        .post_json("/auth/token/verify", json!({ "token": access }))
        .await;
    assert_not_cached(&res, "verify");
    // Magic login: the confirm page, then the POST that returns the tokens.
    let res = app
        .post_json("/links/magic-login", json!({ "username": "bob" }))
        .await;
    // A public route minting a link: the link itself marks the answer.
    assert_not_cached(&res, "public link mint");
    let url = json_body(res).await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let local = &url[url.find("/auth/").unwrap_or(0)..];
    let page = app.client.get(local.to_owned()).dispatch().await;
    assert_not_cached(&page, "confirm page");
    let res = app.client.post(local.to_owned()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_not_cached(&res, "magic login");
    // A protected route of the app's own: its data is private, not a credential; a
    // public one is left alone.
    assert_private(&app.get_with_token("/me", &access).await, "/me");
    // A handler that chose its own caching keeps it.
    let cacheable = app.get_with_token("/me/cacheable", &access).await;
    assert_eq!(cacheable.status(), Status::Ok);
    assert_eq!(
        cacheable.headers().get_one("Cache-Control"),
        Some("private, max-age=60")
    );
    assert!(cacheable.headers().get_one("Pragma").is_none());
    let public = app.client.get("/visits").dispatch().await;
    assert!(public.headers().get_one("Cache-Control").is_none());
    assert!(public.headers().get_one("Pragma").is_none());
}

#[rocket::async_test]
async fn configuration_and_runtime_never_print_key_material() {
    let hmac = JwtConfig::hmac(TEST_SECRET);
    let pem = String::from_utf8(key_pem("rsa.pem")).unwrap_or_default();
    let rsa = JwtConfig::asymmetric(jsonwebtoken::Algorithm::RS256, pem.clone());
    for (config, secret) in [(hmac, TEST_SECRET.to_owned()), (rsa, pem.clone())] {
        let printed = format!("{config:?}");
        assert!(!printed.contains(&secret), "{printed}");
        assert!(!printed.contains("BEGIN"), "{printed}");
    }
    let app = TestApp::hs256().await;
    let printed = format!("{:?}", app.runtime());
    assert!(!printed.contains(TEST_SECRET), "{printed}");
    // A malformed inline key is not echoed into the launch error.
    let garbled = pem.replace("-----BEGIN", "----BEGIN");
    let config = JwtConfig::asymmetric(jsonwebtoken::Algorithm::RS256, garbled.clone());
    let err = JwtRuntime::new(config, jwt_guard::Clock::system())
        .err()
        .map(|e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        })
        .unwrap_or_default();
    assert!(!err.is_empty(), "a garbled key is refused");
    let body_line = garbled.lines().nth(1).unwrap_or_default();
    assert!(
        body_line.len() > 32,
        "a line of base64 key body: {body_line}"
    );
    assert!(!err.contains(body_line), "{err}");
}

#[rocket::async_test]
async fn a_link_minted_for_zero_uses_fails_closed() {
    let app = TestApp::hs256().await;
    let links = app
        .client
        .rocket()
        .state::<Links>()
        .unwrap_or_else(|| panic!("no Links"));
    let zero = MintOptions {
        max_uses: Some(Some(0)),
        ..MintOptions::default()
    };
    let result = links.mint_with::<unsubscribe>("alice", zero).await;
    assert!(
        matches!(result, Err(LinkError::InvalidOptions(_))),
        "{result:?}"
    );
    let one = MintOptions {
        max_uses: Some(Some(1)),
        ..MintOptions::default()
    };
    let minted = links
        .mint_with::<unsubscribe>("alice", one)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(minted.max_uses, Some(1));
}

#[rocket::async_test]
async fn a_foreign_key_speaks_only_for_its_own_issuer() {
    // The app signs with a key pair of its own, so its JWKS is not empty.
    let app = TestApp::with_jwt(json!({
        "algorithm": "RS256",
        "private_key": key_path("rsa2.pem"),
        "verification_keys": [{
            "kid": "partner",
            "algorithm": "RS256",
            "public_key": key_path("rsa.pub.pem"),
            "issuer": "https://partner.example",
        }],
    }))
    .await;
    let key = EncodingKey::from_rsa_pem(&key_pem("rsa.pem")).unwrap_or_else(|e| panic!("{e}"));
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("partner".into());
    let sign = |iss: Option<&str>| {
        let mut claims = access_claims("alice", now());
        if let Some(iss) = iss {
            claims["iss"] = json!(iss);
        }
        jsonwebtoken::encode(&header, &claims, &key).unwrap_or_default()
    };
    for (iss, expected) in [
        (Some("https://partner.example"), Status::Ok),
        (None, Status::Unauthorized),
        (Some("https://evil.example"), Status::Unauthorized),
    ] {
        let res = app
            .client
            .get("/me")
            .header(HttpHeader::new(
                "Authorization",
                format!("Bearer {}", sign(iss)),
            ))
            .dispatch()
            .await;
        assert_eq!(res.status(), expected, "iss {iss:?}");
    }
    // The partner's key verifies its tokens, but the app's JWKS does not publish it
    // as one of its own.
    let jwks = app.client.get("/.well-known/jwks.json").dispatch().await;
    let body: serde_json::Value =
        serde_json::from_str(&jwks.into_string().await.unwrap_or_default()).unwrap_or_default();
    let kids: Vec<&str> = body["keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(|k| k["kid"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kids.len(), 1, "the app publishes its own key: {body}");
    assert!(!kids.contains(&"partner"), "{body}");
}
