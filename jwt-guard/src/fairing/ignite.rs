//! What the fairing does at ignite, in named steps: settle the configuration,
//! decide the mode once (full, or verify-only with or without a key of its own),
//! build the runtime, fetch the trusted issuers' keys, open the store (full mode
//! only), then manage the state and mount the routes of that mode. A step that
//! fails says why in one line, with its cause, and stops launch.

use std::sync::Arc;

use rocket::fairing;
use rocket::{routes, Build, Rocket};

use super::builder::JwtGuard;
use crate::config::{ConfigError, CookieConfig, DpopMode, JwtConfig};
use crate::device::{misplaced_permanent_token, PermanentRoutes};
use crate::dpop::Dpop;
use crate::error::Realm;
use crate::link::{default_base_url, link_confirm, LinkRoutes, Links, UnverifiedLogBudget};
use crate::manifest;
use crate::observe::Chain;
use crate::peer::TrustedProxies;
use crate::routes::{
    device_routes, introspection_routes, protected_resource_routes, revocation_routes,
    token_routes, verification_routes, ResourceMetadata,
};
use crate::runtime::{JwtRuntime, SetupError};
use crate::secret::SecretText;
use crate::store::{
    DatabaseProblem, JwtDb, JwtPool, PoolSettings, Pooler, RevocationCursor, Store, StoreError,
    DEFAULT_CONNECT_TIMEOUT_SECS,
};
use crate::throttle::LoginThrottle;
use crate::trusted_issuers::{FetchError, TrustedIssuers};

/// Why jwt-guard cannot launch.
#[derive(Debug, thiserror::Error)]
enum LaunchError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(
        "a verify-only app needs keys to verify with: an outside issuer's in \
         `jwt.trusted_issuers` (its `jwks_url` or a `jwks` file), or a key shared with \
         the issuing app (`jwt.secret`, `jwt.public_key`); none is configured (Rocket.toml, \
         ROCKET_JWT)"
    )]
    NoKeysToVerifyWith,
    #[error(
        "verify-only mode has no database, so no login routes: remove `.authenticator(…)` or \
         use `JwtGuard::fairing()`"
    )]
    AuthenticatorWithoutDatabase,
    #[error(
        "verify-only mode has no database to revoke in or look tokens up: remove \
         `.revocation_endpoint()` / `.introspection_endpoint()` or use `JwtGuard::fairing()`"
    )]
    EndpointsWithoutDatabase,
    #[error(
        "cannot fetch the keys of trusted issuer `{name}` (set start_without_keys = true to \
         launch anyway)"
    )]
    IssuerKeys {
        name: String,
        #[source]
        source: FetchError,
    },
    #[error(
        "no database configured; set `databases.jwt_guard.url` \
         (e.g. ROCKET_DATABASES='{{jwt_guard={{url=\"sqlite://jwt.db\"}}}}')"
    )]
    NoDatabase,
    #[error("the `jwt_guard` database did not initialise")]
    DatabaseMissing,
    #[error(transparent)]
    Database(DatabaseProblem),
    #[error(
        "`databases.jwt_guard.url` goes through a transaction-mode pooler (PgBouncer \
         `pool_mode = transaction`, or alike): set `databases.jwt_guard.pooler = \
         \"transaction\"` (and `listen_url`, a direct URL, for revocations at once); \
         without it, statements one client prepared collide with another's on the \
         pooler's shared server sessions"
    )]
    TransactionPoolerNotDeclared,
    #[error("`databases.jwt_guard` cannot be read")]
    DatabaseSettings(#[source] Box<rocket::figment::Error>),
    #[error(
        "`jwt.passkeys` needs `.authenticator(…)`: a passkey login asks the app's user \
         store for the user's claims"
    )]
    #[cfg(feature = "passkeys")]
    PasskeysWithoutAuthenticator,
    #[error("migrations failed")]
    Migrations(#[source] StoreError),
    #[error("cannot load revocations")]
    Revocations(#[source] StoreError),
}

/// The step's value, or its failure said once and launch stopped.
macro_rules! or_stop {
    ($rocket:ident, $step:expr) => {
        match $step {
            Ok(value) => value,
            Err(e) => {
                rocket::error!("jwt-guard: {}", Chain(&LaunchError::from(e)));
                return Err($rocket);
            }
        }
    };
}

/// How this instance runs, decided once at ignite from the builder and the
/// configuration.
#[derive(Clone, Copy)]
enum Mode {
    /// Database, sessions, links, revocations.
    Full,
    /// No database: guards and verification routes only; `own_key` says whether
    /// the app has a key of its own (else only trusted issuers' tokens pass).
    VerifyOnly { own_key: bool },
}

/// Managed in verify-only mode: what the launch log says about it.
pub(super) struct VerifyOnly {
    pub(super) own_key: bool,
}

/// Where the background poll starts: the revocation cursor read at launch.
pub(super) struct LaunchCursor(pub(super) RevocationCursor);

impl JwtGuard {
    pub(super) async fn ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let mut config = or_stop!(rocket, self.read_config(&rocket));
        warn_renamed(&config);
        let proxies = TrustedProxies::from_config(&config.trusted_proxies);
        proxies.warn_if_header_ignored(&rocket);
        let rocket = rocket.manage(proxies);
        let base_url = self.settle(&rocket, &mut config);
        let mode = or_stop!(rocket, self.mode(&mut config));
        let runtime = or_stop!(rocket, JwtRuntime::new(config.clone(), self.clock.clone()));
        let trusted = TrustedIssuers::new(&config.trusted_issuers, &self.clock);
        or_stop!(
            rocket,
            trusted
                .load_all()
                .await
                .map_err(|(name, source)| LaunchError::IssuerKeys { name, source })
        );
        let rocket = rocket
            .manage(realm_of(&config))
            .manage(trusted)
            .manage(Arc::new(PermanentRoutes::default()));
        let rocket = match mode {
            Mode::VerifyOnly { own_key } => {
                self.assemble_verify_only(rocket, &config, runtime, &base_url, own_key)
            }
            Mode::Full => self.assemble(rocket, &config, runtime, base_url).await?,
        };
        self.check_protection(mount_resource(rocket, &config), &config)
    }

    /// The `jwt` table (or the configuration given to the builder).
    fn read_config(&self, rocket: &Rocket<Build>) -> Result<JwtConfig, ConfigError> {
        match &self.config {
            Some(config) => Ok(config.clone()),
            None => {
                crate::config::check_environment(rocket.figment())?;
                // No `jwt` table at all is every default: what is then missing (a
                // key, for one) is named by the step that needs it.
                if rocket.figment().find_value("jwt").is_err() {
                    return Ok(JwtConfig::default());
                }
                rocket
                    .figment()
                    .extract_inner::<JwtConfig>("jwt")
                    .map_err(|e| ConfigError::Unreadable(Box::new(e)))
            }
        }
    }

    /// What follows from where the app is served: the base URL links and DPoP
    /// proofs name, the cookie path under the routes' base, the origins allowed
    /// to send cookie-authenticated requests.
    fn settle(&self, rocket: &Rocket<Build>, config: &mut JwtConfig) -> String {
        let base_url = config
            .link_base_url
            .clone()
            .unwrap_or_else(|| default_base_url(rocket));
        if self.base != "/" && config.cookies.path == CookieConfig::default().path {
            config.cookies.path = format!("{}{}", self.base, config.cookies.path);
        }
        if config.cookies.allowed_origins.is_empty() {
            config.cookies.allowed_origins = crate::config::default_origins(&base_url);
        }
        base_url
    }

    /// The mode, decided once; verify-only without a key of its own gets an
    /// ephemeral one that never leaves this process and signs nothing, so no
    /// token claims to be the app's own successfully.
    fn mode(&self, config: &mut JwtConfig) -> Result<Mode, LaunchError> {
        if !self.verify_only {
            return Ok(Mode::Full);
        }
        let own_key =
            config.secret.is_some() || config.secret_file.is_some() || config.private_key.is_some();
        if !own_key {
            if config.trusted_issuers.is_empty() {
                return Err(LaunchError::NoKeysToVerifyWith);
            }
            config.algorithm = jsonwebtoken::Algorithm::HS256;
            config.secret = Some(SecretText::new(random_token_text()));
        }
        if self.authenticator.is_some() {
            return Err(LaunchError::AuthenticatorWithoutDatabase);
        }
        if self.revocation_endpoint || self.introspection_endpoint {
            return Err(LaunchError::EndpointsWithoutDatabase);
        }
        Ok(Mode::VerifyOnly { own_key })
    }

    /// Verify-only: guards, the verification routes, and DPoP without a store.
    fn assemble_verify_only(
        &self,
        rocket: Rocket<Build>,
        config: &JwtConfig,
        runtime: JwtRuntime,
        base_url: &str,
        own_key: bool,
    ) -> Rocket<Build> {
        let rocket = manage_dpop(rocket, config, &runtime, base_url, &self.clock, None);
        let mut rocket = rocket
            .manage(VerifyOnly { own_key })
            .mount("/", routes![misplaced_permanent_token])
            .mount(self.base.as_str(), verification_routes());
        if own_key {
            rocket = rocket.manage(runtime.issuer().clone());
        }
        rocket.manage(runtime)
    }

    /// Full mode: the store (migrated, revocations loaded), sessions, links,
    /// throttles and the routes the builder asked for.
    async fn assemble(
        &self,
        rocket: Rocket<Build>,
        config: &JwtConfig,
        runtime: JwtRuntime,
        base_url: String,
    ) -> fairing::Result {
        let rocket = init_database(rocket).await?;
        let Some(db) = rocket.state::<JwtDb>() else {
            return stop(rocket, LaunchError::DatabaseMissing);
        };
        let store = runtime.store(db.pool());
        or_stop!(
            rocket,
            store.migrate().await.map_err(LaunchError::Migrations)
        );
        let cursor = or_stop!(
            rocket,
            store
                .load_revocations()
                .await
                .map_err(LaunchError::Revocations)
        );
        let rocket = manage_dpop(
            rocket,
            config,
            &runtime,
            &base_url,
            &self.clock,
            Some(&store),
        );
        let issuer = runtime.issuer().clone();
        // Origins default to the base URL, which the links take next.
        #[cfg(feature = "passkeys")]
        let passkeys = crate::passkeys::Passkeys::new(&config.passkeys, &base_url);
        let link_routes = Arc::new(LinkRoutes::default());
        let links = Links::new(
            store.clone(),
            issuer.clone(),
            base_url,
            link_routes.clone(),
            self.mailer.clone(),
        );
        let mut rocket = rocket
            .manage(LoginThrottle::new(&config.login_throttle))
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
            .mount("/", routes![misplaced_permanent_token, link_confirm]);
        if let Some(authenticator) = &self.authenticator {
            rocket = rocket
                .manage(authenticator.clone())
                .mount(self.base.as_str(), token_routes())
                .mount(self.base.as_str(), device_routes());
        }
        #[cfg(feature = "passkeys")]
        if let Some(passkeys) = passkeys {
            // A passkey login asks the app's user store for the user's claims.
            if self.authenticator.is_none() {
                return stop(rocket, LaunchError::PasskeysWithoutAuthenticator);
            }
            rocket = rocket
                .manage(passkeys)
                .mount(self.base.as_str(), crate::routes::passkey_routes());
        }
        if self.revocation_endpoint {
            rocket = rocket.mount(self.base.as_str(), revocation_routes());
        }
        if self.introspection_endpoint {
            rocket = rocket.mount(self.base.as_str(), introspection_routes());
        }
        // Revocation from outside: mounted when an issuer sends signals.
        let signals = config
            .trusted_issuers
            .iter()
            .any(|i| i.backchannel_logout.is_some() || i.ssf.is_some());
        if signals {
            rocket = rocket
                .manage(self.signal_subjects.clone())
                .mount(self.base.as_str(), crate::routes::signal_routes());
        }
        Ok(rocket)
    }

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

/// One launch warning naming every key written under its old name, with its
/// new one.
fn warn_renamed(config: &JwtConfig) {
    let renamed = config.renamed_keys();
    if renamed.is_empty() {
        return;
    }
    let listed: Vec<String> = renamed
        .iter()
        .map(|key| format!("jwt.{} is now jwt.{}", key.old, key.new))
        .collect();
    rocket::warn!(
        "jwt-guard: settings written under their old names (they still work): {}",
        listed.join(", ")
    );
}

/// Says `e` and stops launch.
#[allow(clippy::result_large_err)] // Rocket's own `fairing::Result`, handed on
fn stop(rocket: Rocket<Build>, e: LaunchError) -> fairing::Result {
    rocket::error!("jwt-guard: {}", Chain(&e));
    Err(rocket)
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
        return stop(rocket, LaunchError::NoDatabase);
    }
    // As `rocket_db_pools` would (4 connections a worker), but failing fast by
    // default: it would otherwise wait 5 s for a connection before a request hears
    // that the database is down. Opened here rather than by its initialiser so that
    // a failure is said once, with its cause and what to do.
    let workers: usize = rocket
        .figment()
        .extract_inner(rocket::Config::WORKERS)
        .unwrap_or_else(|_| rocket::Config::default().workers);
    let figment = rocket
        .figment()
        .focus("databases.jwt_guard")
        .join(("max_connections", workers * 4))
        .join(("connect_timeout", DEFAULT_CONNECT_TIMEOUT_SECS));
    let settings = match PoolSettings::from_figment(&figment) {
        Ok(settings) => settings,
        Err(e) => return stop(rocket, LaunchError::DatabaseSettings(e)),
    };
    if let Some(problem) = DatabaseProblem::before_connecting(&settings.url) {
        return stop(rocket, LaunchError::Database(problem));
    }
    match JwtPool::connect(&settings).await {
        Ok(pool) => {
            // Prepared statements of one client would collide with another's on
            // the pooler's shared server sessions, mid-request: say so now.
            if settings.pooler == Pooler::None && pool.behind_transaction_pooler().await {
                return stop(rocket, LaunchError::TransactionPoolerNotDeclared);
            }
            Ok(rocket.manage(JwtDb::from(pool)))
        }
        Err(e) => {
            let problem = DatabaseProblem::after_failure(&settings.url, e, settings.timeout());
            stop(rocket, LaunchError::Database(problem.await))
        }
    }
}

/// With a protected resource configured: its RFC 9728 metadata routes, at `/`
/// (the well-known location belongs to the host, not to the API's mount point).
fn mount_resource(rocket: Rocket<Build>, config: &JwtConfig) -> Rocket<Build> {
    if config.protected_resources().next().is_none() {
        return rocket;
    }
    rocket
        .manage(ResourceMetadata::default())
        .mount("/", protected_resource_routes())
}

/// Each protected resource's path and metadata URL, the longest path first.
fn resource_paths(config: &JwtConfig) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = config
        .protected_resources()
        .filter_map(|r| Some((r.path()?.to_owned(), r.metadata_url()?)))
        .collect();
    found.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
    found
}

/// What every challenge of the app says: realm, metadata URLs, DPoP algorithms.
fn realm_of(config: &JwtConfig) -> Realm {
    Realm {
        name: config.realm.clone(),
        resources: resource_paths(config),
        dpop_algs: config.dpop.enabled().then(|| config.dpop.algorithm_names()),
        dpop_required: config.dpop.mode == DpopMode::Required,
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
    clock: &crate::clock::Clock,
    store: Option<&Store>,
) -> Rocket<Build> {
    match Dpop::new(&config.dpop, base_url, runtime.keys(), clock, store) {
        Some(dpop) => rocket.manage(dpop),
        None => rocket,
    }
}

/// 64 random bytes as text, for a key that must exist but never signs.
fn random_token_text() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
