//! `tracing`: a `jwt_guard.authenticate` span per authentication, with the route
//! template, scheme, issuer, `kid`, `alg`, result and error code, and OWASP-named
//! events — and no token, password or typed username in anything written. One
//! test in its own binary: the subscriber is global to the process.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jwt_guard_tests::TestApp;
use rocket::http::{Method, Status};
use serde_json::json;
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

#[rocket::async_test]
async fn authentications_are_spans_and_security_events_are_named() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap_or_else(|e| panic!("{e}"));

    let app = TestApp::hs256().await;
    let login = app.login("alice").await;
    let access = login["access"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.get_with_token("/me", &access).await.status(),
        Status::Ok
    );
    let bob = app.access_token("bob").await;
    assert_eq!(
        app.get_with_token("/reports", &bob).await.status(),
        Status::Forbidden
    );
    let res = app
        .post_json(
            "/auth/token",
            json!({ "username": "carol", "password": "hunter2-typed" }),
        )
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    // A permanent token and a link are authentications too.
    let permanent = login["permanent_token"].as_str().unwrap_or_default();
    assert_eq!(app.device_refresh(permanent).await.status(), Status::Ok);
    let minted = jwt_guard_tests::json_body(
        app.send_with_token(Method::Post, "/links/unsubscribe", &access)
            .await,
    )
    .await;
    let url = minted["url"].as_str().unwrap_or_default();
    let link = &url[url.find("/newsletter").unwrap_or(0)..];
    assert_eq!(
        app.client.get(link.to_owned()).dispatch().await.status(),
        Status::Ok
    );

    let text = captured.text();
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
    for event in [
        "authn_login_success",
        "authn_login_fail",
        "authz_fail",
        "session_created",
    ] {
        assert!(text.contains(event), "{event} missing:\n{text}");
    }
    // Nothing written holds a token, a password or a typed username.
    for secret in ["eyJ", "jgp_", "hunter2", "carol", access.as_str()] {
        assert!(!text.contains(secret), "{secret} was written:\n{text}");
    }
}
