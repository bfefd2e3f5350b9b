//! Devices: one row per login, holding the digest of its permanent token — what
//! the store does with them (the record itself is in `device_record`).

use sqlx::Row;

use super::audit::AuditEvent;
use super::device_record::{device_from_row, DeviceRecord, DEVICE_COLUMNS};
use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::sql::{secs, ts};

impl Store {
    /// Where a device's expiry lands when it is used at `now`: `permanent_ttl`
    /// later, but never past `permanent_max_lifetime` after its login.
    pub(super) fn sliding_expiry(&self, now: u64, orig_iat: u64) -> u64 {
        now.saturating_add(self.settings.permanent_ttl)
            .min(orig_iat.saturating_add(self.settings.permanent_lifetime))
    }

    /// Moves a device's `last_used` to `now` and its expiry a window later (capped
    /// by its absolute lifetime), unless it was written within the accuracy window:
    /// conditional, so of several concurrent requests only one writes.
    pub(crate) async fn slide_expiry_in(
        &self,
        tx: &mut Tx,
        device_id: &str,
        now: u64,
    ) -> Result<(), sqlx::Error> {
        let accuracy = self.settings.permanent_accuracy;
        sqlx::query(
            "UPDATE jwt_guard_devices SET last_used = $1,
                    expires_at = CASE WHEN $2 < orig_iat + $5 THEN $2 ELSE orig_iat + $5 END
             WHERE id = $3 AND last_used <= $4 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(ts(now.saturating_add(self.settings.permanent_ttl)))
        .bind(device_id)
        .bind(ts(now.saturating_sub(accuracy)))
        .bind(ts(self.settings.permanent_lifetime))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A device by id, if it is active.
    pub async fn device(&self, device_id: &str) -> Result<Option<DeviceRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM jwt_guard_devices
             WHERE id = $1 AND revoked_at IS NULL"
        ))
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| device_from_row(&r)).transpose()?)
    }

    /// Whether jwt-guard has ever had a device or a link of `subject` (revoked and
    /// expired ones too, until the archiver removes them): how the `jwt-guard`
    /// command tells a mistyped user from a real one.
    pub async fn knows_subject(&self, subject: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM jwt_guard_devices WHERE subject = $1
             UNION ALL SELECT 1 FROM jwt_guard_links WHERE subject = $1
             LIMIT 1",
        )
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The subject's active devices, oldest first.
    pub async fn devices_of(&self, subject: &str) -> Result<Vec<DeviceRecord>, StoreError> {
        Ok(self.devices_page(subject, 0, u32::MAX).await?.0)
    }

    /// One page of the subject's active devices, oldest first, and how many there
    /// are in all.
    pub async fn devices_page(
        &self,
        subject: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<DeviceRecord>, u64), StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS}, COUNT(*) OVER () AS total FROM jwt_guard_devices
             WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2
             ORDER BY created_at ASC, id ASC LIMIT $3 OFFSET $4"
        ))
        .bind(subject)
        .bind(ts(self.now()))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        let total = match rows.first() {
            Some(row) => secs(row.try_get("total")?),
            // Past the end (or none at all): count separately.
            None if offset > 0 => secs(
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM jwt_guard_devices
                     WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(subject)
                .bind(ts(self.now()))
                .fetch_one(&self.pool)
                .await?,
            ),
            None => 0,
        };
        let devices = rows.iter().map(device_from_row).collect::<Result<_, _>>()?;
        Ok((devices, total))
    }

    /// Removes an expired device and its tokens; its access tokens are revoked.
    pub(crate) async fn remove_device(
        &self,
        device_id: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let subject: Option<String> =
            sqlx::query_scalar("SELECT subject FROM jwt_guard_devices WHERE id = $1")
                .bind(device_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM jwt_guard_tokens WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jwt_guard_devices WHERE id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jwt_guard_superseded_permanent WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        let revocation = self.device_revocation(device_id, now);
        self.insert_revocation_in(&mut tx, &revocation, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::DeviceExpired,
            subject.as_deref(),
            Some(device_id),
            reason,
        )
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Ok(())
    }
}
