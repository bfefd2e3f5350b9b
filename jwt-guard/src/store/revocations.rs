//! Revocation rows: written with every revocation, loaded at launch, and polled so
//! that every instance sharing the database enforces them within a bound.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{secs, ts, Store, StoreError};
use crate::db::Backend;

/// The PostgreSQL channel revocations are announced on.
pub const REVOCATION_CHANNEL: &str = "jwt_guard_revocations";

/// One revocation as announced to other instances (`NOTIFY` payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationNotice {
    /// `jti`, `device` or `subject`.
    pub kind: String,
    /// The token id, device id or subject.
    pub value: String,
    /// For `subject`: tokens issued before this are revoked.
    pub not_before: u64,
    /// When everything it revokes has expired anyway.
    pub until: u64,
}

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
        if self.backend == Backend::Postgres {
            // Delivered at commit to every instance listening: no wait for a poll.
            let notice = RevocationNotice {
                kind: kind.to_owned(),
                value: value.to_owned(),
                not_before,
                until,
            };
            let payload = serde_json::to_string(&notice).unwrap_or_default();
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(REVOCATION_CHANNEL)
                .bind(payload)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Applies an announced revocation to the in-memory set.
    pub fn apply_notice(&self, notice: &RevocationNotice) {
        match notice.kind.as_str() {
            "jti" => self.revocations.revoke_token(&notice.value, notice.until),
            "device" => self.revocations.revoke_device(&notice.value, notice.until),
            "subject" => self
                .revocations
                .revoke_subject_before(&notice.value, notice.not_before),
            _ => {}
        }
    }

    /// A `LISTEN` connection on [`REVOCATION_CHANNEL`] (PostgreSQL only).
    pub async fn listen(&self) -> Option<Result<sqlx::postgres::PgListener, StoreError>> {
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
