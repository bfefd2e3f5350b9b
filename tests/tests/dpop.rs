//! Sender-constrained tokens (RFC 9449 DPoP): proofs checked as §4.3 lists,
//! sessions bound at sign-in, bound tokens useless without the key, one use per
//! proof across instances, nonces.

use jwt_guard::config::IntrospectionClient;
use jwt_guard::testing::DpopKey;
use jwt_guard::Algorithm;
use jwt_guard::Clock;
use jwt_guard_tests::{base_figment, eventually, now, PgDatabase, TEST_SECRET};
use jwt_guard_tests::{challenge, json_body, key_pem, parts, storage_tests, DbKind, TestApp};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What proofs name as the app's address: configured, never the `Host` header.
const PUBLIC: &str = "https://api.test";

fn config() -> Value {
    json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "allowed", "public_url": PUBLIC },
    })
}

fn url(path: &str) -> String {
    format!("{PUBLIC}{path}")
}

fn es256() -> DpopKey {
    DpopKey::from_pem(Algorithm::ES256, &key_pem("ec256.pem"))
}

/// `POST /auth/token` for `user`, with `proof` in `DPoP` if given.
async fn login<'a>(app: &'a TestApp, user: &str, proof: Option<String>) -> LocalResponse<'a> {
    let mut req = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(json!({ "username": user, "password": format!("{user}-password") }).to_string());
    if let Some(proof) = proof {
        req = req.header(Header::new("DPoP", proof));
    }
    req.dispatch().await
}

/// Signs in with a proof by `key`; the answer's JSON.
async fn bound_login(app: &TestApp, user: &str, key: &DpopKey) -> Value {
    let res = login(
        app,
        user,
        Some(key.proof("POST", &url("/auth/token")).sign()),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    json_body(res).await
}

/// `GET path` with `Authorization: <scheme> token` and an optional proof.
async fn get<'a>(
    app: &'a TestApp,
    path: &str,
    scheme: &str,
    token: &str,
    proof: Option<String>,
) -> LocalResponse<'a> {
    let mut req = app
        .client
        .get(path.to_owned())
        .header(Header::new("Authorization", format!("{scheme} {token}")));
    if let Some(proof) = proof {
        req = req.header(Header::new("DPoP", proof));
    }
    req.dispatch().await
}

/// A correct proof for `GET path` with `token`.
fn proof_for(key: &DpopKey, path: &str, token: &str) -> String {
    key.proof("GET", &url(path)).access_token(token).sign()
}

/// `POST /auth/token/refresh` with `refresh` and an optional proof.
async fn refresh<'a>(app: &'a TestApp, refresh: &str, proof: Option<String>) -> LocalResponse<'a> {
    let mut req = app
        .client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": refresh }).to_string());
    if let Some(proof) = proof {
        req = req.header(Header::new("DPoP", proof));
    }
    req.dispatch().await
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// The whole life of a bound session on one database: sign-in binds the device,
/// the access token works only as `DPoP` with a fresh proof by the key, refresh
/// and device refresh need that key too (a stolen copy cannot even burn them),
/// and the device list and the audit log say so.
async fn a_bound_session_end_to_end(kind: DbKind) {
    let Some(app) = TestApp::on(kind, config()).await else {
        return;
    };
    let key = es256();
    let thief = DpopKey::from_pem(Algorithm::EdDSA, &key_pem("ed25519.pem"));
    let login = bound_login(&app, "alice", &key).await;
    assert_eq!(login["token_type"], "DPoP");
    let access = text(&login, "access");
    let (_, claims) = parts(&access);
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    let (_, refresh_claims) = parts(&text(&login, "refresh"));
    assert_eq!(refresh_claims["cnf"]["jkt"], key.thumbprint());
    let stored: Option<String> =
        sqlx::query_scalar("SELECT dpop_jkt FROM jwt_guard_devices WHERE id = $1")
            .bind(text(&login, "device_id"))
            .fetch_one(app.pool())
            .await
            .unwrap_or_default();
    assert_eq!(stored.as_deref(), Some(key.thumbprint()));

    // A correct call, then the same proof again (§11.1).
    let proof = proof_for(&key, "/me", &access);
    let res = get(&app, "/me", "DPoP", &access, Some(proof.clone())).await;
    assert_eq!(res.status(), Status::Ok);
    let res = get(&app, "/me", "DPoP", &access, Some(proof)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let c = challenge(&res);
    assert!(
        c.starts_with("DPoP ") && c.contains("error=\"invalid_dpop_proof\""),
        "{c}"
    );
    assert!(c.contains("algs=\"ES256 ES384 EdDSA RS256 PS256\""), "{c}");
    assert_eq!(json_body(res).await["error"], "invalid_dpop_proof");

    // Downgrade (§7.2): the bound token as a bearer token, with or without a proof.
    for proof in [None, Some(proof_for(&key, "/me", &access))] {
        let res = get(&app, "/me", "Bearer", &access, proof).await;
        assert_eq!(res.status(), Status::Unauthorized);
        let c = challenge(&res);
        assert!(
            c.starts_with("DPoP ") && c.contains("error=\"invalid_token\""),
            "{c}"
        );
    }
    // No proof; another key's proof; each claim wrong in turn.
    let wrong: Vec<(&str, Option<String>, &str)> = vec![
        ("no proof", None, "invalid_dpop_proof"),
        (
            "another key",
            Some(proof_for(&thief, "/me", &access)),
            "invalid_token",
        ),
        (
            "htm",
            Some(key.proof("POST", &url("/me")).access_token(&access).sign()),
            "invalid_dpop_proof",
        ),
        (
            "htu",
            Some(
                key.proof("GET", &url("/admin/stats"))
                    .access_token(&access)
                    .sign(),
            ),
            "invalid_dpop_proof",
        ),
        (
            "htu from the Host header",
            Some(
                key.proof("GET", "http://localhost/me")
                    .access_token(&access)
                    .sign(),
            ),
            "invalid_dpop_proof",
        ),
        (
            "stale iat",
            Some(
                key.proof("GET", &url("/me"))
                    .access_token(&access)
                    .claim("iat", json!(now() - 120))
                    .sign(),
            ),
            "invalid_dpop_proof",
        ),
        (
            "iat in the future",
            Some(
                key.proof("GET", &url("/me"))
                    .access_token(&access)
                    .claim("iat", json!(now() + 60))
                    .sign(),
            ),
            "invalid_dpop_proof",
        ),
        (
            "ath of another token",
            Some(key.proof("GET", &url("/me")).access_token("another").sign()),
            "invalid_dpop_proof",
        ),
        (
            "no ath",
            Some(key.proof("GET", &url("/me")).sign()),
            "invalid_dpop_proof",
        ),
    ];
    for (what, proof, error) in wrong {
        let res = get(&app, "/me", "DPoP", &access, proof).await;
        assert_eq!(res.status(), Status::Unauthorized, "{what}");
        assert_eq!(json_body(res).await["error"], error, "{what}");
    }
    // The query and an equivalent spelling of the URI do not matter (§4.3 check 9).
    let spelled = key
        .proof("GET", "HTTPS://API.TEST:443/./me?x=1")
        .access_token(&access)
        .sign();
    let res = get(&app, "/me?x=1", "DPoP", &access, Some(spelled)).await;
    assert_eq!(res.status(), Status::Ok);

    // Refresh: another key or none is refused and burns nothing; the key works.
    let old_refresh = text(&login, "refresh");
    let by_thief = thief.proof("POST", &url("/auth/token/refresh")).sign();
    let res = refresh(&app, &old_refresh, Some(by_thief)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res).await["error"], "invalid_token");
    let res = refresh(&app, &old_refresh, None).await;
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(json_body(res).await["error"], "invalid_dpop_proof");
    let mine = key.proof("POST", &url("/auth/token/refresh")).sign();
    let res = refresh(&app, &old_refresh, Some(mine)).await;
    assert_eq!(res.status(), Status::Ok);
    let pair = json_body(res).await;
    assert_eq!(pair["token_type"], "DPoP");
    let (_, claims) = parts(&text(&pair, "access"));
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    let access = text(&pair, "access");
    let res = get(
        &app,
        "/me",
        "DPoP",
        &access,
        Some(proof_for(&key, "/me", &access)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);

    // The device's permanent token: only with the key, and the device stays bound.
    let permanent = text(&login, "permanent_token");
    let device_refresh = |proof: Option<String>| {
        let mut req = app
            .client
            .post("/auth/device/refresh")
            .header(Header::new("Permanent-Token", permanent.clone()));
        if let Some(proof) = proof {
            req = req.header(Header::new("DPoP", proof));
        }
        req.dispatch()
    };
    let res = device_refresh(Some(
        thief.proof("POST", &url("/auth/device/refresh")).sign(),
    ))
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = device_refresh(None).await;
    assert_eq!(res.status(), Status::BadRequest);
    let res = device_refresh(Some(key.proof("POST", &url("/auth/device/refresh")).sign())).await;
    assert_eq!(res.status(), Status::Ok);
    let device = json_body(res).await;
    assert_eq!(device["token_type"], "DPoP");
    let (_, claims) = parts(&text(&device, "access"));
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());

    // The device list shows the key (its start); the audit log the attempts.
    let res = get(
        &app,
        "/auth/devices",
        "DPoP",
        &access,
        Some(proof_for(&key, "/auth/devices", &access)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let devices = json_body(res).await;
    let listed = devices
        .as_array()
        .and_then(|d| d.first())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        listed["dpop_key"],
        json!(&key.thumbprint()[..8]),
        "{devices}"
    );
    let audit = app
        .store()
        .audit_log(Some("alice"), 50)
        .await
        .unwrap_or_default();
    let mismatches = audit
        .iter()
        .filter(|a| a.event == "dpop_key_mismatch")
        .count();
    assert_eq!(mismatches, 4, "{audit:?}");
    app.finish().await;
}

/// Clients without proofs keep their bearer sessions beside bound ones; a route
/// of `#[use_jwt(dpop)]` takes bound tokens only and says so in a `DPoP`
/// challenge alone; an unbound token sent with the `DPoP` scheme is refused.
async fn bearer_clients_keep_working(kind: DbKind) {
    let Some(app) = TestApp::on(kind, config()).await else {
        return;
    };
    let login = json_body(login(&app, "bob", None).await).await;
    assert_eq!(login["token_type"], "Bearer");
    let access = text(&login, "access");
    let (_, claims) = parts(&access);
    assert!(claims.get("cnf").is_none(), "{claims}");
    let res = get(&app, "/me", "Bearer", &access, None).await;
    assert_eq!(res.status(), Status::Ok);
    let res = refresh(&app, &text(&login, "refresh"), None).await;
    assert_eq!(res.status(), Status::Ok);
    // A Bearer 401 names DPoP beside it (§7.1).
    let res = app.client.get("/me").dispatch().await;
    let all: Vec<&str> = res.headers().get("WWW-Authenticate").collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[0].starts_with("Bearer "), "{all:?}");
    assert!(
        all[1].starts_with("DPoP ") && all[1].contains("algs="),
        "{all:?}"
    );

    let res = get(&app, "/bound-only", "Bearer", &access, None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let all: Vec<&str> = res.headers().get("WWW-Authenticate").collect();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].starts_with("DPoP ") && all[0].contains("invalid_token"),
        "{all:?}"
    );
    let res = get(&app, "/bound-only", "DPoP", &access, None).await;
    assert_eq!(res.status(), Status::Unauthorized);

    let key = es256();
    let bound = bound_login(&app, "bob", &key).await;
    let token = text(&bound, "access");
    let res = get(
        &app,
        "/bound-only",
        "DPoP",
        &token,
        Some(proof_for(&key, "/bound-only", &token)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_body(res).await["jkt"], key.thumbprint());
    app.finish().await;
}

/// One proof is accepted once across every instance on one database (§11.1):
/// used on instance A, refused on instance B.
async fn a_proof_is_used_once_across_instances(kind: DbKind) {
    let Some(a) = TestApp::on(kind, config()).await else {
        return;
    };
    let b = TestApp::start_on(&a.database_url, config(), a.clock.clone()).await;
    let key = es256();
    let login = bound_login(&a, "alice", &key).await;
    let access = text(&login, "access");
    let proof = proof_for(&key, "/me", &access);
    let res = get(&a, "/me", "DPoP", &access, Some(proof.clone())).await;
    assert_eq!(res.status(), Status::Ok);
    let res = get(&b, "/me", "DPoP", &access, Some(proof)).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res).await["error"], "invalid_dpop_proof");
    // A fresh proof works on B: the token and key are good there too.
    let res = get(
        &b,
        "/me",
        "DPoP",
        &access,
        Some(proof_for(&key, "/me", &access)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    // The same at a token endpoint: a sign-in proof replayed elsewhere.
    let sign_in = key.proof("POST", &url("/auth/token")).sign();
    assert_eq!(login_status(&a, &sign_in).await, Status::Ok);
    assert_eq!(login_status(&b, &sign_in).await, Status::BadRequest);
    a.finish().await;
}

async fn login_status(app: &TestApp, proof: &str) -> Status {
    login(app, "alice", Some(proof.to_owned())).await.status()
}

storage_tests!(
    a_bound_session_end_to_end,
    bearer_clients_keep_working,
    a_proof_is_used_once_across_instances
);

/// Every check of RFC 9449 §4.3 refuses on its own (the positive control passes
/// first), at a token endpoint with `400 invalid_dpop_proof`.
#[rocket::async_test]
async fn each_check_of_section_4_3_refuses() {
    let app = TestApp::with_jwt(config()).await;
    let key = es256();
    let login_url = url("/auth/token");
    let proof = || key.proof("POST", &login_url);
    assert_eq!(login_status(&app, &proof().sign()).await, Status::Ok);
    let private = {
        let mut jwk = serde_json::to_value(key.jwk()).unwrap_or_default();
        jwk["d"] = json!("AAAA");
        jwk
    };
    let rsa2 = DpopKey::from_pem(Algorithm::RS256, &key_pem("rsa2.pem"));
    let (header, payload) = {
        let token = proof().sign();
        let mut it = token.split('.');
        (
            it.next().unwrap_or_default().to_owned(),
            it.next().unwrap_or_default().to_owned(),
        )
    };
    let cases: Vec<(&str, String)> = vec![
        ("2: not a JWT", "not-a-jwt".into()),
        ("2: two parts", format!("{header}.{payload}")),
        ("2: too large", format!("{}.x.y", "a".repeat(9000))),
        ("3: no jti", proof().claim("jti", Value::Null).sign()),
        (
            "3: jti too long",
            proof().claim("jti", json!("j".repeat(300))).sign(),
        ),
        ("3: no htm", proof().claim("htm", Value::Null).sign()),
        ("3: no htu", proof().claim("htu", Value::Null).sign()),
        ("3: no iat", proof().claim("iat", Value::Null).sign()),
        ("4: typ", proof().typ("JWT").sign()),
        ("5: alg none", unsigned(&proof().sign())),
        (
            "5: alg not accepted",
            DpopKey::from_pem(Algorithm::RS384, &key_pem("rsa.pem"))
                .proof("POST", &login_url)
                .sign(),
        ),
        (
            "6: signed by another key",
            proof()
                .header_jwk(serde_json::to_value(rsa2.jwk()).unwrap_or_default())
                .sign(),
        ),
        ("7: private key", proof().header_jwk(private).sign()),
        ("7: no key", proof().header_jwk(Value::Null).sign()),
        ("8: htm", key.proof("GET", &login_url).sign()),
        (
            "9: htu",
            key.proof("POST", &url("/auth/token/refresh")).sign(),
        ),
        ("11: iat", proof().claim("iat", json!(now() - 3600)).sign()),
    ];
    for (what, proof) in cases {
        let res = login(&app, "alice", Some(proof)).await;
        assert_eq!(res.status(), Status::BadRequest, "{what}");
        assert_eq!(
            json_body(res).await["error"],
            "invalid_dpop_proof",
            "{what}"
        );
    }
    // 1: two DPoP headers.
    let res = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new("DPoP", proof().sign()))
        .header(Header::new("DPoP", proof().sign()))
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    // No password was checked for any of them: the account is not locked out.
    assert_eq!(login_status(&app, &proof().sign()).await, Status::Ok);
}

/// `alg: none` and no signature over the same header and payload.
fn unsigned(token: &str) -> String {
    let (mut header, payload) = parts(token);
    header["alg"] = json!("none");
    jwt_guard_tests::assemble(&header, &payload, "")
}

/// RFC 7638 thumbprints of RSA, EC and OKP keys: the RFC's own RSA example, RFC
/// 8037's Ed25519 example, and a P-256 key's computed by hand; a session bound
/// with each key kind carries that thumbprint.
/// An app that names no `public_url` and listens on loopback is one server under
/// two names: proofs may name `127.0.0.1` or `localhost` (a browser page needs
/// the name to be a secure context) with its port — no other host, no other port.
/// A configured `public_url` is the only name (`a_bound_session_end_to_end`
/// refuses `localhost` there).
#[rocket::async_test]
async fn a_loopback_app_answers_to_localhost_too() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "allowed" },
    }))
    .await;
    let config = app.client.rocket().config();
    assert!(config.address.is_loopback(), "{}", config.address);
    let port = config.port;
    let key = es256();
    for (host, expected) in [
        (format!("127.0.0.1:{port}"), Status::Ok),
        (format!("localhost:{port}"), Status::Ok),
        (
            format!("localhost:{}", port.wrapping_add(1)),
            Status::BadRequest,
        ),
        (format!("example.com:{port}"), Status::BadRequest),
    ] {
        let proof = key
            .proof("POST", &format!("http://{host}/auth/token"))
            .sign();
        assert_eq!(login_status(&app, &proof).await, expected, "{host}");
    }
}

#[rocket::async_test]
async fn thumbprints_of_rsa_ec_and_okp_keys() {
    use jsonwebtoken::jwk::Jwk;
    let rfc7638: Jwk = serde_json::from_value(json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        jwt_guard::dpop::thumbprint(&rfc7638).as_deref(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
    let rfc8037: Jwk = serde_json::from_value(json!({
        "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        jwt_guard::dpop::thumbprint(&rfc8037).as_deref(),
        Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    );
    let ec = es256();
    let jwk = serde_json::to_value(ec.jwk()).unwrap_or_default();
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap_or_default(),
        jwk["y"].as_str().unwrap_or_default()
    );
    use sha2::Digest as _;
    let by_hand = jwt_guard_tests::b64(&sha2::Sha256::digest(canonical.as_bytes()));
    assert_eq!(ec.thumbprint(), by_hand);

    let app = TestApp::with_jwt(config()).await;
    for key in [
        ec,
        DpopKey::from_pem(Algorithm::EdDSA, &key_pem("ed25519.pem")),
        DpopKey::from_pem(Algorithm::RS256, &key_pem("rsa.pem")),
        DpopKey::from_pem(Algorithm::PS256, &key_pem("rsa.pem")),
        DpopKey::generate_es256(),
    ] {
        let login = bound_login(&app, "alice", &key).await;
        let access = text(&login, "access");
        let (_, claims) = parts(&access);
        assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
        let res = get(
            &app,
            "/me",
            "DPoP",
            &access,
            Some(proof_for(&key, "/me", &access)),
        )
        .await;
        assert_eq!(res.status(), Status::Ok);
    }
}

/// `dpop.mode = "required"`: no sign-in without a proof, no bearer token, and
/// the challenges name DPoP alone.
#[rocket::async_test]
async fn required_mode_refuses_bearer_sessions() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "required", "public_url": PUBLIC },
    }))
    .await;
    let res = login(&app, "alice", None).await;
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(json_body(res).await["error"], "invalid_dpop_proof");
    let minted = app.tokens().access("alice").mint();
    let res = get(&app, "/me", "Bearer", &minted, None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let all: Vec<&str> = res.headers().get("WWW-Authenticate").collect();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("DPoP "), "{all:?}");
    let key = es256();
    let login = bound_login(&app, "alice", &key).await;
    let access = text(&login, "access");
    let res = get(
        &app,
        "/me",
        "DPoP",
        &access,
        Some(proof_for(&key, "/me", &access)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
}

/// Server nonces (§8, §9): a proof without the current nonce gets
/// `use_dpop_nonce` and one in `DPoP-Nonce` (400 at the token endpoint, 401 at
/// a resource); with it the call passes and brings a nonce again. Nonces are
/// stateless: another instance with the same keys accepts them.
#[rocket::async_test]
async fn nonces_are_asked_for_and_accepted_across_instances() {
    let config = json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "allowed", "public_url": PUBLIC, "nonce": true },
    });
    let app = TestApp::with_jwt(config.clone()).await;
    let key = es256();
    let res = login(
        &app,
        "alice",
        Some(key.proof("POST", &url("/auth/token")).sign()),
    )
    .await;
    assert_eq!(res.status(), Status::BadRequest);
    let nonce = res
        .headers()
        .get_one("DPoP-Nonce")
        .unwrap_or_default()
        .to_owned();
    assert!(!nonce.is_empty());
    assert_eq!(json_body(res).await["error"], "use_dpop_nonce");
    let with_nonce = key.proof("POST", &url("/auth/token")).nonce(&nonce).sign();
    let res = login(&app, "alice", Some(with_nonce)).await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.headers().get_one("DPoP-Nonce").is_some());
    let access = text(&json_body(res).await, "access");

    let res = get(
        &app,
        "/me",
        "DPoP",
        &access,
        Some(proof_for(&key, "/me", &access)),
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let c = challenge(&res);
    assert!(
        c.starts_with("DPoP ") && c.contains("error=\"use_dpop_nonce\""),
        "{c}"
    );
    let nonce = res
        .headers()
        .get_one("DPoP-Nonce")
        .unwrap_or_default()
        .to_owned();
    let other = TestApp::start_on(
        &jwt_guard_tests::temp_sqlite_url(),
        config,
        app.clock.clone(),
    )
    .await;
    let proof = key
        .proof("GET", &url("/me"))
        .access_token(&access)
        .nonce(&nonce)
        .sign();
    let res = get(&other, "/me", "DPoP", &access, Some(proof)).await;
    assert_eq!(res.status(), Status::Ok);
    let forged = key
        .proof("GET", &url("/me"))
        .access_token(&access)
        .nonce("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .sign();
    let res = get(&app, "/me", "DPoP", &access, Some(forged)).await;
    assert_eq!(res.status(), Status::Unauthorized);
}

/// What other services learn: introspection shows a bound token's `cnf` and
/// type (RFC 9449 §6.2), RFC 9728 metadata the proof algorithms, the manifest
/// the `dpop` routes.
#[rocket::async_test]
async fn introspection_metadata_and_manifest_tell_of_binding() {
    let resource = "https://api.test/v1";
    let client = IntrospectionClient::with_secret("rs", "rs-secret");
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "audience": resource,
        "resource": { "resource": resource },
        "dpop": { "mode": "allowed", "public_url": PUBLIC },
        "introspection_clients": [
            { "client_id": client.client_id, "secret_sha256": client.secret_sha256 }
        ],
    }))
    .await;
    let res = app
        .client
        .get("/.well-known/oauth-protected-resource/v1")
        .dispatch()
        .await;
    let doc = json_body(res).await;
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"])
    );
    assert_eq!(doc["dpop_bound_access_tokens_required"], json!(false));

    let key = es256();
    let login = bound_login(&app, "admin", &key).await;
    let access = text(&login, "access");
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("rs:rs-secret");
    let res = app
        .client
        .post("/oauth/introspect")
        .header(ContentType::Form)
        .header(Header::new("Authorization", format!("Basic {basic}")))
        .body(format!("token={access}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let answer = json_body(res).await;
    assert_eq!(answer["active"], json!(true), "{answer}");
    assert_eq!(answer["token_type"], "DPoP", "{answer}");
    assert_eq!(answer["cnf"]["jkt"], key.thumbprint(), "{answer}");
    let manifest = jwt_guard::JwtGuard::manifest(app.client.rocket());
    let entry = manifest
        .iter()
        .find(|e| e.path == "/bound-only")
        .and_then(|e| serde_json::to_value(e).ok())
        .unwrap_or_default();
    assert_eq!(entry["protection"]["dpop"], json!(true), "{entry}");
}

/// The replay cache is the database: when it cannot be reached, a bound request
/// gets `503` with `Retry-After`, quickly (never a 401 that would end the
/// session), and works again once the database is back; bearer sessions,
/// verified from memory, keep answering meanwhile.
#[rocket::async_test]
async fn a_replay_check_that_cannot_be_made_answers_503() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let figment = base_figment(&pg.url).merge(("databases.jwt_guard.connect_timeout", 1));
    let jwt = json!({
        "secret": TEST_SECRET,
        "revocation_staleness": "serve",
        "dpop": { "mode": "allowed", "public_url": PUBLIC },
    });
    let app = TestApp::start_with(figment, jwt, Clock::offset()).await;
    let key = es256();
    let bound = text(&bound_login(&app, "alice", &key).await, "access");
    let bearer = app.access_token("bob").await;

    pg.cut().await;
    let started = Instant::now();
    let res = get(
        &app,
        "/me",
        "DPoP",
        &bound,
        Some(proof_for(&key, "/me", &bound)),
    )
    .await;
    assert_eq!(
        res.status(),
        Status::ServiceUnavailable,
        "never a 401 for an outage"
    );
    assert!(res.headers().get_one("Retry-After").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        get(&app, "/me", "Bearer", &bearer, None).await.status(),
        Status::Ok
    );

    pg.restore().await;
    eventually(
        "a bound call after the outage",
        Duration::from_secs(10),
        || async {
            let res = get(
                &app,
                "/me",
                "DPoP",
                &bound,
                Some(proof_for(&key, "/me", &bound)),
            )
            .await;
            res.status() == Status::Ok
        },
    )
    .await;
    pg.drop_database().await;
}

/// `replay_cache = "memory"` (one instance, or a verify-only app): a proof is
/// accepted once by this process.
#[rocket::async_test]
async fn the_memory_replay_cache_refuses_a_second_use() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "allowed", "public_url": PUBLIC, "replay_cache": "memory" },
    }))
    .await;
    let key = es256();
    let access = text(&bound_login(&app, "alice", &key).await, "access");
    let proof = proof_for(&key, "/me", &access);
    let first = get(&app, "/me", "DPoP", &access, Some(proof.clone())).await;
    assert_eq!(first.status(), Status::Ok);
    let again = get(&app, "/me", "DPoP", &access, Some(proof)).await;
    assert_eq!(again.status(), Status::Unauthorized);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_dpop_proofs")
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1);
    assert_eq!(rows, 0, "memory mode writes no proof to the database");
}

/// A device that binds later (an app already signed in sends its first proof
/// with a device refresh): from then on its refresh token from before, a bearer
/// one, is no longer current — and the bound tokens work with the key.
async fn a_device_bound_later_retires_its_bearer_refresh_token(kind: DbKind) {
    let Some(app) = TestApp::on(kind, config()).await else {
        return;
    };
    let login = json_body(login(&app, "alice", None).await).await;
    assert_eq!(login["token_type"], "Bearer");
    let key = es256();
    let res = app
        .client
        .post("/auth/device/refresh")
        .header(Header::new(
            "Permanent-Token",
            text(&login, "permanent_token"),
        ))
        .header(Header::new(
            "DPoP",
            key.proof("POST", &url("/auth/device/refresh")).sign(),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let device = json_body(res).await;
    assert_eq!(device["token_type"], "DPoP");
    let access = text(&device, "access");
    let (_, claims) = parts(&access);
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    let res = refresh(&app, &text(&login, "refresh"), None).await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = get(
        &app,
        "/me",
        "DPoP",
        &access,
        Some(proof_for(&key, "/me", &access)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    app.finish().await;
}

storage_tests!(a_device_bound_later_retires_its_bearer_refresh_token);

/// `POST path` with `form` (form-encoded), `authorization` and a proof if given.
async fn post_form<'a>(
    app: &'a TestApp,
    path: &str,
    form: &str,
    authorization: Option<String>,
    proof: Option<String>,
) -> LocalResponse<'a> {
    let mut req = app
        .client
        .post(path.to_owned())
        .header(ContentType::Form)
        .body(form);
    if let Some(authorization) = authorization {
        req = req.header(Header::new("Authorization", authorization));
    }
    if let Some(proof) = proof {
        req = req.header(Header::new("DPoP", proof));
    }
    req.dispatch().await
}

/// The OAuth endpoints keep the binding the route guards keep (RFC 9449 §7): a
/// DPoP-bound service token introspects only as `DPoP` with a proof by its key,
/// never as `Bearer`; with `dpop.mode = "required"` an unbound one introspects
/// nothing; and a bound refresh token is revoked only with a proof by its key
/// (a stolen copy cannot even burn it) — without one the answer is RFC 7009's
/// `200` and nothing is revoked.
async fn the_oauth_endpoints_keep_the_binding(kind: DbKind) {
    let Some(app) = TestApp::on(kind, config()).await else {
        return;
    };
    let key = es256();
    let other = DpopKey::generate_es256();
    let service = app
        .tokens()
        .access("reports-service")
        .roles(["user"])
        .scope("token:introspect")
        .dpop_bound(key.thumbprint())
        .mint();
    let login = bound_login(&app, "alice", &key).await;
    let access = text(&login, "access");
    let form = format!("token={access}");
    let introspect_proof = |k: &DpopKey| {
        k.proof("POST", &url("/oauth/introspect"))
            .access_token(&service)
            .sign()
    };
    // Positive control: the service's own key.
    let res = post_form(
        &app,
        "/oauth/introspect",
        &form,
        Some(format!("DPoP {service}")),
        Some(introspect_proof(&key)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(json_body(res).await["active"], true);
    // The same token as Bearer, as DPoP without a proof, or with another key's.
    for (what, authorization, proof) in [
        ("bearer", format!("Bearer {service}"), None),
        ("no proof", format!("DPoP {service}"), None),
        (
            "another key",
            format!("DPoP {service}"),
            Some(introspect_proof(&other)),
        ),
    ] {
        let res = post_form(&app, "/oauth/introspect", &form, Some(authorization), proof).await;
        assert_eq!(res.status(), Status::Unauthorized, "{what}");
        assert_eq!(json_body(res).await["error"], "invalid_client", "{what}");
    }

    // Revocation of a bound refresh token: nothing without its key's proof.
    let revoke_proof = |k: &DpopKey| k.proof("POST", &url("/oauth/revoke")).sign();
    for (what, proof) in [
        ("no proof", None),
        ("another key", Some(revoke_proof(&other))),
    ] {
        let refresh_token = text(&bound_login(&app, "alice", &key).await, "refresh");
        let res = post_form(
            &app,
            "/oauth/revoke",
            &format!("token={refresh_token}"),
            None,
            proof,
        )
        .await;
        assert_eq!(res.status(), Status::Ok, "{what}");
        let still = refresh(
            &app,
            &refresh_token,
            Some(key.proof("POST", &url("/auth/token/refresh")).sign()),
        )
        .await;
        assert_eq!(still.status(), Status::Ok, "{what}: the token was burnt");
    }
    let refresh_token = text(&bound_login(&app, "alice", &key).await, "refresh");
    let res = post_form(
        &app,
        "/oauth/revoke",
        &format!("token={refresh_token}"),
        None,
        Some(revoke_proof(&key)),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let gone = refresh(
        &app,
        &refresh_token,
        Some(key.proof("POST", &url("/auth/token/refresh")).sign()),
    )
    .await;
    assert_eq!(
        gone.status(),
        Status::Unauthorized,
        "revoked with its key's proof"
    );
    app.finish().await;
}

storage_tests!(the_oauth_endpoints_keep_the_binding);

/// With `dpop.mode = "required"`, an unbound service token introspects nothing:
/// the mode holds at the introspection endpoint as at every route.
#[rocket::async_test]
async fn required_dpop_holds_at_the_introspection_endpoint() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "required", "public_url": PUBLIC },
    }))
    .await;
    let unbound = app
        .tokens()
        .access("reports-service")
        .roles(["user"])
        .scope("token:introspect")
        .mint();
    let res = post_form(
        &app,
        "/oauth/introspect",
        &format!("token={unbound}"),
        Some(format!("Bearer {unbound}")),
        None,
    )
    .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(json_body(res).await["error"], "invalid_client");
    // Positive control: the same service with a bound token and its proof.
    let key = es256();
    let bound = app
        .tokens()
        .access("reports-service")
        .roles(["user"])
        .scope("token:introspect")
        .dpop_bound(key.thumbprint())
        .mint();
    let proof = key
        .proof("POST", &url("/oauth/introspect"))
        .access_token(&bound)
        .sign();
    let res = post_form(
        &app,
        "/oauth/introspect",
        &format!("token={bound}"),
        Some(format!("DPoP {bound}")),
        Some(proof),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
}

/// `ath` (RFC 9449 §4.2) as a client computes it, written here rather than taken
/// from jwt-guard: base64url(SHA-256(the access token's ASCII)).
fn ath_of(access: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(access.as_bytes()))
}

/// §4.3 checks no earlier test isolates: the signature alone (the victim's `jwk`
/// in the header, another P-256 key's signature), a symmetric (`HS256`, `oct`)
/// proof, `ath` computed outside the server (the RFC's own example vector), and a
/// well-formed proof over 8 KiB — each refused, each beside a positive control.
#[rocket::async_test]
async fn the_proof_checks_stand_alone() {
    // RFC 9449 §7.1's example: this access token hashes to this `ath`.
    assert_eq!(
        ath_of("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    let app = TestApp::with_jwt(config()).await;
    let victim = es256();
    let thief = DpopKey::generate_es256();
    let login = bound_login(&app, "alice", &victim).await;
    let access = text(&login, "access");
    let target = url("/me");
    fn with_ath<'k>(
        key: &'k DpopKey,
        target: &str,
        access: &str,
    ) -> jwt_guard::testing::ProofBuilder<'k> {
        key.proof("GET", target).claim("ath", json!(ath_of(access)))
    }
    // Positive control: `ath` computed here, the victim's key.
    let res = get(
        &app,
        "/me",
        "DPoP",
        &access,
        Some(with_ath(&victim, &target, &access).sign()),
    )
    .await;
    assert_eq!(res.status(), Status::Ok);
    let refusals: Vec<(&str, String)> = vec![
        (
            "the victim's jwk, the thief's signature",
            with_ath(&thief, &target, &access)
                .header_jwk(json!(victim.jwk()))
                .sign(),
        ),
        (
            "another token's ath",
            victim
                .proof("GET", &target)
                .claim("ath", json!(ath_of("another-token")))
                .sign(),
        ),
        (
            "a proof over 8 KiB",
            with_ath(&victim, &target, &access)
                .claim("pad", json!("x".repeat(9 * 1024)))
                .sign(),
        ),
        (
            "an HMAC proof with an oct key",
            hmac_proof(&target, &access),
        ),
    ];
    for (what, proof) in refusals {
        let res = get(&app, "/me", "DPoP", &access, Some(proof)).await;
        assert_eq!(res.status(), Status::Unauthorized, "{what}");
        assert_eq!(
            json_body(res).await["error"],
            "invalid_dpop_proof",
            "{what}"
        );
    }
    // And the control again: a padded but small proof passes (size, not the
    // extra claim, was refused).
    let padded = with_ath(&victim, &target, &access)
        .claim("pad", json!("x".repeat(64)))
        .sign();
    let res = get(&app, "/me", "DPoP", &access, Some(padded)).await;
    assert_eq!(res.status(), Status::Ok);
}

/// A proof made the way a careless client would make one with a shared secret:
/// `HS256`, an `oct` key in the header.
fn hmac_proof(target: &str, access: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let secret = b"a shared secret of thirty-two bytes!!";
    let header = json!({
        "typ": "dpop+jwt",
        "alg": "HS256",
        "jwk": { "kty": "oct", "k": b64.encode(secret) },
    });
    let claims = json!({
        "jti": format!("hmac-{}", now()),
        "htm": "GET",
        "htu": target,
        "iat": now(),
        "ath": ath_of(access),
    });
    let mut jwt_header = jsonwebtoken::Header::new(Algorithm::HS256);
    jwt_header.typ = Some("dpop+jwt".into());
    let input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    format!("{input}.{signature}")
}

/// The same proof sent to two instances at once (§11.1): accepted by exactly one.
/// The used-proof table is pruned by the archiver once a proof's `iat` could no
/// longer pass.
async fn one_proof_at_two_instances_at_once_is_accepted_once(kind: DbKind) {
    let Some(a) = TestApp::on(kind, config()).await else {
        return;
    };
    let b = TestApp::start_on(&a.database_url, config(), a.clock.clone()).await;
    let key = es256();
    let login = bound_login(&a, "alice", &key).await;
    let access = text(&login, "access");
    for round in 0..5 {
        let proof = proof_for(&key, "/me", &access);
        let (at_a, at_b) = rocket::tokio::join!(
            get(&a, "/me", "DPoP", &access, Some(proof.clone())),
            get(&b, "/me", "DPoP", &access, Some(proof)),
        );
        let mut statuses = [at_a.status().code, at_b.status().code];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "round {round}");
    }
    let kept = proof_rows(&a).await;
    assert!(kept >= 6, "the sign-in's proof and the five: {kept}");
    // Still within a proof's lifetime: nothing is pruned yet.
    a.store().archive().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(proof_rows(&a).await, kept);
    // Past the proofs' lifetime and skew (60 s + 5 s by default): pruned.
    a.clock.advance(3600);
    let report = a.store().archive().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.dpop_proofs, kept as u64);
    assert_eq!(proof_rows(&a).await, 0);
    a.finish().await;
}

storage_tests!(one_proof_at_two_instances_at_once_is_accepted_once);

/// How many used proofs the database holds.
async fn proof_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM jwt_guard_dpop_proofs")
        .fetch_one(app.pool())
        .await
        .unwrap_or(-1)
}
