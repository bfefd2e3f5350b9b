//! The setting families that were once flat keys with a common prefix, each a
//! table of its own: `permanent` (devices' permanent tokens), `revocation`
//! (keeping revocations current across instances), `archive` (purging what is
//! dead) and `devices` (how many a user may have).

use serde::{Deserialize, Serialize};

use crate::duration::HumanDuration;

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 60 * MINUTE;

/// The `permanent` table: a device's permanent token (drf-jwt-devices).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PermanentConfig {
    /// Sliding lifetime of a device's permanent token. Default `7d`.
    pub ttl: HumanDuration,
    /// Absolute lifetime of a device and its permanent token, from the login that
    /// created it, however often it is used. Default: `refresh_window`.
    pub max_lifetime: Option<HumanDuration>,
    /// A device's `last_used` is written at most once per this window. Default `30m`.
    pub accuracy: HumanDuration,
}

impl Default for PermanentConfig {
    fn default() -> Self {
        Self {
            ttl: HumanDuration::from_secs(7 * DAY),
            max_lifetime: None,
            accuracy: HumanDuration::from_secs(30 * MINUTE),
        }
    }
}

/// The `revocation` table: how this instance learns of revocations made by
/// others, and what it does when it cannot.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RevocationConfig {
    /// How often revocations made by other instances are read from the database;
    /// the bound on how stale this instance can be. Default `2s`.
    pub poll: HumanDuration,
    /// Whether PostgreSQL `LISTEN/NOTIFY` brings other instances' revocations at
    /// once. Default `true`; `false` leaves polling alone (`poll` bounds the
    /// delay), e.g. behind a pooler that cannot hold a `LISTEN`.
    pub listen: bool,
    /// How long this instance may go without reading revocations from the database
    /// before `staleness` applies. Default: three times `poll`.
    pub max_staleness: Option<HumanDuration>,
    /// What protected routes do past that bound: `fail_closed` (503, the default) or
    /// `serve` (keep accepting verified tokens).
    pub staleness: StalenessPolicy,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            poll: HumanDuration::from_secs(2),
            listen: true,
            max_staleness: None,
            staleness: StalenessPolicy::default(),
        }
    }
}

impl RevocationConfig {
    /// The staleness bound (`max_staleness`, else three polls).
    pub fn staleness_bound(&self) -> std::time::Duration {
        match self.max_staleness {
            Some(bound) => bound.into(),
            None => std::time::Duration::from(self.poll).saturating_mul(3),
        }
    }
}

/// What protected routes do when this instance's revocations may be out of date
/// (polling the database has failed for longer than `revocation.max_staleness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StalenessPolicy {
    /// Answer 503 (`Retry-After`) rather than trust a set that may miss a
    /// revocation made on another instance.
    #[default]
    FailClosed,
    /// Keep accepting tokens verified from memory: available, but a revocation made
    /// elsewhere during the outage is not enforced here until polling recovers.
    Serve,
}

/// The `archive` table: purging dead devices, tokens and old audit events.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ArchiveConfig {
    /// How long dead devices and tokens are kept before archiving. Default `30d`.
    pub after: HumanDuration,
    /// How long audit events are kept. Default `90d`.
    pub audit_retention: HumanDuration,
    /// Run the archiver on this interval; off when unset.
    pub interval: Option<HumanDuration>,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            after: HumanDuration::from_secs(30 * DAY),
            audit_retention: HumanDuration::from_secs(90 * DAY),
            interval: None,
        }
    }
}

/// The `devices` table: how many devices (logins) a user may have, and how many
/// `GET /auth/devices` lists at once.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DevicesConfig {
    /// Most active devices per user. Default `50`, so no client can grow a user's
    /// device list without bound.
    pub max: Option<u32>,
    /// At the cap: `evict_oldest` device (default) or `reject` the login.
    pub cap_policy: CapPolicy,
    /// Most devices listed per page by `GET /auth/devices` (`?limit=` may ask for
    /// fewer). Default `100`.
    pub page_size: u32,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        Self {
            max: Some(50),
            cap_policy: CapPolicy::default(),
            page_size: 100,
        }
    }
}

/// What happens when a subject already has `devices.max` active devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CapPolicy {
    /// Refuse the new login.
    Reject,
    /// Log out the least recently used device.
    #[default]
    EvictOldest,
}
