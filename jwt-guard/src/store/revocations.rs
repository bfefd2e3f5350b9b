//! Revocation rows: written with every revocation (one function), loaded at launch,
//! announced on PostgreSQL, and polled so that every instance sharing the database
//! enforces them within a bound.

use sqlx::Row;

use super::audit::AuditEvent;
use super::{secs, ts, Backend, Store, StoreError};
use crate::revocation::Revocation;

/// The PostgreSQL channel revocations are announced on; the payload is a
/// [`Revocation`] as JSON.
pub(crate) const REVOCATION_CHANNEL: &str = "jwt_guard_revocations";

impl Store {
    /// Writes `revocation` in `tx` (and, on PostgreSQL, announces it at commit). The
    /// one place a revocation row is written; commit with [`Store::commit_revoking`].
    pub(crate) async fn insert_revocation_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        revocation: &Revocation,
        now: u64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO jwt_guard_revocations (kind, value, not_before, until, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, value) DO UPDATE SET
                 not_before = CASE WHEN excluded.not_before > jwt_guard_revocations.not_before
                                   THEN excluded.not_before ELSE jwt_guard_revocations.not_before END,
                 until = CASE WHEN excluded.until > jwt_guard_revocations.until
                              THEN excluded.until ELSE jwt_guard_revocations.until END,
                 created_at = excluded.created_at",
        )
        .bind(revocation.kind())
        .bind(revocation.value())
        .bind(ts(revocation.not_before()))
        .bind(ts(revocation.until()))
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        if self.backend == Backend::Postgres {
            // Delivered at commit to every instance listening: no wait for a poll.
            let payload = serde_json::to_string(revocation).unwrap_or_default();
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(REVOCATION_CHANNEL)
                .bind(payload)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Commits `tx`, then applies `revocations` (written in it) to this instance's
    /// memory: nothing is revoked in memory that is not in the database.
    pub(crate) async fn commit_revoking(
        &self,
        tx: sqlx::Transaction<'_, sqlx::Any>,
        revocations: &[Revocation],
    ) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        for revocation in revocations {
            self.revocations.apply(revocation);
        }
        Ok(())
    }

    /// A device revocation lasting as long as any token it could have issued.
    pub(crate) fn device_revocation(&self, device_id: &str, now: u64) -> Revocation {
        Revocation::Device {
            device_id: device_id.to_owned(),
            until: now.saturating_add(self.settings.max_token_ttl),
        }
    }

    /// A `LISTEN` connection on the revocation channel (PostgreSQL only).
    pub(crate) async fn listen(&self) -> Option<Result<sqlx::postgres::PgListener, StoreError>> {
        if self.backend != Backend::Postgres {
            return None;
        }
        Some(
            async {
                let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
                listener.listen(REVOCATION_CHANNEL).await?;
                Ok(listener)
            }
            .await
            .map_err(StoreError),
        )
    }

    /// Revokes everything of `subject`: every token issued before now (tokens carry
    /// whole seconds: one issued in this same second survives), every device (so
    /// every permanent token), and every outstanding link — in one transaction.
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), StoreError> {
        let now = self.now();
        let mut revoked = vec![Revocation::Subject {
            subject: subject.to_owned(),
            not_before: now,
            until: now.saturating_add(self.settings.max_token_ttl),
        }];
        let mut tx = self.begin_write().await?;
        self.insert_revocation_in(&mut tx, &revoked[0], now).await?;
        let devices: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM jwt_guard_devices WHERE subject = $1 AND revoked_at IS NULL",
        )
        .bind(subject)
        .fetch_all(&mut *tx)
        .await?;
        for device_id in &devices {
            revoked.push(self.revoke_device_in(&mut tx, device_id, now).await?);
        }
        self.revoke_links_of_in(&mut tx, subject, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::SubjectRevoked,
            Some(subject),
            None,
            "every token, device and link revoked",
        )
        .await?;
        self.commit_revoking(tx, &revoked).await?;
        Ok(())
    }

    /// Revokes one token id until `until` (when it would have expired anyway).
    pub async fn revoke_jti(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        let now = self.now();
        let revocation = Revocation::Token {
            jti: jti.to_owned(),
            until,
        };
        let mut tx = self.pool.begin().await?;
        self.insert_revocation_in(&mut tx, &revocation, now).await?;
        sqlx::query(
            "UPDATE jwt_guard_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(jti)
        .execute(&mut *tx)
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Ok(())
    }

    /// Loads revocations written since `since` (all live ones when `since` is 0)
    /// into the in-memory set. Returns how many rows were read.
    pub async fn load_revocations(&self, since: u64) -> Result<usize, StoreError> {
        let now = self.now();
        let rows = sqlx::query(
            "SELECT kind, value, not_before, until FROM jwt_guard_revocations
             WHERE until > $1 AND created_at >= $2",
        )
        .bind(ts(now))
        .bind(ts(since))
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let revocation = Revocation::from_row(
                &kind,
                row.try_get("value")?,
                secs(row.try_get("not_before")?),
                secs(row.try_get("until")?),
            );
            if let Some(revocation) = revocation {
                self.revocations.apply(&revocation);
            }
        }
        self.revocations.prune(now);
        Ok(rows.len())
    }
}
