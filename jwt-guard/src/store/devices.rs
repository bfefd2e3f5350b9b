//! Devices: one row per login, holding the digest of its permanent token.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::AuditEvent;
use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::sql::{opt, secs, ts};

/// Longest device name kept (from `X-Device-Model` or the user agent).
pub const DEVICE_NAME_MAX: usize = 100;

/// What a device is, as its login described it: the same for a new device and a
/// stored one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDescription {
    /// Display name (`X-Device-Model`, or browser and OS).
    pub name: String,
    /// Parsed browser name.
    pub browser: Option<String>,
    /// Parsed operating system.
    pub os: Option<String>,
    /// Parsed device kind (`pc`, `smartphone`, `crawler`, …).
    pub kind: Option<String>,
    /// Client IP at login (Rocket's `ip_header` respected).
    pub ip: Option<String>,
}

/// Where a login comes from.
#[derive(Clone, Debug, Default)]
pub struct NewDevice {
    /// The subject logging in.
    pub subject: String,
    /// What the device is.
    pub description: DeviceDescription,
    /// The raw `User-Agent`, truncated (stored, never listed).
    pub user_agent: Option<String>,
}

/// A stored device, as listed to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceRecord {
    /// Device id.
    pub id: String,
    /// Owner.
    pub subject: String,
    /// What the device is (its fields appear at the top level in JSON).
    #[serde(flatten)]
    pub description: DeviceDescription,
    /// Login time.
    pub created_at: u64,
    /// Last use of its permanent or refresh token (at the configured accuracy).
    pub last_used: u64,
    /// When it expires unless used again.
    pub expires_at: u64,
    /// Original login time of the family.
    pub orig_iat: u64,
    /// The thumbprint of the DPoP key the device is bound to (RFC 9449), if any.
    /// Listed as `dpop_key`, its first characters only: enough to tell keys
    /// apart, nothing to impersonate with.
    #[serde(
        rename = "dpop_key",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "thumbprint_prefix"
    )]
    pub dpop_jkt: Option<String>,
}

/// Characters of a thumbprint shown in device lists.
pub(crate) const THUMBPRINT_SHOWN: usize = 8;

fn thumbprint_prefix<S: serde::Serializer>(jkt: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let shown = jkt
        .as_deref()
        .map(|j| j.chars().take(THUMBPRINT_SHOWN).collect::<String>());
    shown.serialize(s)
}

pub(super) const DEVICE_COLUMNS: &str =
    "id, subject, name, browser, os, device_kind, ip, created_at, last_used, expires_at, orig_iat, dpop_jkt";

pub(super) fn device_from_row(row: &AnyRow) -> Result<DeviceRecord, sqlx::Error> {
    Ok(DeviceRecord {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        description: DeviceDescription {
            name: row.try_get("name")?,
            browser: opt(row, "browser")?,
            os: opt(row, "os")?,
            kind: opt(row, "device_kind")?,
            ip: opt(row, "ip")?,
        },
        created_at: secs(row.try_get("created_at")?),
        last_used: secs(row.try_get("last_used")?),
        expires_at: secs(row.try_get("expires_at")?),
        orig_iat: secs(row.try_get("orig_iat")?),
        dpop_jkt: opt(row, "dpop_jkt")?,
    })
}

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
