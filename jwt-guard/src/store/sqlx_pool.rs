//! [`SqlxPool`]: a sqlx 0.8 pool as a `rocket_db_pools::Pool` for any sqlx
//! database, so an application's own `#[derive(Database)]` pools share
//! jwt-guard's one sqlx (and one `libsqlite3-sys`).

use std::ops::Deref;

use rocket::figment::Figment;
use rocket_db_pools::Pool;
use sqlx::pool::PoolConnection;

use super::pool_settings::PoolSettings;

/// A sqlx 0.8 pool as a `rocket_db_pools::Pool`, for an application's own
/// databases beside jwt-guard's (`rocket_db_pools` 0.2 itself only knows sqlx 0.7,
/// and a build can link one `libsqlite3-sys`).
///
/// Configured exactly as `rocket_db_pools` pools are (`databases.<name>.url`,
/// `max_connections`, `min_connections`, `connect_timeout`, `idle_timeout`,
/// `extensions`). SQLite databases are created when missing and run in WAL mode
/// with the connect timeout as their busy timeout.
///
/// ```no_run
/// use jwt_guard::store::{sqlx, SqlxPool};
/// use rocket_db_pools::{Connection, Database};
///
/// #[derive(Database)]
/// #[database("app")] // ROCKET_DATABASES='{app={url="sqlite://app.db"}}'
/// struct AppDb(SqlxPool<sqlx::Sqlite>);
///
/// #[rocket::get("/notes/count")]
/// async fn count(mut db: Connection<AppDb>) -> Option<String> {
///     let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
///         .fetch_one(&mut **db)
///         .await
///         .ok()?;
///     Some(n.to_string())
/// }
/// ```
pub struct SqlxPool<DB: sqlx::Database>(sqlx::Pool<DB>);

impl<DB: sqlx::Database> SqlxPool<DB> {
    /// The sqlx pool.
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.0
    }
}

impl<DB: sqlx::Database> Deref for SqlxPool<DB> {
    type Target = sqlx::Pool<DB>;

    fn deref(&self) -> &sqlx::Pool<DB> {
        &self.0
    }
}

type Options<DB> = <<DB as sqlx::Database>::Connection as sqlx::Connection>::Options;

/// Database-specific settings, as `rocket_db_pools` applies them.
fn specialize(options: &mut dyn std::any::Any, settings: &PoolSettings) {
    #[cfg(feature = "sqlite")]
    if let Some(o) = options.downcast_mut::<sqlx::sqlite::SqliteConnectOptions>() {
        let mut next = std::mem::take(o)
            .busy_timeout(settings.timeout())
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        for ext in settings.extensions.iter().flatten() {
            next = next.extension(ext.clone());
        }
        *o = next;
    }
    #[cfg(not(feature = "sqlite"))]
    let _ = (options, settings);
}

#[rocket::async_trait]
impl<DB: sqlx::Database> Pool for SqlxPool<DB> {
    type Connection = PoolConnection<DB>;
    type Error = rocket_db_pools::Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let settings =
            PoolSettings::from_figment(figment).map_err(|e| rocket_db_pools::Error::Config(*e))?;
        sqlx::any::install_default_drivers();
        let mut options = settings
            .url
            .parse::<Options<DB>>()
            .map_err(rocket_db_pools::Error::Init)?;
        specialize(&mut options, &settings);
        let options = settings.logging(options);
        settings
            .pool_options::<DB>()
            .connect_with(options)
            .await
            .map(SqlxPool)
            .map_err(rocket_db_pools::Error::Init)
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        self.0.acquire().await.map_err(rocket_db_pools::Error::Get)
    }

    async fn close(&self) {
        self.0.close().await;
    }
}
