//! The `login_throttle` table.

use serde::Deserialize;

use super::HumanDuration;

/// The `login_throttle` table: how password guessing is slowed down.
///
/// Per account (the username as typed, known or not, so the answer never tells
/// whether an account exists): `account_attempts` checks per `account_window`;
/// then the account is locked out for `account_window`, twice as long at the next
/// lock-out, up to `max_lockout`. A successful login resets the account. The
/// counters live in the database, so instances behind a load balancer share them.
///
/// Per client address (Rocket's `ip_header` respected): `ip_attempts` logins per
/// `ip_window`, in memory (per instance).
///
/// At most `max_concurrent_checks` password checks run at once; a login waits up
/// to `check_queue_timeout` for its turn, then gets a 503.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Password checks per account per window. Default `5`.
    #[serde(default = "default_account_attempts")]
    pub account_attempts: u32,
    /// The account window, and the first lock-out. Default `15m`.
    #[serde(default = "default_account_window")]
    pub account_window: HumanDuration,
    /// The longest lock-out. Default `24h`.
    #[serde(default = "default_max_lockout")]
    pub max_lockout: HumanDuration,
    /// Logins per client address per `ip_window`. Default `100`.
    #[serde(default = "default_ip_attempts")]
    pub ip_attempts: u32,
    /// The client-address window. Default `15m`.
    #[serde(default = "default_account_window")]
    pub ip_window: HumanDuration,
    /// Password checks running at once. Default `8` (argon2 at 19 MiB each: about
    /// 150 MiB at most).
    #[serde(default = "default_concurrent_checks")]
    pub max_concurrent_checks: u32,
    /// How long a login waits for a free check before a 503. Default `2s`.
    #[serde(default = "default_check_queue_timeout")]
    pub check_queue_timeout: HumanDuration,
    /// Messages sent to one account (magic-login links, say) per `account_window`.
    /// Default `5`.
    #[serde(default = "default_account_attempts")]
    pub messages_per_account: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            account_attempts: default_account_attempts(),
            account_window: default_account_window(),
            max_lockout: default_max_lockout(),
            ip_attempts: default_ip_attempts(),
            ip_window: default_account_window(),
            max_concurrent_checks: default_concurrent_checks(),
            check_queue_timeout: default_check_queue_timeout(),
            messages_per_account: default_account_attempts(),
        }
    }
}

fn default_account_attempts() -> u32 {
    5
}
fn default_account_window() -> HumanDuration {
    HumanDuration::from_secs(15 * 60)
}
fn default_max_lockout() -> HumanDuration {
    HumanDuration::from_secs(24 * 3600)
}
fn default_ip_attempts() -> u32 {
    100
}
fn default_concurrent_checks() -> u32 {
    8
}
fn default_check_queue_timeout() -> HumanDuration {
    HumanDuration::from_secs(2)
}
