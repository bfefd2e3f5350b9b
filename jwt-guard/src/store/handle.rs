//! The handle every table's operations hang off: [`Store`], its settings, and the
//! failure all of them share.

use std::fmt;
use std::sync::Arc;

use super::device_memory::DeviceMemory;
use super::executor::{PoolExecutor, Tx};
use super::pool::{Backend, JwtPool};
use crate::clock::Clock;
use crate::config::{CapPolicy, JwtConfig};
use crate::revocation_set::RevocationSet;

/// A database failure. Never caused by request input; reported as `503`.
#[derive(Debug, thiserror::Error)]
#[error("jwt-guard's database failed")]
pub struct StoreError(#[from] pub(crate) sqlx::Error);

/// A logout accepted while the database was unreachable.
#[derive(Clone, Debug)]
pub(crate) enum PendingLogout {
    /// Log out one device of `subject`.
    Device { subject: String, device_id: String },
    /// Log out every device of `subject`.
    Everywhere { subject: String },
}

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
    /// Longest lifetime of any token the store tracks: how long a revocation of
    /// a subject (which covers minted tokens too) lasts.
    pub(crate) max_token_ttl: u64,
    /// Longest lifetime of a token that names a device and is checked from
    /// memory alone (an access token): how long a device's revocation lasts.
    pub(crate) device_token_ttl: u64,
    /// How long dead rows are kept before the archiver removes them.
    pub(crate) archive_after: u64,
    /// How long audit rows are kept.
    pub(crate) audit_retention: u64,
}

impl StoreSettings {
    /// The store's share of `config`.
    pub(crate) fn from_config(config: &JwtConfig) -> Self {
        Self {
            permanent_ttl: config.permanent.ttl.as_secs(),
            permanent_lifetime: config.permanent_lifetime().as_secs(),
            permanent_accuracy: config.permanent.accuracy.as_secs(),
            max_devices: config.devices.max,
            cap_policy: config.devices.cap_policy,
            reuse_grace: config.refresh_reuse_grace.as_secs(),
            max_token_ttl: config.longest_token_lifetime(),
            device_token_ttl: config.device_token_lifetime(),
            archive_after: config.archive.after.as_secs(),
            audit_retention: config.archive.audit_retention.as_secs(),
        }
    }
}

/// jwt-guard's persistent state. Managed by the [`JwtGuard`](crate::JwtGuard)
/// fairing; take it as `&State<Store>`. Clones share the pool and the revocations.
#[derive(Clone)]
pub struct Store {
    pub(super) pool: PoolExecutor,
    /// Where writes go (one connection on SQLite; the pool on PostgreSQL).
    pub(super) writer: PoolExecutor,
    pub(super) backend: Backend,
    /// Where PostgreSQL `LISTEN` connects, if anywhere.
    pub(super) listen_url: Option<String>,
    pub(super) clock: Clock,
    pub(super) settings: StoreSettings,
    pub(super) revocations: Arc<RevocationSet>,
    /// Logouts answered 503 during an outage, written once the database is back.
    pub(super) pending: Arc<std::sync::Mutex<Vec<PendingLogout>>>,
    /// Devices whose current permanent token this instance issued.
    pub(super) devices_issued: Arc<DeviceMemory>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store over `pool` with the timing and limits of `config`, keeping
    /// `revocations` current ([`JwtRuntime::store`](crate::runtime::JwtRuntime::store)
    /// is the public way: the runtime's own clock and revocations).
    pub(crate) fn new(
        pool: &JwtPool,
        clock: Clock,
        config: &JwtConfig,
        revocations: Arc<RevocationSet>,
    ) -> Self {
        let settings = StoreSettings::from_config(config);
        Self {
            pool: pool.executors().0.clone(),
            writer: pool.executors().1.clone(),
            backend: pool.backend(),
            listen_url: pool.listen_url().map(str::to_owned),
            clock,
            revocations,
            pending: Arc::default(),
            devices_issued: Arc::new(DeviceMemory::new()),
            settings,
        }
    }

    /// The clock every stored time comes from.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The in-memory revocations this store keeps current (revocations go
    /// through the store, so they reach the database first).
    pub(crate) fn revocations(&self) -> &Arc<RevocationSet> {
        &self.revocations
    }

    pub(super) fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Starts a transaction that holds the write lock from the start (SQLite's
    /// `BEGIN IMMEDIATE`), so a read-then-write sequence cannot interleave with
    /// another writer and waits out the busy timeout instead of failing: a deferred
    /// SQLite transaction whose snapshot went stale fails its first write at once
    /// (`SQLITE_BUSY_SNAPSHOT`, no busy wait). PostgreSQL callers add row or advisory
    /// locks where they read before writing.
    pub(crate) async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let begin = (self.backend == Backend::Sqlite).then_some("BEGIN IMMEDIATE");
        self.writer.begin_with(begin).await
    }
}
