//! Persistent state: the database pool, devices, issued tokens, revocations, links
//! and the audit log, in SQLite or PostgreSQL. Every counter and state change is one
//! conditional SQL statement or one transaction, so concurrent requests cannot both
//! win.
//!
//! Handlers rarely need this module: [`Store`] is what the built-in routes,
//! [`DeviceSession`](crate::DeviceSession) and [`Links`](crate::Links) work through,
//! and what an operator's tooling can call directly.

mod archive;
mod audit;
mod devices;
mod links;
mod pool;
mod revocations;
mod throttle;
mod tokens;

use std::fmt;
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

pub use crate::config::CapPolicy;
pub use archive::ArchiveReport;
pub use audit::{AuditEvent, AuditRecord};
pub use devices::{
    CreateDeviceError, DeviceRecord, NewDevice, PermanentRotateError, DEVICE_NAME_MAX,
};
pub(crate) use devices::{PermanentLookup, SessionRows};
pub(crate) use links::LinkConsumed;
pub use links::{LinkDenial, LinkRecord, LinkUseError, LinkUseRecord};
pub(crate) use pool::Backend;
pub use pool::{JwtDb, JwtPool, PoolSettings, SqlxPool, DEFAULT_CONNECT_TIMEOUT_SECS};
pub(crate) use revocations::PendingLogout;
pub use revocations::RevocationCursor;
pub(crate) use revocations::RevocationListener;
/// The sqlx jwt-guard is built on (0.8), for queries of an application's own.
pub use sqlx;
pub(crate) use throttle::{counter_key, CounterRule, Reservation};
pub use tokens::{RotateError, Rotation, TokenNode, TokenPage, MAX_TREE_PAGE};

use crate::clock::Clock;
use crate::config::JwtConfig;
use crate::revocation::RevocationSet;

/// A database failure. Never caused by request input; reported as `503`.
#[derive(Debug, thiserror::Error)]
#[error("jwt-guard store: {0}")]
pub struct StoreError(#[from] pub(crate) sqlx::Error);

/// Timing and limits of the stored state, from [`JwtConfig`].
#[derive(Clone, Debug)]
pub(crate) struct StoreSettings {
    /// Sliding lifetime of a device's permanent token.
    pub(crate) permanent_ttl: u64,
    /// Absolute lifetime of a device (and its permanent token) from its login.
    pub(crate) permanent_lifetime: u64,
    /// `last_used` is written at most once per this many seconds.
    pub(crate) permanent_accuracy: u64,
    /// Most active devices per subject.
    pub(crate) max_devices: Option<u32>,
    /// What happens at the cap.
    pub(crate) cap_policy: CapPolicy,
    /// Seconds a rotated refresh token may be retried while its successor is unused.
    pub(crate) reuse_grace: u64,
    /// Longest lifetime of any token the store tracks (revocations outlive it).
    pub(crate) max_token_ttl: u64,
    /// How long dead rows are kept before the archiver removes them.
    pub(crate) archive_after: u64,
    /// How long audit rows are kept.
    pub(crate) audit_retention: u64,
}

impl StoreSettings {
    /// The store's share of `config`.
    pub(crate) fn from_config(config: &JwtConfig) -> Self {
        Self {
            permanent_ttl: config.permanent_ttl.as_secs(),
            permanent_lifetime: config.permanent_lifetime().as_secs(),
            permanent_accuracy: config.permanent_accuracy.as_secs(),
            max_devices: config.max_devices,
            cap_policy: config.device_cap_policy,
            reuse_grace: config.refresh_reuse_grace.as_secs(),
            max_token_ttl: config
                .access_ttl
                .as_secs()
                .max(config.refresh_ttl.as_secs())
                .saturating_add(config.leeway.as_secs()),
            archive_after: config.archive_after.as_secs(),
            audit_retention: config.audit_retention.as_secs(),
        }
    }
}

/// jwt-guard's persistent state. Managed by the [`JwtGuard`](crate::JwtGuard)
/// fairing; take it as `&State<Store>`. Clones share the pool and the revocations.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
    clock: Clock,
    settings: StoreSettings,
    revocations: Arc<RevocationSet>,
    /// Logouts answered 503 during an outage, written once the database is back.
    pending: Arc<std::sync::Mutex<Vec<revocations::PendingLogout>>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Reads a nullable column.
pub(crate) fn opt<'r, T>(row: &'r AnyRow, column: &str) -> Result<Option<T>, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get::<Option<T>, _>(column)
}

/// Seconds as a database integer.
pub(crate) fn ts(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// A database integer as seconds.
pub(crate) fn secs(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/0001_devices_tokens_revocations.sql"),
    ),
    (2, include_str!("../../migrations/0002_links.sql")),
    (
        3,
        include_str!("../../migrations/0003_revocation_sequence.sql"),
    ),
    (4, include_str!("../../migrations/0004_rotation.sql")),
    (5, include_str!("../../migrations/0005_attempts.sql")),
];

impl Store {
    /// A store over `pool` with the timing and limits of `config`, keeping
    /// `revocations` current. Call [`Store::migrate`] before use.
    pub fn new(
        pool: &JwtPool,
        clock: Clock,
        config: &JwtConfig,
        revocations: Arc<RevocationSet>,
    ) -> Self {
        Self {
            pool: (**pool).clone(),
            backend: pool.backend(),
            url: pool.url().to_owned(),
            clock,
            settings: StoreSettings::from_config(config),
            revocations,
            pending: Arc::default(),
        }
    }

    /// The clock every stored time comes from.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The in-memory revocations this store keeps current (read-only outside the
    /// crate: revocations go through the store, so they reach the database first).
    pub fn revocations(&self) -> &Arc<RevocationSet> {
        &self.revocations
    }

    fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Starts a transaction that holds the write lock from the start (SQLite's
    /// `BEGIN IMMEDIATE`), so a read-then-write sequence cannot interleave with
    /// another writer and waits out the busy timeout instead of failing: a deferred
    /// SQLite transaction whose snapshot went stale fails its first write at once
    /// (`SQLITE_BUSY_SNAPSHOT`, no busy wait). PostgreSQL callers add row or advisory
    /// locks where they read before writing.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        if self.backend == Backend::Sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            self.pool.begin().await
        }
    }

    /// Applies jwt-guard's embedded migrations that have not run yet. Tracked in its
    /// own table (`jwt_guard_migrations`), so an application's own sqlx migrations in
    /// the same database do not collide. Safe to run from several instances at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Serialise concurrent launches against one database.
            sqlx::query("SELECT pg_advisory_xact_lock(7386172634)")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS jwt_guard_migrations (
                version BIGINT PRIMARY KEY,
                applied_at BIGINT NOT NULL
            )",
        )
        .execute(&mut *tx)
        .await?;
        for (version, sql) in MIGRATIONS {
            let applied: Option<i64> =
                sqlx::query_scalar("SELECT version FROM jwt_guard_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if applied.is_some() {
                continue;
            }
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let statement: String = statement
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                if statement.trim().is_empty() {
                    continue;
                }
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO jwt_guard_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(ts(self.now()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
