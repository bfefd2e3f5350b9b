//! Passkey routes: registration by a signed-in user, login by anyone (a device
//! session through the one start path of every login), and the user's own list,
//! rename and delete. Mounted with `[jwt.passkeys]` configured.

use rocket::http::Status;
use rocket::serde::json::{self, Json};
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::{Deserialize, Serialize};
use webauthn_rs_core::proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::claims::NoClaims;
use crate::error::{AuthError, Rejection};
use crate::guard::Jwt;
use crate::login::start;
use crate::manifest::{declare_route, Protection, OWN_ACCESS_TOKEN};
use crate::passkeys::{clean_label, CeremonyOptions, PasskeyError, Passkeys, SignedIn};
use crate::peer::client_ip;
use crate::private_response::mark_credential;
use crate::request::{json_body, Services};
use crate::session::{refresh_session, verify_refresh, LoginResponse, SessionOrigin, StepUp};
use crate::signer::TokenPair;
use crate::store::{counter_key, PasskeyView};
use crate::{cookies, observe};

impl From<PasskeyError> for AuthError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Refused(rejection) => rejection.into(),
            PasskeyError::Store(e) => e.into(),
        }
    }
}

/// `POST …/passkeys/register` body.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegistration {
    /// The ceremony token the options came with.
    pub ceremony: String,
    /// The `PublicKeyCredential` `navigator.credentials.create()` gave, as JSON
    /// (`credential.toJSON()`).
    #[schemars(with = "serde_json::Value")]
    pub credential: RegisterPublicKeyCredential,
    /// A name for it ("laptop"), at most 64 characters.
    #[serde(default)]
    pub label: Option<String>,
}

/// `POST …/passkeys/login` body.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyLogin {
    /// The ceremony token the options came with.
    pub ceremony: String,
    /// The `PublicKeyCredential` `navigator.credentials.get()` gave, as JSON.
    #[schemars(with = "serde_json::Value")]
    pub credential: PublicKeyCredential,
}

/// `POST …/passkeys/step-up` body: a login ceremony's answer, and the session's
/// refresh token (or none: a browser's is in its cookie).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyStepUp {
    /// The ceremony token `…/passkeys/login/options` gave.
    pub ceremony: String,
    /// The `PublicKeyCredential` `navigator.credentials.get()` gave, as JSON.
    #[schemars(with = "serde_json::Value")]
    pub credential: PublicKeyCredential,
    /// The session's refresh token; without it, the refresh cookie.
    #[serde(default)]
    pub refresh: Option<String>,
}

/// `PATCH …/passkeys/<id>` body.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRename {
    /// The new name, at most 64 characters.
    pub label: String,
}

/// A registered passkey, as the registration answers it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct PasskeyRegistered {
    /// The passkey.
    #[serde(flatten)]
    pub passkey: PasskeyView,
}

#[post("/auth/passkeys/register/options")]
async fn register_options(
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
    passkeys: &State<Passkeys>,
) -> Result<Json<CeremonyOptions<CreationChallengeResponse>>, AuthError> {
    mark_credential(services.req);
    let options = passkeys
        .start_registration(services.store, jwt.subject())
        .await?;
    Ok(Json(options))
}

#[post("/auth/passkeys/register", data = "<body>")]
async fn register(
    body: Result<Json<PasskeyRegistration>, json::Error<'_>>,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
    passkeys: &State<Passkeys>,
) -> Result<(Status, Json<PasskeyRegistered>), AuthError> {
    let body = json_body(body)?;
    let record = passkeys
        .finish_registration(
            services.store,
            jwt.subject(),
            &body.ceremony,
            &body.credential,
            body.label.as_deref(),
        )
        .await?;
    Ok((
        Status::Created,
        Json(PasskeyRegistered {
            passkey: PasskeyView::from(&record),
        }),
    ))
}

/// A login ceremony's answer, checked: a refusal counts as a failed passkey
/// login, and a counter that did not move forwards is audited (a clone, or a
/// replay) — for the login and the step-up alike.
async fn checked_assertion(
    req: &rocket::Request<'_>,
    store: &crate::store::Store,
    passkeys: &Passkeys,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<SignedIn, AuthError> {
    match passkeys.finish_login(store, ceremony, credential).await {
        Ok(signed) => Ok(signed),
        Err(e) => {
            if matches!(e, PasskeyError::Refused(_)) {
                observe::login("passkey", "failure");
            }
            if matches!(e, PasskeyError::Refused(Rejection::PasskeyCounterRegressed)) {
                let detail = serde_json::json!({
                    "credential": credential.id.chars().take(64).collect::<String>(),
                    "ip": client_ip(req).unwrap_or_default(),
                })
                .to_string();
                let event = crate::store::AuditEvent::PasskeyCounterRegressed;
                // The refusal stands whether or not the audit row is written.
                let _ = store.audit(event, None, None, &detail).await;
            }
            Err(e.into())
        }
    }
}

#[post("/auth/passkeys/login/options")]
async fn login_options(
    services: Services<'_>,
    passkeys: &State<Passkeys>,
) -> Result<Json<CeremonyOptions<RequestChallengeResponse>>, AuthError> {
    // Each open ceremony is a row: the address budget bounds who opens them.
    services.throttle.admit_address(services.req)?;
    let options = passkeys.start_login(services.store).await?;
    Ok(Json(options))
}

#[post("/auth/passkeys/login", data = "<body>")]
async fn login(
    body: Result<Json<PasskeyLogin>, json::Error<'_>>,
    services: Services<'_>,
    passkeys: &State<Passkeys>,
) -> Result<Json<LoginResponse>, AuthError> {
    let Services {
        req,
        rt,
        store,
        throttle,
        ..
    } = services;
    mark_credential(req);
    cookies::check_login_origin(req)?;
    crate::dpop::precheck_sign_in(req)?;
    // The address's budget, never an account's: a failed passkey sign-in
    // names no account to lock.
    throttle.admit_address(req)?;
    let body = json_body(body)?;
    let signed = checked_assertion(req, store, passkeys, &body.ceremony, &body.credential).await?;
    // The user's current claims, as a refresh asks for them; a user the app no
    // longer knows signs in to nothing.
    let authenticator = services.authenticator()?;
    let claims = authenticator
        .0
        .claims_for(req, &signed.subject)
        .await?
        .ok_or(Rejection::PasskeyUnknown)?;
    let attempts = counter_key("login", &signed.subject);
    let audit = serde_json::json!({
        "method": "passkey",
        "ip": client_ip(req).unwrap_or_default(),
        "amr": signed.amr(),
    })
    .to_string();
    let amr = signed.amr();
    let origin = SessionOrigin::Login {
        attempts: &attempts,
        audit: &audit,
        amr: &amr,
        acr: Some(passkeys.acr()),
        method: "passkey",
        authenticated_at: None,
        upstream: None,
    };
    let (login, _) = start(req, rt, store, &signed.subject, &claims, origin).await?;
    Ok(Json(login))
}

/// Step-up (RFC 9470): the signed-in user meets a route's `acr`/`fresh`
/// challenge with a passkey, and the session — the same device — goes on with
/// tokens that carry the new `auth_time`, `acr` and `amr`. The refresh token is
/// rotated as by a refresh (the one presented is spent).
#[post("/auth/passkeys/step-up", data = "<body>")]
async fn step_up(
    body: Result<Json<PasskeyStepUp>, json::Error<'_>>,
    services: Services<'_>,
    passkeys: &State<Passkeys>,
) -> Result<Json<TokenPair>, AuthError> {
    let Services {
        req,
        rt,
        store,
        throttle,
        ..
    } = services;
    mark_credential(req);
    throttle.admit_address(req)?;
    let body = json_body(body)?;
    let authenticator = services.authenticator()?;
    // The session first: nothing is spent for a request that names none.
    let (token, from_cookie) = cookies::presented_refresh(req, body.refresh)?;
    let old = verify_refresh(rt, &token)?;
    let signed = checked_assertion(req, store, passkeys, &body.ceremony, &body.credential).await?;
    // Only the session's own user steps it up.
    if signed.subject != old.sub {
        return Err(Rejection::PasskeyOfAnotherUser.into());
    }
    let amr = signed.amr();
    let step = StepUp {
        at: rt.issuer().clock().now(),
        acr: passkeys.acr(),
        amr: &amr,
    };
    let mut pair = refresh_session(req, rt, store, authenticator, old, Some(step)).await?;
    observe::login("passkey", "step_up");
    if from_cookie {
        cookies::move_into_cookies(req, rt, &mut pair);
    }
    Ok(Json(pair))
}

#[get("/auth/passkeys/credentials")]
async fn list(
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Json<Vec<PasskeyView>>, AuthError> {
    let passkeys = services.store.passkeys_of(jwt.subject()).await?;
    Ok(Json(passkeys.iter().map(PasskeyView::from).collect()))
}

#[patch("/auth/passkeys/credentials/<id>", data = "<body>")]
async fn rename(
    id: &str,
    body: Result<Json<PasskeyRename>, json::Error<'_>>,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Status, AuthError> {
    let body = json_body(body)?;
    if !is_credential_id(id) {
        return Err(Rejection::PasskeyNotFound.into());
    }
    let label = clean_label(&body.label);
    if services
        .store
        .rename_passkey(jwt.subject(), id, &label)
        .await?
    {
        Ok(Status::NoContent)
    } else {
        Err(Rejection::PasskeyNotFound.into())
    }
}

#[delete("/auth/passkeys/credentials/<id>")]
async fn delete_passkey(
    id: &str,
    jwt: Jwt<NoClaims>,
    services: Services<'_>,
) -> Result<Status, AuthError> {
    if !is_credential_id(id) {
        return Err(Rejection::PasskeyNotFound.into());
    }
    // Sessions the passkey started go on: deleting a key is not a logout.
    if services.store.delete_passkey(jwt.subject(), id).await? {
        Ok(Status::NoContent)
    } else {
        Err(Rejection::PasskeyNotFound.into())
    }
}

/// Whether `id` can be a credential id as the routes name it: base64url of at
/// most 1023 bytes (WebAuthn §5.1: `rawId` is at most 1023 bytes).
fn is_credential_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 1364
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

declare_route!(
    register_options,
    Post,
    "/auth/passkeys/register/options",
    OWN_ACCESS_TOKEN
);
declare_route!(register, Post, "/auth/passkeys/register", OWN_ACCESS_TOKEN);
declare_route!(
    login_options,
    Post,
    "/auth/passkeys/login/options",
    Protection::Public
);
declare_route!(login, Post, "/auth/passkeys/login", Protection::Public);
declare_route!(step_up, Post, "/auth/passkeys/step-up", Protection::Public);
declare_route!(list, Get, "/auth/passkeys/credentials", OWN_ACCESS_TOKEN);
declare_route!(
    rename,
    Patch,
    "/auth/passkeys/credentials/<id>",
    OWN_ACCESS_TOKEN
);
declare_route!(
    delete_passkey,
    Delete,
    "/auth/passkeys/credentials/<id>",
    OWN_ACCESS_TOKEN
);

/// The passkey routes: registration options and answer, login options and
/// answer, and the caller's list, rename and delete.
pub fn passkey_routes() -> Vec<Route> {
    routes![
        register_options,
        register,
        login_options,
        login,
        step_up,
        list,
        rename,
        delete_passkey
    ]
}
