//! The fairing that builds jwt-guard's state at ignite, keeps revocations current,
//! enforces the `Permanent-Token` rule, and shapes error responses.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::Method;
use rocket::{routes, Build, Data, Orbit, Request, Response, Rocket};
use rocket_db_pools::Database;

use crate::clock::Clock;
use crate::config::JwtConfig;
use crate::db::JwtDb;
use crate::device::{
    misplaced_permanent_token, PermanentRoutes, MISPLACED_TOKEN_PATH, PERMANENT_TOKEN_HEADER,
};
use crate::devices_api::device_routes;
use crate::endpoints::{self, Authenticator, Grants};
use crate::error::RecordedFailure;
use crate::link::{
    finish_link_response, link_confirm, ConfirmTarget, LinkRoutes, Links, CONFIRM_PATH,
};
use crate::revocation::RevocationSet;
use crate::runtime::JwtRuntime;
use crate::store::Store;

/// Attach this to a Rocket to use jwt-guard.
///
/// At ignite it reads the `jwt` configuration table, loads and checks the keys
/// (a bad key stops launch with a clear message), opens the `jwt_guard` database
/// (unless [`JwtDb`] is already attached), runs jwt-guard's migrations, loads the
/// revocations, and manages [`JwtRuntime`], [`Issuer`](crate::Issuer) and [`Store`].
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
/// # use jwt_guard::{JwtGuard, JwtConfig};
/// let rocket = rocket::build().attach(
///     JwtGuard::fairing().config(JwtConfig::hmac("a secret of at least thirty-two bytes!")),
/// );
/// ```
pub struct JwtGuard {
    config: Option<JwtConfig>,
    clock: Clock,
    grants: Option<Grants>,
}

impl Default for JwtGuard {
    fn default() -> Self {
        Self::fairing()
    }
}

impl JwtGuard {
    /// The fairing, reading configuration from Rocket's `jwt` table.
    pub fn fairing() -> Self {
        Self {
            config: None,
            clock: Clock::system(),
            grants: None,
        }
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

    /// Mounts the token and device routes, checking credentials with `authenticator`.
    pub fn authenticator<A: Authenticator>(mut self, authenticator: A) -> Self {
        self.grants = Some(Grants(Arc::new(authenticator)));
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
    JwtDb::init().on_ignite(rocket).await
}

fn read_config(rocket: &Rocket<Build>, given: &Option<JwtConfig>) -> Result<JwtConfig, String> {
    match given {
        Some(config) => Ok(config.clone()),
        None => rocket
            .figment()
            .extract_inner::<JwtConfig>("jwt")
            .map_err(|e| {
                format!(
                    "invalid or missing `jwt` configuration: {e}; set e.g. `[default.jwt] \
                     secret = \"…\"` in Rocket.toml or ROCKET_JWT='{{secret=\"…\"}}'"
                )
            }),
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
        let config = match read_config(&rocket, &self.config) {
            Ok(config) => config,
            Err(e) => {
                rocket::error!("jwt-guard: {e}");
                return Err(rocket);
            }
        };
        let revocations = Arc::new(RevocationSet::new());
        let runtime = match JwtRuntime::new(config.clone(), self.clock.clone(), revocations.clone())
        {
            Ok(runtime) => runtime,
            Err(e) => {
                rocket::error!("jwt-guard: {e}");
                return Err(rocket);
            }
        };
        let rocket = init_database(rocket).await?;
        let Some(db) = rocket.state::<JwtDb>() else {
            rocket::error!("jwt-guard: the `jwt_guard` database did not initialise");
            return Err(rocket);
        };
        let store = Store::new(
            db.pool(),
            self.clock.clone(),
            config.store_settings(),
            revocations,
        );
        if let Err(e) = store.migrate().await {
            rocket::error!("jwt-guard: migrations failed: {e}");
            return Err(rocket);
        }
        if let Err(e) = store.load_revocations(0).await {
            rocket::error!("jwt-guard: cannot load revocations: {e}");
            return Err(rocket);
        }

        let issuer = runtime.issuer().clone();
        let link_routes = Arc::new(LinkRoutes::default());
        let base_url = config
            .link_base_url
            .clone()
            .unwrap_or_else(|| default_base_url(&rocket));
        let links = Links::new(
            store.clone_handle(),
            issuer.clone(),
            base_url,
            link_routes.clone(),
        );
        let mut rocket = rocket
            .manage(runtime)
            .manage(issuer)
            .manage(store)
            .manage(links)
            .manage(link_routes)
            .manage(Arc::new(PermanentRoutes::default()))
            .mount("/", routes![misplaced_permanent_token, link_confirm]);
        if let Some(grants) = &self.grants {
            rocket = rocket
                .manage(Grants(grants.0.clone()))
                .mount("/", endpoints::routes())
                .mount("/", device_routes());
        }
        Ok(rocket)
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let (Some(runtime), Some(store)) = (rocket.state::<JwtRuntime>(), rocket.state::<Store>())
        else {
            return;
        };
        let poll = runtime.config().revocation_poll.0;
        let archive = runtime.config().archive_interval.map(|d| d.0);
        let store = store.clone_handle();
        let shutdown = rocket.shutdown();
        rocket::tokio::spawn(background(store, poll, archive, shutdown));
    }

    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        if req.method() == Method::Get {
            route_confirm_page(req);
        }
        if !req.headers().contains(PERMANENT_TOKEN_HEADER) {
            return;
        }
        let allowed = req
            .rocket()
            .state::<Arc<PermanentRoutes>>()
            .is_some_and(|routes| routes.allows(req.method(), req.uri().path().as_str()));
        if !allowed {
            // Send it where it can only get a 400: the app's handler never runs.
            req.set_method(Method::Get);
            if let Ok(uri) = Origin::parse(MISPLACED_TOKEN_PATH) {
                req.set_uri(uri);
            }
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        finish_link_response(req, res).await;
        if let Some(failure) = RecordedFailure::get(req) {
            // Only when the failure is what produced this response: a guard inside
            // `Option<…>` may fail while the handler still answers 200.
            if failure.status() == res.status() {
                let realm = JwtRuntime::from_request(req)
                    .map(|rt| rt.config().realm.as_str())
                    .unwrap_or("jwt-guard");
                failure.write_to(realm, res);
            }
        }
    }
}

/// `http://address:port` from Rocket's own configuration.
fn default_base_url(rocket: &Rocket<Build>) -> String {
    let figment = rocket.figment();
    let address = figment
        .extract_inner::<std::net::IpAddr>("address")
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let port = figment.extract_inner::<u16>("port").unwrap_or(8000);
    match address {
        std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
        v4 => format!("http://{v4}:{port}"),
    }
}

/// A GET of a `confirm` link is sent to the confirmation page, which checks the link
/// without using it; the page's button POSTs to the real route.
fn route_confirm_page(req: &mut Request<'_>) {
    let target = req
        .rocket()
        .state::<Arc<LinkRoutes>>()
        .and_then(|routes| routes.confirm_target(req.uri().path().as_str()));
    let Some(target) = target else {
        return;
    };
    let path = req.uri().path().as_str().to_owned();
    let query = req.uri().query().map(|q| q.as_str().to_owned());
    let stash = req.local_cache(|| ConfirmTarget(std::sync::OnceLock::new()));
    let _ = stash.0.set((target, path));
    let uri = match query {
        Some(q) => format!("{CONFIRM_PATH}?{q}"),
        None => CONFIRM_PATH.to_owned(),
    };
    if let Ok(uri) = Origin::parse_owned(uri) {
        req.set_uri(uri);
    }
}

/// Keeps revocations current (and archives, if asked) until shutdown: PostgreSQL
/// announces each revocation (`LISTEN`/`NOTIFY`), and polling every `poll` is the
/// fallback that bounds staleness on SQLite and across a lost notification.
async fn background(
    store: Store,
    poll: Duration,
    archive: Option<Duration>,
    mut shutdown: rocket::Shutdown,
) {
    let mut poll_timer = rocket::tokio::time::interval(poll);
    let mut archive_timer =
        rocket::tokio::time::interval(archive.unwrap_or(Duration::from_secs(3600)));
    // Rows written while a poll runs are read again by the next one.
    let overlap = poll.as_secs().saturating_mul(2).saturating_add(2);
    let mut since = store.clock().now().saturating_sub(overlap);
    let mut listener = match store.listen().await {
        Some(Ok(listener)) => Some(listener),
        Some(Err(e)) => {
            rocket::warn!("jwt-guard: cannot LISTEN for revocations, polling only: {e}");
            None
        }
        None => None,
    };
    loop {
        rocket::tokio::select! {
            _ = &mut shutdown => break,
            _ = poll_timer.tick() => {
                let started = store.clock().now();
                match store.load_revocations(since).await {
                    Ok(_) => since = started.saturating_sub(overlap),
                    Err(e) => rocket::warn!("jwt-guard: revocation poll failed: {e}"),
                }
            }
            notice = next_notice(&mut listener) => match notice {
                Ok(Some(notice)) => store.apply_notice(&notice),
                Ok(None) => {}
                Err(e) => {
                    // The listener reconnects by itself; a notice may have been lost
                    // meanwhile, so read what the poll would have.
                    rocket::warn!("jwt-guard: revocation listener: {e}");
                    let _ = store.load_revocations(since).await;
                }
            },
            _ = archive_timer.tick(), if archive.is_some() => {
                if let Err(e) = store.archive().await {
                    rocket::warn!("jwt-guard: archiver failed: {e}");
                }
            }
        }
    }
}

/// The next announced revocation; pends forever without a listener.
async fn next_notice(
    listener: &mut Option<sqlx::postgres::PgListener>,
) -> Result<Option<crate::store::RevocationNotice>, sqlx::Error> {
    match listener {
        Some(listener) => {
            let notification = listener.recv().await?;
            Ok(serde_json::from_str(notification.payload()).ok())
        }
        None => std::future::pending().await,
    }
}
