//! Rotating a refresh token: one conditional statement consumes it and records
//! its successors, so of any number of concurrent uses exactly one wins; a
//! second use is reuse, and revokes the device (or, within the reuse grace, is
//! answered from what was stored).

use super::audit::AuditEvent;
use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::pool::Backend;
use super::sql::{opt, secs, ts};
use super::tokens::{bind_token_rows, insert_tokens, token_rows, TOKEN_ROW_COLUMNS};
use crate::claims::RegisteredClaims;

/// What a successful [`Store::rotate_refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Rotation {
    /// The presented token is spent; the new successors are recorded.
    Rotated,
    /// A retry within `refresh_reuse_grace` of a rotation whose successor is still
    /// unused: answer that same successor (the signing inputs of its refresh and
    /// access tokens, from which the session step rebuilds it).
    Retry {
        /// The successor refresh token's signing input.
        refresh: String,
        /// The successor access token's signing input.
        access: String,
        /// The ids the successors were recorded under (refresh, access): what
        /// their stored inputs must name.
        ids: (String, String),
    },
}

/// A successor token as the store keeps it: its claims, and its signing input
/// (header and payload, never the signature), from which a retry within the reuse
/// grace is signed again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Successor<'a> {
    /// The token's registered claims.
    pub(crate) claims: &'a RegisteredClaims,
    /// `header.payload`, as signed.
    pub(crate) signing_input: &'a str,
}

/// Why a refresh token could not be rotated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RotateError {
    /// Unknown, revoked, or its device is gone: refused, nothing else happens.
    #[error("the refresh token is not valid")]
    Invalid,
    /// Already rotated: reuse. The whole device has been revoked.
    #[error("the refresh token was already used; its device has been revoked")]
    Reused,
    /// The database failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RotateError {
    fn from(e: sqlx::Error) -> Self {
        RotateError::Store(StoreError(e))
    }
}

/// Consumes refresh token `$5` of device `$6`, if it is unused and unrevoked and
/// its device live and not bound to a DPoP key other than `$7` (the token's own),
/// naming its successors (`$2`–`$4`) at `$1`; returns its `jti`. The one rule of
/// a rotation, for both databases ([`bind_consume`] binds it).
const CONSUME_REFRESH: &str = "UPDATE jwt_guard_tokens SET used_at = $1, replaced_by = $2,
            successor_refresh = $3, successor_access = $4
     WHERE jti = $5 AND kind = 'refresh' AND device_id = $6
       AND used_at IS NULL AND revoked_at IS NULL
       AND EXISTS (SELECT 1 FROM jwt_guard_devices d
                   WHERE d.id = $6 AND d.revoked_at IS NULL AND d.expires_at > $1
                     AND (d.dpop_jkt IS NULL OR d.dpop_jkt = $7))
     RETURNING jti";

/// Binds [`CONSUME_REFRESH`]'s `$1`–`$7`.
fn bind_consume<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    now: u64,
    old: &'q RegisteredClaims,
    refresh: &Successor<'q>,
    access: &Successor<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(ts(now))
        .bind(&refresh.claims.jti)
        .bind(refresh.signing_input)
        .bind(access.signing_input)
        .bind(&old.jti)
        .bind(old.did.as_deref())
        .bind(old.dpop_jkt())
}

impl Store {
    /// Consumes refresh token `old` and records its successors `refresh` and
    /// `access`, in one conditional statement inside one transaction: of any number
    /// of concurrent calls with the same token, exactly one succeeds. A device
    /// bound to a DPoP key takes only refresh tokens bound to that key (one issued
    /// before the device was bound is not current any more).
    ///
    /// A token that was already rotated is reuse: the device and every token of it
    /// are revoked and [`RotateError::Reused`] returned — unless the reuse grace
    /// period is set, the rotation happened within it and the successor is still
    /// unused: then the client is retrying, and [`Rotation::Retry`] hands back the
    /// successor it was already given (never a second, different one).
    pub(crate) async fn rotate_refresh(
        &self,
        old: &RegisteredClaims,
        refresh: Successor<'_>,
        access: Successor<'_>,
    ) -> Result<Rotation, RotateError> {
        let now = self.now();
        let device_id = old.did.as_deref().ok_or(RotateError::Invalid)?;
        if self.backend == Backend::Postgres {
            return self
                .rotate_refresh_at_once(old, device_id, refresh, access, now)
                .await;
        }

        // One statement consumes the token, if it and its device are live; the
        // successors and the device's sliding expiry follow in the same transaction.
        let mut tx = self.begin_write().await?;
        let consumed = bind_consume(sqlx::query(CONSUME_REFRESH), now, old, &refresh, &access)
            .fetch_optional(&mut *tx)
            .await?;

        if consumed.is_none() {
            drop(tx);
            return self.rotate_used(old, device_id, now).await;
        }
        insert_tokens(
            &mut *tx,
            device_id,
            &[
                (refresh.claims, Some(&old.jti)),
                (access.claims, Some(&refresh.claims.jti)),
            ],
        )
        .await?;
        self.slide_expiry_in(&mut tx, device_id, now).await?;
        tx.commit().await?;
        Ok(Rotation::Rotated)
    }

    /// [`Store::rotate_refresh`] on PostgreSQL: one statement, one round trip.
    /// Its data-modifying CTEs consume the token (if it and its device are
    /// live), record both successors and slide the device's expiry; PostgreSQL
    /// runs a statement atomically, so no `BEGIN`/`COMMIT` is needed, and of
    /// concurrent uses of one token exactly one finds it unused (the others wait
    /// on its row lock and then see it used). The rarely taken paths — reuse, a
    /// retry within the grace — go on as before.
    async fn rotate_refresh_at_once(
        &self,
        old: &RegisteredClaims,
        device_id: &str,
        refresh: Successor<'_>,
        access: Successor<'_>,
        now: u64,
    ) -> Result<Rotation, RotateError> {
        let tokens = [
            (refresh.claims, Some(old.jti.as_str())),
            (access.claims, Some(refresh.claims.jti.as_str())),
        ];
        let sql = format!(
            "WITH consumed AS ({CONSUME_REFRESH}), successors AS (
                INSERT INTO {TOKEN_ROW_COLUMNS}
                SELECT * FROM (VALUES {rows}) AS successor
                WHERE EXISTS (SELECT 1 FROM consumed)
             ), slid AS (
                UPDATE jwt_guard_devices SET last_used = $1,
                       expires_at = CASE WHEN $8 < orig_iat + $10 THEN $8 ELSE orig_iat + $10 END
                WHERE id = $6 AND last_used <= $9 AND revoked_at IS NULL
                  AND EXISTS (SELECT 1 FROM consumed)
             )
             SELECT jti FROM consumed",
            rows = token_rows(tokens.len(), 10),
        );
        let query = bind_consume(sqlx::query(&sql), now, old, &refresh, &access)
            .bind(ts(now.saturating_add(self.settings.permanent_ttl)))
            .bind(ts(now.saturating_sub(self.settings.permanent_accuracy)))
            .bind(ts(self.settings.permanent_lifetime));
        let consumed = bind_token_rows(query, device_id, &tokens)
            .fetch_optional(&self.writer)
            .await?;
        match consumed {
            Some(_) => Ok(Rotation::Rotated),
            None => self.rotate_used(old, device_id, now).await,
        }
    }

    async fn device_active_in(
        &self,
        tx: &mut Tx,
        device_id: &str,
        now: u64,
    ) -> Result<bool, sqlx::Error> {
        let active: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jwt_guard_devices
             WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(device_id)
        .bind(ts(now))
        .fetch_optional(&mut **tx)
        .await?;
        Ok(active.is_some())
    }

    /// The presented refresh token was not consumable: decide between an unknown
    /// token, a retry within the grace period, and reuse.
    async fn rotate_used(
        &self,
        old: &RegisteredClaims,
        device_id: &str,
        now: u64,
    ) -> Result<Rotation, RotateError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT jti FROM jwt_guard_tokens WHERE jti = $1 FOR UPDATE")
                .bind(&old.jti)
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query(
            "SELECT t.used_at, t.revoked_at, t.successor_refresh, t.successor_access,
                    t.replaced_by,
                    (SELECT a.jti FROM jwt_guard_tokens a
                     WHERE a.parent_jti = t.replaced_by AND a.kind = 'access'
                     LIMIT 1) AS successor_access_jti,
                    s.used_at AS successor_used, s.revoked_at AS successor_revoked
             FROM jwt_guard_tokens t LEFT JOIN jwt_guard_tokens s ON s.jti = t.replaced_by
             WHERE t.jti = $1 AND t.kind = 'refresh' AND t.device_id = $2",
        )
        .bind(&old.jti)
        .bind(device_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(RotateError::Invalid);
        };
        let revoked_at: Option<i64> = opt(&row, "revoked_at")?;
        if revoked_at.is_some() {
            return Err(RotateError::Invalid);
        }
        let Some(used_at) = opt::<i64>(&row, "used_at")?.map(secs) else {
            return Err(RotateError::Invalid);
        };

        let grace = self.settings.reuse_grace;
        if grace > 0 && now.saturating_sub(used_at) <= grace {
            let successor_unused = opt::<i64>(&row, "successor_used")?.is_none()
                && opt::<i64>(&row, "successor_revoked")?.is_none();
            let inputs = (
                opt::<String>(&row, "successor_refresh")?,
                opt::<String>(&row, "successor_access")?,
                opt::<String>(&row, "replaced_by")?,
                opt::<String>(&row, "successor_access_jti")?,
            );
            if let (true, (Some(refresh), Some(access), Some(refresh_id), Some(access_id))) =
                (successor_unused, inputs)
            {
                if self.device_active_in(&mut tx, device_id, now).await? {
                    // A retry: the same successor again, nothing written.
                    return Ok(Rotation::Retry {
                        refresh,
                        access,
                        ids: (refresh_id, access_id),
                    });
                }
                return Err(RotateError::Invalid);
            }
        }

        // Reuse: the family is compromised.
        let revocation = self.revoke_device_in(&mut tx, device_id, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::RefreshReuse,
            Some(&old.sub),
            Some(device_id),
            &format!("refresh token {} presented again after rotation", old.jti),
        )
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Err(RotateError::Reused)
    }
}
