//! Helpers shared by the cross-crate tests: the test app ([`app`]) on a fresh SQLite
//! file (or a PostgreSQL database), logins, and token forgery for attack tests.

pub mod app;

/// The root README's Rust examples, compiled (`cargo test --doc -p jwt-guard-tests`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RootReadme;

/// The Rust examples of every page of `docs/`, compiled as the README's are
/// (`tests/tests/docs.rs` checks that no page is missing here).
#[cfg(doctest)]
pub mod docs {
    #[doc = include_str!("../../docs/guides/browsers.md")]
    pub struct GuidesBrowsers;
    #[doc = include_str!("../../docs/guides/devices.md")]
    pub struct GuidesDevices;
    #[doc = include_str!("../../docs/guides/dpop.md")]
    pub struct GuidesDpop;
    #[doc = include_str!("../../docs/guides/links.md")]
    pub struct GuidesLinks;
    #[doc = include_str!("../../docs/guides/migrating-from-django.md")]
    pub struct GuidesMigratingFromDjango;
    #[doc = include_str!("../../docs/guides/passkeys.md")]
    pub struct GuidesPasskeys;
    #[doc = include_str!("../../docs/guides/outside-providers.md")]
    pub struct GuidesOutsideProviders;
    #[doc = include_str!("../../docs/guides/standards.md")]
    pub struct GuidesStandards;
    #[doc = include_str!("../../docs/guides/testing.md")]
    pub struct GuidesTesting;
    #[doc = include_str!("../../docs/internals/architecture.md")]
    pub struct InternalsArchitecture;
    #[doc = include_str!("../../docs/internals/performance.md")]
    pub struct InternalsPerformance;
    #[doc = include_str!("../../docs/operations/cli.md")]
    pub struct OperationsCli;
    #[doc = include_str!("../../docs/operations/failure-modes.md")]
    pub struct OperationsFailureModes;
    #[doc = include_str!("../../docs/operations/many-instances.md")]
    pub struct OperationsManyInstances;
    #[doc = include_str!("../../docs/operations/observability.md")]
    pub struct OperationsObservability;
    #[doc = include_str!("../../docs/reference/configuration.md")]
    pub struct ReferenceConfiguration;
    #[doc = include_str!("../../docs/reference/errors.md")]
    pub struct ReferenceErrors;
    #[doc = include_str!("../../docs/reference/routes.md")]
    pub struct ReferenceRoutes;
    #[doc = include_str!("../../docs/reference/security.md")]
    pub struct ReferenceSecurity;
}

pub mod pgbouncer;
pub mod relay;
pub mod wire;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_guard::runtime::JwtRuntime;
use jwt_guard::Clock;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header};
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

/// Whether this is a CI run: `CI` set to a true value (`true`, `1`, `yes`, any
/// case). `CI=false`, `CI=0` or an empty `CI` is a developer's machine — where a
/// missing PostgreSQL or PgBouncer skips its tests with a printed reason, not
/// fails them.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        ["true", "1", "yes"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
    })
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
        .merge((
            "log_level",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into()),
        ))
        .merge(("databases.jwt_guard.url", database_url))
        .merge(("databases.app_notes.url", temp_sqlite_url()))
}

/// Polls `check` every 50 ms until it holds, failing the test after `bound`;
/// returns how long it took.
pub async fn eventually<F, Fut>(
    what: &str,
    bound: std::time::Duration,
    mut check: F,
) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    start.elapsed()
}

/// An HS256 test secret.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!!";

/// The databases storage tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server named by `JWT_GUARD_TEST_POSTGRES`.
    Postgres,
}

/// The PostgreSQL server tests use: `JWT_GUARD_TEST_POSTGRES`, else the machine's
/// default. `None` (with a printed reason) when unreachable outside CI; in CI an
/// unreachable server fails the test.
async fn postgres_admin_url() -> Option<String> {
    use sqlx::Connection;
    let url = std::env::var("JWT_GUARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    match sqlx::postgres::PgConnection::connect(&url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            Some(url)
        }
        Err(e) if in_ci() => {
            panic!("CI must run the PostgreSQL tests, but {url} is unreachable: {e}")
        }
        Err(e) => {
            announce_skip(&format!(
                "PostgreSQL test: {url} is unreachable ({e}); set JWT_GUARD_TEST_POSTGRES"
            ));
            None
        }
    }
}

/// Says on the terminal that a test did not run, past the test harness's output
/// capture (it captures `print!`/`eprint!`, not writes to the stream itself): a
/// skipped test must not look like a pass. Only outside CI; in CI such tests fail.
pub fn announce_skip(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED (not a pass): {what}");
}

/// A PostgreSQL database created for one test (dropped by [`TestApp::finish`]).
#[derive(Clone, Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

impl PgDatabase {
    /// Creates a fresh database, or `None` when no server is reachable (outside CI).
    pub async fn create() -> Option<PgDatabase> {
        use sqlx::{Connection, Executor};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let admin_url = postgres_admin_url().await?;
        let name = format!(
            "jwt_guard_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            now()
        );
        let mut conn = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        let _ = conn.close().await;
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
        let url = format!("{prefix}/{name}");
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// The server the database lives on, as `host:port` (from its URL, so the
    /// test database setting decides): where a relay, a wire counter or
    /// PgBouncer sends its traffic.
    pub fn server(&self) -> String {
        self.url
            .rsplit_once('@')
            .map_or(self.url.as_str(), |(_, rest)| rest)
            .split(['/', '?'])
            .next()
            .filter(|server| !server.is_empty())
            .unwrap_or("127.0.0.1:5432")
            .to_owned()
    }

    /// Cuts the database off for real: new connections are refused and every open
    /// one is terminated (what an app sees when its database goes away).
    pub async fn cut(&self) {
        self.admin(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS false",
            self.name
        ))
        .await;
        self.admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        ))
        .await;
    }

    /// Lets connections in again after [`PgDatabase::cut`].
    pub async fn restore(&self) {
        self.admin(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            self.name
        ))
        .await;
    }

    async fn admin(&self, sql: &str) {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::postgres::PgConnection::connect(&self.admin_url)
            .await
            .unwrap_or_else(|e| panic!("admin connection: {e}"));
        conn.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    }

    /// Drops the database (closing any connection left to it).
    pub async fn drop_database(&self) {
        use sqlx::{Connection, Executor};
        if let Ok(mut conn) = sqlx::postgres::PgConnection::connect(&self.admin_url).await {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
            let _ = conn.close().await;
        }
    }
}

impl DbKind {
    /// A fresh database URL of this kind, or `None` for PostgreSQL without a server.
    pub async fn fresh(self) -> Option<(String, Option<PgDatabase>)> {
        match self {
            DbKind::Sqlite => Some((temp_sqlite_url(), None)),
            DbKind::Postgres => {
                let db = PgDatabase::create().await?;
                Some((db.url.clone(), Some(db)))
            }
        }
    }
}

/// Runs an async test body against SQLite and against PostgreSQL: for each name,
/// a module with `sqlite` and `postgres` tests calling `body(DbKind)`.
#[macro_export]
macro_rules! storage_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[rocket::async_test]
                async fn sqlite() {
                    super::$name($crate::DbKind::Sqlite).await;
                }

                #[rocket::async_test]
                async fn postgres() {
                    super::$name($crate::DbKind::Postgres).await;
                }
            }
        )*
    };
}

/// A running test app and its clock.
pub struct TestApp {
    /// The client.
    pub client: Client,
    /// The app's clock (advance it to expire things).
    pub clock: Clock,
    /// The database URL it uses.
    pub database_url: String,
    pg: Option<PgDatabase>,
}

impl TestApp {
    /// The test app on SQLite with `jwt` configuration `jwt`.
    pub async fn with_jwt(jwt: Value) -> TestApp {
        let url = temp_sqlite_url();
        Self::start_on(&url, jwt, Clock::offset()).await
    }

    /// The test app on a fresh database of `kind` (`None`: PostgreSQL unreachable
    /// outside CI; the reason was printed).
    pub async fn on(kind: DbKind, jwt: Value) -> Option<TestApp> {
        let (url, pg) = kind.fresh().await?;
        let mut app = Self::start_on(&url, jwt, Clock::offset()).await;
        app.pg = pg;
        Some(app)
    }

    /// The test app on an existing database URL with its own clock.
    pub async fn start_on(url: &str, jwt: Value, clock: Clock) -> TestApp {
        Self::start_with(base_figment(url), jwt, clock).await
    }

    /// The test app on `figment` (from [`base_figment`], with extra settings).
    pub async fn start_with(figment: Figment, jwt: Value, clock: Clock) -> TestApp {
        let url: String = figment
            .extract_inner("databases.jwt_guard.url")
            .unwrap_or_default();
        let figment = figment.merge(("jwt", jwt));
        let rocket = app::app(figment, clock.clone());
        let client = Client::tracked(rocket)
            .await
            .unwrap_or_else(|e| panic!("test app failed to launch: {:?}", e.kind()));
        TestApp {
            client,
            clock,
            database_url: url,
            pg: None,
        }
    }

    /// Drops the app's PostgreSQL database, if any (its connections are ended).
    pub async fn finish(&self) {
        if let Some(pg) = &self.pg {
            pg.drop_database().await;
        }
    }

    /// jwt-guard's store in this app.
    pub fn store(&self) -> &jwt_guard::store::Store {
        self.client
            .rocket()
            .state::<jwt_guard::store::Store>()
            .unwrap_or_else(|| panic!("Store is not managed"))
    }

    /// The database pool, for checking rows directly.
    pub fn pool(&self) -> &jwt_guard::store::JwtPool {
        use rocket_db_pools::Database;
        let db = jwt_guard::store::JwtDb::fetch(self.client.rocket())
            .unwrap_or_else(|| panic!("JwtDb is not managed"));
        db.pool()
    }

    /// The test app on SQLite with the default HS256 test secret.
    pub async fn hs256() -> TestApp {
        Self::with_jwt(json!({ "secret": TEST_SECRET })).await
    }

    /// `method path` with `Authorization: Bearer token`.
    pub async fn send_with_token(
        &self,
        method: rocket::http::Method,
        path: &str,
        token: &str,
    ) -> LocalResponse<'_> {
        self.client
            .req(method, path.to_owned())
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await
    }

    /// `POST /auth/device/refresh` with `Permanent-Token`.
    pub async fn device_refresh(&self, permanent: &str) -> LocalResponse<'_> {
        self.client
            .post("/auth/device/refresh")
            .header(Header::new("Permanent-Token", permanent.to_owned()))
            .dispatch()
            .await
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
        self.login_as(user, "test-device").await
    }

    /// Logs in with `X-Device-Model: model` (through `jwt_guard::testing`).
    pub async fn login_as(&self, user: &str, model: &str) -> Value {
        let password = format!("{user}-password");
        let login =
            jwt_guard::testing::login_from(&self.client, user, &password, Some(model)).await;
        serde_json::to_value(login).unwrap_or(Value::Null)
    }

    /// Mints tokens with this app's keys (`jwt_guard::testing`).
    pub fn tokens(&self) -> jwt_guard::testing::TestTokens {
        jwt_guard::testing::TestTokens::from_client(&self.client)
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
