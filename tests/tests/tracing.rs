//! `tracing`: a `jwt_guard.authenticate` span per authentication, with the route
//! template, scheme, issuer, `kid`, `alg`, result and error code, and every
//! OWASP-named event the README lists — and no token, proof, password or typed
//! username in anything written, down to TRACE, through `tracing` and through
//! `log` alike. One test in its own binary: the subscriber and the logger are
//! global to the process.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jwt_guard::testing::DpopKey;
use jwt_guard::Algorithm;
use jwt_guard_tests::{json_body, key_pem, TestApp, TEST_SECRET};
use rocket::http::{ContentType, Header, Method, Status};
use serde_json::{json, Value};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::MakeWriter;

/// Everything the subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// `log` records (Rocket's, sqlx's and jwt-guard's own `rocket::warn!`s) into the
/// same buffer, every level.
struct CapturedLog(Captured);

impl log::Log for CapturedLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!(
            "LOG {} {}: {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        let _ = self.0.clone().write(line.as_bytes());
    }

    fn flush(&self) {}
}

/// The events the README's tracing section lists, plus DPoP's.
const EVENTS: [&str; 10] = [
    "authn_login_success",
    "authn_login_fail",
    "authn_login_fail_max",
    "session_created",
    "authn_token_created",
    "authn_token_reuse",
    "authn_token_revoked",
    "authn_throttled",
    "authz_fail",
    "authn_dpop_fail",
];

/// Proofs name the app by this address.
const PUBLIC: &str = "https://api.test";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[rocket::async_test]
async fn authentications_are_spans_and_security_events_are_named() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap_or_else(|e| panic!("{e}"));
    log::set_boxed_logger(Box::new(CapturedLog(captured.clone())))
        .unwrap_or_else(|e| panic!("{e}"));
    log::set_max_level(log::LevelFilter::Trace);

    let app = TestApp::with_jwt(json!({
        "secret": TEST_SECRET,
        "login_throttle": { "account_attempts": 2 },
        "dpop": { "mode": "allowed", "public_url": PUBLIC },
    }))
    .await;
    let mut secrets: Vec<String> = vec!["alice-password".into(), "hunter2".into()];

    // A login: authn_login_success, session_created.
    let login = app.login("alice").await;
    for key in ["access", "refresh", "permanent_token", "device_cookie"] {
        secrets.push(s(&login[key]));
    }
    let access = s(&login["access"]);
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    // authz_fail: a valid token without the route's scope.
    let bob = app.access_token("bob").await;
    secrets.push(bob.clone());
    assert_eq!(
        app.get_with_token("/reports", &bob).await.status(),
        Status::Forbidden
    );
    // authn_login_fail for a name nobody has (typed, never written), then
    // authn_login_fail_max and authn_throttled once the account's two are spent.
    let typed = |user: &str, password: &str| {
        app.post_json(
            "/auth/token",
            json!({ "username": user, "password": password }),
        )
    };
    assert_eq!(
        typed("carol-typed", "hunter2").await.status(),
        Status::Unauthorized
    );
    for _ in 0..2 {
        assert_eq!(typed("bob", "hunter2").await.status(), Status::Unauthorized);
    }
    assert_eq!(
        typed("bob", "bob-password").await.status(),
        Status::TooManyRequests
    );
    // authn_token_created: a rotation; authn_token_reuse: its spent token again.
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let rotated = json_body(res).await;
    secrets.extend([s(&rotated["access"]), s(&rotated["refresh"])]);
    let res = app
        .post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // authn_token_revoked: a logout.
    let admin = app.login("admin").await;
    for key in ["access", "refresh", "permanent_token", "device_cookie"] {
        secrets.push(s(&admin[key]));
    }
    let admin_access = s(&admin["access"]);
    // A permanent token and a link are authentications too.
    let permanent = s(&admin["permanent_token"]);
    let res = app.device_refresh(&permanent).await;
    assert_eq!(res.status(), Status::Ok);
    secrets.push(s(&json_body(res).await["access"]));
    let minted = json_body(
        app.send_with_token(Method::Post, "/links/unsubscribe", &admin_access)
            .await,
    )
    .await;
    let url = s(&minted["url"]);
    let link = &url[url.find("/newsletter").unwrap_or(0)..];
    secrets.push(url.split("token=").nth(1).unwrap_or_default().to_owned());
    assert_eq!(
        app.client.get(link.to_owned()).dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(
        app.send_with_token(Method::Post, "/auth/logout", &admin_access)
            .await
            .status(),
        Status::NoContent
    );
    // authn_dpop_fail: a proof for another URL.
    let key = DpopKey::from_pem(Algorithm::ES256, &key_pem("ec256.pem"));
    let proof = key
        .proof("POST", "https://elsewhere.test/auth/token")
        .sign();
    secrets.push(proof.clone());
    let res = app
        .client
        .post("/auth/token")
        .header(ContentType::JSON)
        .header(Header::new("DPoP", proof))
        .body(json!({ "username": "admin", "password": "admin-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);

    let text = captured.text();
    // Both channels were captured: tracing's below INFO, and `log` records.
    assert!(text.contains("TRACE") || text.contains("DEBUG"), "{text}");
    assert!(text.contains("LOG "), "no `log` record captured:\n{text}");
    let spans: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("jwt_guard.authenticate"))
        .collect();
    let me = spans
        .iter()
        .find(|l| l.contains("route=/me"))
        .unwrap_or_else(|| panic!("no span for /me in:\n{text}"));
    for field in [
        "scheme=\"bearer\"",
        "issuer=\"own\"",
        "alg=\"HS256\"",
        "result=\"success\"",
        "kid=",
    ] {
        assert!(me.contains(field), "{field} missing: {me}");
    }
    let reports = spans
        .iter()
        .find(|l| l.contains("route=/reports"))
        .unwrap_or_else(|| panic!("no span for /reports in:\n{text}"));
    assert!(
        reports.contains("result=\"denied\"") && reports.contains("error=\"insufficient_scope\""),
        "{reports}"
    );
    for scheme in ["scheme=\"permanent\"", "scheme=\"link\""] {
        assert!(
            spans
                .iter()
                .any(|l| l.contains(scheme) && l.contains("result=\"success\"")),
            "no {scheme} span in:\n{text}"
        );
    }
    // Each event as an event line of its target, by its exact name.
    let events: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("jwt_guard::events:"))
        .collect();
    for event in EVENTS {
        assert!(
            events
                .iter()
                .any(|l| l.split_whitespace().any(|word| word == event)),
            "{event} missing:\n{}",
            events.join("\n")
        );
    }
    // Nothing written holds a token, a signature, a proof, a password or a typed
    // username.
    assert!(
        secrets.iter().all(|secret| !secret.is_empty()),
        "{secrets:?}"
    );
    for token in secrets.clone() {
        if let Some(sig) = token.rsplit('.').next().filter(|_| token.contains('.')) {
            secrets.push(sig.to_owned());
        }
    }
    secrets.extend(["eyJ".into(), "jgp_".into(), "carol-typed".into()]);
    for secret in &secrets {
        if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
            panic!("{secret:.24}… was written: {line}");
        }
    }
}
