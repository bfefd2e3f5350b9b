//! Revocation from outside: OpenID Connect Back-Channel Logout 1.0 and Shared
//! Signals Framework 1.0 push delivery (RFC 8935) of CAEP and RISC events, on
//! SQLite and PostgreSQL. The identity provider is a key of `tests/keys` trusted
//! as issuer `partner` (inline JWKS); its tokens are signed here with
//! jsonwebtoken, as a provider would.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_guard::Clock;
use jwt_guard::{use_jwt, Jwt, StandardClaims};
use jwt_guard_tests::relay::TcpRelay;
use jwt_guard_tests::{base_figment, key_pem, now, storage_tests, DbKind, PgDatabase, TEST_SECRET};
use rocket::http::{ContentType, Header as HttpHeader, Status};
use rocket::local::asynchronous::Client;
use rocket::{get, routes};
use serde_json::{json, Value};

const ISSUER: &str = "https://idp.example";
const CLIENT_ID: &str = "test-app";
const SSF_AUDIENCE: &str = "https://app.example/ssf";
const PUSH_TOKEN: &str = "push-credential-of-the-transmitter";
const BCL: &str = "http://schemas.openid.net/event/backchannel-logout";
const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

/// The provider's token, accepted directly.
#[use_jwt(issuer = "partner")]
#[get("/partner/me")]
fn partner_me(jwt: Jwt<StandardClaims>) -> String {
    jwt.subject().to_owned()
}

fn provider_key(file: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&key_pem(file)).unwrap_or_else(|e| panic!("{e}"))
}

fn jwks() -> String {
    let mut jwk = Jwk::from_encoding_key(&provider_key("rsa.pem"), Algorithm::RS256)
        .unwrap_or_else(|e| panic!("{e}"));
    jwk.common.key_id = Some("k1".into());
    serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap_or_default()
}

/// Signs `claims` as the provider (`rsa.pem`, kid `k1`) with header `typ`.
fn sign(claims: &Value, typ: Option<&str>) -> String {
    sign_with(claims, typ, Some("k1"), "rsa.pem")
}

fn sign_with(claims: &Value, typ: Option<&str>, kid: Option<&str>, key: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = typ.map(str::to_owned);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &provider_key(key)).unwrap_or_else(|e| panic!("{e}"))
}

/// A `jti` no other token of the run has.
fn jti() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("jti-{}-{nanos}-{n}", std::process::id())
}

/// A logout token's claims (§2.4) for `sub` and/or `sid`.
fn logout_claims(sub: Option<&str>, sid: Option<&str>) -> Value {
    let mut claims = json!({
        "iss": ISSUER, "aud": CLIENT_ID, "iat": now(), "exp": now() + 120,
        "jti": jti(), "events": { BCL: {} },
    });
    if let Some(sub) = sub {
        claims["sub"] = json!(sub);
    }
    if let Some(sid) = sid {
        claims["sid"] = json!(sid);
    }
    claims
}

/// A security event's claims (RFC 8417, SSF 1.0) about `subject`.
fn event_claims(event: &str, payload: Value, subject: Value) -> Value {
    json!({
        "iss": ISSUER, "aud": SSF_AUDIENCE, "iat": now(), "jti": jti(),
        "sub_id": subject, "events": { event: payload },
    })
}

fn iss_sub(sub: &str) -> Value {
    json!({ "format": "iss_sub", "iss": ISSUER, "sub": sub })
}

fn jwt_config() -> Value {
    json!({
        "secret": TEST_SECRET,
        "revocation_poll": "1s",
        "trusted_issuers": [{
            "name": "partner", "issuer": ISSUER, "audience": "api", "jwks": jwks(),
            "backchannel_logout": { "client_id": CLIENT_ID },
            "ssf": { "audience": SSF_AUDIENCE, "push_token": PUSH_TOKEN },
        }],
    })
}

/// The test app with the direct partner route, on `url`.
async fn start(url: &str) -> Client {
    let figment = base_figment(url).merge(("jwt", jwt_config()));
    let rocket =
        jwt_guard_tests::app::app(figment, Clock::offset()).mount("/", routes![partner_me]);
    Client::tracked(rocket)
        .await
        .unwrap_or_else(|e| panic!("test app failed to launch: {:?}", e.kind()))
}

struct App {
    client: Client,
    pg: Option<PgDatabase>,
}

impl App {
    async fn on(kind: DbKind) -> Option<App> {
        let (url, pg) = kind.fresh().await?;
        Some(App {
            client: start(&url).await,
            pg,
        })
    }

    async fn finish(&self) {
        if let Some(pg) = &self.pg {
            pg.drop_database().await;
        }
    }
}

/// A session of the app's user `user` resting on the provider's login of `sub`
/// (login session `sid`): its access, refresh and permanent tokens.
struct Session {
    access: String,
    refresh: String,
    permanent: String,
}

async fn partner_login(client: &Client, user: &str, sub: &str, sid: Option<&str>) -> Session {
    let res = client
        .post("/login/partner")
        .header(ContentType::JSON)
        .body(json!({ "username": user, "iss": ISSUER, "sub": sub, "sid": sid }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let body: Value = res.into_json().await.unwrap_or(Value::Null);
    let s = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    Session {
        access: s("access"),
        refresh: s("refresh"),
        permanent: s("permanent_token"),
    }
}

async fn status_of_get(client: &Client, path: &str, token: &str) -> Status {
    client
        .get(path.to_owned())
        .header(HttpHeader::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await
        .status()
}

/// Whether each of a session's tokens still works: access (`GET /me`), permanent
/// (`POST /auth/device/refresh`), refresh (`POST /auth/token/refresh`, last: it
/// rotates). The refresh token is replaced by its successor.
async fn alive(client: &Client, session: &mut Session) -> [bool; 3] {
    let access = status_of_get(client, "/me", &session.access).await == Status::Ok;
    let permanent = client
        .post("/auth/device/refresh")
        .header(HttpHeader::new(
            "Permanent-Token",
            session.permanent.clone(),
        ))
        .dispatch()
        .await;
    let permanent_ok = permanent.status() == Status::Ok;
    if permanent_ok {
        let body: Value = permanent.into_json().await.unwrap_or(Value::Null);
        if let Some(next) = body["permanent_token"].as_str() {
            session.permanent = next.to_owned();
        }
    }
    let refreshed = client
        .post("/auth/token/refresh")
        .header(ContentType::JSON)
        .body(json!({ "refresh": session.refresh }).to_string())
        .dispatch()
        .await;
    let refresh_ok = refreshed.status() == Status::Ok;
    if refresh_ok {
        let body: Value = refreshed.into_json().await.unwrap_or(Value::Null);
        session.refresh = body["refresh"].as_str().unwrap_or_default().to_owned();
    }
    [access, permanent_ok, refresh_ok]
}

/// The provider's access token for `sub`, issued now.
fn direct_token(sub: &str) -> String {
    sign(
        &json!({ "iss": ISSUER, "aud": "api", "sub": sub, "iat": now(), "exp": now() + 600 }),
        Some("at+jwt"),
    )
}

async fn post_logout<'c>(
    client: &'c Client,
    token: &str,
) -> rocket::local::asynchronous::LocalResponse<'c> {
    client
        .post("/signals/backchannel-logout/partner")
        .header(ContentType::Form)
        .body(format!("logout_token={token}"))
        .dispatch()
        .await
}

async fn push<'c>(
    client: &'c Client,
    token: &str,
) -> rocket::local::asynchronous::LocalResponse<'c> {
    client
        .post("/signals/ssf/partner")
        .header(ContentType::new("application", "secevent+jwt"))
        .header(HttpHeader::new(
            "Authorization",
            format!("Bearer {PUSH_TOKEN}"),
        ))
        .body(token)
        .dispatch()
        .await
}

async fn error_of(res: rocket::local::asynchronous::LocalResponse<'_>, member: &str) -> String {
    let body: Value = res.into_json().await.unwrap_or(Value::Null);
    body[member].as_str().unwrap_or_default().to_owned()
}

storage_tests!(
    a_backchannel_logout_ends_the_sessions_of_that_login,
    each_logout_token_rule_refuses_and_ends_nothing,
    pushed_security_events_end_what_each_event_says,
    each_security_event_rule_refuses_and_ends_nothing,
);

/// §2.7: a logout token naming `sid` ends that login session alone; one naming
/// only `sub` ends every session of the user resting on this issuer's login and
/// the issuer's own tokens of the user. Every kind of token of an ended session
/// stops working; other users, and sessions the token does not name, go on. The
/// `jti` is taken once (§2.6 step 7); every signal is listed and audited.
async fn a_backchannel_logout_ends_the_sessions_of_that_login(kind: DbKind) {
    let Some(app) = App::on(kind).await else {
        return;
    };
    let c = &app.client;
    let mut laptop = partner_login(c, "alice", "p-alice", Some("sid-laptop")).await;
    let mut phone = partner_login(c, "alice", "p-alice", Some("sid-phone")).await;
    let mut bob = partner_login(c, "bob", "p-bob", None).await;
    let direct = direct_token("p-alice");
    assert_eq!(status_of_get(c, "/partner/me", &direct).await, Status::Ok);
    assert_eq!(alive(c, &mut laptop).await, [true; 3]);

    // One login session.
    let token = sign(
        &logout_claims(Some("p-alice"), Some("sid-laptop")),
        Some("logout+jwt"),
    );
    let res = post_logout(c, &token).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert_eq!(alive(c, &mut laptop).await, [false; 3]);
    assert_eq!(alive(c, &mut phone).await, [true; 3]);
    assert_eq!(status_of_get(c, "/partner/me", &direct).await, Status::Ok);

    // The same token again: a replay, refused, nothing more ends.
    let replay = post_logout(c, &token).await;
    assert_eq!(replay.status(), Status::BadRequest);
    assert!(error_of(replay, "error_description")
        .await
        .contains("received before"));

    // The user at this issuer (`typ: JWT`, as Keycloak sends it).
    let token = sign(&logout_claims(Some("p-alice"), None), Some("JWT"));
    assert_eq!(post_logout(c, &token).await.status(), Status::Ok);
    assert_eq!(alive(c, &mut phone).await, [false; 3]);
    assert_eq!(
        status_of_get(c, "/partner/me", &direct).await,
        Status::Unauthorized
    );
    // A token the provider issues after the logout works.
    rocket::tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        status_of_get(c, "/partner/me", &direct_token("p-alice")).await,
        Status::Ok
    );
    assert_eq!(alive(c, &mut bob).await, [true; 3]);
    assert_eq!(
        status_of_get(c, "/partner/me", &direct_token("p-bob")).await,
        Status::Ok
    );

    let store = c
        .rocket()
        .state::<jwt_guard::store::Store>()
        .unwrap_or_else(|| panic!("no store"));
    let signals = store.signals(10).await.unwrap_or_else(|e| panic!("{e}"));
    let ended: Vec<u64> = signals.iter().map(|s| s.sessions_ended).collect();
    assert_eq!(ended, [1, 1], "{signals:?}");
    assert!(signals.iter().all(|s| s.delivery == "backchannel_logout"
        && s.issuer == ISSUER
        && s.subject_digest
            .as_deref()
            .is_some_and(|d| !d.contains("alice"))));
    let audit = store
        .audit_log(None, 50)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let audited = audit
        .iter()
        .filter(|a| a.event == "signal_received")
        .count();
    assert_eq!(audited, 2);
    app.finish().await;
}

/// §2.6 (and §2.4's `typ`): each rule refuses a token breaking it alone — `400`
/// `invalid_request` — and nothing ends; a correct token then ends the session
/// (the positive control).
async fn each_logout_token_rule_refuses_and_ends_nothing(kind: DbKind) {
    let Some(app) = App::on(kind).await else {
        return;
    };
    let c = &app.client;
    let mut session = partner_login(c, "alice", "p-alice", Some("s1")).await;
    let good = || logout_claims(Some("p-alice"), Some("s1"));
    let with = |f: &dyn Fn(&mut Value)| {
        let mut claims = good();
        f(&mut claims);
        sign(&claims, Some("logout+jwt"))
    };
    let refused: Vec<(&str, String)> = vec![
        (
            "forged signature",
            sign_with(&good(), Some("logout+jwt"), Some("k1"), "rsa2.pem"),
        ),
        (
            "unknown key",
            sign_with(&good(), Some("logout+jwt"), Some("k9"), "rsa.pem"),
        ),
        (
            "other issuer",
            with(&|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "other audience",
            with(&|c| c["aud"] = json!("another-client")),
        ),
        (
            "issued in the future",
            with(&|c| c["iat"] = json!(now() + 600)),
        ),
        (
            "too old, without exp",
            with(&|c| {
                c["iat"] = json!(now() - 3600);
                c.as_object_mut().map(|o| o.remove("exp"));
            }),
        ),
        ("expired", with(&|c| c["exp"] = json!(now() - 60))),
        (
            "no iat",
            with(&|c| drop(c.as_object_mut().map(|o| o.remove("iat")))),
        ),
        (
            "no jti",
            with(&|c| drop(c.as_object_mut().map(|o| o.remove("jti")))),
        ),
        (
            "no events",
            with(&|c| drop(c.as_object_mut().map(|o| o.remove("events")))),
        ),
        (
            "another event",
            with(&|c| c["events"] = json!({ SESSION_REVOKED: {} })),
        ),
        (
            "event not an object",
            with(&|c| c["events"] = json!({ BCL: "yes" })),
        ),
        (
            "neither sub nor sid",
            with(&|c| {
                c.as_object_mut().map(|o| {
                    o.remove("sub");
                    o.remove("sid")
                });
            }),
        ),
        ("a nonce", with(&|c| c["nonce"] = json!("n-0S6_WzA2Mj"))),
        ("typ of an access token", sign(&good(), Some("at+jwt"))),
        ("no typ", sign(&good(), None)),
        ("oversized", format!("{}.{}", "a".repeat(9000), "b")),
        ("encrypted", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d".to_owned()),
        ("not a JWT", "garbage".to_owned()),
    ];
    for (why, token) in &refused {
        let res = post_logout(c, token).await;
        assert_eq!(res.status(), Status::BadRequest, "{why}");
        assert_eq!(
            res.headers().get_one("Cache-Control"),
            Some("no-store"),
            "{why}"
        );
        assert_eq!(error_of(res, "error").await, "invalid_request", "{why}");
    }
    // Not a form, no `logout_token`: refused too.
    let json_body = c
        .post("/signals/backchannel-logout/partner")
        .header(ContentType::JSON)
        .body(json!({ "logout_token": with(&|_| {}) }).to_string())
        .dispatch()
        .await;
    assert_eq!(json_body.status(), Status::BadRequest);
    let empty = c
        .post("/signals/backchannel-logout/partner")
        .header(ContentType::Form)
        .body("other=1")
        .dispatch()
        .await;
    assert_eq!(empty.status(), Status::BadRequest);
    let unknown = c
        .post("/signals/backchannel-logout/nobody")
        .header(ContentType::Form)
        .body(format!("logout_token={}", with(&|_| {})))
        .dispatch()
        .await;
    assert_eq!(unknown.status(), Status::NotFound);
    assert_eq!(
        alive(c, &mut session).await,
        [true; 3],
        "a refusal ended something"
    );

    let ok = post_logout(c, &with(&|_| {})).await;
    assert_eq!(ok.status(), Status::Ok);
    assert_eq!(alive(c, &mut session).await, [false; 3]);
    app.finish().await;
}

/// SSF push (RFC 8935) of each event jwt-guard acts on: CAEP `session-revoked`
/// of one session (a complex subject) and of a user, `credential-change` as
/// configured per `change_type`, RISC `account-disabled` (the app's own user
/// through its `SignalSubjects` hook too), the SSF verification event and an
/// unknown event (acknowledged, nothing ends). `202` each.
async fn pushed_security_events_end_what_each_event_says(kind: DbKind) {
    let Some(app) = App::on(kind).await else {
        return;
    };
    let c = &app.client;
    let mut one = partner_login(c, "alice", "p-alice", Some("s1")).await;
    let mut two = partner_login(c, "alice", "p-alice", Some("s2")).await;
    let mut bob = partner_login(c, "bob", "p-bob", None).await;
    let bob_own = c
        .post("/auth/token")
        .header(ContentType::JSON)
        .body(json!({ "username": "bob", "password": "bob-password" }).to_string())
        .dispatch()
        .await;
    assert_eq!(bob_own.status(), Status::Ok);
    let bob_own: Value = bob_own.into_json().await.unwrap_or(Value::Null);
    let bob_own_access = bob_own["access"].as_str().unwrap_or_default().to_owned();

    let accepted =
        |res: &rocket::local::asynchronous::LocalResponse<'_>| res.status() == Status::Accepted;
    // The SSF verification event and an event nothing acts on: acknowledged.
    let verification = event_claims(
        VERIFICATION,
        json!({ "state": "xyz" }),
        json!({"format": "opaque", "id": "stream"}),
    );
    assert!(accepted(
        &push(c, &sign(&verification, Some("secevent+jwt"))).await
    ));
    let unknown = event_claims(
        "https://example.com/event/other",
        json!({}),
        iss_sub("p-alice"),
    );
    assert!(accepted(
        &push(c, &sign(&unknown, Some("secevent+jwt"))).await
    ));
    // A new credential: recorded (`create` is `record` by default).
    let created = event_claims(
        CREDENTIAL_CHANGE,
        json!({ "credential_type": "fido2-platform", "change_type": "create" }),
        iss_sub("p-alice"),
    );
    assert!(accepted(
        &push(c, &sign(&created, Some("secevent+jwt"))).await
    ));
    assert_eq!(alive(c, &mut one).await, [true; 3]);

    // One session, named as a complex subject.
    let complex = json!({ "format": "complex", "user": iss_sub("p-alice"),
                          "session": { "format": "opaque", "id": "s1" } });
    let revoked = event_claims(
        SESSION_REVOKED,
        json!({ "event_timestamp": now() }),
        complex,
    );
    assert!(accepted(
        &push(c, &sign(&revoked, Some("secevent+jwt"))).await
    ));
    assert_eq!(alive(c, &mut one).await, [false; 3]);
    assert_eq!(alive(c, &mut two).await, [true; 3]);

    // A changed password: every session of the user at this issuer.
    let changed = event_claims(
        CREDENTIAL_CHANGE,
        json!({ "credential_type": "password", "change_type": "update" }),
        iss_sub("p-alice"),
    );
    assert!(accepted(
        &push(c, &sign(&changed, Some("secevent+jwt"))).await
    ));
    assert_eq!(alive(c, &mut two).await, [false; 3]);
    assert_eq!(alive(c, &mut bob).await, [true; 3]);

    // Bob's account disabled, named by email: the hook maps it to the app's
    // `bob`, whose own password session ends too, with his outside one.
    let disabled = event_claims(
        ACCOUNT_DISABLED,
        json!({ "reason": "hijacking" }),
        json!({ "format": "aliases", "identifiers": [
            { "format": "email", "email": "bob@example.com" }, iss_sub("p-bob") ] }),
    );
    assert!(accepted(
        &push(c, &sign(&disabled, Some("secevent+jwt"))).await
    ));
    assert_eq!(alive(c, &mut bob).await, [false; 3]);
    assert_eq!(
        status_of_get(c, "/me", &bob_own_access).await,
        Status::Unauthorized
    );
    assert_eq!(
        status_of_get(c, "/partner/me", &direct_token("p-bob")).await,
        Status::Unauthorized,
        "a token of the disabled account issued before the event"
    );

    let store = c
        .rocket()
        .state::<jwt_guard::store::Store>()
        .unwrap_or_else(|| panic!("no store"));
    let signals = store.signals(20).await.unwrap_or_else(|e| panic!("{e}"));
    let mut seen: Vec<(String, u64)> = signals
        .iter()
        .map(|s| (s.event.clone(), s.sessions_ended))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("account_disabled".to_owned(), 2),
            ("credential_change".to_owned(), 0),
            ("credential_change".to_owned(), 1),
            ("other".to_owned(), 0),
            ("session_revoked".to_owned(), 1),
            ("verification".to_owned(), 0),
        ]
    );
    app.finish().await;
}

/// RFC 8417 and RFC 8935: each check refuses an event breaking it alone, with
/// the §2.4 code, and nothing ends; the push credential is checked first (`401`).
async fn each_security_event_rule_refuses_and_ends_nothing(kind: DbKind) {
    let Some(app) = App::on(kind).await else {
        return;
    };
    let c = &app.client;
    let mut session = partner_login(c, "alice", "p-alice", None).await;
    let good = || event_claims(SESSION_REVOKED, json!({}), iss_sub("p-alice"));
    let with = |f: &dyn Fn(&mut Value)| {
        let mut claims = good();
        f(&mut claims);
        sign(&claims, Some("secevent+jwt"))
    };
    let refused: Vec<(&str, String, &str)> = vec![
        (
            "forged",
            sign_with(&good(), Some("secevent+jwt"), Some("k1"), "rsa2.pem"),
            "invalid_request",
        ),
        (
            "unknown key",
            sign_with(&good(), Some("secevent+jwt"), Some("k7"), "rsa.pem"),
            "invalid_key",
        ),
        (
            "other issuer",
            with(&|c| c["iss"] = json!("https://evil.example")),
            "invalid_issuer",
        ),
        (
            "other audience",
            with(&|c| c["aud"] = json!("https://other.example")),
            "invalid_audience",
        ),
        ("typ JWT", sign(&good(), Some("JWT")), "invalid_request"),
        (
            "stale",
            with(&|c| c["iat"] = json!(now() - 7200)),
            "invalid_request",
        ),
        (
            "future",
            with(&|c| c["iat"] = json!(now() + 600)),
            "invalid_request",
        ),
        (
            "no jti",
            with(&|c| drop(c.as_object_mut().map(|o| o.remove("jti")))),
            "invalid_request",
        ),
        (
            "no events",
            with(&|c| c["events"] = json!({})),
            "invalid_request",
        ),
        (
            "bad subject",
            with(&|c| c["sub_id"] = json!({ "format": "email" })),
            "invalid_request",
        ),
        ("oversized", "a".repeat(9000), "invalid_request"),
    ];
    for (why, token, code) in &refused {
        let res = push(c, token).await;
        assert_eq!(res.status(), Status::BadRequest, "{why}");
        assert_eq!(error_of(res, "err").await, *code, "{why}");
    }
    let good_token = with(&|_| {});
    for auth in [
        None,
        Some("Bearer wrong-credential-of-someone"),
        Some("Basic cHVzaDp4"),
    ] {
        let mut req = c
            .post("/signals/ssf/partner")
            .header(ContentType::new("application", "secevent+jwt"))
            .body(good_token.clone());
        if let Some(auth) = auth {
            req = req.header(HttpHeader::new("Authorization", auth));
        }
        let res = req.dispatch().await;
        assert_eq!(res.status(), Status::Unauthorized, "{auth:?}");
        assert_eq!(res.headers().get_one("WWW-Authenticate"), Some("Bearer"));
        assert_eq!(error_of(res, "err").await, "authentication_failed");
    }
    let wrong_type = c
        .post("/signals/ssf/partner")
        .header(ContentType::JSON)
        .header(HttpHeader::new(
            "Authorization",
            format!("Bearer {PUSH_TOKEN}"),
        ))
        .body(good_token.clone())
        .dispatch()
        .await;
    assert_eq!(wrong_type.status(), Status::BadRequest);
    assert_eq!(
        alive(c, &mut session).await,
        [true; 3],
        "a refusal ended something"
    );

    assert_eq!(push(c, &good_token).await.status(), Status::Accepted);
    let replay = push(c, &good_token).await;
    assert_eq!(replay.status(), Status::BadRequest);
    assert_eq!(alive(c, &mut session).await, [false; 3]);
    app.finish().await;
}

/// A signal received by instance A ends the session on instance B (one
/// PostgreSQL database) within the revocation bound: B refuses the access token
/// it accepted a moment before.
#[rocket::async_test]
async fn a_signal_received_by_one_instance_ends_the_session_on_another() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let a = start(&pg.url).await;
    let b = start(&pg.url).await;
    let session = partner_login(&a, "alice", "p-alice", Some("s1")).await;
    assert_eq!(status_of_get(&b, "/me", &session.access).await, Status::Ok);
    let token = sign(&logout_claims(None, Some("s1")), Some("logout+jwt"));
    assert_eq!(post_logout(&a, &token).await.status(), Status::Ok);
    let ended_at = Instant::now();
    // The poll bound (1 s) with room; with LISTEN/NOTIFY it takes milliseconds.
    let bound = Duration::from_millis(3500);
    while status_of_get(&b, "/me", &session.access).await == Status::Ok {
        assert!(
            ended_at.elapsed() < bound,
            "B still accepts after {:?}",
            ended_at.elapsed()
        );
        rocket::tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("signal on A, refused on B after {:?}", ended_at.elapsed());
    // The same token at B: already received (across instances).
    assert_eq!(post_logout(&b, &token).await.status(), Status::BadRequest);
    pg.drop_database().await;
}

/// The database cut off for real: a logout token is answered `503` with
/// `Retry-After` (the provider retries), nothing is written — the retry, once
/// the database is back, is new and ends the session.
#[rocket::async_test]
async fn a_storage_outage_answers_503_and_loses_nothing() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let relay = TcpRelay::start(&pg.server()).await;
    let client = start(&relay.url_for(&pg.url)).await;
    let session = partner_login(&client, "alice", "p-alice", Some("s1")).await;
    let token = sign(
        &logout_claims(Some("p-alice"), Some("s1")),
        Some("logout+jwt"),
    );
    relay.cut();
    let res = post_logout(&client, &token).await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert!(res.headers().get_one("Retry-After").is_some());
    let event = sign(
        &event_claims(SESSION_REVOKED, json!({}), iss_sub("p-alice")),
        Some("secevent+jwt"),
    );
    let res = push(&client, &event).await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert!(res.headers().get_one("Retry-After").is_some());
    relay.restore();
    // Verified from memory: the session still works while nothing was ended.
    assert_eq!(
        status_of_get(&client, "/me", &session.access).await,
        Status::Ok
    );
    let mut retried = Status::ServiceUnavailable;
    for _ in 0..50 {
        retried = post_logout(&client, &token).await.status();
        if retried != Status::ServiceUnavailable {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        retried,
        Status::Ok,
        "the retry is new: nothing was written before"
    );
    assert_eq!(
        status_of_get(&client, "/me", &session.access).await,
        Status::Unauthorized
    );
    assert_eq!(push(&client, &event).await.status(), Status::Accepted);
    pg.drop_database().await;
}

/// A transmitter serving its SSF configuration (SSF 1.0 §7) and keys.
#[get("/.well-known/ssf-configuration")]
fn ssf_configuration(issuer: &rocket::State<TransmitterUrl>) -> rocket::serde::json::Json<Value> {
    rocket::serde::json::Json(json!({
        "spec_version": "1_0",
        "issuer": ISSUER,
        "jwks_uri": format!("{}/jwks", issuer.0),
        "delivery_methods_supported": ["urn:ietf:rfc:8935"],
    }))
}

#[get("/jwks")]
fn transmitter_jwks() -> (ContentType, String) {
    let mut jwk = Jwk::from_encoding_key(&provider_key("rsa2.pem"), Algorithm::RS256)
        .unwrap_or_else(|e| panic!("{e}"));
    jwk.common.key_id = Some("t1".into());
    let set = JwkSet { keys: vec![jwk] };
    (
        ContentType::JSON,
        serde_json::to_string(&set).unwrap_or_default(),
    )
}

struct TransmitterUrl(String);

/// Serves `rocket` on 127.0.0.1:`port` (quiet), once it answers.
async fn serve(rocket: rocket::Rocket<rocket::Build>, port: u16) {
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
    rocket::tokio::spawn(rocket.configure(config).launch());
    for _ in 0..100 {
        if rocket::tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the test server on port {port} did not start");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The app with `ssf.metadata` naming the transmitter at `url`.
async fn start_with_transmitter(url: &str) -> Client {
    let mut jwt = jwt_config();
    jwt["trusted_issuers"][0]["ssf"]["metadata"] = json!(url);
    let figment = base_figment(&jwt_guard_tests::temp_sqlite_url()).merge(("jwt", jwt));
    let rocket = jwt_guard_tests::app::app(figment, Clock::offset());
    Client::tracked(rocket)
        .await
        .unwrap_or_else(|e| panic!("test app failed to launch: {:?}", e.kind()))
}

/// SSF 1.0 §7: with `ssf.metadata`, events are checked with the keys the
/// transmitter's configuration names (fetched as an issuer's are), not the
/// issuer's; a transmitter whose keys cannot be had is an outage (503 with
/// `Retry-After`: the push is retried), never a refusal.
#[rocket::async_test]
async fn events_are_checked_with_the_transmitters_own_keys() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let transmitter = rocket::build()
        .manage(TransmitterUrl(url.clone()))
        .mount("/", routes![ssf_configuration, transmitter_jwks]);
    serve(transmitter, port).await;
    let client = start_with_transmitter(&url).await;
    let mut session = partner_login(&client, "alice", "p-alice", None).await;
    let event = event_claims(SESSION_REVOKED, json!({}), iss_sub("p-alice"));
    // Signed with the issuer's key: not the transmitter's.
    let by_issuer = sign(&event, Some("secevent+jwt"));
    let refused = push(&client, &by_issuer).await;
    assert_eq!(refused.status(), Status::BadRequest);
    assert_eq!(error_of(refused, "err").await, "invalid_key");
    assert_eq!(alive(&client, &mut session).await, [true; 3]);
    let by_transmitter = sign_with(&event, Some("secevent+jwt"), Some("t1"), "rsa2.pem");
    assert_eq!(
        push(&client, &by_transmitter).await.status(),
        Status::Accepted
    );
    assert_eq!(alive(&client, &mut session).await, [false; 3]);

    // A transmitter nobody answers for.
    let gone = start_with_transmitter(&format!("http://127.0.0.1:{}", free_port())).await;
    let res = push(&gone, &by_transmitter).await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert!(res.headers().get_one("Retry-After").is_some());
}

/// A transmitter's poll endpoint (RFC 8936) for the poll test: a queue of SETs
/// kept until acknowledged, what each poll acknowledged and reported as errors.
#[derive(Default)]
struct PollTransmitter {
    queue: std::sync::Mutex<Vec<(String, String)>>,
    acked: std::sync::Mutex<Vec<String>>,
    errors: std::sync::Mutex<Vec<(String, String)>>,
    polls: std::sync::atomic::AtomicU64,
    /// While set, polls are answered 503 (the transmitter is down).
    down: std::sync::atomic::AtomicBool,
    /// Go down after the next answer that carries events.
    down_after_delivery: std::sync::atomic::AtomicBool,
}

#[rocket::post("/poll", data = "<body>")]
fn poll_endpoint(
    body: rocket::serde::json::Json<Value>,
    auth: BearerOf,
    t: &rocket::State<std::sync::Arc<PollTransmitter>>,
) -> Result<rocket::serde::json::Json<Value>, Status> {
    use std::sync::atomic::Ordering::SeqCst;
    if auth.0.as_deref() != Some(POLL_TOKEN) {
        return Err(Status::Unauthorized);
    }
    if t.down.load(SeqCst) {
        return Err(Status::ServiceUnavailable);
    }
    t.polls.fetch_add(1, SeqCst);
    let acks: Vec<String> = body["ack"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|j| j.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut queue = t.queue.lock().unwrap_or_else(|p| p.into_inner());
    queue.retain(|(jti, _)| !acks.contains(jti));
    if let Some(errs) = body["setErrs"].as_object() {
        for (jti, e) in errs {
            queue.retain(|(j, _)| j != jti);
            let err = e["err"].as_str().unwrap_or_default().to_owned();
            t.errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((jti.clone(), err));
        }
    }
    t.acked
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(acks);
    let max = body["maxEvents"].as_u64().unwrap_or(10) as usize;
    let sets: serde_json::Map<String, Value> = queue
        .iter()
        .take(max)
        .map(|(jti, set)| (jti.clone(), json!(set)))
        .collect();
    if !sets.is_empty() && t.down_after_delivery.swap(false, SeqCst) {
        t.down.store(true, SeqCst);
    }
    Ok(rocket::serde::json::Json(
        json!({ "sets": sets, "moreAvailable": queue.len() > max }),
    ))
}

/// The bearer credential of a request, if any.
struct BearerOf(Option<String>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for BearerOf {
    type Error = ();
    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, ()> {
        let token = req
            .headers()
            .get_one("Authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        rocket::request::Outcome::Success(BearerOf(token))
    }
}

const POLL_TOKEN: &str = "the-receivers-poll-credential";

impl PollTransmitter {
    fn push(&self, claims: &Value, key: &str) -> String {
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        let set = sign_with(claims, Some("secevent+jwt"), Some("k1"), key);
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((jti.clone(), set));
        jti
    }

    fn acked(&self, jti: &str) -> bool {
        self.acked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|j| j == jti)
    }
}

/// Waits (up to 15 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "waited too long for {what}"
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Poll delivery (RFC 8936) against a test transmitter, two instances on one
/// PostgreSQL database: one polls at a time (the lease); events are applied and
/// acknowledged with the next poll, a refused one reported in `setErrs`; an
/// event applied just before its poller stopped is acknowledged by the instance
/// that takes the lease over (the pending acknowledgements are in the database),
/// and applied once.
#[rocket::async_test]
async fn poll_delivery_acknowledges_resumes_and_has_one_poller() {
    use std::sync::atomic::Ordering::SeqCst;
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let transmitter = std::sync::Arc::new(PollTransmitter::default());
    let port = free_port();
    let server = rocket::build()
        .manage(transmitter.clone())
        .mount("/", routes![poll_endpoint]);
    serve(server, port).await;
    let poll_url = format!("http://127.0.0.1:{port}/poll");
    let start_instance = || {
        let mut jwt = jwt_config();
        jwt["trusted_issuers"][0]["ssf"]["poll_url"] = json!(poll_url);
        jwt["trusted_issuers"][0]["ssf"]["poll_token"] = json!(POLL_TOKEN);
        jwt["trusted_issuers"][0]["ssf"]["poll_interval"] = json!("1s");
        let figment = base_figment(&pg.url).merge(("jwt", jwt));
        let rocket = jwt_guard_tests::app::app(figment, Clock::offset());
        async move {
            Client::tracked(rocket)
                .await
                .unwrap_or_else(|e| panic!("test app failed to launch: {:?}", e.kind()))
        }
    };
    let pool = sqlx::PgPool::connect(&pg.url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let holder = || async {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT holder FROM jwt_guard_signal_pollers WHERE issuer = $1",
        )
        .bind(ISSUER)
        .fetch_optional(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    };
    // A polls first (it takes the lease at liftoff); then B starts beside it.
    let a = start_instance().await;
    let mut session = partner_login(&a, "alice", "p-alice", None).await;
    for _ in 0..100 {
        if holder().await.is_some() {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = holder().await;
    assert!(first.is_some(), "nobody took the lease");
    let b = start_instance().await;

    let revoked = transmitter.push(
        &event_claims(SESSION_REVOKED, json!({}), iss_sub("p-alice")),
        "rsa.pem",
    );
    let forged = transmitter.push(
        &event_claims(SESSION_REVOKED, json!({}), iss_sub("p-bob")),
        "rsa2.pem",
    );
    let other = transmitter.push(
        &event_claims("https://example.com/other", json!({}), iss_sub("p-alice")),
        "rsa.pem",
    );
    until("the acknowledgements", || {
        transmitter.acked(&revoked) && transmitter.acked(&other)
    })
    .await;
    let errors = transmitter
        .errors
        .lock()
        .map(|e| e.clone())
        .unwrap_or_default();
    assert_eq!(errors, [(forged.clone(), "invalid_request".to_owned())]);
    assert!(!transmitter.acked(&forged));
    assert_eq!(alive(&a, &mut session).await, [false; 3]);

    // One poller: the lease names one instance all along, and the polls come
    // at one poller's pace (1 s), not two.
    let polls_before = transmitter.polls.load(SeqCst);
    for _ in 0..8 {
        rocket::tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(holder().await, first, "the lease changed hands while held");
    }
    let polls = transmitter.polls.load(SeqCst) - polls_before;
    assert!(
        (2..=6).contains(&polls),
        "{polls} polls in 4 s at a 1 s interval"
    );

    // The poller applies an event, then cannot reach the transmitter to
    // acknowledge it, and stops. The other instance takes the lease over and
    // its first poll carries the acknowledgement.
    let mut bob = partner_login(&b, "bob", "p-bob", None).await;
    transmitter.down_after_delivery.store(true, SeqCst);
    let late = transmitter.push(
        &event_claims(SESSION_REVOKED, json!({}), iss_sub("p-bob")),
        "rsa.pem",
    );
    until("the event applied", || transmitter.down.load(SeqCst)).await;
    let store = a
        .rocket()
        .state::<jwt_guard::store::Store>()
        .unwrap_or_else(|| panic!("no store"));
    let mut applied = false;
    for _ in 0..100 {
        let signals = store.signals(50).await.unwrap_or_default();
        if signals.iter().any(|s| s.jti == late) {
            applied = true;
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(applied, "the event was not applied");
    assert!(!transmitter.acked(&late));
    assert_eq!(holder().await, first, "A still holds the lease");
    drop(a.terminate().await);
    transmitter.down.store(false, SeqCst);
    until("the acknowledgement after the hand-over", || {
        transmitter.acked(&late)
    })
    .await;
    assert_ne!(holder().await, first, "the other instance polls now");
    assert_eq!(alive(&b, &mut bob).await, [false; 3]);
    let signals = b
        .rocket()
        .state::<jwt_guard::store::Store>()
        .unwrap_or_else(|| panic!("no store"))
        .signals(50)
        .await
        .unwrap_or_default();
    assert_eq!(signals.iter().filter(|s| s.jti == late).count(), 1);
    assert!(signals.iter().all(|s| s.delivery == "ssf_poll"));
    pool.close().await;
    drop(b);
    pg.drop_database().await;
}
