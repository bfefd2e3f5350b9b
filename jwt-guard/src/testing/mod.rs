//! Test helpers for applications that use jwt-guard (feature `testing`, meant for
//! `[dev-dependencies]`): tokens minted with the app's own configured keys, ready-made
//! bad tokens, logging in through the built-in routes, and a fixed clock.
//!
//! ```
//! use jwt_guard::testing::TestTokens;
//! use jwt_guard::{use_jwt, Claims, JwtGuard, Jwt, Scopes};
//! use jwt_guard::config::JwtConfig;
//! use rocket::http::{Header, Status};
//! use rocket::local::asynchronous::Client;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
//! #[serde(rename_all = "lowercase")]
//! enum Role { User, Admin }
//!
//! #[derive(Claims, Serialize, Deserialize)]
//! struct AppClaims {
//!     #[claims(roles)]
//!     roles: Vec<Role>,
//!     #[claims(scopes)]
//!     scope: Scopes,
//! }
//!
//! #[use_jwt(claims = AppClaims, role = Role::Admin)]
//! #[rocket::get("/admin")]
//! fn admin(jwt: Jwt<AppClaims>) -> String { jwt.subject().to_owned() }
//!
//! # rocket::async_test(async {
//! let db = std::env::temp_dir().join(format!("jwt-guard-doc-{}.sqlite", std::process::id()));
//! let rocket = rocket::custom(
//!     rocket::Config::figment()
//!         .merge(("log_level", "off"))
//!         .merge(("databases.jwt_guard.url", format!("sqlite://{}", db.display()))),
//! )
//! .attach(JwtGuard::fairing().config(JwtConfig::hmac("a secret of at least thirty-two bytes!")))
//! .mount("/", rocket::routes![admin]);
//! let client = Client::tracked(rocket).await.expect("launch");
//! let tokens = TestTokens::from_client(&client);
//!
//! let get = |token: String| {
//!     client.get("/admin").header(Header::new("Authorization", format!("Bearer {token}"))).dispatch()
//! };
//! // Every field of the claims type must be there: `roles` and `scope` here.
//! let admin = tokens.access("ann").roles([Role::Admin]).scope("").mint();
//! assert_eq!(get(admin).await.status(), Status::Ok);
//! let user = tokens.access("bob").claims(&AppClaims { roles: vec![Role::User], scope: Scopes::default() }).mint();
//! assert_eq!(get(user).await.status(), Status::Forbidden);
//! assert_eq!(get(tokens.expired("ann")).await.status(), Status::Unauthorized);
//! assert_eq!(get(tokens.tampered("ann")).await.status(), Status::Unauthorized);
//! # });
//! ```
//!
//! Expiry without sleeping: give the fairing a [`Clock::offset`] (or
//! [`Clock::fixed`]) with `JwtGuard::fairing().clock(clock.clone())` and move it
//! with [`Clock::advance`]; [`TestTokens`] mints by the same clock.

// Test helpers fail the test the way assertions do: with a panic that says why.
#![allow(clippy::panic)]

mod dpop;

pub use dpop::{DpopKey, ProofBuilder};

/// The in-memory revocation set a verifier consults, for tests and benchmarks
/// that build a [`Verifier`](crate::verifier::Verifier) of their own.
pub use crate::revocation_set::{Revocation, RevocationSet};

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use rocket::{Phase, Rocket};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::claims::{NoClaims, RegisteredClaims, TokenKind};
use crate::clock::Clock;
use crate::runtime::JwtRuntime;
use crate::secret::random_id;
use crate::session::LoginResponse;
use crate::signer::{Grant, Issuer};

/// Mints tokens with an application's configured keys, issuer and audience.
#[derive(Clone, Debug)]
pub struct TestTokens {
    issuer: Issuer,
    clock: Clock,
    leeway: u64,
}

impl TestTokens {
    /// The tokens of `rocket` (ignited or launched, with the
    /// [`JwtGuard`](crate::JwtGuard) fairing attached). Panics with an explanation
    /// otherwise: this is a test helper.
    pub fn from_rocket<P: Phase>(rocket: &Rocket<P>) -> Self {
        Self::try_from_rocket(rocket).unwrap_or_else(|| {
            panic!(
                "jwt_guard::testing: no JwtRuntime is managed; attach JwtGuard::fairing() and \
                 ignite the rocket (e.g. with Client::tracked) before minting test tokens"
            )
        })
    }

    /// As [`TestTokens::from_rocket`], `None` instead of a panic.
    pub fn try_from_rocket<P: Phase>(rocket: &Rocket<P>) -> Option<Self> {
        let rt = rocket.state::<JwtRuntime>()?;
        Some(Self {
            issuer: rt.issuer().clone(),
            clock: rt.issuer().clock().clone(),
            leeway: rt.config().leeway.as_secs(),
        })
    }

    /// The tokens of the app behind `client`.
    pub fn from_client(client: &Client) -> Self {
        Self::from_rocket(client.rocket())
    }

    /// An access token for `subject`, to fill in and [`mint`](AccessToken::mint).
    pub fn access(&self, subject: &str) -> AccessToken<'_> {
        AccessToken {
            tokens: self,
            subject: subject.to_owned(),
            claims: Map::new(),
            ttl: self.issuer.access_ttl(),
            device_id: None,
            login_age: 0,
            acr: None,
            dpop_jkt: None,
        }
    }

    fn registered(&self, kind: TokenKind, subject: &str, ttl: u64) -> RegisteredClaims {
        let grant = Grant {
            subject,
            device_id: None,
            orig_iat: self.clock.now(),
            acr: None,
            amr: &[],
            dpop_jkt: None,
        };
        let mut registered = self.issuer.registered(kind, &grant, ttl);
        registered.jti = random_id();
        registered
    }

    fn sign(&self, registered: RegisteredClaims, claims: &Map<String, Value>) -> String {
        self.issuer
            .sign(registered, claims)
            .map(|t| t.token)
            .unwrap_or_else(|e| panic!("jwt_guard::testing: cannot sign: {e}"))
    }

    /// Expired a minute past any leeway: refused with 401.
    pub fn expired(&self, subject: &str) -> String {
        let mut registered = self.registered(TokenKind::Access, subject, 60);
        let past = self.leeway.saturating_add(120);
        registered.iat = registered.iat.saturating_sub(past);
        registered.nbf = Some(registered.iat);
        registered.exp = registered.iat.saturating_add(60);
        self.sign(registered, &Map::new())
    }

    /// Valid only from an hour from now (`nbf`): refused with 401.
    pub fn not_yet_valid(&self, subject: &str) -> String {
        let mut registered = self.registered(TokenKind::Access, subject, 7200);
        registered.nbf = Some(registered.iat.saturating_add(3600));
        self.sign(registered, &Map::new())
    }

    /// Issued an hour from now (`iat` in the future): refused with 401.
    pub fn issued_in_the_future(&self, subject: &str) -> String {
        let mut registered = self.registered(TokenKind::Access, subject, 7200);
        registered.iat = registered.iat.saturating_add(3600);
        self.sign(registered, &Map::new())
    }

    /// Signed by a key the app does not know, under the app's own `kid`: refused
    /// with 401.
    pub fn wrong_key(&self, subject: &str) -> String {
        let registered = self.registered(TokenKind::Access, subject, self.issuer.access_ttl());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(self.issuer.signing_kid().to_owned());
        let stranger = jsonwebtoken::EncodingKey::from_secret(random_id().as_bytes());
        let token = crate::claims::Token {
            registered,
            claims: NoClaims {},
        };
        jsonwebtoken::encode(&header, &token, &stranger)
            .unwrap_or_else(|e| panic!("jwt_guard::testing: cannot sign: {e}"))
    }

    /// For another audience (and another issuer): refused with 401 by an app that
    /// configures `audience` (or `issuer`).
    pub fn wrong_audience(&self, subject: &str) -> String {
        let mut registered = self.registered(TokenKind::Access, subject, self.issuer.access_ttl());
        registered.aud = Some("some-other-service".to_owned());
        registered.iss = Some("https://someone-else.invalid".to_owned());
        self.sign(registered, &Map::new())
    }

    /// A valid token whose claims were edited after signing (`sub` changed):
    /// refused with 401.
    pub fn tampered(&self, subject: &str) -> String {
        use base64::Engine as _;
        let token = self.access(subject).mint();
        let mut parts = token.splitn(3, '.');
        let (header, payload, signature) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = engine
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        claims["sub"] = Value::from(format!("{subject}-but-admin"));
        let edited = engine.encode(claims.to_string());
        format!("{header}.{edited}.{signature}")
    }

    /// A genuine refresh token presented as an access token: refused with 401.
    pub fn refresh_as_access(&self, subject: &str) -> String {
        let registered = self.registered(TokenKind::Refresh, subject, self.issuer.refresh_ttl());
        self.sign(registered, &Map::new())
    }

    /// Not a JWT at all.
    pub fn malformed() -> String {
        "not-a-jwt".to_owned()
    }
}

/// An access token being filled in; see [`TestTokens::access`].
#[derive(Debug)]
#[must_use = "call `.mint()` to get the token"]
pub struct AccessToken<'a> {
    tokens: &'a TestTokens,
    subject: String,
    claims: Map<String, Value>,
    ttl: u64,
    device_id: Option<String>,
    login_age: u64,
    acr: Option<String>,
    dpop_jkt: Option<String>,
}

impl AccessToken<'_> {
    /// Sets the `roles` claim (the field a `#[claims(roles)] roles` field reads).
    ///
    /// The token must carry every field the app's claims type requires, or its
    /// guards refuse it as malformed: set the rest with [`AccessToken::claim`], or
    /// all at once, typed, with [`AccessToken::claims`].
    pub fn roles<R: Serialize>(self, roles: impl IntoIterator<Item = R>) -> Self {
        let roles: Vec<Value> = roles
            .into_iter()
            .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
            .collect();
        self.claim("roles", roles)
    }

    /// Sets the `scope` claim, space-separated (`"reports:read profile"`).
    pub fn scope(self, scope: &str) -> Self {
        self.claim("scope", scope)
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Sets every field of the app's own claims type at once.
    pub fn claims<C: Serialize>(mut self, claims: &C) -> Self {
        if let Ok(Value::Object(fields)) = serde_json::to_value(claims) {
            self.claims.extend(fields);
        }
        self
    }

    /// Lifetime in seconds (default: the app's `access_ttl`).
    pub fn ttl(mut self, secs: u64) -> Self {
        self.ttl = secs;
        self
    }

    /// Binds the token to a device (`did`), as tokens from a login are. A
    /// device's revocation lasts `access_ttl` (plus `leeway`): a token made here
    /// with a longer [`ttl`](Self::ttl) outlives it, which a real one cannot.
    pub fn device(mut self, device_id: &str) -> Self {
        self.device_id = Some(device_id.to_owned());
        self
    }

    /// The original login was `secs` ago (`auth_time`), for `fresh = …` policies.
    pub fn logged_in_ago(mut self, secs: u64) -> Self {
        self.login_age = secs;
        self
    }

    /// The login reached the authentication context class `acr`, for
    /// `acr = …` policies.
    pub fn acr(mut self, acr: &str) -> Self {
        self.acr = Some(acr.to_owned());
        self
    }

    /// Binds the token to the DPoP key whose RFC 7638 thumbprint is `jkt`
    /// (`cnf.jkt`, RFC 9449 §6.1), as a login with a proof does.
    pub fn dpop_bound(mut self, jkt: &str) -> Self {
        self.dpop_jkt = Some(jkt.to_owned());
        self
    }

    /// The signed token.
    pub fn mint(self) -> String {
        let mut registered = self
            .tokens
            .registered(TokenKind::Access, &self.subject, self.ttl);
        registered.did = self.device_id;
        let login = registered.iat.saturating_sub(self.login_age);
        registered.orig_iat = Some(login);
        registered.auth_time = Some(login);
        registered.acr = self.acr;
        registered.cnf = self
            .dpop_jkt
            .map(|jkt| crate::claims::Confirmation { jkt: Some(jkt) });
        self.tokens.sign(registered, &self.claims)
    }
}

/// Logs in through the built-in `POST /auth/token` route and returns the new
/// session. Panics with the status and body when the login is refused.
pub async fn login(client: &Client, username: &str, password: &str) -> LoginResponse {
    login_from(client, username, password, None).await
}

/// As [`login`], naming the device (`X-Device-Model`).
pub async fn login_from(
    client: &Client,
    username: &str,
    password: &str,
    device_model: Option<&str>,
) -> LoginResponse {
    let body = serde_json::json!({ "username": username, "password": password });
    let mut request = client
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(model) = device_model {
        request = request.header(rocket::http::Header::new(
            crate::device_description::DEVICE_MODEL_HEADER,
            model.to_owned(),
        ));
    }
    let res = request.dispatch().await;
    let status = res.status();
    let text = res.into_string().await.unwrap_or_default();
    if status != Status::Ok {
        panic!("jwt_guard::testing::login({username:?}): {status}: {text}");
    }
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("jwt_guard::testing::login: unexpected body {text}: {e}"))
}

/// How many times, in this process, a request's `Authorization` header has been
/// read for the credential jwt-guard's guards check: once per request that
/// reaches a guard, however many guards, spans and binding checks use it. A
/// counting hook for tests of that promise (a process-wide count: read it in a
/// test binary of its own).
pub fn authorization_reads() -> usize {
    crate::guard::AUTHORIZATION_READS.load(std::sync::atomic::Ordering::Relaxed)
}
