//! Poll delivery's state (RFC 8936): which instance polls an issuer's stream —
//! a lease, so one poller runs across instances and another takes over when it
//! stops — and what was applied but not yet acknowledged, so an instance that
//! restarts (or the one that takes over) sends those acknowledgements.

use serde::{Deserialize, Serialize};

use super::handle::{Store, StoreError};
use super::sql::ts;

/// What the next poll reports to the transmitter (RFC 8936 §2.4): the `jti`s
/// applied (`ack`), and those refused with why (`setErrs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingAcks {
    pub(crate) ack: Vec<String>,
    /// `jti` → (`err`, `description`).
    pub(crate) errs: Vec<(String, String, String)>,
}

impl Store {
    /// Takes (or keeps) the poll lease of `issuer` for `holder` until `until`,
    /// unless another instance holds one that has not run out; `Some` with what
    /// is still to be acknowledged when this instance holds it now.
    pub(crate) async fn take_poll_lease(
        &self,
        issuer: &str,
        holder: &str,
        until: u64,
    ) -> Result<Option<PendingAcks>, StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO jwt_guard_signal_pollers (issuer, holder, lease_until, pending)
             VALUES ($1, NULL, 0, '{\"ack\":[],\"errs\":[]}')
             ON CONFLICT (issuer) DO NOTHING",
        )
        .bind(issuer)
        .execute(&mut *tx)
        .await?;
        let pending: Option<String> = sqlx::query_scalar(
            "UPDATE jwt_guard_signal_pollers SET holder = $2, lease_until = $3
             WHERE issuer = $1 AND (holder = $2 OR holder IS NULL OR lease_until < $4)
             RETURNING pending",
        )
        .bind(issuer)
        .bind(holder)
        .bind(ts(until))
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(pending.map(|p| serde_json::from_str(&p).unwrap_or_default()))
    }

    /// Records what is still to be acknowledged, while `holder` holds the lease.
    pub(crate) async fn save_pending_acks(
        &self,
        issuer: &str,
        holder: &str,
        pending: &PendingAcks,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(pending).unwrap_or_default();
        sqlx::query(
            "UPDATE jwt_guard_signal_pollers SET pending = $3 WHERE issuer = $1 AND holder = $2",
        )
        .bind(issuer)
        .bind(holder)
        .bind(text)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Gives the lease up (at shutdown): another instance takes over at once.
    pub(crate) async fn release_poll_lease(
        &self,
        issuer: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jwt_guard_signal_pollers SET holder = NULL, lease_until = 0
             WHERE issuer = $1 AND holder = $2",
        )
        .bind(issuer)
        .bind(holder)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
