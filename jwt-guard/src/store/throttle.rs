//! Per-account attempt counters (failed logins, messages sent to an account), kept
//! in the database so that every instance behind a load balancer shares them.

use sqlx::Row;

use super::handle::{Store, StoreError};
use super::sql::{secs, ts};
use crate::secret::TokenDigest;

/// What an account counter allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CounterRule {
    /// Attempts allowed per window.
    pub(crate) limit: u32,
    /// The window, in seconds; also the first lock-out.
    pub(crate) window: u64,
    /// The longest lock-out (they double from `window` up to this).
    pub(crate) max_lockout: u64,
}

/// The answer to "may this account try once more?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// Yes; this is attempt number `n` of the window.
    Granted(u32),
    /// No: wait this many seconds.
    Refused { retry_after: u64 },
}

/// The stored key of `account` in `namespace`: a digest, so that whatever a client
/// typed as a username is never stored and every key has one size. `account` is
/// the account key the app resolved (`Authenticator::account_key`), taken as it
/// is: folding it here would join accounts the app's store tells apart.
pub(crate) fn counter_key(namespace: &str, account: &str) -> String {
    format!(
        "{namespace}:{}",
        TokenDigest::of(account.as_bytes()).as_str()
    )
}

impl Store {
    /// Reserves one attempt for `key` under `rule`, in one conditional statement: of
    /// any number of concurrent calls, at most `rule.limit` per window are granted,
    /// on every instance sharing the database.
    pub(crate) async fn reserve_attempt(
        &self,
        key: &str,
        rule: CounterRule,
    ) -> Result<Reservation, StoreError> {
        let now = self.now();
        let window_over = now.saturating_sub(rule.window);
        let granted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jwt_guard_attempts (key, attempts, window_start, locked_until, lockouts)
             VALUES ($1, 1, $2, 0, 0)
             ON CONFLICT (key) DO UPDATE SET
                 attempts = CASE WHEN jwt_guard_attempts.window_start <= $3 THEN 1
                                 ELSE jwt_guard_attempts.attempts + 1 END,
                 window_start = CASE WHEN jwt_guard_attempts.window_start <= $3 THEN $2
                                     ELSE jwt_guard_attempts.window_start END
             WHERE jwt_guard_attempts.locked_until <= $2
               AND (jwt_guard_attempts.attempts < $4
                    OR jwt_guard_attempts.window_start <= $3)
             RETURNING attempts",
        )
        .bind(key)
        .bind(ts(now))
        .bind(ts(window_over))
        .bind(i64::from(rule.limit))
        .fetch_optional(&self.writer)
        .await?;
        if let Some(n) = granted {
            return Ok(Reservation::Granted(u32::try_from(n).unwrap_or(u32::MAX)));
        }
        let row =
            sqlx::query("SELECT window_start, locked_until FROM jwt_guard_attempts WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let retry_after = match row {
            Some(row) => {
                // Locked out: until the lock-out ends (a fresh window starts then);
                // else the window's attempts are spent: until it ends.
                let locked_until = secs(row.try_get("locked_until")?);
                let window_end = secs(row.try_get("window_start")?).saturating_add(rule.window);
                let until = if locked_until > now {
                    locked_until
                } else {
                    window_end
                };
                until.saturating_sub(now)
            }
            None => 1,
        };
        Ok(Reservation::Refused {
            retry_after: retry_after.max(1),
        })
    }

    /// The attempt granted as number `attempt` failed: once the window's attempts are
    /// spent, the key is locked out, for twice as long as the previous lock-out (from
    /// `rule.window` up to `rule.max_lockout`). Returns the lock-out in seconds, if
    /// this failure started one.
    pub(crate) async fn attempt_failed(
        &self,
        key: &str,
        attempt: u32,
        rule: CounterRule,
    ) -> Result<Option<u64>, StoreError> {
        if attempt < rule.limit {
            return Ok(None);
        }
        let now = self.now();
        let lockouts: Option<i64> =
            sqlx::query_scalar("SELECT lockouts FROM jwt_guard_attempts WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let doublings = u32::try_from(lockouts.unwrap_or(0).clamp(0, 30)).unwrap_or(30);
        let lockout = rule
            .window
            .saturating_mul(1u64 << doublings)
            .min(rule.max_lockout.max(rule.window));
        let until = now.saturating_add(lockout);
        // The next window starts when the lock-out ends.
        sqlx::query(
            "UPDATE jwt_guard_attempts
             SET locked_until = $1, window_start = $1, attempts = 0, lockouts = lockouts + 1
             WHERE key = $2",
        )
        .bind(ts(until))
        .bind(key)
        .execute(&self.writer)
        .await?;
        Ok(Some(lockout))
    }
}

/// Forgets `key` (a successful login resets its account's counter), in the
/// transaction that records the login.
pub(crate) async fn clear_attempts<'e, E>(executor: E, key: &str) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM jwt_guard_attempts WHERE key = $1")
        .bind(key)
        .execute(executor)
        .await?;
    Ok(())
}
