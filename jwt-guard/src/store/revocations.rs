//! Revocation rows: written with every revocation, loaded at launch, and polled so
//! that every instance sharing the database enforces them within a bound.

use sqlx::Row;

use super::{secs, ts, Store, StoreError};

impl Store {
    pub(crate) async fn insert_revocation_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        kind: &str,
        value: &str,
        not_before: u64,
        until: u64,
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
        .bind(kind)
        .bind(value)
        .bind(ts(not_before))
        .bind(ts(until))
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Revokes every token of `subject` issued before now (tokens carry whole
    /// seconds: one issued in this same second survives).
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), StoreError> {
        let now = self.now();
        let until = now.saturating_add(self.settings.max_token_ttl);
        let mut tx = self.pool.begin().await?;
        self.insert_revocation_in(&mut tx, "subject", subject, now, until, now)
            .await?;
        tx.commit().await?;
        self.revocations.revoke_subject_before(subject, now);
        Ok(())
    }

    /// Revokes one token id until `until` (when it would have expired anyway).
    pub async fn revoke_jti(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        self.insert_revocation_in(&mut tx, "jti", jti, 0, until, now)
            .await?;
        sqlx::query(
            "UPDATE jwt_guard_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(jti)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.revocations.revoke_token(jti, until);
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
            let value: String = row.try_get("value")?;
            let until = secs(row.try_get("until")?);
            match kind.as_str() {
                "jti" => self.revocations.revoke_token(&value, until),
                "device" => self.revocations.revoke_device(&value, until),
                "subject" => self
                    .revocations
                    .revoke_subject_before(&value, secs(row.try_get("not_before")?)),
                _ => {}
            }
        }
        self.revocations.prune(now, self.settings.max_token_ttl);
        Ok(rows.len())
    }
}
