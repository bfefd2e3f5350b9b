//! Tokens from an outside identity provider: a JWKS / OpenID discovery server runs in
//! this process on 127.0.0.1, and an app trusts it as issuer `partner`. Valid tokens
//! pass, unknown keys and foreign issuers do not, key rotation at the provider needs
//! no restart, random `kid`s cannot make the app hammer the provider, and cached keys
//! outlive a provider outage.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_guard::NestedRoles;
use jwt_guard::{use_jwt, Claims, Jwt, JwtGuard, Scopes, StandardClaims};
use jwt_guard_tests::{base_figment, key_pem, now, temp_sqlite_url, TEST_SECRET};
use rocket::http::{Header as HttpHeader, Status};
use rocket::local::asynchronous::Client;
use rocket::serde::json::Json;
use rocket::{get, routes, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What the provider serves, and how often it was asked.
struct Provider {
    keys: RwLock<JwkSet>,
    fetches: AtomicU64,
    down: AtomicBool,
    max_age: AtomicU64,
    issuer: String,
    /// Where the discovery document says the keys are (default: here).
    jwks_elsewhere: RwLock<Option<String>>,
}

#[get("/.well-known/openid-configuration")]
fn discovery(p: &State<Arc<Provider>>) -> Json<Value> {
    let elsewhere = p.jwks_elsewhere.read().ok().and_then(|e| e.clone());
    let jwks_uri = elsewhere.unwrap_or_else(|| format!("{}/jwks", p.issuer));
    Json(json!({ "issuer": p.issuer, "jwks_uri": jwks_uri }))
}

#[derive(rocket::Responder)]
enum JwksAnswer {
    Keys(Json<JwkSet>, HttpHeader<'static>),
    Down(Status),
}

/// Redirects to the keys on another host (`localhost`, where the provider is
/// `127.0.0.1`): a redirect key fetches must not follow.
#[get("/jwks/elsewhere")]
fn jwks_redirect_elsewhere(p: &State<Arc<Provider>>) -> rocket::response::Redirect {
    let port = p.issuer.rsplit(':').next().unwrap_or_default().to_owned();
    rocket::response::Redirect::to(format!("http://localhost:{port}/jwks"))
}

/// Redirects to the keys on the same host: followed.
#[get("/jwks/moved")]
fn jwks_redirect_same_host() -> rocket::response::Redirect {
    rocket::response::Redirect::to("/jwks")
}

/// A JWKS larger than a provider's document may be (256 KiB).
#[get("/jwks/huge")]
fn jwks_huge() -> Json<Value> {
    Json(json!({ "keys": [], "padding": "x".repeat(300 * 1024) }))
}

#[get("/jwks")]
fn jwks(p: &State<Arc<Provider>>) -> JwksAnswer {
    p.fetches.fetch_add(1, Ordering::SeqCst);
    if p.down.load(Ordering::SeqCst) {
        return JwksAnswer::Down(Status::ServiceUnavailable);
    }
    let keys = p
        .keys
        .read()
        .map(|k| k.clone())
        .unwrap_or(JwkSet { keys: vec![] });
    let age = p.max_age.load(Ordering::SeqCst);
    JwksAnswer::Keys(
        Json(keys),
        HttpHeader::new("Cache-Control", format!("public, max-age={age}")),
    )
}

/// A signing key of the provider.
struct ProviderKey {
    kid: &'static str,
    alg: Algorithm,
    key: EncodingKey,
}

impl ProviderKey {
    fn rsa(kid: &'static str, file: &str) -> Self {
        Self {
            kid,
            alg: Algorithm::RS256,
            key: EncodingKey::from_rsa_pem(&key_pem(file)).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn ec(kid: &'static str) -> Self {
        Self {
            kid,
            alg: Algorithm::ES256,
            key: EncodingKey::from_ec_pem(&key_pem("ec256.pem")).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).unwrap_or_else(|e| panic!("{e}"));
        jwk.common.key_id = Some(self.kid.to_owned());
        jwk
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, Some(self.kid), Some("at+jwt"))
    }

    fn sign_as(&self, claims: &Value, kid: Option<&str>, typ: Option<&str>) -> String {
        let mut header = Header::new(self.alg);
        header.kid = kid.map(str::to_owned);
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.key).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Starts the provider on a free loopback port.
async fn start_provider(keys: Vec<Jwk>) -> Arc<Provider> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let provider = Arc::new(Provider {
        keys: RwLock::new(JwkSet { keys }),
        fetches: AtomicU64::new(0),
        down: AtomicBool::new(false),
        max_age: AtomicU64::new(300),
        issuer: format!("http://127.0.0.1:{port}"),
        jwks_elsewhere: RwLock::new(None),
    });
    let config = rocket::Config {
        port,
        address: std::net::Ipv4Addr::LOCALHOST.into(),
        log_level: rocket::config::LogLevel::Off,
        shutdown: rocket::config::Shutdown {
            ctrlc: false,
            ..Default::default()
        },
        ..rocket::Config::debug_default()
    };
    let server = rocket::custom(config).manage(provider.clone()).mount(
        "/",
        routes![
            discovery,
            jwks,
            jwks_redirect_elsewhere,
            jwks_redirect_same_host,
            jwks_huge
        ],
    );
    rocket::tokio::spawn(server.launch());
    let url = format!("{}/jwks", provider.issuer);
    for _ in 0..100 {
        if reqwest::get(&url).await.is_ok() {
            provider.fetches.store(0, Ordering::SeqCst);
            return provider;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the test provider did not start");
}

/// Keycloak's shape: roles nested in `realm_access`, scopes as a string.
#[derive(Claims, Serialize, Deserialize)]
struct KeycloakClaims {
    #[claims(roles)]
    #[serde(default)]
    realm_access: NestedRoles,
    #[claims(scopes)]
    #[serde(default)]
    scope: Scopes,
}

/// Auth0's shape: permissions as an array of scopes.
#[derive(Claims, Serialize, Deserialize)]
struct Auth0Claims {
    #[claims(scopes)]
    #[serde(default)]
    permissions: Scopes,
}

#[use_jwt(issuer = "partner", claims = KeycloakClaims, role = "admin")]
#[get("/partner/admin")]
fn partner_admin(jwt: Jwt<KeycloakClaims>) -> String {
    jwt.subject().to_owned()
}

#[use_jwt(issuer = "partner", claims = Auth0Claims, scope = "read:reports")]
#[get("/partner/reports")]
fn partner_reports(jwt: Jwt<Auth0Claims>) -> String {
    jwt.subject().to_owned()
}

/// Optional: answers who the partner says the caller is, or "nobody".
#[use_jwt(issuer = "partner", claims = Auth0Claims, optional)]
#[get("/partner/maybe")]
fn partner_maybe(jwt: Option<Jwt<Auth0Claims>>) -> String {
    jwt.map_or_else(|| "nobody".to_owned(), |jwt| jwt.subject().to_owned())
}

#[use_jwt]
#[get("/own")]
fn own(jwt: Jwt<StandardClaims>) -> String {
    jwt.subject().to_owned()
}

/// Needs a partner login of the last five minutes (RFC 9470), by `auth_time`.
#[use_jwt(issuer = "partner", claims = Auth0Claims, fresh = "5m")]
#[get("/partner/fresh")]
fn partner_fresh(jwt: Jwt<Auth0Claims>) -> String {
    jwt.subject().to_owned()
}

/// Needs a partner login of the class `urn:partner:mfa` (RFC 9470 `acr`).
#[use_jwt(issuer = "partner", claims = Auth0Claims, acr = "urn:partner:mfa")]
#[get("/partner/strong")]
fn partner_strong(jwt: Jwt<Auth0Claims>) -> String {
    jwt.subject().to_owned()
}

fn partner_config(provider: &Provider, extra: Value) -> Value {
    let mut issuer = json!({
        "name": "partner",
        "issuer": provider.issuer,
        "audience": "api",
        "discovery": provider.issuer,
        "algorithms": ["RS256", "ES256"],
        "min_refetch_interval": "1s",
    });
    if let (Some(map), Value::Object(extra)) = (issuer.as_object_mut(), extra) {
        map.extend(extra);
    }
    issuer
}

/// Whether launch was stopped by jwt-guard's own fairing (not some other fault).
fn stopped_by_jwt_guard(launched: &Result<Client, String>) -> bool {
    launched
        .as_ref()
        .err()
        .is_some_and(|kind| kind.contains("FailedFairings") && kind.contains("jwt-guard"))
}

async fn app(trusted: Value) -> Result<Client, String> {
    let figment = base_figment(&temp_sqlite_url()).merge((
        "jwt",
        json!({ "secret": TEST_SECRET, "trusted_issuers": [trusted] }),
    ));
    let rocket = rocket::custom(figment).attach(JwtGuard::fairing()).mount(
        "/",
        routes![
            partner_admin,
            partner_reports,
            own,
            partner_fresh,
            partner_strong
        ],
    );
    Client::tracked(rocket)
        .await
        .map_err(|e| format!("{:?}", e.kind()))
}

fn claims(provider: &Provider, extra: Value) -> Value {
    let now = now();
    let mut claims = json!({
        "iss": provider.issuer, "aud": "api", "sub": "pat",
        "iat": now, "exp": now + 300, "jti": format!("j{}", rand_suffix()),
    });
    if let (Some(map), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        map.extend(extra);
    }
    claims
}

fn rand_suffix() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

async fn get(client: &Client, path: &str, token: &str) -> Status {
    let res = client
        .get(path.to_owned())
        .header(HttpHeader::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    let status = res.status();
    if std::env::var_os("DEBUG_ISSUERS").is_some() {
        eprintln!(
            "{path}: {status} {}",
            res.into_string().await.unwrap_or_default()
        );
    }
    status
}

/// The `WWW-Authenticate` of a request with `token` to `path`.
async fn challenge_of(client: &Client, path: &str, token: &str) -> (Status, String) {
    let res = client
        .get(path.to_owned())
        .header(HttpHeader::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    let challenge = res
        .headers()
        .get_one("WWW-Authenticate")
        .unwrap_or_default()
        .to_owned();
    (res.status(), challenge)
}

/// RFC 9470 step-up with outside tokens: checked on the provider's own
/// `auth_time` and `acr`; a token without `auth_time` is refused by a `fresh` route
/// (its `iat` says when it was issued, not when the user logged in).
#[rocket::async_test]
async fn outside_tokens_step_up_on_their_own_auth_time_and_acr() {
    let k1 = ProviderKey::rsa("k1", "rsa.pem");
    let provider = start_provider(vec![k1.jwk()]).await;
    let client = app(partner_config(&provider, json!({})))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let token = |extra: Value| k1.sign(&claims(&provider, extra));
    let recent = token(json!({ "auth_time": now() - 60 }));
    assert_eq!(get(&client, "/partner/fresh", &recent).await, Status::Ok);
    for (what, stale) in [
        ("an old login", token(json!({ "auth_time": now() - 3600 }))),
        ("no auth_time, a fresh iat", token(json!({}))),
    ] {
        let (status, challenge) = challenge_of(&client, "/partner/fresh", &stale).await;
        assert_eq!(status, Status::Unauthorized, "{what}");
        assert!(
            challenge.contains("error=\"insufficient_user_authentication\"")
                && challenge.contains("max_age=\"300\""),
            "{what}: {challenge}"
        );
    }
    let strong = token(json!({ "acr": "urn:partner:mfa" }));
    assert_eq!(get(&client, "/partner/strong", &strong).await, Status::Ok);
    for weak in [token(json!({ "acr": "urn:partner:pwd" })), token(json!({}))] {
        let (status, challenge) = challenge_of(&client, "/partner/strong", &weak).await;
        assert_eq!(status, Status::Unauthorized);
        assert!(
            challenge.contains("error=\"insufficient_user_authentication\"")
                && challenge.contains("acr_values=\"urn:partner:mfa\""),
            "{challenge}"
        );
    }
}

/// An `auth_time` after now (past the leeway) is no authentication: it would
/// count as fresh forever.
#[rocket::async_test]
async fn a_future_auth_time_never_counts_as_fresh() {
    let k1 = ProviderKey::rsa("k1", "rsa.pem");
    let provider = start_provider(vec![k1.jwk()]).await;
    let client = app(partner_config(&provider, json!({})))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let token = |auth_time: u64| k1.sign(&claims(&provider, json!({ "auth_time": auth_time })));
    // Positive control: now is fresh.
    assert_eq!(
        get(&client, "/partner/fresh", &token(now())).await,
        Status::Ok
    );
    let (status, challenge) = challenge_of(&client, "/partner/fresh", &token(now() + 3600)).await;
    assert_eq!(status, Status::Unauthorized);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[rocket::async_test]
async fn outside_tokens_are_checked_as_strictly_as_our_own() {
    let k1 = ProviderKey::rsa("k1", "rsa.pem");
    let e1 = ProviderKey::ec("e1");
    let provider = start_provider(vec![k1.jwk(), e1.jwk()]).await;
    let client = app(partner_config(&provider, json!({})))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = json!({ "realm_access": { "roles": ["admin", "user"] } });
    // Keycloak's nested roles, both key types, RFC 9068's `at+jwt` and plain `JWT`.
    assert_eq!(
        get(
            &client,
            "/partner/admin",
            &k1.sign(&claims(&provider, admin.clone()))
        )
        .await,
        Status::Ok
    );
    assert_eq!(
        get(
            &client,
            "/partner/admin",
            &e1.sign(&claims(&provider, admin.clone()))
        )
        .await,
        Status::Ok
    );
    let plain = k1.sign_as(&claims(&provider, admin.clone()), Some("k1"), Some("JWT"));
    assert_eq!(get(&client, "/partner/admin", &plain).await, Status::Ok);
    let user = json!({ "realm_access": { "roles": ["user"] } });
    assert_eq!(
        get(
            &client,
            "/partner/admin",
            &k1.sign(&claims(&provider, user))
        )
        .await,
        Status::Forbidden
    );
    // Auth0's permissions array as scopes.
    let reader = json!({ "permissions": ["read:reports"] });
    assert_eq!(
        get(
            &client,
            "/partner/reports",
            &k1.sign(&claims(&provider, reader))
        )
        .await,
        Status::Ok
    );
    let writer = json!({ "permissions": ["write:reports"] });
    assert_eq!(
        get(
            &client,
            "/partner/reports",
            &k1.sign(&claims(&provider, writer))
        )
        .await,
        Status::Forbidden
    );

    // Refused: wrong issuer, wrong audience, expired, no exp, another typ, alg
    // confusion (HS256 with the public key as the secret), a key we do not know.
    for (what, extra) in [
        ("wrong iss", json!({ "iss": "https://evil.example" })),
        ("wrong aud", json!({ "aud": "someone-else" })),
        ("expired", json!({ "exp": now() - 120, "iat": now() - 600 })),
        (
            "issued in the future",
            json!({ "iat": now() + 3600, "exp": now() + 7200 }),
        ),
    ] {
        let mut c = claims(&provider, admin.clone());
        if let (Some(map), Value::Object(extra)) = (c.as_object_mut(), extra) {
            map.extend(extra);
        }
        assert_eq!(
            get(&client, "/partner/admin", &k1.sign(&c)).await,
            Status::Unauthorized,
            "{what}"
        );
    }
    let mut no_exp = claims(&provider, admin.clone());
    no_exp.as_object_mut().map(|m| m.remove("exp"));
    assert_eq!(
        get(&client, "/partner/admin", &k1.sign(&no_exp)).await,
        Status::Unauthorized,
        "no exp"
    );
    let refresh_typ = k1.sign_as(
        &claims(&provider, admin.clone()),
        Some("k1"),
        Some("refresh+jwt"),
    );
    assert_eq!(
        get(&client, "/partner/admin", &refresh_typ).await,
        Status::Unauthorized,
        "typ"
    );
    let public_pem = key_pem("rsa.pub.pem");
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(
        &confused,
        &claims(&provider, admin.clone()),
        &EncodingKey::from_secret(&public_pem),
    )
    .unwrap_or_default();
    assert_eq!(
        get(&client, "/partner/admin", &confused).await,
        Status::Unauthorized,
        "alg confusion"
    );
    let stranger = ProviderKey::rsa("k9", "rsa2.pem");
    assert_eq!(
        get(
            &client,
            "/partner/admin",
            &stranger.sign(&claims(&provider, admin.clone()))
        )
        .await,
        Status::Unauthorized
    );

    // Outside tokens are not the app's own, nor the reverse.
    assert_eq!(
        get(&client, "/own", &k1.sign(&claims(&provider, admin.clone()))).await,
        Status::Unauthorized
    );
    let own = jwt_guard::testing::TestTokens::from_client(&client)
        .access("ann")
        .mint();
    assert_eq!(get(&client, "/own", &own).await, Status::Ok);
    assert_eq!(
        get(&client, "/partner/admin", &own).await,
        Status::Unauthorized
    );

    // Revocation by `jti` works on outside tokens too.
    let token = k1.sign(&claims(&provider, admin.clone()));
    assert_eq!(get(&client, "/partner/admin", &token).await, Status::Ok);
    let jti: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap_or_default();
    let store = client
        .rocket()
        .state::<jwt_guard::store::Store>()
        .unwrap_or_else(|| panic!("store"));
    store
        .revoke_jti(jti["jti"].as_str().unwrap_or_default(), now() + 600)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        get(&client, "/partner/admin", &token).await,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn key_rotation_random_kids_and_outages_at_the_provider() {
    let k1 = ProviderKey::rsa("k1", "rsa.pem");
    let k2 = ProviderKey::rsa("k2", "rsa2.pem");
    let provider = start_provider(vec![k1.jwk()]).await;
    provider.max_age.store(1, Ordering::SeqCst);
    let client = app(partner_config(&provider, json!({})))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = json!({ "realm_access": { "roles": ["admin"] } });
    let old = k1.sign(&claims(&provider, admin.clone()));
    assert_eq!(get(&client, "/partner/admin", &old).await, Status::Ok);
    let launched_with = provider.fetches.load(Ordering::SeqCst);
    assert_eq!(launched_with, 1, "keys fetched once, at launch");

    // A flood of random kids: at most one fetch per refetch interval (1 s) it
    // spans, however slowly this machine sends it.
    rocket::tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = provider.fetches.load(Ordering::SeqCst);
    let flood_started = std::time::Instant::now();
    for n in 0..50 {
        let forged = k1.sign_as(
            &claims(&provider, admin.clone()),
            Some(&format!("random-{n}")),
            Some("at+jwt"),
        );
        assert_eq!(
            get(&client, "/partner/admin", &forged).await,
            Status::Unauthorized
        );
    }
    let flood = provider.fetches.load(Ordering::SeqCst) - before;
    let intervals = flood_started.elapsed().as_secs() + 1;
    assert!(
        flood <= intervals,
        "{flood} fetches for 50 random kids over {intervals} refetch interval(s)"
    );

    // The provider rotates: k2 in, k1 out. A k2 token is accepted without restart
    // (unknown kid → one refetch), and k1 tokens follow the provider.
    if let Ok(mut keys) = provider.keys.write() {
        *keys = JwkSet {
            keys: vec![k2.jwk()],
        };
    }
    rocket::tokio::time::sleep(Duration::from_millis(1100)).await;
    let new = k2.sign(&claims(&provider, admin.clone()));
    assert_eq!(
        get(&client, "/partner/admin", &new).await,
        Status::Ok,
        "rotated key"
    );
    assert_eq!(
        get(&client, "/partner/admin", &old).await,
        Status::Unauthorized,
        "retired key"
    );

    // The provider goes down when the keys are due for refresh: cached keys go on.
    provider.down.store(true, Ordering::SeqCst);
    rocket::tokio::time::sleep(Duration::from_millis(1100)).await;
    let during = k2.sign(&claims(&provider, admin.clone()));
    assert_eq!(
        get(&client, "/partner/admin", &during).await,
        Status::Ok,
        "cached keys during an outage"
    );
    assert!(
        provider.fetches.load(Ordering::SeqCst) > before + 1,
        "a refresh was attempted"
    );
}

#[rocket::async_test]
async fn launch_needs_the_issuer_configured_and_reachable() {
    // A route naming an issuer that is not configured stops launch.
    let figment = base_figment(&temp_sqlite_url()).merge(("jwt", json!({ "secret": TEST_SECRET })));
    let rocket = rocket::custom(figment)
        .attach(JwtGuard::fairing())
        .mount("/", routes![partner_admin]);
    let launched = Client::tracked(rocket)
        .await
        .map_err(|e| format!("{:?}", e.kind()));
    // The route's guard stops it (its `Sentinel`), naming nothing else.
    assert!(
        launched
            .as_ref()
            .err()
            .is_some_and(|kind| kind.contains("SentinelAborts")),
        "unknown issuer must stop launch: {:?}",
        launched.as_ref().err()
    );

    // An unreachable provider stops launch, unless told to start anyway.
    let gone = json!({
        "name": "partner", "issuer": "http://127.0.0.1:1", "audience": "api",
        "jwks_url": "http://127.0.0.1:1/jwks",
    });
    assert!(
        stopped_by_jwt_guard(&app(gone.clone()).await),
        "unreachable provider must stop launch"
    );
    let mut lenient = gone;
    lenient["start_without_keys"] = json!(true);
    let client = app(lenient).await.unwrap_or_else(|e| panic!("{e}"));
    let k1 = ProviderKey::rsa("k1", "rsa.pem");
    let token = k1
        .sign(&json!({ "iss": "http://127.0.0.1:1", "aud": "api", "sub": "x", "exp": now() + 60 }));
    assert_eq!(
        get(&client, "/partner/admin", &token).await,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn a_jwks_file_works_without_any_network() {
    let k1 = ProviderKey::rsa("k1", "rsa.pem");
    let path = std::env::temp_dir().join(format!("jwt-guard-jwks-{}.json", std::process::id()));
    std::fs::write(
        &path,
        serde_json::to_string(&JwkSet {
            keys: vec![k1.jwk()],
        })
        .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let issuer = "https://partner.example";
    let client = app(json!({
        "name": "partner", "issuer": issuer, "audience": "api",
        "jwks": path.display().to_string(),
    }))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let now = now();
    let token = k1.sign(&json!({
        "iss": issuer, "aud": ["api", "other"], "sub": "pat", "iat": now, "exp": now + 60,
        "realm_access": { "roles": ["admin"] },
    }));
    assert_eq!(get(&client, "/partner/admin", &token).await, Status::Ok);
}

#[rocket::async_test]
async fn provider_answers_cannot_crash_or_lead_elsewhere() {
    let key = ProviderKey::rsa("k1", "rsa.pem");
    let provider = start_provider(vec![key.jwk()]).await;
    // A max-age no clock can add: clamped, launch and verification go on.
    provider.max_age.store(u64::MAX, Ordering::SeqCst);
    let client = app(partner_config(&provider, json!({})))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let claims = json!({
        "iss": provider.issuer, "aud": "api", "sub": "pat", "iat": now(),
        "exp": now() + 300, "permissions": ["read:reports"],
    });
    let res = client
        .get("/partner/reports")
        .header(HttpHeader::new(
            "Authorization",
            format!("Bearer {}", key.sign(&claims)),
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);

    // A discovery document pointing at keys on another origin is not followed.
    let other = start_provider(vec![key.jwk()]).await;
    if let Ok(mut elsewhere) = provider.jwks_elsewhere.write() {
        *elsewhere = Some(format!("{}/jwks", other.issuer));
    }
    let refused = app(partner_config(&provider, json!({}))).await;
    assert!(
        stopped_by_jwt_guard(&refused),
        "a jwks_uri on another origin was followed"
    );
    assert_eq!(
        other.fetches.load(Ordering::SeqCst),
        0,
        "the other host was never asked"
    );

    // Redirects are followed on the provider's own host only, and a document
    // is read up to its cap.
    let from =
        |path: &str| json!({ "discovery": null, "jwks_url": format!("{}{path}", provider.issuer) });
    let before = provider.fetches.load(Ordering::SeqCst);
    let moved = app(partner_config(&provider, from("/jwks/moved"))).await;
    assert!(moved.is_ok(), "a same-host redirect was not followed");
    assert_eq!(provider.fetches.load(Ordering::SeqCst), before + 1);
    let elsewhere = app(partner_config(&provider, from("/jwks/elsewhere"))).await;
    assert!(
        stopped_by_jwt_guard(&elsewhere),
        "a redirect to another host was followed"
    );
    assert_eq!(
        provider.fetches.load(Ordering::SeqCst),
        before + 1,
        "the other host (localhost) was never asked"
    );
    let huge = app(partner_config(&provider, from("/jwks/huge"))).await;
    assert!(stopped_by_jwt_guard(&huge), "a JWKS over 256 KiB was read");

    // A refresh interval past a day, or no pause between refetches, is refused.
    for (key, value) in [("refresh_interval", "2d"), ("min_refetch_interval", "0s")] {
        let res = app(partner_config(&provider, json!({ key: value }))).await;
        assert!(stopped_by_jwt_guard(&res), "{key} = {value} was accepted");
    }
}

#[rocket::async_test]
async fn an_issuer_can_require_rfc_9068_access_tokens() {
    let key = ProviderKey::rsa("k1", "rsa.pem");
    let provider = start_provider(vec![key.jwk()]).await;
    let client = app(partner_config(
        &provider,
        json!({ "require_access_token_type": true }),
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let claims = json!({
        "iss": provider.issuer, "aud": "api", "sub": "pat", "iat": now(),
        "exp": now() + 300, "permissions": ["read:reports"],
    });
    let access = key.sign_as(&claims, Some("k1"), Some("at+jwt"));
    assert_eq!(get(&client, "/partner/reports", &access).await, Status::Ok);
    // An ID token (typ JWT, or none) with the API's audience is no access token.
    for typ in [Some("JWT"), None] {
        let id_token = key.sign_as(&claims, Some("k1"), typ);
        assert_eq!(
            get(&client, "/partner/reports", &id_token).await,
            Status::Unauthorized,
            "typ {typ:?}"
        );
    }
}

#[rocket::async_test]
async fn the_apps_own_cookie_never_stands_in_for_a_partner_token() {
    let key = ProviderKey::rsa("k1", "rsa.pem");
    let provider = start_provider(vec![key.jwk()]).await;
    let figment = base_figment(&temp_sqlite_url()).merge((
        "jwt",
        json!({
            "secret": TEST_SECRET,
            "cookies": { "enabled": true, "access_cookie": true },
            "trusted_issuers": [partner_config(&provider, json!({}))],
        }),
    ));
    let rocket = rocket::custom(figment)
        .attach(JwtGuard::fairing())
        .mount("/", routes![partner_maybe, own]);
    let client = Client::untracked(rocket)
        .await
        .unwrap_or_else(|e| panic!("{:?}", e.kind()));
    // The app's own access token, as the access cookie a browser holds.
    let own_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &jwt_guard_tests::access_claims("alice", now()),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap_or_default();
    let cookie = rocket::http::Cookie::new("jwt_guard_access", own_token);
    // Positive control: the cookie is good for the app's own routes.
    let res = client.get("/own").cookie(cookie.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    // On the partner's optional route it is no partner token.
    let res = client.get("/partner/maybe").cookie(cookie).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().await.unwrap_or_default(), "nobody");
}
