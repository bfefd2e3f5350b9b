//! A bounded memory of tokens whose signature has already been checked.
//!
//! Keyed by the exact token text, so a hit means "these very bytes verified before".
//! Expiry and revocation are still checked on every hit by the verifier; only the
//! signature check and the JSON parsing are skipped.

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;

/// What is remembered about one verified token.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub(crate) exp: u64,
    pub(crate) nbf: Option<u64>,
    /// `Arc<Token<C>>` for the claims type it was decoded as.
    pub(crate) token: Arc<dyn Any + Send + Sync>,
}

pub(crate) struct VerifiedCache {
    shards: Box<[RwLock<HashMap<Box<str>, CachedToken>>]>,
    per_shard: usize,
    hasher: RandomState,
}

impl VerifiedCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        let shards = (0..SHARDS)
            .map(|_| RwLock::new(HashMap::new()))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Self {
            shards,
            per_shard,
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, token: &str) -> &RwLock<HashMap<Box<str>, CachedToken>> {
        let index = (self.hasher.hash_one(token) as usize) % SHARDS;
        &self.shards[index]
    }

    pub(crate) fn get(&self, token: &str) -> Option<CachedToken> {
        if self.per_shard == 0 {
            return None;
        }
        let shard = self.shard(token).read().ok()?;
        shard.get(token).cloned()
    }

    pub(crate) fn insert(&self, token: &str, entry: CachedToken, now: u64) {
        if self.per_shard == 0 {
            return;
        }
        let Ok(mut shard) = self.shard(token).write() else {
            return;
        };
        if shard.len() >= self.per_shard {
            shard.retain(|_, e| e.exp > now);
            if shard.len() >= self.per_shard {
                // Still full of live tokens: start this shard over rather than track
                // recency on the hot path. A dropped entry only costs one re-verify.
                shard.clear();
            }
        }
        shard.insert(token.into(), entry);
    }

    /// Forgets every token (used when keys or revocations change wholesale).
    #[allow(dead_code)]
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            if let Ok(mut s) = shard.write() {
                s.clear();
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map(|s| s.len()).unwrap_or(0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(exp: u64) -> CachedToken {
        CachedToken {
            exp,
            nbf: None,
            token: Arc::new(()),
        }
    }

    #[test]
    fn stays_within_capacity() {
        let cache = VerifiedCache::new(32);
        for i in 0..1000 {
            cache.insert(&format!("token-{i}"), entry(u64::MAX), 0);
        }
        assert!(cache.len() <= 32, "cache grew to {}", cache.len());
        assert!(cache.get("token-999").is_some());
    }

    #[test]
    fn zero_capacity_disables() {
        let cache = VerifiedCache::new(0);
        cache.insert("t", entry(u64::MAX), 0);
        assert!(cache.get("t").is_none());
    }
}
