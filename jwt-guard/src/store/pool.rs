//! jwt-guard's own database pool over sqlx 0.8 for `rocket_db_pools`:
//! [`JwtPool`] (sqlx's `Any` driver, SQLite or PostgreSQL chosen by the URL) and
//! its [`JwtDb`]. The settings it opens with are `pool_settings`; the same pool
//! for an application's own databases is `sqlx_pool`.

use std::ops::Deref;

use rocket::figment::Figment;
use rocket_db_pools::{Database, Pool};
use sqlx::pool::PoolConnection;
use sqlx::AnyPool;

use super::executor::{PoolExecutor, Pooler, TxLog};
use super::pool_settings::PoolSettings;

/// Which SQL dialect the pool speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// jwt-guard's pool: sqlx's `Any` driver over SQLite or PostgreSQL, chosen by the
/// URL. A SQLite file is created when missing and runs in WAL mode, with the
/// connect timeout as its busy timeout.
///
/// Run an application's own statements with `&JwtPool` (or [`JwtPool::reads`])
/// and [`JwtPool::writes`] as the executor, not the `AnyPool` it derefs to nor a
/// `Connection<JwtDb>`: on SQLite the writes then queue on jwt-guard's one write
/// connection, and behind a transaction-mode pooler (`pooler = "transaction"`)
/// every statement is unnamed and inside a transaction, as jwt-guard's own.
pub struct JwtPool {
    pool: PoolExecutor,
    /// Where writes go: on SQLite one connection of its own, so writers queue in
    /// this process instead of polling SQLite's lock against each other (none
    /// waits out the busy timeout); on PostgreSQL the pool itself.
    writer: PoolExecutor,
    backend: Backend,
    /// The URL of the pool's connections.
    url: String,
    /// Where PostgreSQL `LISTEN` connects: `listen_url`, else `url` unless that
    /// goes through a transaction-mode pooler (then nowhere: polling alone).
    listen_url: Option<String>,
}

impl JwtPool {
    /// The backend behind the pool.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Where an application's own reads of jwt-guard's database go, as an
    /// executor (also what `&JwtPool` itself executes on).
    pub fn reads(&self) -> impl sqlx::Executor<'_, Database = sqlx::Any> + Copy + '_ {
        &self.pool
    }

    /// The pool's own executors: reads, and the writes that queue with
    /// jwt-guard's.
    pub(crate) fn executors(&self) -> (&PoolExecutor, &PoolExecutor) {
        (&self.pool, &self.writer)
    }

    /// Where an application's own writes to jwt-guard's database go, so they
    /// queue with jwt-guard's: on SQLite its one write connection (a write
    /// through the read pool polls SQLite's lock against it, and under load can
    /// wait out the busy timeout); on PostgreSQL the pool.
    ///
    /// ```no_run
    /// # async fn f(db: &jwt_guard::store::JwtDb) -> Result<(), jwt_guard::store::sqlx::Error> {
    /// use jwt_guard::store::sqlx;
    /// sqlx::query("UPDATE app_users SET last_login = $1 WHERE name = $2")
    ///     .bind(1_700_000_000_i64)
    ///     .bind("alice")
    ///     .execute(db.pool().writes())
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn writes(&self) -> impl sqlx::Executor<'_, Database = sqlx::Any> + Copy + '_ {
        &self.writer
    }

    /// Where PostgreSQL `LISTEN` connects, if anywhere (see the field).
    pub(crate) fn listen_url(&self) -> Option<&str> {
        self.listen_url.as_deref()
    }

    /// Whether this PostgreSQL URL goes through a transaction-mode pooler
    /// (PgBouncer `pool_mode = transaction`, or one that behaves like it), found
    /// by its one tell: two client connections, each outside a transaction, share
    /// a server session — a statement one of them prepares is there for the
    /// other (`42P05 duplicate_prepared_statement`). Direct connections, and
    /// poolers in session mode, never share one. The probe is made up to four
    /// times: a pooler may lend the second client another server connection
    /// (another client took the first one back in between), and one that does
    /// so every time goes unnoticed (so launch is never refused by mistake).
    /// SQLite: `false`.
    ///
    /// jwt-guard's fairing asks at launch when `pooler` is not set, and stops
    /// launch, naming the setting, when the answer is yes.
    pub fn behind_transaction_pooler(&self) -> rocket::futures::future::BoxFuture<'_, bool> {
        // Boxed: the probe's borrows of its connections are not general enough
        // for the launch future's `Send` otherwise.
        Box::pin(async move {
            if self.backend != Backend::Postgres {
                return false;
            }
            let pool = self.pool.pool();
            let (Ok(mut first), Ok(mut second)) = (pool.acquire().await, pool.acquire().await)
            else {
                return false;
            };
            let first: &mut sqlx::AnyConnection = &mut first;
            let second: &mut sqlx::AnyConnection = &mut second;
            for _ in 0..POOLER_PROBES {
                if probe(first, second).await {
                    return true;
                }
            }
            false
        })
    }

    /// The URL the pool connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects with `settings` (`sqlite://file.db`, `sqlite::memory:`,
    /// `postgres://…`).
    pub async fn connect(settings: &PoolSettings) -> Result<Self, sqlx::Error> {
        let (url, backend) = normalize_url(&settings.url)?;
        let listen_url = listen_url(settings, backend, &url)?;
        sqlx::any::install_default_drivers();
        // No liveness ping on every acquire: it is a round trip before each
        // request's first statement. A connection that died is caught by that
        // statement instead (the request answers 503, the connection is dropped).
        let mut options = settings
            .pool_options::<sqlx::Any>()
            .test_before_acquire(false);
        if backend == Backend::Sqlite {
            let busy_ms = settings.timeout().as_millis();
            options = options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    // WAL lets readers go on while one writer writes; the busy
                    // timeout bounds how long a writer waits for the lock.
                    conn.execute(
                        format!(
                            "PRAGMA busy_timeout = {busy_ms}; PRAGMA journal_mode = WAL; \
                             PRAGMA synchronous = NORMAL;"
                        )
                        .as_str(),
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let any_options = settings.logging(url.parse::<sqlx::any::AnyConnectOptions>()?);
        let writer = (backend == Backend::Sqlite).then(|| {
            options
                .clone()
                .max_connections(1)
                .min_connections(0)
                .connect_lazy_with(any_options.clone())
        });
        let pool = options.connect_with(any_options).await?;
        let writer = writer.unwrap_or_else(|| pool.clone());
        let log = TxLog {
            begin: settings.log_statements,
            commit: settings.log_statements && backend == Backend::Sqlite,
        };
        Ok(Self {
            pool: PoolExecutor::new(pool, settings.pooler, log),
            writer: PoolExecutor::new(writer, settings.pooler, log),
            backend,
            url,
            listen_url,
        })
    }
}

/// Where `LISTEN` goes (see [`JwtPool`]'s field); a `pooler` on SQLite or a
/// `listen_url` that is not PostgreSQL's is a configuration error.
fn listen_url(
    settings: &PoolSettings,
    backend: Backend,
    url: &str,
) -> Result<Option<String>, sqlx::Error> {
    let wrong = |why: String| Err(sqlx::Error::Configuration(why.into()));
    if backend == Backend::Sqlite {
        if settings.pooler != Pooler::None {
            return wrong("`pooler` is for PostgreSQL URLs; SQLite has no pooler".into());
        }
        if settings.listen_url.is_some() {
            return wrong("`listen_url` is for PostgreSQL URLs (SQLite has no LISTEN)".into());
        }
        return Ok(None);
    }
    match (&settings.listen_url, settings.pooler) {
        (Some(direct), _) => match normalize_url(direct)? {
            (direct, Backend::Postgres) => Ok(Some(direct)),
            _ => wrong(format!(
                "`listen_url` must be a direct `postgres://` URL, not `{}:…`",
                direct.split(':').next().unwrap_or_default()
            )),
        },
        (None, Pooler::None) => Ok(Some(url.to_owned())),
        (None, Pooler::Transaction) => Ok(None),
    }
}

impl Deref for JwtPool {
    type Target = AnyPool;

    fn deref(&self) -> &AnyPool {
        self.pool.pool()
    }
}

impl<'p> sqlx::Executor<'p> for &'p JwtPool {
    type Database = sqlx::Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> rocket::futures::stream::BoxStream<
        'e,
        Result<sqlx::Either<sqlx::any::AnyQueryResult, sqlx::any::AnyRow>, sqlx::Error>,
    >
    where
        'p: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        self.pool.fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> rocket::futures::future::BoxFuture<'e, Result<Option<sqlx::any::AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        self.pool.fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [sqlx::any::AnyTypeInfo],
    ) -> rocket::futures::future::BoxFuture<'e, Result<sqlx::any::AnyStatement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> rocket::futures::future::BoxFuture<'e, Result<sqlx::Describe<sqlx::Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.describe(sql)
    }
}

impl std::fmt::Debug for JwtPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtPool")
            .field("backend", &self.backend)
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// How many times [`JwtPool::behind_transaction_pooler`] probes before it
/// answers no: a few round trips at launch, and only when `pooler` is not set.
const POOLER_PROBES: usize = 4;

/// The probe of [`JwtPool::behind_transaction_pooler`] on two client
/// connections.
async fn probe(first: &mut sqlx::AnyConnection, second: &mut sqlx::AnyConnection) -> bool {
    use sqlx::Executor as _;
    const PREPARE: &str = "PREPARE jwt_guard_pooler_probe AS SELECT 1";
    const DEALLOCATE: &str = "DEALLOCATE jwt_guard_pooler_probe";
    if first.execute(sqlx::raw_sql(PREPARE)).await.is_err() {
        // A probe a crashed launch left on a shared server session says the
        // same as the second client's below.
        let _ = first.execute(sqlx::raw_sql(DEALLOCATE)).await;
        return true;
    }
    let shared = match second.execute(sqlx::raw_sql(PREPARE)).await {
        Err(sqlx::Error::Database(e)) => e.code().as_deref() == Some("42P05"),
        Err(_) => false,
        Ok(_) => {
            let _ = second.execute(sqlx::raw_sql(DEALLOCATE)).await;
            false
        }
    };
    let _ = first.execute(sqlx::raw_sql(DEALLOCATE)).await;
    shared
}

fn normalize_url(url: &str) -> Result<(String, Backend), sqlx::Error> {
    let unsupported = |why: &str| {
        Err(sqlx::Error::Configuration(
            format!(
                "database URL `{}:…` {why}",
                url.split(':').next().unwrap_or_default()
            )
            .into(),
        ))
    };
    if url.starts_with("sqlite:") {
        if !cfg!(feature = "sqlite") {
            return unsupported("needs jwt-guard's `sqlite` feature");
        }
        let url = if url.contains("mode=") || url.contains(":memory:") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        Ok((url, Backend::Sqlite))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        if !cfg!(feature = "postgres") {
            return unsupported("needs jwt-guard's `postgres` feature");
        }
        Ok((url.to_owned(), Backend::Postgres))
    } else {
        unsupported("is not supported: jwt-guard supports `sqlite:` and `postgres:` URLs")
    }
}

#[rocket::async_trait]
impl Pool for JwtPool {
    type Connection = PoolConnection<sqlx::Any>;
    type Error = rocket_db_pools::Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let settings =
            PoolSettings::from_figment(figment).map_err(|e| rocket_db_pools::Error::Config(*e))?;
        JwtPool::connect(&settings)
            .await
            .map_err(rocket_db_pools::Error::Init)
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        self.pool
            .pool()
            .acquire()
            .await
            .map_err(rocket_db_pools::Error::Get)
    }

    async fn close(&self) {
        self.pool.pool().close().await;
    }
}

/// jwt-guard's database, configured as `databases.jwt_guard` (`url = "sqlite://jwt.db"`
/// or a `postgres://` URL). The [`JwtGuard`](crate::JwtGuard) fairing initialises it
/// when the application has not attached `JwtDb::init()` itself.
///
/// Applications may run their own queries through it: `JwtDb::fetch(rocket)` or the
/// `Connection<JwtDb>` request guard.
#[derive(Database)]
#[database("jwt_guard")]
pub struct JwtDb(JwtPool);

impl JwtDb {
    /// The pool.
    pub fn pool(&self) -> &JwtPool {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_missing_files() {
        let (url, backend) = normalize_url("sqlite://x.db").unwrap();
        assert_eq!(
            (url.as_str(), backend),
            ("sqlite://x.db?mode=rwc", Backend::Sqlite)
        );
        let (url, _) = normalize_url("sqlite://x.db?mode=ro").unwrap();
        assert_eq!(url, "sqlite://x.db?mode=ro");
        assert!(normalize_url("mysql://x").is_err());
    }

    #[test]
    fn a_pooler_and_a_listen_url_are_for_postgresql() {
        let settings = |extra: &[(&str, &str)]| {
            let mut figment = Figment::from(("url", "postgres://db/app"));
            for (key, value) in extra {
                figment = figment.merge((*key, *value));
            }
            PoolSettings::from_figment(&figment).unwrap()
        };
        let direct = settings(&[]);
        assert_eq!(direct.pooler, Pooler::None);
        let url = "postgres://db/app";
        let pg = Backend::Postgres;
        // Direct: LISTEN on the pool's own URL.
        assert_eq!(listen_url(&direct, pg, url).unwrap().as_deref(), Some(url));
        // Behind a pooler: nowhere (polling alone), or the direct URL given.
        let pooled = settings(&[("pooler", "transaction")]);
        assert_eq!(listen_url(&pooled, pg, url).unwrap(), None);
        let listening = settings(&[
            ("pooler", "transaction"),
            ("listen_url", "postgres://db:5432/app"),
        ]);
        assert_eq!(
            listen_url(&listening, pg, url).unwrap().as_deref(),
            Some("postgres://db:5432/app")
        );
        let sqlite_listen = settings(&[("listen_url", "sqlite://x.db")]);
        assert!(listen_url(&sqlite_listen, pg, url).is_err());
        assert!(listen_url(&pooled, Backend::Sqlite, "sqlite://x.db").is_err());
        assert!(listen_url(&listening, Backend::Sqlite, "sqlite://x.db").is_err());
        let typo = Figment::from(("url", url)).merge(("pooler", "transactions"));
        assert!(PoolSettings::from_figment(&typo).is_err());
    }

    #[test]
    fn settings_default_to_a_fast_failure() {
        let figment = Figment::from(("url", "sqlite://x.db"));
        let settings = PoolSettings::from_figment(&figment).unwrap();
        assert_eq!(settings.timeout(), std::time::Duration::from_secs(1));
        assert_eq!(settings.max_connections, 16);
        let typo = Figment::from(("url", "sqlite://x.db")).merge(("max_conections", 2));
        assert!(PoolSettings::from_figment(&typo).is_err());
    }
}
