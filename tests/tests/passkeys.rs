//! Passkeys driven by an authenticator and a WebAuthn client nobody here wrote
//! (1Password's `passkey` crates), on SQLite and PostgreSQL: registration by a
//! signed-in user, a discoverable login that starts a device session with a
//! phishing-resistant `acr` and RFC 8176 `amr`, the user's own list, rename and
//! delete, and the refusals — a ceremony answered twice or on another's behalf,
//! an answer to another challenge, an unknown credential, a counter that goes
//! backwards (a cloned authenticator) — each a 4xx in the one error shape. A
//! challenge issued on one instance is answered on another.

use jwt_guard_tests::{json_body, storage_tests, DbKind, TestApp, TEST_SECRET};
use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use passkey::types::Passkey;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

const ORIGIN: &str = "https://example.com";

fn config() -> Value {
    json!({
        "secret": TEST_SECRET,
        "passkeys": { "rp_id": "example.com", "origins": [ORIGIN], "rp_name": "jwt-guard tests" },
    })
}

/// A user who is present and verified (a PIN or a fingerprint, said yes to).
struct Verified;

#[async_trait::async_trait]
impl UserValidationMethod for Verified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        _presence: bool,
        _verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification: true,
        })
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }
}

fn origin() -> reqwest::Url {
    reqwest::Url::parse(ORIGIN).unwrap_or_else(|e| panic!("{e}"))
}

fn authenticator(
    store: Option<Passkey>,
) -> Authenticator<Option<Passkey>, Verified, RustCryptoBackend> {
    let mut authenticator =
        Authenticator::new(Aaguid::new_empty(), store, Verified, RustCryptoBackend);
    authenticator.set_make_credentials_with_signature_counter(true);
    authenticator
}

async fn post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (Status, Value) {
    let mut req = app.client.post(path.to_owned());
    if let Some(token) = token {
        req = req.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        req = req.header(ContentType::JSON).body(body.to_string());
    }
    let res = req.dispatch().await;
    (res.status(), json_body(res).await)
}

fn creation(options: &Value) -> CredentialCreationOptions {
    serde_json::from_value(options["options"].clone()).unwrap_or_else(|e| {
        panic!("creation options a WebAuthn client cannot read: {e}\n{options}")
    })
}

fn request(options: &Value) -> CredentialRequestOptions {
    serde_json::from_value(options["options"].clone())
        .unwrap_or_else(|e| panic!("request options a WebAuthn client cannot read: {e}\n{options}"))
}

/// The claims of a token (its payload, unverified: the app verified it).
fn claims(token: &str) -> Value {
    jwt_guard_tests::parts(token).1
}

/// Registers a passkey for the holder of `access` with `device`; its id.
macro_rules! register {
    ($app:expr, $device:expr, $access:expr, $label:expr) => {{
        let (status, options) =
            post($app, "/auth/passkeys/register/options", Some($access), None).await;
        assert_eq!(status, Status::Ok, "{options}");
        let created = $device
            .register(&origin(), creation(&options), DefaultClientData)
            .await
            .unwrap_or_else(|e| panic!("the authenticator refused: {e:?}"));
        let body = json!({
            "ceremony": options["ceremony"],
            "credential": serde_json::to_value(&created).unwrap_or_default(),
            "label": $label,
        });
        let (status, registered) =
            post($app, "/auth/passkeys/register", Some($access), Some(body)).await;
        assert_eq!(status, Status::Created, "{registered}");
        registered["id"].as_str().unwrap_or_default().to_owned()
    }};
}

/// Asks `app` for login options and answers them with `device`: the ceremony and
/// the assertion, not sent yet.
macro_rules! assertion {
    ($app:expr, $device:expr) => {{
        let (status, options) = post($app, "/auth/passkeys/login/options", None, None).await;
        assert_eq!(status, Status::Ok, "{options}");
        let asserted = $device
            .authenticate(&origin(), request(&options), DefaultClientData)
            .await
            .unwrap_or_else(|e| panic!("the authenticator refused: {e:?}"));
        (
            options["ceremony"].clone(),
            serde_json::to_value(&asserted).unwrap_or_default(),
        )
    }};
}

async fn sign_in(app: &TestApp, ceremony: &Value, credential: &Value) -> (Status, Value) {
    let body = json!({ "ceremony": ceremony, "credential": credential });
    post(app, "/auth/passkeys/login", None, Some(body)).await
}

/// Register, list, sign in (a session with `acr` `phr` that a `phr` route takes
/// and a password session does not), rename; the refusals; delete.
async fn a_passkey_registers_signs_in_and_satisfies_phr(kind: DbKind) {
    let Some(app) = TestApp::on(kind, config()).await else {
        return;
    };
    let password = app.access_token("alice").await;
    let mut device = Client::new(authenticator(None));
    let id = register!(&app, device, &password, "laptop");
    assert!(!id.is_empty());

    // The list is the user's own, with no key material.
    let list = json_body(
        app.get_with_token("/auth/passkeys/credentials", &password)
            .await,
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["label"], "laptop");
    assert!(list[0].get("credential").is_none(), "{list}");
    let bob = app.access_token("bob").await;
    let theirs = json_body(app.get_with_token("/auth/passkeys/credentials", &bob).await).await;
    assert_eq!(theirs, json!([]));
    // The user handle is random: never the username.
    let handle: String = jwt_guard::store::sqlx::query_scalar(
        "SELECT user_handle FROM jwt_guard_passkey_users WHERE subject = 'alice'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or_default();
    assert!(handle.len() >= 22 && !handle.contains("alice"), "{handle}");

    // A password session does not reach the phishing-resistant route…
    let res = app
        .get_with_token("/me/phishing-resistant", &password)
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        json_body(res).await["error"],
        "insufficient_user_authentication"
    );

    // …a passkey session does: no username typed, the user handle says who.
    let (ceremony, credential) = assertion!(&app, device);
    let (status, login) = sign_in(&app, &ceremony, &credential).await;
    assert_eq!(status, Status::Ok, "{login}");
    let access = login["access"].as_str().unwrap_or_default().to_owned();
    let token = claims(&access);
    assert_eq!(token["sub"], "alice");
    assert_eq!(token["acr"], "phr");
    let amr: Vec<&str> = token["amr"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        amr == ["swk", "user", "mfa"] || amr == ["hwk", "user", "mfa"],
        "{amr:?}"
    );
    assert!(
        login["refresh"].is_string() && login["device_id"].is_string(),
        "{login}"
    );
    let res = app.get_with_token("/me/phishing-resistant", &access).await;
    assert_eq!(res.status(), Status::Ok);
    // The device list says how each session signed in.
    let devices = json_body(app.get_with_token("/auth/devices", &access).await).await;
    let methods: Vec<&str> = devices
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["signed_in_with"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        methods.contains(&"passkey") && methods.contains(&"password"),
        "{devices}"
    );
    // A refresh keeps the class.
    let refreshed = json_body(
        app.post_json(
            "/auth/token/refresh",
            json!({ "refresh": login["refresh"] }),
        )
        .await,
    )
    .await;
    assert_eq!(
        claims(refreshed["access"].as_str().unwrap_or_default())["acr"],
        "phr"
    );

    // The same answer again: its ceremony is gone (400), nothing written.
    let (status, again) = sign_in(&app, &ceremony, &credential).await;
    assert_eq!(status, Status::BadRequest, "{again}");
    assert_eq!(again["error"], "invalid_request");
    // The same assertion for a fresh ceremony: another challenge (401).
    let (status, options) = post(&app, "/auth/passkeys/login/options", None, None).await;
    assert_eq!(status, Status::Ok);
    let (status, refused) = sign_in(&app, &options["ceremony"], &credential).await;
    assert_eq!(status, Status::Unauthorized, "{refused}");
    assert_eq!(refused["error"], "invalid_credentials");
    // An assertion whose user handle is not the credential owner's, or that has
    // none (§7.2 step 6: the login named no user), is refused.
    for handle in [json!("bm90LXRoZS1vd25lcg"), Value::Null] {
        let (ceremony, mut forged) = assertion!(&app, device);
        forged["response"]["userHandle"] = handle.clone();
        let (status, refused) = sign_in(&app, &ceremony, &forged).await;
        assert_eq!(status, Status::Unauthorized, "{handle}: {refused}");
        assert!(
            refused["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("user handle"),
            "{refused}"
        );
    }
    // A malformed answer is a 4xx in the one shape.
    let (status, malformed) = post(
        &app,
        "/auth/passkeys/login",
        None,
        Some(json!({ "ceremony": "x", "credential": { "id": 1 } })),
    )
    .await;
    assert!(status.code >= 400 && status.code < 500, "{status}");
    assert!(malformed["error"].is_string(), "{malformed}");

    // A registration ceremony is its opener's alone.
    let (_, options) = post(
        &app,
        "/auth/passkeys/register/options",
        Some(&password),
        None,
    )
    .await;
    let mut other = Client::new(authenticator(None));
    let created = other
        .register(&origin(), creation(&options), DefaultClientData)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let body = json!({ "ceremony": options["ceremony"], "credential": serde_json::to_value(&created).unwrap_or_default() });
    let (status, _) = post(&app, "/auth/passkeys/register", Some(&bob), Some(body)).await;
    assert_eq!(status, Status::BadRequest);

    // Rename; someone else's passkey is no one's to rename or delete.
    let rename = |token: String, label: &'static str| {
        let path = format!("/auth/passkeys/credentials/{id}");
        let client = &app.client;
        async move {
            client
                .patch(path)
                .header(Header::new("Authorization", format!("Bearer {token}")))
                .header(ContentType::JSON)
                .body(json!({ "label": label }).to_string())
                .dispatch()
                .await
                .status()
        }
    };
    assert_eq!(
        rename(password.clone(), "work laptop").await,
        Status::NoContent
    );
    assert_eq!(rename(bob.clone(), "mine now").await, Status::NotFound);
    let list = json_body(
        app.get_with_token("/auth/passkeys/credentials", &password)
            .await,
    )
    .await;
    assert_eq!(list[0]["label"], "work laptop");
    assert!(list[0]["last_used_at"].is_u64(), "{list}");

    // Delete: the passkey signs in no more; the session it started goes on.
    let path = format!("/auth/passkeys/credentials/{id}");
    let delete = rocket::http::Method::Delete;
    let res = app.send_with_token(delete, &path, &bob).await;
    assert_eq!(res.status(), Status::NotFound);
    let res = app.send_with_token(delete, &path, &password).await;
    assert_eq!(res.status(), Status::NoContent);
    let (ceremony, credential) = assertion!(&app, device);
    let (status, refused) = sign_in(&app, &ceremony, &credential).await;
    assert_eq!(status, Status::Unauthorized, "{refused}");
    assert_eq!(
        app.get_with_token("/me/phishing-resistant", &access)
            .await
            .status(),
        Status::Ok
    );
    app.finish().await;
}

/// Two instances on one database: options from A answered on B; the answer
/// again on A refused. A clone of the authenticator (its counter copied) signs
/// in after the original: refused, audited.
async fn ceremonies_are_shared_and_clones_are_caught(kind: DbKind) {
    let Some(a) = TestApp::on(kind, config()).await else {
        return;
    };
    let b = TestApp::start_on(&a.database_url, config(), a.clock.clone()).await;
    let password = a.access_token("alice").await;
    let mut device = Client::new(authenticator(None));
    let _ = register!(&a, device, &password, "phone");
    let (ceremony, credential) = assertion!(&a, device);
    let (status, login) = sign_in(&b, &ceremony, &credential).await;
    assert_eq!(status, Status::Ok, "{login}");
    let (status, _) = sign_in(&a, &ceremony, &credential).await;
    assert_eq!(status, Status::BadRequest);

    // The clone: the same key and counter as the original now.
    let copied = device.authenticator().store().clone();
    let mut clone = Client::new(authenticator(copied));
    let (ceremony, credential) = assertion!(&a, device);
    assert_eq!(sign_in(&a, &ceremony, &credential).await.0, Status::Ok);
    let (ceremony, credential) = assertion!(&a, clone);
    let (status, refused) = sign_in(&b, &ceremony, &credential).await;
    assert_eq!(status, Status::Unauthorized, "{refused}");
    let said = refused["error_description"].as_str().unwrap_or_default();
    assert!(said.contains("counter"), "{refused}");
    let audited = a.store().audit_log(None, 50).await.unwrap_or_default();
    assert!(
        audited
            .iter()
            .any(|r| r.event == "passkey_counter_regressed"),
        "{audited:?}"
    );
    a.finish().await;
}

/// Step-up (RFC 9470): a password session meets an `acr = "phr"` route's
/// challenge with a passkey and goes on — the same device — with tokens of the
/// new class; the refresh token it presented is spent; another user's passkey
/// steps nobody's session up.
async fn a_password_session_steps_up_with_a_passkey(kind: DbKind) {
    let Some(app) = TestApp::on(kind, config()).await else {
        return;
    };
    let login = app.login("alice").await;
    let access = login["access"].as_str().unwrap_or_default().to_owned();
    let refresh = login["refresh"].clone();
    let device = login["device_id"].clone();
    let mut key = Client::new(authenticator(None));
    let _ = register!(&app, key, &access, "laptop");
    let res = app.get_with_token("/me/phishing-resistant", &access).await;
    assert_eq!(res.status(), Status::Unauthorized);

    // Bob's passkey does not step alice's session up (and spends nothing of it).
    let bob = app.access_token("bob").await;
    let mut bobs = Client::new(authenticator(None));
    let _ = register!(&app, bobs, &bob, "bob's");
    let (ceremony, credential) = assertion!(&app, bobs);
    let body = json!({ "ceremony": ceremony, "credential": credential, "refresh": refresh });
    let (status, refused) = post(&app, "/auth/passkeys/step-up", None, Some(body)).await;
    assert_eq!(status, Status::Forbidden, "{refused}");

    let (ceremony, credential) = assertion!(&app, key);
    let body = json!({ "ceremony": ceremony, "credential": credential, "refresh": refresh });
    let (status, pair) = post(&app, "/auth/passkeys/step-up", None, Some(body)).await;
    assert_eq!(status, Status::Ok, "{pair}");
    let stepped = claims(pair["access"].as_str().unwrap_or_default());
    assert_eq!(stepped["acr"], "phr");
    assert_eq!(stepped["did"], device, "the same device session");
    assert!(
        stepped["amr"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("mfa"))),
        "{stepped}"
    );
    let before = claims(&access)["auth_time"].as_u64().unwrap_or_default();
    assert!(
        stepped["auth_time"].as_u64().unwrap_or_default() >= before,
        "{stepped}"
    );
    let res = app
        .get_with_token(
            "/me/phishing-resistant",
            pair["access"].as_str().unwrap_or_default(),
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    // No new device; the refresh token presented is spent.
    let devices = json_body(app.get_with_token("/auth/devices", &access).await).await;
    assert_eq!(devices.as_array().map(Vec::len), Some(1), "{devices}");
    let next = json_body(
        app.post_json("/auth/token/refresh", json!({ "refresh": pair["refresh"] }))
            .await,
    )
    .await;
    assert_eq!(
        claims(next["access"].as_str().unwrap_or_default())["acr"],
        "phr",
        "{next}"
    );
    app.finish().await;
}

/// More refusals, each a 4xx in the one shape with nothing written: an answer
/// from an origin the app does not list (the authenticator took it: a subdomain
/// of the RP id), an expired challenge, and the address budget — which a
/// passkey's failures spend without locking the account.
async fn wrong_origins_expired_challenges_and_budgets(kind: DbKind) {
    let mut jwt = config();
    jwt["login_throttle"] = json!({ "ip_attempts": 6, "ip_window": "15m" });
    let Some(app) = TestApp::on(kind, jwt).await else {
        return;
    };
    let password = app.access_token("alice").await;
    let mut device = Client::new(authenticator(None));
    let _ = register!(&app, device, &password, "laptop");
    // Another origin under the RP id: the client signs it, the app does not list it.
    let (status, options) = post(&app, "/auth/passkeys/login/options", None, None).await;
    assert_eq!(status, Status::Ok);
    let elsewhere =
        reqwest::Url::parse("https://shop.example.com").unwrap_or_else(|e| panic!("{e}"));
    let asserted = device
        .authenticate(&elsewhere, request(&options), DefaultClientData)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let credential = serde_json::to_value(&asserted).unwrap_or_default();
    let (status, refused) = sign_in(&app, &options["ceremony"], &credential).await;
    assert_eq!(status, Status::Unauthorized, "{refused}");
    let said = refused["error_description"].as_str().unwrap_or_default();
    assert!(said.contains("another site"), "{refused}");
    // A challenge answered after its time (5 minutes by default).
    let (ceremony, credential) = assertion!(&app, device);
    app.clock.advance(301);
    let (status, expired) = sign_in(&app, &ceremony, &credential).await;
    assert_eq!(status, Status::BadRequest, "{expired}");
    assert_eq!(expired["error"], "invalid_request");
    // None of the refusals signed anyone in: alice has her password's device alone.
    let devices = app.store().devices_of("alice").await.unwrap_or_default();
    assert_eq!(devices.len(), 1, "{devices:?}");
    // The address's budget (6 attempts in 15 minutes here) runs out: passkey
    // requests from one client address spend it.
    let remote: std::net::SocketAddr = "192.0.2.7:4000".parse().unwrap_or_else(|e| panic!("{e}"));
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = app
            .client
            .post("/auth/passkeys/login/options")
            .remote(remote)
            .dispatch()
            .await;
        statuses.push(res.status().code);
    }
    let first_refusal = statuses.iter().position(|s| *s == 429);
    assert!(
        first_refusal.is_some_and(|at| at == 6 && statuses[..at].iter().all(|s| *s == 200)),
        "{statuses:?}"
    );
    // Failures locked no account: alice's own budget is untouched.
    let stored: i64 = jwt_guard::store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM jwt_guard_attempts WHERE locked_until > 0",
    )
    .fetch_one(app.pool())
    .await
    .unwrap_or(-1);
    assert_eq!(stored, 0, "no account was locked");
    app.finish().await;
}

/// The OpenAPI document of an app with passkeys describes each passkey route:
/// its body, its answers, and whether it needs a token.
#[rocket::async_test]
async fn the_passkey_routes_are_described_in_openapi() {
    let app = TestApp::with_jwt(config()).await;
    let routes = jwt_guard::JwtGuard::manifest(app.client.rocket());
    let doc = jwt_guard::openapi::document(&routes, app.runtime().config(), "t", "1");
    let paths = &doc["paths"];
    let login = &paths["/auth/passkeys/login"]["post"];
    assert!(
        login["requestBody"]["content"]["application/json"].is_object(),
        "{login}"
    );
    assert!(login["responses"]["200"].is_object(), "{login}");
    assert_eq!(
        login["security"],
        json!([]),
        "a login needs no token: {login}"
    );
    let register = &paths["/auth/passkeys/register"]["post"];
    assert!(register["responses"]["201"].is_object(), "{register}");
    assert!(
        register["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{register}"
    );
    for (path, method) in [
        ("/auth/passkeys/register/options", "post"),
        ("/auth/passkeys/login/options", "post"),
        ("/auth/passkeys/step-up", "post"),
        ("/auth/passkeys/credentials", "get"),
        ("/auth/passkeys/credentials/{id}", "patch"),
        ("/auth/passkeys/credentials/{id}", "delete"),
    ] {
        let op = &paths[path][method];
        assert!(op["summary"].is_string(), "{path} {method}: {op}");
    }
}

storage_tests!(
    wrong_origins_expired_challenges_and_budgets,
    a_password_session_steps_up_with_a_passkey,
    a_passkey_registers_signs_in_and_satisfies_phr,
    ceremonies_are_shared_and_clones_are_caught,
);
