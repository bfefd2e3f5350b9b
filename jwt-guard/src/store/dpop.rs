//! DPoP proofs already accepted (RFC 9449 §11.1), shared by every instance.

use super::handle::{Store, StoreError};
use super::sql::ts;

impl Store {
    /// Records the proof `proof_key` as used until `expires_at`, in one statement:
    /// `true` the first time, `false` when any instance recorded it before (a
    /// replay). Of concurrent uses exactly one gets `true`.
    pub(crate) async fn use_dpop_proof(
        &self,
        proof_key: &str,
        expires_at: u64,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO jwt_guard_dpop_proofs (proof_key, expires_at) VALUES ($1, $2)
             ON CONFLICT (proof_key) DO NOTHING",
        )
        .bind(proof_key)
        .bind(ts(expires_at))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
