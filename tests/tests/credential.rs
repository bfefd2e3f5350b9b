//! A request's credential is read once: `Authorization` is parsed one time per
//! request, however many steps use it — the span (with a `tracing` subscriber
//! listening, it reads the token's header), the verification, the DPoP binding
//! check, the policy guard `#[use_jwt]` injects and the handler's `Jwt<C>`. One
//! test in its own binary: the counting hook and the subscriber are global to the
//! process.

use jwt_guard::testing::{authorization_reads, DpopKey};
use jwt_guard::Algorithm;
use jwt_guard_tests::{json_body, key_pem, DbKind, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Status};
use serde_json::json;

const PUBLIC: &str = "https://api.test";

#[rocket::async_test]
async fn a_dpop_request_with_tracing_on_reads_authorization_once() {
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap_or_else(|e| panic!("{e}"));
    // The span reads the token's header only when a subscriber listens.
    assert!(tracing::enabled!(target: "jwt_guard", tracing::Level::INFO));

    let config = json!({
        "secret": TEST_SECRET,
        "dpop": { "mode": "allowed", "public_url": PUBLIC },
    });
    let Some(app) = TestApp::on(DbKind::Sqlite, config).await else {
        panic!("SQLite is always available");
    };
    let key = DpopKey::from_pem(Algorithm::ES256, &key_pem("ec256.pem"));
    let login = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new(
            "DPoP",
            key.proof("POST", &format!("{PUBLIC}/auth/token")).sign(),
        ))
        .body(json!({ "username": "alice", "password": "alice-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(login.status(), Status::Ok);
    let login = json_body(login).await;
    let access = login["access"].as_str().unwrap_or_default().to_owned();

    // `/me` has two guards (`#[use_jwt]`'s and `Jwt<AppClaims>`), and the token
    // is DPoP-bound: the binding check needs the token's text too.
    for (round, path) in ["/me", "/me", "/bound-only"].into_iter().enumerate() {
        let proof = key
            .proof("GET", &format!("{PUBLIC}{path}"))
            .access_token(&access)
            .sign();
        let before = authorization_reads();
        let res = app
            .client
            .get(path)
            .header(Header::new("Authorization", format!("DPoP {access}")))
            .header(Header::new("DPoP", proof))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok, "round {round}: {path}");
        assert_eq!(authorization_reads() - before, 1, "round {round}: {path}");
    }

    // A refusal reads it once too: the bound token without its proof.
    let before = authorization_reads();
    let res = app
        .client
        .get("/me")
        .header(Header::new("Authorization", format!("DPoP {access}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(authorization_reads() - before, 1);

    // An open route reads nothing.
    let before = authorization_reads();
    let res = app
        .client
        .get("/visits")
        .header(Header::new("Authorization", format!("DPoP {access}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(authorization_reads() - before, 0);
}
