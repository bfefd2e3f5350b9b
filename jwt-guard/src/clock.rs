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
    /// A fixed clock: `offset` holds the time itself, not a shift.
    fixed: bool,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self {
            offset: None,
            fixed: false,
        }
    }

    /// The system clock plus an adjustable offset (starting at zero), for tests.
    pub fn offset() -> Self {
        Self {
            offset: Some(Arc::new(AtomicI64::new(0))),
            fixed: false,
        }
    }

    /// A clock standing still at `at` (seconds since the epoch) until
    /// [`Clock::advance`] moves it, for tests whose times must be exact.
    ///
    /// ```
    /// use jwt_guard::Clock;
    /// let clock = Clock::fixed(1_700_000_000);
    /// assert_eq!(clock.now(), 1_700_000_000);
    /// clock.advance(90);
    /// assert_eq!(clock.now(), 1_700_000_090);
    /// ```
    pub fn fixed(at: u64) -> Self {
        Self {
            offset: Some(Arc::new(AtomicI64::new(
                i64::try_from(at).unwrap_or(i64::MAX),
            ))),
            fixed: true,
        }
    }

    /// Moves this clock (and every clone of it) forward by `secs` seconds (back,
    /// when negative). Has no effect on [`Clock::system`].
    pub fn advance(&self, secs: i64) {
        if let Some(offset) = &self.offset {
            offset.fetch_add(secs, Ordering::SeqCst);
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        if self.fixed {
            if let Some(at) = &self.offset {
                return u64::try_from(at.load(Ordering::SeqCst)).unwrap_or(0);
            }
        }
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
