//! The attack classes of RFC 8725 (JWT best current practices), for each algorithm
//! family: every forged token must get a 401 and never reach the handler.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_guard_tests::{
    access_claims, assemble, b64, json_body, key_path, key_pem, now, parts, TestApp, TEST_SECRET,
};
use rocket::http::Status;
use serde_json::{json, Value};

/// One algorithm family under test: how the app is configured and how a test signs
/// tokens with the app's own key.
struct Family {
    name: &'static str,
    algorithm: Algorithm,
    jwt: Value,
    our_key: EncodingKey,
}

fn families() -> Vec<Family> {
    let pem = |n: &str| key_pem(n);
    vec![
        Family {
            name: "HS256",
            algorithm: Algorithm::HS256,
            jwt: json!({ "secret": TEST_SECRET }),
            our_key: EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        },
        Family {
            name: "HS512",
            algorithm: Algorithm::HS512,
            jwt: json!({ "algorithm": "HS512", "secret": "s".repeat(64) }),
            our_key: EncodingKey::from_secret("s".repeat(64).as_bytes()),
        },
        Family {
            name: "RS256",
            algorithm: Algorithm::RS256,
            jwt: json!({ "algorithm": "RS256", "private_key": key_path("rsa.pem") }),
            our_key: EncodingKey::from_rsa_pem(&pem("rsa.pem")).unwrap_or_else(|e| panic!("{e}")),
        },
        Family {
            name: "PS384",
            algorithm: Algorithm::PS384,
            jwt: json!({ "algorithm": "PS384", "private_key": key_path("rsa.pem") }),
            our_key: EncodingKey::from_rsa_pem(&pem("rsa.pem")).unwrap_or_else(|e| panic!("{e}")),
        },
        Family {
            name: "ES256",
            algorithm: Algorithm::ES256,
            jwt: json!({ "algorithm": "ES256", "private_key": key_path("ec256.pem") }),
            our_key: EncodingKey::from_ec_pem(&pem("ec256.pem")).unwrap_or_else(|e| panic!("{e}")),
        },
        Family {
            name: "ES384",
            algorithm: Algorithm::ES384,
            jwt: json!({ "algorithm": "ES384", "private_key": key_path("ec384.pem") }),
            our_key: EncodingKey::from_ec_pem(&pem("ec384.pem")).unwrap_or_else(|e| panic!("{e}")),
        },
        Family {
            name: "EdDSA",
            algorithm: Algorithm::EdDSA,
            jwt: json!({ "algorithm": "EdDSA", "private_key": key_path("ed25519.pem") }),
            our_key: EncodingKey::from_ed_pem(&pem("ed25519.pem"))
                .unwrap_or_else(|e| panic!("{e}")),
        },
    ]
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).unwrap_or_else(|e| panic!("signing failed: {e}"))
}

/// An attacker's own key of another family than `ours`.
fn attacker_key() -> (Algorithm, EncodingKey) {
    (
        Algorithm::RS256,
        EncodingKey::from_rsa_pem(&key_pem("rsa2.pem")).unwrap_or_else(|e| panic!("{e}")),
    )
}

async fn expect_refused(app: &TestApp, family: &str, attack: &str, token: &str) {
    let res = app.get_with_token("/admin/stats", token).await;
    assert_eq!(
        res.status(),
        Status::Unauthorized,
        "{family}: {attack} was not refused"
    );
    let body = json_body(res).await;
    assert_eq!(body["error"], "invalid_token", "{family}: {attack}: {body}");
}

#[rocket::async_test]
async fn every_attack_is_refused_for_every_family() {
    for family in families() {
        let app = TestApp::with_jwt(family.jwt.clone()).await;
        let kid = app.runtime().keys().signing_kid().to_owned();
        let name = family.name;
        let now = now();
        let mut ours = Header::new(family.algorithm);
        ours.kid = Some(kid.clone());

        // Control: a token we sign with the app's own key passes, so each refusal
        // below is caused by the one thing the attack changes.
        let genuine = sign(&ours, &access_claims("admin", now), &family.our_key);
        let res = app.get_with_token("/admin/stats", &genuine).await;
        assert_eq!(res.status(), Status::Ok, "{name}: control token refused");

        // alg "none", in several spellings, with and without our kid.
        for alg in ["none", "None", "NONE", "nOnE"] {
            for header in [
                json!({"alg": alg, "typ": "JWT"}),
                json!({"alg": alg, "kid": kid}),
            ] {
                let token = assemble(&header, &access_claims("admin", now), "");
                expect_refused(&app, name, &format!("alg {alg}"), &token).await;
                let token = format!("{token}AAAA");
                expect_refused(&app, name, &format!("alg {alg} with junk sig"), &token).await;
            }
        }

        // Algorithm confusion: HS256 with a public key (or, for HMAC apps, the
        // secret misused under another algorithm name) as the HMAC secret.
        let public = match family.algorithm {
            Algorithm::ES256 => key_pem("ec256.pub.pem"),
            Algorithm::ES384 => key_pem("ec384.pub.pem"),
            Algorithm::EdDSA => key_pem("ed25519.pub.pem"),
            Algorithm::RS256 | Algorithm::PS384 => key_pem("rsa.pub.pem"),
            _ => TEST_SECRET.as_bytes().to_vec(),
        };
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            if alg == family.algorithm {
                continue;
            }
            let mut h = Header::new(alg);
            h.kid = Some(kid.clone());
            let token = sign(
                &h,
                &access_claims("admin", now),
                &EncodingKey::from_secret(&public),
            );
            expect_refused(
                &app,
                name,
                &format!("{alg:?} keyed with the public key"),
                &token,
            )
            .await;
        }

        // Tampered payload: promote bob to admin, keep the signature.
        let bob = app.access_token("bob").await;
        let (header, mut payload) = parts(&bob);
        payload["roles"] = json!(["admin"]);
        let sig = bob.rsplit('.').next().unwrap_or_default();
        expect_refused(
            &app,
            name,
            "tampered payload",
            &assemble(&header, &payload, sig),
        )
        .await;
        // Tampered header (kid removed) keeps a valid-looking shape. (Changing
        // nothing but the key order would depend on serde_json's features.)
        let mut h2 = header.clone();
        if let Some(fields) = h2.as_object_mut() {
            fields.remove("kid");
        }
        let (_, p) = parts(&bob);
        expect_refused(&app, name, "tampered header", &assemble(&h2, &p, sig)).await;

        // Foreign key: an attacker's key under a kid we do not know, and under ours.
        let (alg, attacker) = attacker_key();
        let mut foreign = Header::new(alg);
        foreign.kid = Some("attacker".into());
        let token = sign(&foreign, &access_claims("admin", now), &attacker);
        expect_refused(&app, name, "foreign kid", &token).await;
        foreign.kid = Some(kid.clone());
        let token = sign(&foreign, &access_claims("admin", now), &attacker);
        expect_refused(&app, name, "attacker key under our kid", &token).await;

        // Embedded jwk / jku / x5u: the attacker points at their own key.
        let mut embedded = Header::new(alg);
        embedded.jwk =
            Some(Jwk::from_encoding_key(&attacker, alg).unwrap_or_else(|e| panic!("{e}")));
        let token = sign(&embedded, &access_claims("admin", now), &attacker);
        expect_refused(&app, name, "embedded jwk", &token).await;
        let mut jku = Header::new(alg);
        jku.jku = Some("https://attacker.invalid/jwks.json".into());
        jku.x5u = Some("https://attacker.invalid/cert.pem".into());
        let token = sign(&jku, &access_claims("admin", now), &attacker);
        expect_refused(&app, name, "jku/x5u", &token).await;

        // Unknown critical header parameter, even when signed by our key.
        let mut crit = ours.clone();
        crit.crit = Some(vec!["exp-extension".into()]);
        let token = sign(&crit, &access_claims("admin", now), &family.our_key);
        expect_refused(&app, name, "crit", &token).await;

        // Time: expired, not yet valid, no exp at all.
        let mut claims = access_claims("admin", now);
        claims["exp"] = json!(now - 10);
        expect_refused(
            &app,
            name,
            "expired",
            &sign(&ours, &claims, &family.our_key),
        )
        .await;
        let mut claims = access_claims("admin", now);
        claims["nbf"] = json!(now + 600);
        claims["exp"] = json!(now + 900);
        expect_refused(
            &app,
            name,
            "future nbf",
            &sign(&ours, &claims, &family.our_key),
        )
        .await;
        // Issued in the future (beyond the leeway): refused as `nbf` is, on the
        // guards and by the verify route alike.
        let mut claims = access_claims("admin", now);
        claims["iat"] = json!(now + 600);
        claims["exp"] = json!(now + 900);
        let future = sign(&ours, &claims, &family.our_key);
        expect_refused(&app, name, "future iat", &future).await;
        let verify = app
            .post_json("/auth/token/verify", json!({ "token": future }))
            .await;
        assert_eq!(verify.status(), Status::Unauthorized, "{name}: verify iat");
        let mut claims = access_claims("admin", now);
        if let Some(map) = claims.as_object_mut() {
            map.remove("exp");
        }
        expect_refused(&app, name, "no exp", &sign(&ours, &claims, &family.our_key)).await;

        // Wrong kind: a refresh token, a link token.
        for typ in ["refresh", "link", "ACCESS", ""] {
            let mut claims = access_claims("admin", now);
            claims["typ"] = json!(typ);
            let token = sign(&ours, &claims, &family.our_key);
            expect_refused(&app, name, &format!("typ {typ:?}"), &token).await;
        }

        // Garbage.
        for junk in [
            "a",
            "a.b",
            "a.b.c",
            "....",
            "e30.e30.e30",
            &b64(b"{\"alg\":\"HS256\"}"),
        ] {
            expect_refused(&app, name, &format!("garbage {junk:?}"), junk).await;
        }
        let oversized = sign(
            &ours,
            &json!({"pad": "x".repeat(9000), "exp": now + 60}),
            &family.our_key,
        );
        expect_refused(&app, name, "oversized", &oversized).await;
    }
}

#[rocket::async_test]
async fn issuer_and_audience_are_exact_when_configured() {
    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET, "issuer": "https://auth.example", "audience": "api",
    }))
    .await;
    let token = app.access_token("admin").await;
    let (_, payload) = parts(&token);
    assert_eq!(payload["iss"], "https://auth.example");
    assert_eq!(payload["aud"], "api");
    assert_eq!(
        app.get_with_token("/admin/stats", &token).await.status(),
        Status::Ok
    );

    let key = EncodingKey::from_secret(TEST_SECRET.as_bytes());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(app.runtime().keys().signing_kid().to_owned());
    let base = {
        let mut c = access_claims("admin", now());
        c["iss"] = json!("https://auth.example");
        c["aud"] = json!("api");
        c
    };
    assert_eq!(
        app.get_with_token("/admin/stats", &sign(&header, &base, &key))
            .await
            .status(),
        Status::Ok,
        "control token refused"
    );
    for (field, value) in [
        ("iss", json!("https://evil.example")),
        ("iss", Value::Null),
        ("aud", json!("other-api")),
        ("aud", json!("API")),
    ] {
        let mut claims = base.clone();
        if value.is_null() {
            if let Some(map) = claims.as_object_mut() {
                map.remove(field);
            }
        } else {
            claims[field] = value.clone();
        }
        expect_refused(
            &app,
            "HS256",
            &format!("{field} = {value}"),
            &sign(&header, &claims, &key),
        )
        .await;
    }
}

#[rocket::async_test]
async fn leeway_tolerates_small_skew_only() {
    let app = TestApp::with_jwt(json!({ "secret": TEST_SECRET, "leeway": "30s" })).await;
    let key = EncodingKey::from_secret(TEST_SECRET.as_bytes());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(app.runtime().keys().signing_kid().to_owned());
    let now = now();
    let mut claims = access_claims("admin", now);
    claims["exp"] = json!(now - 10);
    let token = sign(&header, &claims, &key);
    assert_eq!(
        app.get_with_token("/admin/stats", &token).await.status(),
        Status::Ok
    );
    claims["exp"] = json!(now - 45);
    expect_refused(
        &app,
        "HS256",
        "expired beyond leeway",
        &sign(&header, &claims, &key),
    )
    .await;
}

#[rocket::async_test]
async fn key_url_headers_are_ignored_and_never_fetched() {
    use std::io::ErrorKind;
    use std::net::TcpListener;
    // A server the headers point at, counting every connection made to it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let app = TestApp::hs256().await;
    let genuine = app.access_token("alice").await;
    let kid = parts(&genuine).0["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let our_key = EncodingKey::from_secret(TEST_SECRET.as_bytes());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    header.jku = Some(format!("{url}/jwks.json"));
    header.x5u = Some(format!("{url}/cert.pem"));
    header.x5c = Some(vec!["MIIB".into()]);
    let token = sign(&header, &access_claims("alice", now()), &our_key);
    // Signed with the app's own key: accepted, the URLs ignored.
    assert_eq!(app.get_with_token("/me", &token).await.status(), Status::Ok);
    let fetched = match listener.accept() {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) => panic!("{e}"),
    };
    assert!(!fetched, "a key URL in a header was fetched");
    // Near misses of the real kid name no key.
    let mut near = kid.clone();
    near.pop();
    for wrong in [
        format!("{kid} "),
        kid.to_uppercase(),
        near,
        format!("{kid}0"),
    ] {
        if wrong == kid {
            continue;
        }
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(wrong.clone());
        let token = sign(&header, &access_claims("alice", now()), &our_key);
        let res = app.get_with_token("/me", &token).await;
        assert_eq!(res.status(), Status::Unauthorized, "kid {wrong:?}");
        assert_eq!(
            json_body(res).await["error_description"],
            "token was signed with an unknown key"
        );
    }
    app.finish().await;
}
