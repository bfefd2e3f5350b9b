//! Helpers shared by the cross-crate tests: a showcase app on a fresh SQLite file (or
//! a PostgreSQL database), logins, and token forgery for attack tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_guard::{Clock, JwtRuntime};
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{json, Value};

/// Path of a test key file in `tests/keys`.
pub fn key_path(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "keys", name].iter().collect();
    path.to_string_lossy().into_owned()
}

/// The contents of a test key file.
pub fn key_pem(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).unwrap_or_else(|e| panic!("test key {name}: {e}"))
}

/// A fresh SQLite database URL in the temp directory.
pub fn temp_sqlite_url() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = std::env::temp_dir().join(format!(
        "jwt-guard-test-{}-{nanos}-{n}.sqlite",
        std::process::id()
    ));
    format!("sqlite://{}", path.display())
}

/// Base test configuration: quiet logs, a fresh database.
pub fn base_figment(database_url: &str) -> Figment {
    rocket::Config::figment()
        .merge(("log_level", std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into())))
        .merge(("databases.jwt_guard.url", database_url))
}

/// An HS256 test secret.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!!";

/// A running showcase app and its clock.
pub struct TestApp {
    /// The client.
    pub client: Client,
    /// The app's clock (advance it to expire things).
    pub clock: Clock,
}

impl TestApp {
    /// The showcase on SQLite with `jwt` configuration `jwt`.
    pub async fn with_jwt(jwt: Value) -> TestApp {
        Self::start(base_figment(&temp_sqlite_url()).merge(("jwt", jwt))).await
    }

    /// The showcase on SQLite with the default HS256 test secret.
    pub async fn hs256() -> TestApp {
        Self::with_jwt(json!({ "secret": TEST_SECRET })).await
    }

    /// The showcase on `figment`.
    pub async fn start(figment: Figment) -> TestApp {
        let clock = Clock::offset();
        let rocket = showcase::app(figment, clock.clone());
        let client = Client::tracked(rocket)
            .await
            .unwrap_or_else(|e| panic!("showcase failed to launch: {e}"));
        TestApp { client, clock }
    }

    /// jwt-guard's runtime in this app.
    pub fn runtime(&self) -> &JwtRuntime {
        self.client
            .rocket()
            .state::<JwtRuntime>()
            .unwrap_or_else(|| panic!("JwtRuntime is not managed"))
    }

    /// Logs in and returns the whole JSON answer.
    pub async fn login(&self, user: &str) -> Value {
        let res = self
            .client
            .post("/auth/token")
            .header(ContentType::JSON)
            .body(json!({ "username": user, "password": format!("{user}-password") }).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok, "login of {user} failed");
        json_body(res).await
    }

    /// Logs in and returns the access token.
    pub async fn access_token(&self, user: &str) -> String {
        self.login(user).await["access"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `GET path` with `Authorization: Bearer token`.
    pub async fn get_with_token(&self, path: &str, token: &str) -> LocalResponse<'_> {
        self.client
            .get(path.to_owned())
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: Value) -> LocalResponse<'_> {
        self.client
            .post(path.to_owned())
            .header(ContentType::JSON)
            .body(body.to_string())
            .dispatch()
            .await
    }
}

/// The response body as JSON (`Null` when it is not JSON).
pub async fn json_body(res: LocalResponse<'_>) -> Value {
    let text = res.into_string().await.unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The `WWW-Authenticate` header of a response.
pub fn challenge(res: &LocalResponse<'_>) -> String {
    res.headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default()
        .to_owned()
}

/// Base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits a compact JWS into its decoded header and payload JSON.
pub fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut next = || {
        let part = it.next().unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    let header = next();
    let payload = next();
    (header, payload)
}

/// A token with `header` and `payload` and the given raw signature part.
pub fn assemble(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        signature
    )
}

/// Valid claims for an access token of `sub`, shifted by `offset` seconds.
pub fn access_claims(sub: &str, now: u64) -> Value {
    json!({
        "typ": "access",
        "sub": sub,
        "exp": now + 300,
        "iat": now,
        "nbf": now,
        "jti": format!("forged-{now}"),
        "orig_iat": now,
        "roles": ["admin", "user"],
        "scope": "profile reports:read",
    })
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
