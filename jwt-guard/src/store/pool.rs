//! The database jwt-guard keeps its state in: SQLite or PostgreSQL through sqlx's
//! `Any` driver, managed by `rocket_db_pools`.

use std::ops::Deref;

use rocket::figment::Figment;
use rocket_db_pools::{Database, Pool};
use sqlx::AnyPool;

/// Which SQL dialect the pool speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A sqlx `Any` pool that knows its backend. Its `init` installs sqlx's drivers and
/// makes a SQLite file URL create the file when missing (zero set-up).
pub struct JwtPool {
    pool: AnyPool,
    backend: Backend,
    /// Kept for connections outside the pool (PostgreSQL `LISTEN`).
    url: String,
}

impl JwtPool {
    /// The backend behind the pool.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the pool connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects to `url` (`sqlite://file.db`, `sqlite::memory:`, `postgres://…`).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        connect_timeout: std::time::Duration,
    ) -> Result<Self, sqlx::Error> {
        let (url, backend) = normalize_url(url)?;
        sqlx::any::install_default_drivers();
        let pool = sqlx::pool::PoolOptions::<sqlx::Any>::new()
            .max_connections(max_connections)
            .acquire_timeout(connect_timeout)
            .connect(&url)
            .await?;
        Ok(Self { pool, backend, url })
    }
}

impl Deref for JwtPool {
    type Target = AnyPool;

    fn deref(&self) -> &AnyPool {
        &self.pool
    }
}

fn normalize_url(url: &str) -> Result<(String, Backend), sqlx::Error> {
    if url.starts_with("sqlite:") {
        let url = if url.contains("mode=") || url.contains(":memory:") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        Ok((url, Backend::Sqlite))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok((url.to_owned(), Backend::Postgres))
    } else {
        Err(sqlx::Error::Configuration(
            format!(
                "unsupported database URL `{}`: jwt-guard supports `sqlite:` and `postgres:` URLs",
                url.split(':').next().unwrap_or_default()
            )
            .into(),
        ))
    }
}

#[derive(serde::Deserialize)]
struct PoolConfig {
    url: String,
    #[serde(default = "default_max_connections")]
    max_connections: u32,
    /// Seconds to wait for a connection (rocket_db_pools' `connect_timeout`).
    #[serde(default = "default_connect_timeout")]
    connect_timeout: u64,
}

fn default_connect_timeout() -> u64 {
    5
}

fn default_max_connections() -> u32 {
    16
}

#[rocket::async_trait]
impl Pool for JwtPool {
    type Connection = sqlx::pool::PoolConnection<sqlx::Any>;
    type Error = rocket_db_pools::Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: PoolConfig = figment.extract()?;
        let timeout = std::time::Duration::from_secs(config.connect_timeout);
        JwtPool::connect(&config.url, config.max_connections, timeout)
            .await
            .map_err(rocket_db_pools::Error::Init)
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        self.pool
            .acquire()
            .await
            .map_err(rocket_db_pools::Error::Get)
    }

    async fn close(&self) {
        self.pool.close().await;
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
}
