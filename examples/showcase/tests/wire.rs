//! What only a real listener shows: a known path asked with another method —
//! including one Rocket cannot parse, such as `QUERY` — is `405` with `Allow`
//! (RFC 9110 §15.5.6, §10.2.1); an unknown path stays `404`.

mod support;

use serde_json::Value;
use support::served::Served;

#[rocket::async_test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let served = Served::start("wire", |f| f).await;
    let http = reqwest::Client::new();
    for (method, path, status, allow) in [
        ("PUT", "/me", 405, Some("GET, HEAD")),
        ("QUERY", "/me", 405, Some("GET, HEAD")),
        ("TRACE", "/auth/token", 405, Some("POST")),
        ("DELETE", "/auth/token", 405, Some("POST")),
        ("PATCH", "/auth/devices/abc", 405, Some("DELETE")),
        // A ceremony's path is no credential's (schemathesis found `DELETE,
        // PATCH` here when the credentials were `/auth/passkeys/<id>`).
        ("DELETE", "/auth/passkeys/login", 405, Some("POST")),
        ("OPTIONS", "/auth/passkeys/register", 405, Some("POST")),
        (
            "POST",
            "/auth/passkeys/credentials/abc",
            405,
            Some("DELETE, PATCH"),
        ),
        ("POST", "/.well-known/jwks.json", 405, Some("GET, HEAD")),
        ("GET", "/nowhere", 404, None),
        ("QUERY", "/nowhere", 400, None),
    ] {
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let res = http
            .request(method.clone(), served.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            res.headers().get("allow").and_then(|v| v.to_str().ok()),
            allow,
            "{method} {path}"
        );
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let expected = match status {
            405 => "method_not_allowed",
            404 => "not_found",
            _ => "invalid_request",
        };
        assert_eq!(body["error"], expected, "{method} {path}: {body}");
    }
    served.stop().await;
}
