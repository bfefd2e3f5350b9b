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
mod device_memory;
mod device_record;
mod device_revocations;
mod devices;
mod diagnose;
mod dpop;
mod executor;
mod handle;
mod ids;
mod links;
mod literal;
mod migrate;
mod passkeys;
mod permanent;
mod pool;
mod pool_settings;
mod revocations;
mod rotation;
mod sessions;
mod signal_poll;
mod signals;
mod sql;
mod sqlx_pool;
mod throttle;
mod tokens;

pub use archive::ArchiveReport;
pub use audit::{AuditEvent, AuditRecord};
pub use device_record::{DeviceDescription, DeviceRecord, NewDevice, DEVICE_NAME_MAX};
pub use diagnose::{sqlite_file, DatabaseProblem};
pub use executor::Pooler;
pub(crate) use handle::PendingLogout;
pub use handle::{Store, StoreError};
pub use ids::{DeviceId, Jti, LinkId, Subject};
pub(crate) use links::LinkConsumed;
pub use links::{LinkDenial, LinkRecord, LinkUseError, LinkUseRecord};
#[cfg(feature = "passkeys")]
pub(crate) use passkeys::CeremonyKind;
pub use passkeys::{PasskeyRecord, PasskeyView};
pub(crate) use permanent::PermanentLookup;
pub use permanent::PermanentRotateError;
pub use pool::{JwtDb, JwtPool};
pub use pool_settings::{PoolSettings, DEFAULT_CONNECT_TIMEOUT_SECS};
pub use sqlx_pool::SqlxPool;

pub use revocations::RevocationCursor;
pub(crate) use revocations::{Announcement, RevocationListener};
pub(crate) use rotation::{RotateError, Rotation, Successor};
pub use sessions::CreateDeviceError;
pub(crate) use sessions::SessionRows;
pub(crate) use signal_poll::PendingAcks;
pub use signals::SignalRecord;
pub(crate) use signals::{Ending, SignalReceipt, SignalStored};
/// The sqlx jwt-guard is built on (0.8), for queries of an application's own.
pub use sqlx;
pub(crate) use throttle::{counter_key, CounterRule, Reservation};
pub use tokens::{TokenNode, TokenPage, MAX_TREE_PAGE};
