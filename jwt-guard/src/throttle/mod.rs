//! Slowing down guessing: per client address in memory (`governor`), per account
//! in the database (shared by every instance), and a bound on how many password
//! checks run at once (a slow hash costs memory and CPU).

pub(crate) mod known_device;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore};
use rocket::Request;

use crate::config::ThrottleConfig;
use crate::error::{AuthError, Rejection};
use crate::peer::{budget_key, client_addr, client_ip};
use crate::runtime::JwtRuntime;
use crate::store::{counter_key, AuditEvent, CounterRule, Reservation, Store};

/// jwt-guard's throttles, managed by the fairing. Take it as `&State<LoginThrottle>`
/// to limit what your own routes send to an account ([`LoginThrottle::limit_messages`]).
/// Clones share their state.
#[derive(Clone)]
pub struct LoginThrottle {
    by_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Refreshes per device (in memory, per instance).
    by_device: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    account: CounterRule,
    messages: CounterRule,
    checks: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("account", &self.account)
            .field("messages", &self.messages)
            .finish_non_exhaustive()
    }
}

/// A login admitted by [`LoginThrottle::admit`]: which attempt of its budget (the
/// account's, or its known device's) it is, and its turn at a password check (held
/// until [`LoginAttempt::checked`]).
pub(crate) struct LoginAttempt {
    key: String,
    number: u32,
    /// It presented a known-device credential for the account: its failures count
    /// against that device alone.
    known_device: bool,
    /// What the audit log keeps of the typed username: its digest (a password
    /// typed into the username field must not be written down, nor text that
    /// forges a field).
    username_digest: String,
    check: Option<OwnedSemaphorePermit>,
}

impl LoginAttempt {
    /// The password has been checked: its turn goes to the next login (the session
    /// it may start needs no slot).
    pub(crate) fn checked(&mut self) {
        self.check = None;
    }

    /// The counter this attempt spent — the account's, or its known device's —
    /// which a successful login clears.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The audit detail of this attempt's success.
    pub(crate) fn success_detail(&self, req: &Request<'_>) -> String {
        serde_json::json!({
            "ip": client_ip(req).unwrap_or_default(),
            "known_device": self.known_device,
        })
        .to_string()
    }
}

fn nonzero(n: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN)
}

impl LoginThrottle {
    /// The throttles `config` describes.
    pub fn new(config: &ThrottleConfig) -> Self {
        let budget = config.ip_attempts.max(1);
        let period = Duration::from(config.ip_window)
            .checked_div(budget)
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(nonzero(budget)))
            .allow_burst(nonzero(budget));
        let rule = |limit: u32| CounterRule {
            limit: limit.max(1),
            window: config.account_window.as_secs().max(1),
            max_lockout: config.max_lockout.as_secs(),
        };
        let refreshes = nonzero(config.refreshes_per_device_per_minute);
        Self {
            by_address: Arc::new(RateLimiter::keyed(quota)),
            by_device: Arc::new(RateLimiter::keyed(Quota::per_minute(refreshes))),
            clock: DefaultClock::default(),
            account: rule(config.account_attempts),
            messages: rule(config.messages_per_account),
            checks: Arc::new(Semaphore::new(
                usize::try_from(config.max_concurrent_checks.max(1)).unwrap_or(1),
            )),
            queue_timeout: config.check_queue_timeout.into(),
        }
    }

    /// Admits one login attempt for `account` — the account key the app resolved
    /// from the typed name ([`Authenticator::account_key`](crate::Authenticator::account_key))
    /// — before any password is looked at: the client address's budget, then the
    /// known device's budget when the client presents a credential for this
    /// account, else the account's (known or not: the answer is the same), then a
    /// free password check. `429` or `503` otherwise.
    pub(crate) async fn admit(
        &self,
        req: &Request<'_>,
        rt: &JwtRuntime,
        store: &Store,
        account: &str,
    ) -> Result<LoginAttempt, AuthError> {
        self.admit_address(req)?;
        let device = known_device::presented(req, rt, account);
        let key = match &device {
            Some(id) => counter_key("login-device", id),
            None => counter_key("login", account),
        };
        let number = match store
            .reserve_attempt(&key, self.account)
            .await
            .map_err(AuthError::unavailable)?
        {
            Reservation::Granted(number) => number,
            Reservation::Refused { retry_after } => {
                crate::observe::throttled("login_account");
                crate::observe::login("password", "throttled");
                return Err(Rejection::TooManyAttempts { retry_after }.into());
            }
        };
        let check =
            rocket::tokio::time::timeout(self.queue_timeout, self.checks.clone().acquire_owned())
                .await;
        let Ok(Ok(check)) = check else {
            return Err(Rejection::CheckQueueTimedOut.into());
        };
        Ok(LoginAttempt {
            key,
            number,
            known_device: device.is_some(),
            username_digest: known_device::account_digest(account),
            check: Some(check),
        })
    }

    /// Spends one attempt of the client address's budget (`ip_attempts` per
    /// `ip_window`): `429` once it is spent. Logins, token revocations and failed
    /// client authentications draw on it.
    pub(crate) fn admit_address(&self, req: &Request<'_>) -> Result<(), AuthError> {
        if let Some(ip) = client_addr(req).map(budget_key) {
            if let Err(not_until) = self.by_address.check_key(&ip) {
                let wait = not_until.wait_time_from(self.clock.now()).as_secs() + 1;
                crate::observe::throttled("address");
                return Err(Rejection::TooManyAttempts { retry_after: wait }.into());
            }
        }
        Ok(())
    }

    /// Records a failed attempt: it counts, and the one that spends the window locks
    /// the account out. Both go to the audit log (a failed write there is logged,
    /// not answered). A success is recorded by the session's own transaction
    /// ([`LoginAttempt::key`], [`LoginAttempt::success_detail`]).
    pub(crate) async fn failed(&self, req: &Request<'_>, store: &Store, attempt: LoginAttempt) {
        let ip = client_ip(req).unwrap_or_default();
        let fields = serde_json::json!({
            "username_sha256": attempt.username_digest,
            "ip": ip,
            "known_device": attempt.known_device,
        });
        let detail = fields.to_string();
        let written = async {
            store
                .audit(AuditEvent::LoginFailed, None, None, &detail)
                .await?;
            let lockout = store
                .attempt_failed(&attempt.key, attempt.number, self.account)
                .await?;
            if let Some(lockout) = lockout {
                store
                    .audit(
                        AuditEvent::LoginThrottled,
                        None,
                        None,
                        &serde_json::json!({
                            "username_sha256": attempt.username_digest,
                            "ip": ip,
                            "known_device": attempt.known_device,
                            "locked_for_secs": lockout,
                        })
                        .to_string(),
                    )
                    .await?;
            }
            Ok::<(), crate::store::StoreError>(())
        }
        .await;
        if let Err(e) = written {
            rocket::warn!("jwt-guard: cannot record a failed login: {e}");
        }
    }

    /// Counts one message (a sign-in link, a reset mail) to `account`, or refuses
    /// with `429` once `messages_per_account` were sent in the window. Call it with
    /// the account key of the name *as requested*
    /// ([`Authenticator::account_key`](crate::Authenticator::account_key)), before
    /// looking the account up, so that the answer is the same whether it exists.
    pub async fn limit_messages(&self, store: &Store, account: &str) -> Result<(), AuthError> {
        let key = counter_key("message", account);
        match store
            .reserve_attempt(&key, self.messages)
            .await
            .map_err(AuthError::unavailable)?
        {
            Reservation::Granted(_) => Ok(()),
            Reservation::Refused { retry_after } => {
                crate::observe::throttled("messages");
                Err(Rejection::TooManyAttempts { retry_after }.into())
            }
        }
    }

    /// Forgets client addresses and devices whose budget has refilled (bounds the
    /// memory held).
    pub(crate) fn forget_idle_addresses(&self) {
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
        self.by_device.retain_recent();
        self.by_device.shrink_to_fit();
    }

    /// Admits one refresh of `device` (a verified token's `did`): `429` past
    /// `refreshes_per_device_per_minute`.
    pub(crate) fn admit_refresh(&self, device: Option<&str>) -> Result<(), AuthError> {
        let Some(device) = device else {
            return Ok(());
        };
        match self.by_device.check_key(&device.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                crate::observe::throttled("refresh_device");
                let retry_after = not_until.wait_time_from(self.clock.now()).as_secs() + 1;
                Err(Rejection::TooManyAttempts { retry_after }.into())
            }
        }
    }
}
