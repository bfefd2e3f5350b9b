//! The `login_throttle` table.

use serde::Deserialize;

use super::error::Problems;
use crate::duration::HumanDuration;

/// The `login_throttle` table: how password guessing is slowed down.
///
/// Per account (the account key the app resolves the typed name to,
/// `Authenticator::account_key`, known or not, so the answer never tells whether
/// an account exists): `account_attempts` checks per `account_window`;
/// then the account is locked out for `account_window`, twice as long at the next
/// lock-out, up to `max_lockout`. A successful login resets the account. The
/// counters live in the database, so instances behind a load balancer share them.
///
/// Per client address (Rocket's `ip_header` respected): `ip_attempts` logins per
/// `ip_window`, in memory (per instance).
///
/// At most `max_concurrent_checks` password checks run at once; a login waits up
/// to `check_queue_timeout` for its turn, then gets a 503.
///
/// Known devices (OWASP's device-cookie scheme): a successful password login hands
/// the client a signed credential for that account, valid `known_device_ttl`
/// (browsers in cookie mode: an `HttpOnly` cookie; other clients: `device_cookie`
/// in the login answer, sent back in a `Device-Cookie` header). A login presenting
/// it has a budget of its own (`account_attempts` per `account_window`, the same
/// back-off), untouched by failures from anywhere else: whoever guesses at an
/// account locks out unknown clients only, never the owner's own devices.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Password checks per account per window. Default `5`.
    pub account_attempts: u32,
    /// The account window, and the first lock-out. Default `15m`.
    pub account_window: HumanDuration,
    /// The longest lock-out. Default `24h`.
    pub max_lockout: HumanDuration,
    /// Logins per client address per `ip_window`. Default `100`.
    pub ip_attempts: u32,
    /// The client-address window. Default `15m`.
    pub ip_window: HumanDuration,
    /// Password checks running at once. Default `8` (argon2 at 19 MiB each: about
    /// 150 MiB at most).
    pub max_concurrent_checks: u32,
    /// How long a login waits for a free check before a 503. Default `2s`.
    pub check_queue_timeout: HumanDuration,
    /// Refreshes one device may make per minute (per instance); past it `429`.
    /// Default `30`: a client refreshes a few times an hour, a loop many times a
    /// second.
    pub refreshes_per_device_per_minute: u32,
    /// Messages sent to one account (magic-login links, say) per `account_window`.
    /// Default `5`.
    pub messages_per_account: u32,
    /// How long a known-device credential lasts (each successful login with it
    /// issues a new one). Default `180d`.
    pub known_device_ttl: HumanDuration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        let fifteen_minutes = HumanDuration::from_secs(15 * 60);
        Self {
            account_attempts: 5,
            account_window: fifteen_minutes,
            max_lockout: HumanDuration::from_secs(24 * 3600),
            ip_attempts: 100,
            ip_window: fifteen_minutes,
            max_concurrent_checks: 8,
            check_queue_timeout: HumanDuration::from_secs(2),
            messages_per_account: 5,
            refreshes_per_device_per_minute: 30,
            known_device_ttl: HumanDuration::from_secs(180 * 24 * 3600),
        }
    }
}

impl ThrottleConfig {
    /// The `login_throttle` table's rules.
    pub(super) fn check(&self, p: &mut Problems) {
        p.nonzero("account_attempts", self.account_attempts);
        p.nonzero("ip_attempts", self.ip_attempts);
        p.nonzero("max_concurrent_checks", self.max_concurrent_checks);
        p.nonzero("messages_per_account", self.messages_per_account);
        p.nonzero(
            "refreshes_per_device_per_minute",
            self.refreshes_per_device_per_minute,
        );
        p.positive("account_window", self.account_window);
        p.positive("ip_window", self.ip_window);
        p.positive("known_device_ttl", self.known_device_ttl);
    }
}
