//! The audit log of security-relevant events.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::sql::{opt, secs, ts};
use crate::secret::random_id;

/// A security-relevant event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// A rotated refresh token was presented again; its device was revoked.
    RefreshReuse,
    /// A superseded permanent token was presented again; its device was revoked.
    PermanentReuse,
    /// A device was logged out.
    DeviceRevoked,
    /// A device was logged out to make room under the device cap.
    DeviceEvicted,
    /// A device's permanent token expired and the device was removed.
    DeviceExpired,
    /// All of a user's devices were logged out.
    LogoutAll,
    /// A token and its subtree were force-expired.
    TokenRevoked,
    /// Every token, device and link of a user was revoked.
    SubjectRevoked,
    /// A password login succeeded (a device was created).
    LoginSucceeded,
    /// A password login failed (wrong password or no such user: not told apart).
    LoginFailed,
    /// An account or client address ran out of attempts and was locked out.
    LoginThrottled,
    /// A DPoP-bound session's refresh or permanent token came without a proof by
    /// its key (RFC 9449): a copy of it is in other hands. Refused; nothing changed.
    DpopKeyMismatch,
    /// A passkey assertion whose signature counter did not move forwards: a
    /// replay, or a cloned authenticator. Refused.
    PasskeyCounterRegressed,
    /// A logout or security event from an outside issuer arrived (OpenID Connect
    /// Back-Channel Logout, Shared Signals); the detail names the issuer, the
    /// event, a digest of its subject and how many sessions it ended.
    SignalReceived,
}

impl AuditEvent {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::RefreshReuse => "refresh_reuse",
            AuditEvent::PermanentReuse => "permanent_reuse",
            AuditEvent::DeviceRevoked => "device_revoked",
            AuditEvent::DeviceEvicted => "device_evicted",
            AuditEvent::DeviceExpired => "device_expired",
            AuditEvent::LogoutAll => "logout_all",
            AuditEvent::TokenRevoked => "token_revoked",
            AuditEvent::SubjectRevoked => "subject_revoked",
            AuditEvent::LoginSucceeded => "login_succeeded",
            AuditEvent::LoginFailed => "login_failed",
            AuditEvent::LoginThrottled => "login_throttled",
            AuditEvent::DpopKeyMismatch => "dpop_key_mismatch",
            AuditEvent::PasskeyCounterRegressed => "passkey_counter_regressed",
            AuditEvent::SignalReceived => "signal_received",
        }
    }
}

/// One audit row.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditRecord {
    /// When.
    pub at: u64,
    /// What.
    pub event: String,
    /// Whose.
    pub subject: Option<String>,
    /// Which device.
    pub device_id: Option<String>,
    /// Details.
    pub detail: Option<String>,
}

/// The one `INSERT` of the audit log, for the pool or a transaction.
fn audit_row<'q>(
    at: u64,
    event: AuditEvent,
    subject: Option<&'q str>,
    device_id: Option<&'q str>,
    detail: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO jwt_guard_audit (id, at, event, subject, device_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(random_id())
    .bind(ts(at))
    .bind(event.as_str())
    .bind(subject)
    .bind(device_id)
    .bind(detail)
}

impl Store {
    pub(crate) async fn audit_in(
        &self,
        tx: &mut Tx,
        event: AuditEvent,
        subject: Option<&str>,
        device_id: Option<&str>,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        audit_row(self.now(), event, subject, device_id, detail)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Writes one audit event on its own.
    pub(crate) async fn audit(
        &self,
        event: AuditEvent,
        subject: Option<&str>,
        device_id: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        audit_row(self.now(), event, subject, device_id, detail)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The newest audit events of `subject` (all subjects when `None`), newest first.
    pub async fn audit_log(
        &self,
        subject: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_log_since(subject, 0, limit).await
    }

    /// As [`Store::audit_log`], only events at or after `since` (seconds since the
    /// epoch).
    pub async fn audit_log_since(
        &self,
        subject: Option<&str>,
        since: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, event, subject, device_id, detail FROM jwt_guard_audit
             WHERE ($1 IS NULL OR subject = $1) AND at >= $3
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(subject)
        .bind(i64::from(limit))
        .bind(ts(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    at: secs(row.try_get("at")?),
                    event: row.try_get("event")?,
                    subject: opt(row, "subject")?,
                    device_id: opt(row, "device_id")?,
                    detail: opt(row, "detail")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError)
    }
}
