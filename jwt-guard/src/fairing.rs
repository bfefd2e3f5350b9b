//! The fairing: assembles jwt-guard at ignite, starts its background task at
//! liftoff, and hands each request and response to the modules that own them.

use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{routes, Build, Data, Orbit, Request, Response, Rocket};
use rocket_db_pools::Database;

use crate::background;
use crate::clock::Clock;
use crate::config::{ConfigError, CookieConfig, JwtConfig};
use crate::cookies;
use crate::device::{divert_misplaced_permanent_token, misplaced_permanent_token, PermanentRoutes};
use crate::dpop::Dpop;
use crate::error::{finish_failed_response, Realm};
use crate::link::{
    default_base_url, finish_link_response, link_confirm, route_link_preview, AppLinkPages,
    LinkMailer, LinkPages, LinkRoutes, Links, UnverifiedLogBudget,
};
use crate::manifest::{self, RouteEntry};
use crate::peer::TrustedProxies;
use crate::private_response::finish_private_response;
use crate::response_marks::{self, Mark};
use crate::routes::{
    device_routes, introspection_routes, protected_resource_routes, revocation_routes,
    token_routes, verification_routes, ResourceMetadata,
};
use crate::runtime::JwtRuntime;
use crate::secret::SecretText;
use crate::session::{AppAuthenticator, Authenticator};
use crate::store::{JwtDb, RevocationCursor, Store, DEFAULT_CONNECT_TIMEOUT_SECS};
use crate::throttle::LoginThrottle;
use crate::trusted_issuers::TrustedIssuers;

/// Where the background poll starts: the revocation cursor read at launch.
struct LaunchCursor(RevocationCursor);

/// Attach this to a Rocket to use jwt-guard.
///
/// At ignite it reads the `jwt` configuration table, loads and checks the keys
/// (a bad key stops launch with a clear message), opens the `jwt_guard` database
/// (unless [`JwtDb`] is already attached), runs jwt-guard's migrations, loads the
/// revocations, and manages [`JwtRuntime`], [`Issuer`](crate::token::Issuer) and [`Store`].
/// With an [`Authenticator`] it also mounts the token and device routes and the JWKS.
///
/// At liftoff it starts polling the database for revocations made by other
/// instances (`revocation_poll`) and, if configured, the archiver.
///
/// On every request carrying `Permanent-Token` to a route that is not a
/// `#[permanent_refresh]` route, it answers 400 without running the handler. On
/// every response it turns a guard's failure into an RFC 6750 answer.
///
/// ```no_run
/// # use jwt_guard::JwtGuard;
/// # use jwt_guard::config::JwtConfig;
/// let rocket = rocket::build().attach(
///     JwtGuard::fairing().config(JwtConfig::hmac("a secret of at least thirty-two bytes!")),
/// );
/// ```
pub struct JwtGuard {
    config: Option<JwtConfig>,
    require_protection: bool,
    clock: Clock,
    authenticator: Option<AppAuthenticator>,
    mailer: Option<Arc<dyn LinkMailer>>,
    pages: AppLinkPages,
    /// Where the token and device routes are mounted (`/` by default).
    base: String,
    /// No database: guards and verification routes only ([`JwtGuard::verify_only`]).
    verify_only: bool,
    /// Mount `POST /oauth/revoke` (RFC 7009).
    revocation_endpoint: bool,
    /// Mount `POST /oauth/introspect` (RFC 7662).
    introspection_endpoint: bool,
}

impl Default for JwtGuard {
    fn default() -> Self {
        Self::fairing()
    }
}

/// With a protected resource configured: its RFC 9728 metadata routes, at `/`
/// (the well-known location belongs to the host, not to the API's mount point).
fn mount_resource(rocket: Rocket<Build>, config: &JwtConfig) -> Rocket<Build> {
    if config.resource.resource.is_none() {
        return rocket;
    }
    rocket
        .manage(ResourceMetadata::default())
        .mount("/", protected_resource_routes())
}

impl JwtGuard {
    /// The fairing, reading configuration from Rocket's `jwt` table.
    pub fn fairing() -> Self {
        Self {
            config: None,
            require_protection: false,
            clock: Clock::system(),
            authenticator: None,
            mailer: None,
            pages: AppLinkPages::default(),
            base: "/".to_owned(),
            verify_only: false,
            revocation_endpoint: false,
            introspection_endpoint: false,
        }
    }

    /// Mounts `POST /oauth/revoke` under the routes' base: RFC 7009 token
    /// revocation. A client posts `token=…` (form-encoded) to end an access,
    /// refresh or permanent token it holds; the answer is `200` whether or not the
    /// token was valid.
    ///
    /// ```no_run
    /// # use jwt_guard::JwtGuard;
    /// let rocket = rocket::build().attach(JwtGuard::fairing().revocation_endpoint());
    /// ```
    pub fn revocation_endpoint(mut self) -> Self {
        self.revocation_endpoint = true;
        self
    }

    /// Mounts `POST /oauth/introspect` under the routes' base: RFC 7662 token
    /// introspection for other services. Callers authenticate with HTTP Basic
    /// credentials of a `jwt.introspection_clients` entry, or with an access token
    /// carrying scope `token:introspect`.
    pub fn introspection_endpoint(mut self) -> Self {
        self.introspection_endpoint = true;
        self
    }

    /// The fairing of an app that only verifies tokens — its own keys, or the
    /// trusted outside issuers' (`jwt.trusted_issuers`) — and keeps no state: no
    /// database is opened or created, no login, refresh, device or link route is
    /// mounted (`POST /auth/token/verify` and the JWKS are), and revocations are not
    /// checked (there is no revocation list to read). With no key of its own
    /// configured, only outside issuers' tokens are accepted.
    ///
    /// ```no_run
    /// # use jwt_guard::JwtGuard;
    /// let rocket = rocket::build().attach(JwtGuard::verify_only());
    /// ```
    pub fn verify_only() -> Self {
        Self {
            verify_only: true,
            ..Self::fairing()
        }
    }

    /// Mounts the token and device routes under `base` (`/api` gives
    /// `/api/auth/token`, …) instead of `/`. The refresh cookie's default path
    /// follows (`/api/auth`).
    pub fn routes_at(mut self, base: &str) -> Self {
        let trimmed = base.trim_end_matches('/');
        self.base = if trimmed.is_empty() {
            "/".to_owned()
        } else {
            trimmed.to_owned()
        };
        self
    }

    /// Uses `config` instead of Rocket's `jwt` table.
    pub fn config(mut self, config: JwtConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Reads time from `clock` (tests move it forward).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Shows `pages` (the confirmation and "cannot be used" pages of links)
    /// instead of jwt-guard's own.
    pub fn link_pages<P: LinkPages>(mut self, pages: P) -> Self {
        self.pages = AppLinkPages(Arc::new(pages));
        self
    }

    /// Delivers links sent with [`Links::send`] through `mailer`.
    pub fn link_mailer<M: LinkMailer>(mut self, mailer: M) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Deny by default: launch fails while a mounted route has no jwt-guard
    /// attribute (as `require_protection = true` in the `jwt` table).
    pub fn require_protection(mut self) -> Self {
        self.require_protection = true;
        self
    }

    /// The route-protection manifest of `rocket`: every mounted route with the
    /// protection its attribute declared (`None` for routes without one).
    pub fn manifest<P: rocket::Phase>(rocket: &Rocket<P>) -> Vec<RouteEntry> {
        manifest::table(rocket.routes())
    }

    /// Mounts the token and device routes, checking credentials with `authenticator`.
    pub fn authenticator<A: Authenticator>(mut self, authenticator: A) -> Self {
        self.authenticator = Some(AppAuthenticator::new(authenticator));
        self
    }
}

/// Initialises [`JwtDb`] unless the application attached `JwtDb::init()` itself.
async fn init_database(rocket: Rocket<Build>) -> fairing::Result {
    if rocket.state::<JwtDb>().is_some() {
        return Ok(rocket);
    }
    if rocket
        .figment()
        .find_value("databases.jwt_guard.url")
        .is_err()
    {
        rocket::error!(
            "jwt-guard: no database configured; set `databases.jwt_guard.url` \
             (e.g. ROCKET_DATABASES='{{jwt_guard={{url=\"sqlite://jwt.db\"}}}}')"
        );
        return Err(rocket);
    }
    // Fail fast by default: `rocket_db_pools` would otherwise wait 5 s for a
    // connection before a request hears that the database is down.
    let figment = rocket.figment().clone().join((
        "databases.jwt_guard.connect_timeout",
        DEFAULT_CONNECT_TIMEOUT_SECS,
    ));
    JwtDb::init().on_ignite(rocket.configure(figment)).await
}

fn read_config(
    rocket: &Rocket<Build>,
    given: &Option<JwtConfig>,
) -> Result<JwtConfig, ConfigError> {
    match given {
        Some(config) => Ok(config.clone()),
        None => rocket
            .figment()
            .extract_inner::<JwtConfig>("jwt")
            .map_err(|e| ConfigError::Unreadable(Box::new(e))),
    }
}

/// What every challenge of the app says: realm, metadata URL, DPoP algorithms.
fn realm_of(config: &JwtConfig) -> Realm {
    Realm {
        name: config.realm.clone(),
        resource_metadata: config.resource.metadata_url(),
        dpop_algs: config.dpop.enabled().then(|| config.dpop.algorithm_names()),
        dpop_required: config.dpop.mode == crate::config::DpopMode::Required,
    }
}

/// With DPoP on, its state: the public URL proofs name (`dpop.public_url`, else
/// the app's base URL) and the replay cache (`store`, unless verify-only or
/// configured to memory). Said at liftoff (`--print-openapi` ignites, and prints
/// nothing else).
fn manage_dpop(
    rocket: Rocket<Build>,
    config: &JwtConfig,
    runtime: &JwtRuntime,
    base_url: &str,
    clock: &Clock,
    store: Option<&Store>,
) -> Rocket<Build> {
    let public_url = config.dpop.public_url.as_deref().unwrap_or(base_url);
    match Dpop::new(&config.dpop, public_url, runtime.keys(), clock, store) {
        Some(dpop) => rocket.manage(dpop),
        None => rocket,
    }
}

/// Managed in verify-only mode: what the launch log says about it.
struct VerifyOnly {
    own_key: bool,
}

/// 64 random bytes as text, for a key that must exist but never signs.
fn random_token_text() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl JwtGuard {
    /// Deny by default, when asked: launch fails while a mounted route has no
    /// jwt-guard attribute.
    #[allow(clippy::result_large_err)] // Rocket's own `fairing::Result`, handed on
    fn check_protection(&self, rocket: Rocket<Build>, config: &JwtConfig) -> fairing::Result {
        if self.require_protection || config.require_protection {
            if let Err(undeclared) = manifest::require_declared(rocket.routes()) {
                rocket::error!("jwt-guard: {undeclared}");
                for line in &undeclared.0 {
                    rocket::error!("  {line}");
                }
                return Err(rocket);
            }
        }
        Ok(rocket)
    }
}

#[rocket::async_trait]
impl Fairing for JwtGuard {
    fn info(&self) -> Info {
        Info {
            name: "jwt-guard",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Request | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let mut config = match read_config(&rocket, &self.config) {
            Ok(config) => config,
            Err(e) => {
                rocket::error!("jwt-guard: {}", crate::error::Chain(&e));
                return Err(rocket);
            }
        };
        let proxies = TrustedProxies::from_config(&config.trusted_proxies);
        proxies.warn_if_header_ignored(&rocket);
        let rocket = rocket.manage(proxies);
        let base_url = config
            .link_base_url
            .clone()
            .unwrap_or_else(|| default_base_url(&rocket));
        if self.base != "/" && config.cookies.path == CookieConfig::default().path {
            config.cookies.path = format!("{}{}", self.base, config.cookies.path);
        }
        if config.cookies.allowed_origins.is_empty() {
            config.cookies.allowed_origins = cookies::default_origins(&base_url);
        }
        let own_key =
            config.secret.is_some() || config.secret_file.is_some() || config.private_key.is_some();
        if self.verify_only && !own_key {
            if config.trusted_issuers.is_empty() {
                rocket::error!(
                    "jwt-guard: verify-only mode needs keys to verify with: `jwt.secret`, \
                     `jwt.private_key` or `jwt.trusted_issuers`"
                );
                return Err(rocket);
            }
            // No key of its own: an ephemeral one that never leaves this process
            // signs nothing, so no token claims to be the app's own successfully.
            config.algorithm = jsonwebtoken::Algorithm::HS256;
            config.secret = Some(SecretText::new(random_token_text()));
        }
        if self.verify_only && self.authenticator.is_some() {
            rocket::error!(
                "jwt-guard: verify-only mode has no database, so no login routes: \
                 remove `.authenticator(…)` or use `JwtGuard::fairing()`"
            );
            return Err(rocket);
        }
        if self.verify_only && (self.revocation_endpoint || self.introspection_endpoint) {
            rocket::error!(
                "jwt-guard: verify-only mode has no database to revoke in or look tokens up: \
                 remove `.revocation_endpoint()` / `.introspection_endpoint()` or use \
                 `JwtGuard::fairing()`"
            );
            return Err(rocket);
        }
        let runtime = match JwtRuntime::new(config.clone(), self.clock.clone()) {
            Ok(runtime) => runtime,
            Err(e) => {
                rocket::error!("jwt-guard: {}", crate::error::Chain(&e));
                return Err(rocket);
            }
        };
        let trusted = TrustedIssuers::new(&config.trusted_issuers, &self.clock);
        if let Err((name, e)) = trusted.load_all().await {
            rocket::error!(
                "jwt-guard: cannot fetch the keys of trusted issuer `{name}`: {} \
                 (set start_without_keys = true to launch anyway)",
                crate::error::Chain(&e)
            );
            return Err(rocket);
        }
        if self.verify_only {
            let rocket = manage_dpop(rocket, &config, &runtime, &base_url, &self.clock, None);
            let mut rocket = rocket
                .manage(realm_of(&config))
                .manage(trusted)
                .manage(VerifyOnly { own_key })
                .manage(Arc::new(PermanentRoutes::default()))
                .mount("/", routes![misplaced_permanent_token])
                .mount(self.base.as_str(), verification_routes());
            if own_key {
                rocket = rocket.manage(runtime.issuer().clone());
            }
            let rocket = rocket.manage(runtime);
            return self.check_protection(mount_resource(rocket, &config), &config);
        }
        let rocket = init_database(rocket).await?;
        let Some(db) = rocket.state::<JwtDb>() else {
            rocket::error!("jwt-guard: the `jwt_guard` database did not initialise");
            return Err(rocket);
        };
        let store = runtime.store(db.pool());
        if let Err(e) = store.migrate().await {
            rocket::error!("jwt-guard: migrations failed: {}", crate::error::Chain(&e));
            return Err(rocket);
        }
        let cursor = match store.load_revocations().await {
            Ok(cursor) => cursor,
            Err(e) => {
                rocket::error!(
                    "jwt-guard: cannot load revocations: {}",
                    crate::error::Chain(&e)
                );
                return Err(rocket);
            }
        };

        let rocket = manage_dpop(
            rocket,
            &config,
            &runtime,
            &base_url,
            &self.clock,
            Some(&store),
        );
        let issuer = runtime.issuer().clone();
        let link_routes = Arc::new(LinkRoutes::default());
        let links = Links::new(
            store.clone(),
            issuer.clone(),
            base_url,
            link_routes.clone(),
            self.mailer.clone(),
        );
        let throttle = LoginThrottle::new(&config.login_throttle);
        let mut rocket = rocket
            .manage(realm_of(&config))
            .manage(throttle)
            .manage(trusted)
            .manage(self.pages.clone())
            .manage(UnverifiedLogBudget::new(
                config.invalid_link_logs_per_minute,
            ))
            .manage(runtime)
            .manage(issuer)
            .manage(store)
            .manage(links)
            .manage(link_routes)
            .manage(LaunchCursor(cursor))
            .manage(Arc::new(PermanentRoutes::default()))
            .mount("/", routes![misplaced_permanent_token, link_confirm]);
        if let Some(authenticator) = &self.authenticator {
            rocket = rocket
                .manage(authenticator.clone())
                .mount(self.base.as_str(), token_routes())
                .mount(self.base.as_str(), device_routes());
        }
        if self.revocation_endpoint {
            rocket = rocket.mount(self.base.as_str(), revocation_routes());
        }
        if self.introspection_endpoint {
            rocket = rocket.mount(self.base.as_str(), introspection_routes());
        }
        self.check_protection(mount_resource(rocket, &config), &config)
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        if let Some(mode) = rocket.state::<VerifyOnly>() {
            rocket::warn!(
                "jwt-guard: verify-only mode: no database; tokens are checked by signature, \
                 times and claims, revocations are not (no revocation list){}",
                if mode.own_key {
                    ""
                } else {
                    "; no key of its own: only trusted issuers' tokens are accepted"
                }
            );
        }
        if let Some(dpop) = rocket.state::<Dpop>() {
            rocket::info!("jwt-guard: {}", dpop.describe());
        }
        for entry in manifest::table(rocket.routes()) {
            if entry.protection.is_none() {
                rocket::warn!("jwt-guard: {}", manifest::describe(&entry));
            } else {
                rocket::info!("jwt-guard: {}", manifest::describe(&entry));
            }
        }
        let (Some(runtime), Some(store)) = (rocket.state::<JwtRuntime>(), rocket.state::<Store>())
        else {
            return;
        };
        let poll = runtime.config().revocation_poll.0;
        let archive = runtime.config().archive_interval.map(|d| d.0);
        let cursor = rocket
            .state::<LaunchCursor>()
            .map(|c| c.0)
            .unwrap_or_default();
        let throttle = rocket.state::<LoginThrottle>().cloned();
        let task = background::keep_current(
            store.clone(),
            throttle,
            cursor,
            poll,
            archive,
            runtime.config().revocation_listen,
            rocket.shutdown(),
        );
        rocket::tokio::spawn(task);
    }

    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        if matches!(req.method(), Method::Get | Method::Head) {
            route_link_preview(req);
        }
        divert_misplaced_permanent_token(req);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Every answer passes here, most with nothing to finish: the marks are
        // read once.
        let marks = response_marks::marks(req);
        if marks.has(Mark::LinkAttempt) {
            finish_link_response(req, res).await;
        }
        if marks.has(Mark::Failure) {
            finish_failed_response(req, res);
        }
        finish_private_response(res, marks);
        crate::dpop::finish_response(req, res);
    }
}
