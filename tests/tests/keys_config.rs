//! Key configuration: launch fails clearly on bad keys, JWKS publishes public keys
//! only, and rotation keeps old tokens valid.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_guard::config::JwtConfig;
use jwt_guard::keys::KeyRing;
use jwt_guard_tests::{
    access_claims, app, base_figment, json_body, key_path, key_pem, now, temp_sqlite_url, TestApp,
    TEST_SECRET,
};
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

fn ring(jwt: Value) -> Result<KeyRing, String> {
    let config: JwtConfig = rocket::figment::Figment::new()
        .merge(rocket::figment::providers::Serialized::defaults(jwt))
        .extract()
        .map_err(|e| e.to_string())?;
    KeyRing::from_config(&config).map_err(|e| e.to_string())
}

fn expect_key_error(jwt: Value, needle: &str) {
    match ring(jwt.clone()) {
        Ok(_) => panic!("{jwt} was accepted"),
        Err(e) => assert!(
            e.contains(needle),
            "{jwt}: `{e}` does not mention `{needle}`"
        ),
    }
}

#[test]
fn bad_keys_are_reported_clearly() {
    expect_key_error(json!({}), "jwt.secret is missing");
    expect_key_error(json!({ "secret": "short" }), "at least 32 bytes");
    expect_key_error(
        json!({ "algorithm": "HS384", "secret": "x".repeat(40) }),
        "at least 48 bytes",
    );
    expect_key_error(
        json!({ "algorithm": "HS512", "secret": "x".repeat(63) }),
        "at least 64 bytes",
    );
    expect_key_error(
        json!({ "algorithm": "RS256" }),
        "jwt.private_key is missing",
    );
    expect_key_error(
        json!({ "algorithm": "RS256", "private_key": "/nonexistent/key.pem" }),
        "cannot read PEM file",
    );
    expect_key_error(
        json!({ "algorithm": "RS256", "private_key": key_path("ec256.pem") }),
        "not a RSA private key",
    );
    expect_key_error(
        json!({ "algorithm": "ES256", "private_key": key_path("rsa.pem") }),
        "EC",
    );
    expect_key_error(
        json!({ "algorithm": "ES256", "private_key": key_path("ec384.pem") }),
        "ES256",
    );
    expect_key_error(
        json!({ "algorithm": "EdDSA", "private_key": key_path("rsa.pem") }),
        "Ed25519",
    );
    expect_key_error(
        json!({ "algorithm": "RS256", "secret": TEST_SECRET, "private_key": key_path("rsa.pem") }),
        "jwt.secret is set",
    );
    expect_key_error(
        json!({ "secret": TEST_SECRET, "verification_keys": [
            { "kid": "old", "algorithm": "RS256", "public_key": key_path("ec256.pub.pem") }
        ]}),
        "kid `old`",
    );
}

#[test]
fn unknown_settings_and_algorithms_are_rejected() {
    assert!(ring(json!({ "secret": TEST_SECRET, "algoritm": "HS256" })).is_err());
    assert!(ring(json!({ "algorithm": "none", "secret": TEST_SECRET })).is_err());
    assert!(ring(json!({ "algorithm": "HS257", "secret": TEST_SECRET })).is_err());
}

#[test]
fn every_supported_algorithm_loads() {
    for (alg, key) in [
        ("RS256", "rsa.pem"),
        ("RS384", "rsa.pem"),
        ("RS512", "rsa.pem"),
        ("PS256", "rsa.pem"),
        ("PS384", "rsa.pem"),
        ("PS512", "rsa.pem"),
        ("ES256", "ec256.pem"),
        ("ES384", "ec384.pem"),
        ("EdDSA", "ed25519.pem"),
    ] {
        let ring = ring(json!({ "algorithm": alg, "private_key": key_path(key) }))
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(ring.jwks().keys.len(), 1, "{alg}");
    }
    // Inline PEM works as well as a path.
    let inline = String::from_utf8(key_pem("ec256.pem")).unwrap_or_default();
    assert!(ring(json!({ "algorithm": "ES256", "private_key": inline })).is_ok());
}

async fn launch(jwt: Value) -> Result<Client, String> {
    let figment = base_figment(&temp_sqlite_url()).merge(("jwt", jwt));
    // Reading `kind()` marks Rocket's error as handled (it panics on drop otherwise).
    Client::tracked(app::app(figment, jwt_guard::Clock::system()))
        .await
        .map_err(|e| format!("{:?}", e.kind()))
}

#[rocket::async_test]
async fn launch_fails_instead_of_serving_with_a_bad_key() {
    let err = launch(json!({ "secret": "too-short" })).await.err();
    assert!(
        err.is_some_and(|e| e.contains("jwt-guard")),
        "the failing fairing is named"
    );
    assert!(
        launch(json!({ "algorithm": "RS256", "private_key": key_path("ec256.pem") }))
            .await
            .is_err()
    );
    assert!(launch(json!({ "secret": TEST_SECRET, "leeway": "2m" }))
        .await
        .is_err());
    assert!(
        launch(json!({ "secret": TEST_SECRET, "header_prefixes": [] }))
            .await
            .is_err()
    );
    assert!(launch(json!({ "secret": TEST_SECRET })).await.is_ok());
}

#[rocket::async_test]
async fn jwks_publishes_public_members_only() {
    let app = TestApp::with_jwt(json!({
        "algorithm": "RS256",
        "private_key": key_path("rsa.pem"),
        "verification_keys": [
            { "kid": "old-ec", "algorithm": "ES256", "public_key": key_path("ec256.pub.pem") },
            { "kid": "old-ed", "algorithm": "EdDSA", "public_key": key_path("ed25519.pub.pem") },
            { "kid": "hmac", "algorithm": "HS256", "secret": TEST_SECRET },
        ],
    }))
    .await;
    let res = app.client.get("/.well-known/jwks.json").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let jwks = json_body(res).await;
    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 3, "HMAC secrets are never published: {jwks}");
    let signing_kid = app.runtime().keys().signing_kid().to_owned();
    assert!(keys
        .iter()
        .any(|k| k["kid"] == signing_kid.as_str() && k["kty"] == "RSA"));
    assert!(keys
        .iter()
        .any(|k| k["kid"] == "old-ec" && k["kty"] == "EC"));
    assert!(keys
        .iter()
        .any(|k| k["kid"] == "old-ed" && k["kty"] == "OKP"));
    for key in &keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} in {key}"
            );
        }
        assert_eq!(key["use"], "sig");
    }
}

#[rocket::async_test]
async fn rotation_keeps_tokens_of_the_old_key_valid() {
    // Before: signing with rsa2 under kid "2025".
    let before = TestApp::with_jwt(json!({
        "algorithm": "RS256", "private_key": key_path("rsa2.pem"), "kid": "2025",
    }))
    .await;
    let old_token = before.access_token("admin").await;

    // After: signing with rsa under kid "2026", rsa2's public half kept for verifying.
    let after = TestApp::with_jwt(json!({
        "algorithm": "RS256", "private_key": key_path("rsa.pem"), "kid": "2026",
        "verification_keys": [
            { "kid": "2025", "algorithm": "RS256", "public_key": key_path("rsa2.pub.pem") },
        ],
    }))
    .await;
    assert_eq!(
        after
            .get_with_token("/admin/stats", &old_token)
            .await
            .status(),
        Status::Ok
    );
    let new_token = after.access_token("admin").await;
    assert_eq!(
        after
            .get_with_token("/admin/stats", &new_token)
            .await
            .status(),
        Status::Ok
    );
    assert_eq!(jwt_guard_tests::parts(&new_token).0["kid"], "2026");

    // The old key may only verify under its own kid and algorithm.
    let rsa2 = EncodingKey::from_rsa_pem(&key_pem("rsa2.pem")).unwrap_or_else(|e| panic!("{e}"));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("2026".into());
    let wrong_kid =
        jsonwebtoken::encode(&header, &access_claims("admin", now()), &rsa2).unwrap_or_default();
    assert_eq!(
        after
            .get_with_token("/admin/stats", &wrong_kid)
            .await
            .status(),
        Status::Unauthorized
    );
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some("2025".into());
    let wrong_alg =
        jsonwebtoken::encode(&header, &access_claims("admin", now()), &rsa2).unwrap_or_default();
    assert_eq!(
        after
            .get_with_token("/admin/stats", &wrong_alg)
            .await
            .status(),
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn a_missing_or_unusable_database_stops_launch() {
    let launch_with = |db: Option<&str>| {
        let mut figment = rocket::Config::figment()
            .merge(("log_level", "off"))
            .merge(("jwt", json!({ "secret": TEST_SECRET })))
            .merge(("databases.app_notes.url", temp_sqlite_url()));
        if let Some(url) = db {
            figment = figment.merge(("databases.jwt_guard.url", url));
        }
        async move {
            Client::tracked(app::app(figment, jwt_guard::Clock::system()))
                .await
                .map(|_| ())
                .map_err(|e| format!("{:?}", e.kind()))
        }
    };
    assert!(launch_with(None).await.is_err(), "no database configured");
    assert!(
        launch_with(Some("mysql://localhost/x")).await.is_err(),
        "unsupported URL"
    );
    assert!(
        launch_with(Some("postgres://nobody@127.0.0.1:1/none"))
            .await
            .is_err(),
        "unreachable server"
    );
    assert!(launch_with(Some(&temp_sqlite_url())).await.is_ok());
}

#[test]
fn a_secret_can_come_from_a_file() {
    let path = std::env::temp_dir().join(format!("jwt-guard-secret-{}", std::process::id()));
    std::fs::write(&path, format!("{TEST_SECRET}\n")).unwrap_or_else(|e| panic!("{e}"));
    let file = path.display().to_string();
    // The same key as the secret given inline (the line break is not part of it).
    let from_file = ring(json!({ "secret_file": file })).map(|r| r.signing_kid().to_owned());
    let inline = ring(json!({ "secret": TEST_SECRET })).map(|r| r.signing_kid().to_owned());
    assert!(from_file.is_ok(), "{from_file:?}");
    assert_eq!(from_file, inline);
    expect_key_error(
        json!({ "secret": TEST_SECRET, "secret_file": file }),
        "jwt.secret and jwt.secret_file are both set",
    );
    expect_key_error(
        json!({ "secret_file": "/nonexistent/secret" }),
        "jwt.secret_file: cannot read secret file",
    );
    std::fs::write(&path, "short\n").unwrap_or_else(|e| panic!("{e}"));
    expect_key_error(json!({ "secret_file": file }), "jwt.secret_file is 5 bytes");
    let _ = std::fs::remove_file(&path);
}
