//! The replay check (RFC 9449 §11.1): a proof is accepted once. In the database
//! (every instance shares it) or in this process's memory.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::store::{Store, StoreError};

/// How many remembered proofs trigger a sweep of the expired ones (memory mode).
const SWEEP_AT: usize = 4096;

/// Where used proofs are remembered.
pub(crate) enum Replays {
    /// jwt-guard's database.
    Database(Store),
    /// This process: proof key → when it may be forgotten.
    Memory(Mutex<HashMap<String, u64>>),
}

/// The key a proof is remembered by: its key's thumbprint and its `jti`, hashed to
/// a fixed length (a `jti` may be 256 bytes).
pub(crate) fn proof_key(jkt: &str, jti: &str) -> String {
    let digest = Sha256::new()
        .chain_update(jkt.as_bytes())
        .chain_update([0u8])
        .chain_update(jti.as_bytes())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

impl Replays {
    /// Records the proof as used until `expires_at`: `Ok(false)` when it was used
    /// before.
    pub(crate) async fn first_use(
        &self,
        key: String,
        now: u64,
        expires_at: u64,
    ) -> Result<bool, StoreError> {
        match self {
            Replays::Database(store) => store.use_dpop_proof(&key, expires_at).await,
            Replays::Memory(seen) => {
                let mut seen = match seen.lock() {
                    Ok(seen) => seen,
                    Err(poisoned) => poisoned.into_inner(),
                };
                if seen.len() >= SWEEP_AT {
                    seen.retain(|_, until| *until >= now);
                }
                match seen.get(&key) {
                    Some(until) if *until >= now => Ok(false),
                    _ => {
                        seen.insert(key, expires_at);
                        Ok(true)
                    }
                }
            }
        }
    }
}
