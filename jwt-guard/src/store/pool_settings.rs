//! The `databases.<name>` table a pool is opened with, and what it turns into
//! for sqlx: timeouts, pool sizes, statement logging.

use std::time::Duration;

use rocket::figment::Figment;
use sqlx::pool::PoolOptions;
use sqlx::ConnectOptions;

use super::executor::Pooler;

/// Seconds jwt-guard's own pool waits for a connection (or, on SQLite, a lock)
/// before a request gets its 503, unless `databases.jwt_guard.connect_timeout` says
/// otherwise. Short on purpose: during an outage a client should hear "retry" at
/// once, not hang.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 1;

/// The settings of a `databases.<name>` table, as `rocket_db_pools` documents them.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PoolSettings {
    /// `sqlite://file.db`, `sqlite::memory:` or `postgres://user@host/db`.
    pub url: String,
    /// Connections kept open even when idle.
    #[serde(default)]
    pub min_connections: Option<u32>,
    /// Most connections open at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Seconds to wait for a connection from the pool (and, on SQLite, for a lock:
    /// the busy timeout) before failing: the bound on the time to a 503.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: u64,
    /// Seconds an idle connection is kept before it is closed.
    #[serde(default)]
    pub idle_timeout: Option<u64>,
    /// SQLite extensions to load (as `rocket_db_pools`).
    #[serde(default)]
    pub extensions: Option<Vec<String>>,
    /// Log every SQL statement (at `info`, target `sqlx::query`): for finding out
    /// what a request costs. Default `false`.
    #[serde(default)]
    pub log_statements: bool,
    /// What sits between the application and PostgreSQL: `"none"` (the default)
    /// or `"transaction"` for a transaction-mode pooler such as PgBouncer
    /// (jwt-guard's statements are then unnamed and run inside transactions).
    #[serde(default)]
    pub pooler: Pooler,
    /// A direct `postgres://` URL for the one `LISTEN` connection that brings
    /// other instances' revocations at once, when `url` goes through a
    /// transaction-mode pooler (which cannot hold a `LISTEN`). Without it such an
    /// instance learns of revocations by polling alone (`jwt.revocation_poll`).
    #[serde(default)]
    pub listen_url: Option<String>,
}

fn default_max_connections() -> u32 {
    16
}

fn default_connect_timeout() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_SECS
}

impl PoolSettings {
    /// Reads a `databases.<name>` table (the figment `rocket_db_pools` hands a pool).
    pub fn from_figment(figment: &Figment) -> Result<Self, Box<rocket::figment::Error>> {
        figment.extract().map_err(Box::new)
    }

    /// The connect / acquire / busy timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    pub(super) fn logging<O: ConnectOptions>(&self, options: O) -> O {
        if self.log_statements {
            options.log_statements(log::LevelFilter::Info)
        } else {
            options.disable_statement_logging()
        }
    }

    pub(super) fn pool_options<DB: sqlx::Database>(&self) -> PoolOptions<DB> {
        PoolOptions::<DB>::new()
            .max_connections(self.max_connections.max(1))
            .min_connections(self.min_connections.unwrap_or(0))
            .acquire_timeout(self.timeout())
            .idle_timeout(self.idle_timeout.map(Duration::from_secs))
    }
}
