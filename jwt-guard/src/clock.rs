//! The time source for every expiry decision, replaceable in tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where jwt-guard reads "now" from, in whole seconds since the Unix epoch.
///
/// Production code uses [`Clock::system`]. Tests use [`Clock::offset`] to move time
/// forward without sleeping: the clock keeps following the system clock, shifted by
/// an adjustable number of seconds shared by every clone.
///
/// ```
/// use jwt_guard::Clock;
/// let clock = Clock::offset();
/// let before = clock.now();
/// clock.advance(3600);
/// assert!(clock.now() >= before + 3600);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { offset: None }
    }

    /// The system clock plus an adjustable offset (starting at zero), for tests.
    pub fn offset() -> Self {
        Self {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Moves this clock (and every clone of it) forward by `secs` seconds.
    /// Has no effect on [`Clock::system`].
    pub fn advance(&self, secs: i64) {
        if let Some(offset) = &self.offset {
            offset.fetch_add(secs, Ordering::SeqCst);
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match &self.offset {
            None => system,
            Some(offset) => system.saturating_add_signed(offset.load(Ordering::SeqCst)),
        }
    }
}
