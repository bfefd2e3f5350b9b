//! The archiver: removes rows that can no longer matter.

use serde::{Deserialize, Serialize};

use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::sql::ts;

/// How long an attempt counter is kept once it is quiet (its window over, its
/// lock-out ended).
const ATTEMPTS_KEPT_QUIET: u64 = 24 * 3600;

/// How many rows one archiver run removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArchiveReport {
    /// Expired or revoked devices.
    pub devices: u64,
    /// Expired or revoked tokens.
    pub tokens: u64,
    /// Revocations whose tokens have all expired.
    pub revocations: u64,
    /// Audit rows past retention.
    pub audit: u64,
    /// Links expired or revoked for longer than `archive_after`.
    pub links: u64,
    /// Link-use log rows past audit retention.
    pub link_uses: u64,
    /// Attempt counters (logins, messages) quiet for a day.
    pub attempts: u64,
    /// Used DPoP proofs too old to be presented again.
    pub dpop_proofs: u64,
    /// Passkey ceremonies opened and never answered, past their time.
    pub passkey_ceremonies: u64,
    /// Received signals too old to be replayed, and outside-login records of
    /// removed devices.
    pub signals: u64,
}

impl Store {
    /// Removes devices and tokens dead for longer than `archive_after`, revocations
    /// that outlived every token they revoke, and audit rows past retention.
    pub async fn archive(&self) -> Result<ArchiveReport, StoreError> {
        let now = self.now();
        let cutoff = ts(now.saturating_sub(self.settings.archive_after));
        let audit_cutoff = ts(now.saturating_sub(self.settings.audit_retention));
        let mut tx = self.begin_write().await?;
        // Rows that died (expired or revoked) before the cutoff.
        const DEAD: &str = "expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)";
        let tokens = delete(
            &mut tx,
            &format!("DELETE FROM jwt_guard_tokens WHERE {DEAD}"),
            cutoff,
        )
        .await?;
        let devices = delete(
            &mut tx,
            &format!("DELETE FROM jwt_guard_devices WHERE {DEAD}"),
            cutoff,
        )
        .await?;
        // Tokens of removed devices go with them.
        let orphans = sqlx::query(
            "DELETE FROM jwt_guard_tokens
             WHERE device_id NOT IN (SELECT id FROM jwt_guard_devices)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Superseded permanent tokens matter only while their device is active.
        sqlx::query(
            "DELETE FROM jwt_guard_superseded_permanent
             WHERE device_id NOT IN (SELECT id FROM jwt_guard_devices WHERE revoked_at IS NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let revocations = delete(
            &mut tx,
            "DELETE FROM jwt_guard_revocations WHERE until <= $1",
            ts(now),
        )
        .await?;
        let audit = delete(
            &mut tx,
            "DELETE FROM jwt_guard_audit WHERE at < $1",
            audit_cutoff,
        )
        .await?;
        let links = delete(
            &mut tx,
            &format!("DELETE FROM jwt_guard_links WHERE {DEAD}"),
            cutoff,
        )
        .await?;
        let link_uses = delete(
            &mut tx,
            "DELETE FROM jwt_guard_link_uses WHERE at < $1",
            audit_cutoff,
        )
        .await?;
        // A counter quiet for a day past its window and lock-out starts afresh
        // (its back-off too).
        let attempts = sqlx::query(
            "DELETE FROM jwt_guard_attempts WHERE locked_until < $1 AND window_start < $1",
        )
        .bind(ts(now.saturating_sub(ATTEMPTS_KEPT_QUIET)))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A used proof matters only while its `iat` would still pass.
        let dpop_proofs = delete(
            &mut tx,
            "DELETE FROM jwt_guard_dpop_proofs WHERE expires_at < $1",
            ts(now),
        )
        .await?;
        let passkey_ceremonies = delete(
            &mut tx,
            "DELETE FROM jwt_guard_passkey_ceremonies WHERE expires_at <= $1",
            ts(now),
        )
        .await?;
        // A signal's `jti` matters while a replay would pass the age check; kept
        // for the audit retention at least, for `jwt-guard signals`.
        let signals = delete(
            &mut tx,
            "DELETE FROM jwt_guard_signals WHERE keep_until < $1 AND received_at < $1",
            audit_cutoff,
        )
        .await?;
        let upstream = sqlx::query(
            "DELETE FROM jwt_guard_upstream_sessions
             WHERE device_id NOT IN (SELECT id FROM jwt_guard_devices)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        self.revocations.prune(now);
        Ok(ArchiveReport {
            devices,
            tokens: tokens + orphans,
            revocations,
            audit,
            links,
            link_uses,
            attempts,
            dpop_proofs,
            passkey_ceremonies,
            signals: signals + upstream,
        })
    }
}

/// Runs a `DELETE` whose only parameter is a time; returns how many rows went.
async fn delete(tx: &mut Tx, sql: &str, time: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(sql)
        .bind(time)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}
