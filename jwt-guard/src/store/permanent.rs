//! The permanent-token lifecycle: a device found by its token, the token rotated
//! on every use, reuse detected.

use super::audit::AuditEvent;
use super::device_record::{device_from_row, DeviceRecord, DEVICE_COLUMNS};
use super::handle::{Store, StoreError};
use super::pool::Backend;
use super::sql::{opt, ts};
use super::tokens::{bind_token_rows, token_rows, TOKEN_ROW_COLUMNS};
use crate::claims::RegisteredClaims;
use crate::secret::{PermanentToken, TokenDigest};

/// Why a device's permanent token could not be rotated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PermanentRotateError {
    /// The token was superseded meanwhile (a concurrent or repeated use): reuse.
    /// The device has been revoked.
    #[error("the permanent token was already used; its device has been revoked")]
    Reused,
    /// The device was signed out (or removed) meanwhile.
    #[error("the permanent token is no longer any device's")]
    NotCurrent,
    /// The device expired meanwhile; it has been removed.
    #[error("the device has expired")]
    Expired,
    /// The database failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PermanentRotateError {
    fn from(e: sqlx::Error) -> Self {
        PermanentRotateError::Store(StoreError(e))
    }
}

/// What a permanent token resolved to.
#[derive(Debug)]
pub(crate) enum PermanentLookup {
    /// An active device.
    Active(Box<DeviceRecord>),
    /// No device has this token (or it was revoked).
    Unknown,
    /// A superseded token of an active device: reuse. The device has been revoked.
    Reused,
    /// The device had expired; it has now been removed.
    Expired,
}

impl Store {
    /// The active device holding `token`. Reads only: the token rotates (and the
    /// expiry slides) when the device is issued an access token. A superseded token
    /// presented again is reuse: the device is revoked. An expired device is removed.
    ///
    /// A token this instance issued itself is recalled from memory, no round trip:
    /// [`Store::rotate_permanent`] checks it against the database anyway.
    pub(crate) async fn device_for_permanent(
        &self,
        token: &PermanentToken,
    ) -> Result<PermanentLookup, StoreError> {
        let digest = token.digest();
        if let Some(device) = self
            .devices_issued
            .recall(&digest, self.now(), &self.revocations)
        {
            return Ok(PermanentLookup::Active(Box::new(device)));
        }
        self.stored_permanent(&digest).await
    }

    /// [`Store::device_for_permanent`] as the database has it.
    async fn stored_permanent(&self, digest: &TokenDigest) -> Result<PermanentLookup, StoreError> {
        let now = self.now();
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS}, permanent_digest FROM jwt_guard_devices
             WHERE permanent_digest = $1 AND revoked_at IS NULL"
        ))
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return self.superseded_permanent(digest).await;
        };
        let stored_matches = opt::<String>(&row, "permanent_digest")?
            .map(TokenDigest::from_stored)
            .is_some_and(|d| d.matches(digest));
        if !stored_matches {
            return Ok(PermanentLookup::Unknown);
        }
        let device = device_from_row(&row)?;
        if device.expires_at <= now {
            self.remove_device(&device.id, "permanent token expired")
                .await?;
            return Ok(PermanentLookup::Expired);
        }
        Ok(PermanentLookup::Active(Box::new(device)))
    }

    /// The active, unexpired device whose current permanent token is `token`.
    /// Reads only: a superseded token is simply not found here (what introspection
    /// and revocation ask, which must not act as a use).
    pub(crate) async fn device_holding_permanent(
        &self,
        token: &PermanentToken,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let digest = token.digest();
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS}, permanent_digest FROM jwt_guard_devices
             WHERE permanent_digest = $1 AND revoked_at IS NULL AND expires_at > $2"
        ))
        .bind(digest.as_str())
        .bind(ts(self.now()))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored_matches = opt::<String>(&row, "permanent_digest")?
            .map(TokenDigest::from_stored)
            .is_some_and(|d| d.matches(&digest));
        Ok(if stored_matches {
            Some(device_from_row(&row)?)
        } else {
            None
        })
    }

    /// A token that is no device's current one: unknown, or a superseded token of a
    /// device that is still active (reuse, which revokes the device).
    async fn superseded_permanent(
        &self,
        digest: &TokenDigest,
    ) -> Result<PermanentLookup, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM jwt_guard_superseded_permanent p
             JOIN jwt_guard_devices d ON d.id = p.device_id
             WHERE p.digest = $1 AND d.revoked_at IS NULL"
        ))
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(PermanentLookup::Unknown);
        };
        self.permanent_reused(&device_from_row(&row)?).await?;
        Ok(PermanentLookup::Reused)
    }

    /// A superseded permanent token came back: someone holds a copy. Revokes the
    /// device and records why.
    async fn permanent_reused(&self, device: &DeviceRecord) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let revocation = self.revoke_device_in(&mut tx, &device.id, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::PermanentReuse,
            Some(&device.subject),
            Some(&device.id),
            "superseded permanent token presented again",
        )
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Ok(())
    }

    /// Rotates the permanent token `presented` of `device` and records the access
    /// token issued with it, in one transaction: the device gets a new permanent
    /// token, its expiry slides, and the presented one becomes superseded (shown
    /// again, it revokes the device). Of concurrent calls with one token exactly one
    /// succeeds; the others are reuse.
    pub(crate) async fn rotate_permanent(
        &self,
        device: &DeviceRecord,
        presented: &TokenDigest,
        access: &RegisteredClaims,
    ) -> Result<(PermanentToken, u64), PermanentRotateError> {
        // A proof sent by an unbound device binds it (RFC 9449 §5: the device's
        // tokens are issued to that key from now on); a bound one keeps its key.
        let bind = access.dpop_jkt();
        let now = self.now();
        let next = PermanentToken::generate();
        let expires_at = self.sliding_expiry(now, device.orig_iat);
        if self.backend == Backend::Postgres {
            // One statement, one round trip: its data-modifying CTEs rotate the
            // token (if the presented one is current), keep the presented one as
            // superseded and record the access token, atomically.
            let sql = format!(
                "WITH rotated AS (
                     UPDATE jwt_guard_devices
                     SET permanent_digest = $1, last_used = $3, expires_at = $4,
                         dpop_jkt = COALESCE(dpop_jkt, $6)
                     WHERE id = $5 AND permanent_digest = $2 AND revoked_at IS NULL
                       AND expires_at > $3
                     RETURNING id
                 ), superseded AS (
                     INSERT INTO jwt_guard_superseded_permanent (digest, device_id, superseded_at)
                     SELECT $2, id, $3 FROM rotated
                 ), issued AS (
                     INSERT INTO {TOKEN_ROW_COLUMNS}
                     SELECT * FROM (VALUES {rows}) AS issued
                     WHERE EXISTS (SELECT 1 FROM rotated)
                 )
                 SELECT id FROM rotated",
                rows = token_rows(1, 6),
            );
            let tokens = [(access, None)];
            let next_digest = next.digest();
            let query = sqlx::query(&sql)
                .bind(next_digest.as_str())
                .bind(presented.as_str())
                .bind(ts(now))
                .bind(ts(expires_at))
                .bind(&device.id)
                .bind(bind);
            let rotated = bind_token_rows(query, &device.id, &tokens)
                .fetch_optional(&self.writer)
                .await?;
            if rotated.is_none() {
                return Err(self.rotation_refused(device, presented).await?);
            }
            return Ok(self.rotated(device, presented, next, now, expires_at, bind));
        }
        let mut tx = self.begin_write().await?;
        let rotated: Option<String> = sqlx::query_scalar(
            "UPDATE jwt_guard_devices
             SET permanent_digest = $1, last_used = $3, expires_at = $4,
                 dpop_jkt = COALESCE(dpop_jkt, $6)
             WHERE id = $5 AND permanent_digest = $2 AND revoked_at IS NULL AND expires_at > $3
             RETURNING id",
        )
        .bind(next.digest().as_str())
        .bind(presented.as_str())
        .bind(ts(now))
        .bind(ts(expires_at))
        .bind(&device.id)
        .bind(bind)
        .fetch_optional(&mut *tx)
        .await?;
        if rotated.is_none() {
            drop(tx);
            return Err(self.rotation_refused(device, presented).await?);
        }
        sqlx::query(
            "INSERT INTO jwt_guard_superseded_permanent (digest, device_id, superseded_at)
             VALUES ($1, $2, $3)",
        )
        .bind(presented.as_str())
        .bind(&device.id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        super::tokens::insert_tokens(&mut *tx, &device.id, &[(access, None)]).await?;
        tx.commit().await?;
        Ok(self.rotated(device, presented, next, now, expires_at, bind))
    }

    /// A rotation committed: `next` is the device's token now, and this instance
    /// remembers it (the device's next refresh here skips its look-up).
    fn rotated(
        &self,
        device: &DeviceRecord,
        presented: &TokenDigest,
        next: PermanentToken,
        now: u64,
        expires_at: u64,
        bind: Option<&str>,
    ) -> (PermanentToken, u64) {
        let current = DeviceRecord {
            last_used: now,
            expires_at,
            dpop_jkt: device.dpop_jkt.clone().or_else(|| bind.map(str::to_owned)),
            ..device.clone()
        };
        self.devices_issued.forget(presented);
        self.devices_issued
            .remember(&next.digest(), current, now, &self.revocations);
        (next, expires_at)
    }

    /// Why the rotation found `presented` no longer current, as the database has
    /// it — the guard may have authenticated it from memory, so this is where a
    /// token superseded or signed out on another instance is told apart. A token
    /// still current here (a rotation refused for no reason the database shows)
    /// counts as reuse, as a concurrent use does.
    async fn rotation_refused(
        &self,
        device: &DeviceRecord,
        presented: &TokenDigest,
    ) -> Result<PermanentRotateError, StoreError> {
        self.devices_issued.forget(presented);
        Ok(match self.stored_permanent(presented).await? {
            PermanentLookup::Reused => PermanentRotateError::Reused,
            PermanentLookup::Active(_) => {
                self.permanent_reused(device).await?;
                PermanentRotateError::Reused
            }
            PermanentLookup::Expired => PermanentRotateError::Expired,
            PermanentLookup::Unknown => PermanentRotateError::NotCurrent,
        })
    }
}
