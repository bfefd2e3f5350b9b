//! The library tests' own app: every attribute and built-in route on one Rocket,
//! with users in a plain table and passwords compared in the clear. It is a test
//! fixture, not an example (that is `examples/showcase`); keeping it here means
//! editing the demo never changes what the library's tests cover.

use std::sync::atomic::{AtomicU64, Ordering};

use jwt_guard::signals::{SignalSubjects, SubjectId};
use jwt_guard::store::JwtDb;
use jwt_guard::store::{SqlxPool, Store};
use jwt_guard::throttle::LoginThrottle;
use jwt_guard::{
    expiring_link, permanent_refresh, public, use_jwt, AuthError, Authenticator, Claims, Clock,
    DeviceAccess, DeviceSession, Jwt, JwtGuard, LinkUse, Links, LoginResponse, MintedLink,
    Principal, Scopes, Sessions, Upstream, UserStoreUnavailable,
};
use rocket::fairing::{self, AdHoc};
use rocket::figment::Figment;
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::serde::json::{json, Json, Value};
use rocket::{delete, get, post, routes, Build, Request, Rocket, Route, State};
use rocket_db_pools::{Connection, Database};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary user.
    User,
    /// An administrator.
    Admin,
}

/// The claims the test app's access tokens carry.
#[derive(Claims, Clone, Debug, Serialize, Deserialize)]
pub struct AppClaims {
    /// The user's roles.
    #[claims(roles)]
    pub roles: Vec<Role>,
    /// The user's OAuth scopes.
    #[claims(scopes)]
    pub scope: Scopes,
}

/// The users: name, roles, scopes. Passwords are `<name>-password`.
pub const USERS: &[(&str, &str, &str)] = &[
    ("alice", "user", "profile reports:read"),
    ("bob", "user", "profile"),
    ("admin", "admin user", "profile reports:read"),
];

/// The token `GET /metrics` of the test app asks for.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The test app on `figment`, reading time from `clock`.
pub fn app(figment: Figment, clock: Clock) -> Rocket<Build> {
    let metrics = jwt_guard::prometheus::PrometheusMetrics::install(METRICS_TOKEN)
        .unwrap_or_else(|e| panic!("{e}"));
    rocket::custom(figment)
        .manage(metrics)
        .mount("/", jwt_guard::prometheus::prometheus_routes())
        .attach(
            JwtGuard::fairing()
                .clock(clock)
                .authenticator(TableUsers)
                .revocation_endpoint()
                .introspection_endpoint()
                .signal_subjects(UsersByEmail),
        )
        .attach(AdHoc::try_on_ignite("test users", seed))
        .attach(NotesDb::init())
        .attach(AdHoc::try_on_ignite("notes table", create_notes))
        .manage(Visits::default())
        .manage(PasswordChecks::default())
        .mount("/", routes())
}

/// How many password checks the app's authenticator ran, and the most that ran at
/// once (users named `sloth…` take 300 ms to check).
#[derive(Default)]
pub struct PasswordChecks {
    /// Checks run.
    pub total: AtomicU64,
    running: AtomicU64,
    /// The most that ran at once.
    pub peak: AtomicU64,
}

impl PasswordChecks {
    async fn run<T>(&self, slow: bool, check: impl std::future::Future<Output = T>) -> T {
        self.total.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if slow {
            rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        let out = check.await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

async fn seed(rocket: Rocket<Build>) -> fairing::Result {
    let Some(db) = JwtDb::fetch(&rocket) else {
        return Err(rocket);
    };
    let seeded: Result<(), sqlx::Error> = async {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS app_users (
                username TEXT PRIMARY KEY, roles TEXT NOT NULL, scope TEXT NOT NULL,
                last_login BIGINT
            )",
        )
        .execute(db.pool().writes())
        .await?;
        for (name, roles, scope) in USERS {
            sqlx::query(
                "INSERT INTO app_users (username, roles, scope) VALUES ($1, $2, $3)
                 ON CONFLICT (username) DO NOTHING",
            )
            .bind(*name)
            .bind(*roles)
            .bind(*scope)
            .execute(db.pool().writes())
            .await?;
        }
        Ok(())
    }
    .await;
    match seeded {
        Ok(()) => Ok(rocket),
        Err(e) => {
            rocket::error!("test app: cannot seed users: {e}");
            Err(rocket)
        }
    }
}

/// The app's own database beside jwt-guard's, on the pool type jwt-guard exports
/// (sqlx 0.8, typed SQLite): `databases.app_notes`.
#[derive(Database)]
#[database("app_notes")]
pub struct NotesDb(SqlxPool<sqlx::Sqlite>);

async fn create_notes(rocket: Rocket<Build>) -> fairing::Result {
    let Some(db) = NotesDb::fetch(&rocket) else {
        return Err(rocket);
    };
    let created = sqlx::query(
        "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, text TEXT NOT NULL)",
    )
    .execute(db.pool())
    .await;
    match created {
        Ok(_) => Ok(rocket),
        Err(e) => {
            rocket::error!("test app: cannot create notes: {e}");
            Err(rocket)
        }
    }
}

/// Adds a note of the caller's, through a `Connection` of the app's own pool.
#[use_jwt(claims = AppClaims)]
#[post("/notes", data = "<text>")]
async fn add_note(
    jwt: Jwt<AppClaims>,
    mut db: Connection<NotesDb>,
    text: String,
) -> Result<Json<Value>, AuthError> {
    let id: i64 = sqlx::query_scalar("INSERT INTO notes (owner, text) VALUES (?, ?) RETURNING id")
        .bind(jwt.subject())
        .bind(text)
        .fetch_one(&mut **db)
        .await
        .map_err(AuthError::unavailable)?;
    Ok(Json(json!({ "id": id })))
}

/// The caller's notes.
#[use_jwt(claims = AppClaims)]
#[get("/notes")]
async fn notes(jwt: Jwt<AppClaims>, mut db: Connection<NotesDb>) -> Result<Json<Value>, AuthError> {
    let texts: Vec<String> =
        sqlx::query_scalar("SELECT text FROM notes WHERE owner = ? ORDER BY id")
            .bind(jwt.subject())
            .fetch_all(&mut **db)
            .await
            .map_err(AuthError::unavailable)?;
    Ok(Json(json!(texts)))
}

/// The claims of `username` from `app_users`: `Ok(None)` if the user does not
/// exist, `Err` if the database could not say.
pub async fn claims_of(
    db: &JwtDb,
    username: &str,
) -> Result<Option<AppClaims>, UserStoreUnavailable> {
    let row = sqlx::query("SELECT roles, scope FROM app_users WHERE username = $1")
        .bind(username)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let roles: String = row.try_get("roles")?;
    let scope: String = row.try_get("scope")?;
    Ok(Some(AppClaims {
        roles: roles
            .split(' ')
            .filter_map(|r| match r {
                "user" => Some(Role::User),
                "admin" => Some(Role::Admin),
                _ => None,
            })
            .collect(),
        scope: scope.parse().unwrap_or_default(),
    }))
}

fn app_db<'r>(req: &'r Request<'_>) -> Result<&'r JwtDb, UserStoreUnavailable> {
    JwtDb::fetch(req.rocket()).ok_or_else(|| UserStoreUnavailable::new("no database"))
}

/// Users from `app_users`; the password of `name` is `<name>-password`.
pub struct TableUsers;

#[rocket::async_trait]
impl Authenticator for TableUsers {
    type Claims = AppClaims;

    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal<AppClaims>>, UserStoreUnavailable> {
        let slow = username.starts_with("sloth");
        let lookup = claims_of(app_db(req)?, username);
        let claims = match req.rocket().state::<PasswordChecks>() {
            Some(checks) => checks.run(slow, lookup).await?,
            None => lookup.await?,
        };
        Ok(claims
            .filter(|_| password == format!("{username}-password"))
            .map(|claims| Principal {
                subject: username.to_owned(),
                claims,
            }))
    }

    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<AppClaims>, UserStoreUnavailable> {
        claims_of(app_db(req)?, subject).await
    }

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64) {
        if let Some(db) = JwtDb::fetch(req.rocket()) {
            let _ = sqlx::query("UPDATE app_users SET last_login = $1 WHERE username = $2")
                .bind(i64::try_from(at).unwrap_or(i64::MAX))
                .bind(subject)
                .execute(db.pool().writes())
                .await;
        }
    }
}

/// A protected answer its handler lets the user's own browser keep a minute.
#[derive(rocket::Responder)]
pub struct PrivatelyCached {
    body: Json<Value>,
    cache_control: rocket::http::Header<'static>,
}

/// The caller's subject, with the handler's own `Cache-Control`.
#[use_jwt(claims = AppClaims)]
#[get("/me/cacheable")]
fn me_cacheable(jwt: Jwt<AppClaims>) -> PrivatelyCached {
    PrivatelyCached {
        body: Json(json!({ "sub": jwt.subject() })),
        cache_control: rocket::http::Header::new("Cache-Control", "private, max-age=60"),
    }
}

#[use_jwt(claims = AppClaims)]
#[get("/me")]
fn me(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({
        "sub": jwt.subject(),
        "roles": jwt.roles,
        "scope": jwt.scope,
        "device_id": jwt.device_id(),
    }))
}

#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/stats")]
fn admin_stats(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({ "requested_by": jwt.subject() }))
}

#[use_jwt(claims = AppClaims, scope = "reports:read")]
#[get("/reports")]
fn reports(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({ "for": jwt.subject() }))
}

/// A route that takes DPoP-bound tokens only (RFC 9449).
#[use_jwt(claims = AppClaims, dpop)]
#[get("/bound-only")]
fn bound_only(jwt: Jwt<AppClaims>) -> Json<Value> {
    Json(json!({ "sub": jwt.subject(), "jkt": jwt.registered().dpop_jkt() }))
}

#[use_jwt(claims = AppClaims, optional)]
#[get("/hello")]
fn hello(jwt: Option<Jwt<AppClaims>>) -> String {
    match jwt {
        Some(jwt) => format!("hello, {}", jwt.subject()),
        None => "hello, stranger".to_owned(),
    }
}

#[permanent_refresh]
#[post("/auth/device/refresh")]
async fn device_refresh(
    device: DeviceSession,
    db: &State<JwtDb>,
) -> Result<DeviceAccess, AuthError> {
    let claims = claims_of(db, device.subject())
        .await?
        .ok_or_else(|| AuthError::invalid_token("the device's user no longer exists"))?;
    device.issue_access(&claims).await
}

/// Visits counted by an unprotected route with a side effect.
#[derive(Default)]
pub struct Visits(pub AtomicU64);

#[public]
#[post("/visits")]
fn count_visit(visits: &State<Visits>) -> Json<Value> {
    Json(json!({ "visits": visits.0.fetch_add(1, Ordering::SeqCst) + 1 }))
}

#[public]
#[get("/visits")]
fn visits(visits: &State<Visits>) -> Json<Value> {
    Json(json!({ "visits": visits.0.load(Ordering::SeqCst) }))
}

fn minted(result: Result<MintedLink, jwt_guard::link::LinkError>) -> Result<MintedLink, AuthError> {
    result.map_err(AuthError::unavailable)
}

#[use_jwt(claims = AppClaims)]
#[post("/links/unsubscribe")]
async fn mint_unsubscribe(
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<MintedLink, AuthError> {
    minted(links.mint::<unsubscribe>(jwt.subject()).await)
}

/// A one-time link route (public, so tests can mint for it by type).
#[expiring_link(unsubscribe, max_uses = 1, ttl = "7d")]
#[get("/newsletter/unsubscribe")]
pub fn unsubscribe(link: LinkUse, uri: &Origin<'_>) -> Json<Value> {
    Json(json!({
        "unsubscribed": link.subject(),
        "link": link.link_id(),
        // The URI as the app (and Rocket's request log) sees it.
        "uri": uri.to_string(),
    }))
}

/// A link whose handler answers 202: its log row says so (on PostgreSQL the use
/// is logged as 200 when it is counted, and corrected after the answer).
#[expiring_link(queued, max_uses = 2, ttl = "1h")]
#[get("/links/queued")]
pub fn queue_job(link: LinkUse) -> (Status, Json<Value>) {
    (
        Status::Accepted,
        Json(json!({ "queued_for": link.subject() })),
    )
}

#[use_jwt(claims = AppClaims)]
#[post("/links/verify-email")]
async fn mint_verify_email(
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<MintedLink, AuthError> {
    minted(links.mint::<verify_email>(jwt.subject()).await)
}

#[expiring_link(verify_email, max_uses = 1, ttl = "2d")]
#[get("/links/verify-email")]
fn verify_email_link(link: LinkUse) -> Json<Value> {
    Json(json!({ "verified": link.subject() }))
}

#[derive(Deserialize)]
struct MagicLoginRequest {
    username: String,
}

/// Mints a magic-login link for anyone and returns it: a test fixture only (an app
/// delivers such links to their recipient instead).
#[public]
#[post("/links/magic-login", data = "<body>")]
async fn mint_magic_login(
    body: Result<Json<MagicLoginRequest>, rocket::serde::json::Error<'_>>,
    links: &State<Links>,
    throttle: &State<LoginThrottle>,
    store: &State<Store>,
) -> Result<MintedLink, AuthError> {
    let body = body.map_err(|_| AuthError::invalid_request("expected {\"username\": \"…\"}"))?;
    throttle.limit_messages(store, &body.username).await?;
    minted(links.mint::<magic_login>(&body.username).await)
}

#[expiring_link(magic_login, login, confirm, max_uses = 1, ttl = "15m")]
#[post("/auth/magic")]
fn magic(link: LinkUse) -> Result<Json<LoginResponse>, AuthError> {
    link.login()
        .cloned()
        .map(Json)
        .ok_or_else(|| AuthError::invalid_link("this link does not log in"))
}

#[use_jwt(claims = AppClaims)]
#[post("/links/newsletter-confirm")]
async fn mint_confirm(jwt: Jwt<AppClaims>, links: &State<Links>) -> Result<MintedLink, AuthError> {
    minted(links.mint::<confirm_subscription>(jwt.subject()).await)
}

#[expiring_link(confirm_subscription, confirm, max_uses = 1, ttl = "3d")]
#[post("/newsletter/confirm")]
fn confirm_subscription_link(link: LinkUse) -> Json<Value> {
    Json(json!({ "subscribed": link.subject() }))
}

#[use_jwt(claims = AppClaims)]
#[delete("/links/<id>")]
async fn revoke_link(
    id: &str,
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<Status, AuthError> {
    let link = links.get(id).await.map_err(AuthError::unavailable)?;
    if link.as_ref().map(|l| l.subject.as_str()) != Some(jwt.subject()) {
        return Err(AuthError::not_found("no such link"));
    }
    links.revoke(id).await.map_err(AuthError::unavailable)?;
    Ok(Status::NoContent)
}

#[use_jwt(claims = AppClaims)]
#[delete("/links")]
async fn revoke_all_links(
    jwt: Jwt<AppClaims>,
    links: &State<Links>,
) -> Result<Json<Value>, AuthError> {
    let n = links
        .revoke_all(jwt.subject())
        .await
        .map_err(AuthError::unavailable)?;
    Ok(Json(json!({ "revoked": n })))
}

#[use_jwt(claims = AppClaims, role = Role::Admin)]
#[get("/admin/links/<id>/uses")]
async fn link_uses(id: &str, links: &State<Links>) -> Result<Json<Value>, AuthError> {
    let link = links
        .get(id)
        .await
        .map_err(AuthError::unavailable)?
        .ok_or_else(|| AuthError::not_found("no such link"))?;
    let uses = links.uses(id).await.map_err(AuthError::unavailable)?;
    Ok(Json(json!({ "link": link, "uses": uses })))
}

/// `POST /login/code` body: a one-time code the app checks itself.
#[derive(Deserialize)]
struct CodeLogin {
    username: String,
    code: String,
}

/// A login the app performs its own way (a one-time code, `424242` for anyone who
/// exists): an app-started session.
#[public]
#[post("/login/code", data = "<body>")]
async fn login_with_code(
    body: Json<CodeLogin>,
    db: &State<JwtDb>,
    sessions: Sessions<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let claims = claims_of(db, &body.username).await?;
    let (Some(claims), true) = (claims, body.code == "424242") else {
        return Err(AuthError::invalid_credentials());
    };
    let principal = Principal {
        subject: body.username.clone(),
        claims,
    };
    Ok(Json(sessions.start(&principal, "code").await?))
}

/// `POST /login/upstream` body: a user an identity provider authenticated at
/// `auth_time`, with the class `acr`.
#[derive(Deserialize)]
struct UpstreamLogin {
    username: String,
    auth_time: Option<u64>,
    acr: Option<String>,
}

/// An app-started session for a login that rests on another token: the
/// provider's `auth_time` and `acr` travel into the session.
#[public]
#[post("/login/upstream", data = "<body>")]
async fn login_upstream(
    body: Json<UpstreamLogin>,
    db: &State<JwtDb>,
    sessions: Sessions<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let Some(claims) = claims_of(db, &body.username).await? else {
        return Err(AuthError::invalid_credentials());
    };
    let principal = Principal {
        subject: body.username.clone(),
        claims,
    };
    // Without an authentication time: a login of the given class, now.
    let Some(auth_time) = body.auth_time else {
        let login = sessions.start_at_level(&principal, "sso", body.acr.as_deref());
        return Ok(Json(login.await?));
    };
    let mut upstream = Upstream::default();
    upstream.auth_time = Some(auth_time);
    upstream.acr = body.acr.as_deref();
    Ok(Json(
        sessions.start_upstream(&principal, "sso", upstream).await?,
    ))
}

/// `POST /login/partner` body: a user an outside provider (`iss`) signed in as
/// `sub`, in its login session `sid`.
#[derive(Deserialize)]
struct PartnerLogin {
    username: String,
    iss: String,
    sub: String,
    sid: Option<String>,
}

/// An app-started session resting on an outside login: the provider's `iss`,
/// `sub` and `sid` are recorded, so its logout and account signals end it.
#[public]
#[post("/login/partner", data = "<body>")]
async fn login_partner(
    body: Json<PartnerLogin>,
    db: &State<JwtDb>,
    sessions: Sessions<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let Some(claims) = claims_of(db, &body.username).await? else {
        return Err(AuthError::invalid_credentials());
    };
    let principal = Principal {
        subject: body.username.clone(),
        claims,
    };
    let mut upstream = Upstream::default();
    upstream.login = Some((&body.iss, &body.sub));
    if let Some(sid) = &body.sid {
        upstream = upstream.with_session_id(sid);
    }
    Ok(Json(
        sessions.start_upstream(&principal, "sso", upstream).await?,
    ))
}

/// Signal subjects by email: `<user>@example.com` is the user `<user>` here.
struct UsersByEmail;

#[rocket::async_trait]
impl SignalSubjects for UsersByEmail {
    async fn local_subject(&self, _issuer: &str, id: &SubjectId) -> Option<String> {
        match id {
            SubjectId::Email(email) => email.strip_suffix("@example.com").map(str::to_owned),
            _ => None,
        }
    }
}

/// An identity provider's form-post callback: it arrives from the provider's
/// site by design, so the login-CSRF origin check is off (the app checks the
/// provider's `state` itself — here, the one-time code).
#[public]
#[post("/login/idp-callback", data = "<body>")]
async fn login_idp_callback(
    body: Json<CodeLogin>,
    db: &State<JwtDb>,
    sessions: Sessions<'_>,
) -> Result<Json<LoginResponse>, AuthError> {
    let claims = claims_of(db, &body.username).await?;
    let (Some(claims), true) = (claims, body.code == "424242") else {
        return Err(AuthError::invalid_credentials());
    };
    let principal = Principal {
        subject: body.username.clone(),
        claims,
    };
    Ok(Json(
        sessions
            .from_identity_provider()
            .start(&principal, "sso")
            .await?,
    ))
}

/// Needs an authentication of the last five minutes (RFC 9470 `max_age`).
#[use_jwt(claims = AppClaims, fresh = "5m")]
#[get("/me/fresh")]
fn me_fresh(jwt: Jwt<AppClaims>) -> String {
    jwt.subject().to_owned()
}

/// Needs a phishing-resistant authentication (`acr` `phr`: a passkey login's).
#[use_jwt(claims = AppClaims, acr = "phr")]
#[get("/me/phishing-resistant")]
fn me_phishing_resistant(jwt: Jwt<AppClaims>) -> String {
    jwt.subject().to_owned()
}

/// Every route of the test app.
pub fn routes() -> Vec<Route> {
    routes![
        me_phishing_resistant,
        login_with_code,
        login_upstream,
        login_partner,
        login_idp_callback,
        me_fresh,
        me,
        me_cacheable,
        admin_stats,
        reports,
        bound_only,
        hello,
        device_refresh,
        count_visit,
        visits,
        mint_unsubscribe,
        unsubscribe,
        mint_verify_email,
        verify_email_link,
        queue_job,
        mint_magic_login,
        magic,
        mint_confirm,
        confirm_subscription_link,
        revoke_link,
        revoke_all_links,
        link_uses,
        add_note,
        notes
    ]
}
