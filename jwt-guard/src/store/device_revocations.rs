//! Logging devices out: a device and every token of its family revoked, in the
//! database, then on every instance.

use super::audit::AuditEvent;
use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::ids::{DeviceId, Subject};
use super::pool::Backend;
use super::revocations::{Announcement, REVOCATION_CHANNEL};
use super::sql::ts;
use crate::revocation_set::Revocation;
use crate::secret::random_id;

impl Store {
    /// Revokes a device and its whole token family, if `subject` owns it. Returns
    /// whether a device was revoked (`false`: unknown, not theirs, or already gone).
    pub async fn revoke_device_of(
        &self,
        subject: Subject<'_>,
        device_id: DeviceId<'_>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.revoke_device_owned_by(Some(subject.0), device_id.0, reason)
            .await
    }

    /// Revokes a device and its whole token family, whoever owns it (an operator's
    /// tool). Returns whether a device was revoked.
    pub async fn revoke_device(
        &self,
        device_id: DeviceId<'_>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.revoke_device_owned_by(None, device_id.0, reason).await
    }

    async fn revoke_device_owned_by(
        &self,
        subject: Option<&str>,
        device_id: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        if self.backend == Backend::Postgres {
            return self
                .revoke_device_at_once(subject, device_id, reason, now)
                .await;
        }
        // The revoking statement checks the owner too.
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query_scalar(
            "UPDATE jwt_guard_devices SET revoked_at = $1, permanent_digest = NULL
             WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR subject = $3)
             RETURNING subject",
        )
        .bind(ts(now))
        .bind(device_id)
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(owner) = owner else {
            return Ok(false);
        };
        let revoked = self.revoke_family_in(&mut tx, device_id, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::DeviceRevoked,
            Some(&owner),
            Some(device_id),
            reason,
        )
        .await?;
        self.commit_revoking(tx, &[revoked]).await?;
        Ok(true)
    }

    /// [`Store::revoke_device`] on PostgreSQL: one statement, one round trip. Its
    /// data-modifying CTEs revoke the device (if `subject` owns it) and its tokens,
    /// audit it, take the next revocation number and write the revocation stamped
    /// with it, and announce it (`pg_notify`, delivered at commit). PostgreSQL runs
    /// one statement atomically: the number is taken under the counter's row lock,
    /// held to the commit, so numbers follow the order of commits as
    /// [`Store::poll_revocations`] needs.
    async fn revoke_device_at_once(
        &self,
        subject: Option<&str>,
        device_id: &str,
        reason: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let revocation = self.device_revocation(device_id, now);
        let payload = serde_json::to_string(&Announcement {
            revocation: revocation.clone(),
            committed_ms: Some(crate::observe::wall_ms()),
        })
        .unwrap_or_default();
        let owner: Option<String> = sqlx::query_scalar(
            "WITH device AS (
                 UPDATE jwt_guard_devices SET revoked_at = $1, permanent_digest = NULL
                 WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR subject = $3)
                 RETURNING subject
             ), tokens AS (
                 UPDATE jwt_guard_tokens SET revoked_at = $1
                 WHERE device_id = $2 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM device)
             ), audit AS (
                 INSERT INTO jwt_guard_audit (id, at, event, subject, device_id, detail)
                 SELECT $4, $1, $5, subject, $2, $6 FROM device
             ), seq AS (
                 UPDATE jwt_guard_counters SET value = value + 1
                 WHERE name = 'revocation_seq' AND EXISTS (SELECT 1 FROM device)
                 RETURNING value
             ), revocation AS (
                 INSERT INTO jwt_guard_revocations (kind, value, not_before, until, created_at, seq)
                 SELECT $7, $2, 0, $8, $1, seq.value FROM seq
                 ON CONFLICT (kind, value) DO UPDATE SET
                     until = CASE WHEN excluded.until > jwt_guard_revocations.until
                                  THEN excluded.until ELSE jwt_guard_revocations.until END,
                     created_at = excluded.created_at,
                     seq = excluded.seq
                 RETURNING kind
             )
             SELECT device.subject, pg_notify($9, $10)::TEXT AS announced FROM device, revocation",
        )
        .bind(ts(now))
        .bind(device_id)
        .bind(subject)
        .bind(random_id())
        .bind(AuditEvent::DeviceRevoked.as_str())
        .bind(reason)
        .bind(revocation.kind())
        .bind(ts(revocation.until()))
        .bind(REVOCATION_CHANNEL)
        .bind(payload)
        .fetch_optional(&self.writer)
        .await?;
        if owner.is_none() {
            return Ok(false);
        }
        crate::observe::revoked(revocation.kind());
        self.apply_revocation(&revocation);
        Ok(true)
    }

    /// Revokes every active device of `subject`, except `keep` if given, and every
    /// outstanding link of `subject` (a magic-login link would start a new session).
    /// Returns how many devices were revoked.
    pub async fn revoke_all_devices(
        &self,
        subject: Subject<'_>,
        keep: Option<DeviceId<'_>>,
    ) -> Result<usize, StoreError> {
        let (subject, keep) = (subject.0, keep.map(|d| d.0));
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = live_device_ids_in(&mut tx, subject)
            .await?
            .into_iter()
            .filter(|id| Some(id.as_str()) != keep)
            .collect();
        let mut revoked = Vec::with_capacity(ids.len());
        for id in &ids {
            revoked.push(self.revoke_device_in(&mut tx, id, now).await?);
        }
        self.revoke_links_of_in(&mut tx, subject, now).await?;
        let detail = if keep.is_some() {
            "logout everywhere else"
        } else {
            "logout everywhere"
        };
        self.audit_in(&mut tx, AuditEvent::LogoutAll, Some(subject), keep, detail)
            .await?;
        self.commit_revoking(tx, &revoked).await?;
        Ok(ids.len())
    }

    /// Revokes a device's family (reuse detected, logout): device, tokens, and a
    /// revocation row other instances pick up. Returns the revocation, to apply once
    /// `tx` commits.
    pub(crate) async fn revoke_device_in(
        &self,
        tx: &mut Tx,
        device_id: &str,
        now: u64,
    ) -> Result<Revocation, sqlx::Error> {
        sqlx::query(
            "UPDATE jwt_guard_devices SET revoked_at = $1, permanent_digest = NULL
             WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
        // Superseded permanent digests only serve reuse detection on a live device.
        sqlx::query("DELETE FROM jwt_guard_superseded_permanent WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut **tx)
            .await?;
        self.revoke_family_in(tx, device_id, now).await
    }

    /// The tokens of a device already marked revoked, and the revocation row other
    /// instances pick up. Returns the revocation, to apply once `tx` commits.
    async fn revoke_family_in(
        &self,
        tx: &mut Tx,
        device_id: &str,
        now: u64,
    ) -> Result<Revocation, sqlx::Error> {
        sqlx::query(
            "UPDATE jwt_guard_tokens SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
        let revocation = self.device_revocation(device_id, now);
        self.insert_revocation_in(tx, &revocation, now).await?;
        Ok(revocation)
    }
}

/// The ids of `subject`'s devices that are not revoked, read in `tx` (for a
/// revocation of all of them in the same transaction).
pub(crate) async fn live_device_ids_in(
    tx: &mut Tx,
    subject: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM jwt_guard_devices WHERE subject = $1 AND revoked_at IS NULL")
        .bind(subject)
        .fetch_all(&mut **tx)
        .await
}
