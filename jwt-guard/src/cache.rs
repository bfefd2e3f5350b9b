//! A bounded memory of tokens whose signature has already been checked.
//!
//! A hit means "these very bytes verified before": entries keep the whole token and
//! a hit compares it in full. Only the last bytes (the signature's tail) are hashed,
//! which keeps a hit cheap; that is safe because only genuinely signed tokens are ever
//! inserted, so their tails are unpredictable and cannot be made to collide. Expiry
//! and revocation are still checked on every hit by the verifier.

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;
/// Bytes of the token (from its end) that are hashed.
const HASHED_TAIL: usize = 32;

/// What is remembered about one verified token.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub(crate) exp: u64,
    pub(crate) nbf: Option<u64>,
    pub(crate) iat: u64,
    /// `Arc<Token<C>>` for the claims type it was decoded as.
    pub(crate) token: Arc<dyn Any + Send + Sync>,
}

struct Slot {
    text: Box<str>,
    entry: CachedToken,
}

/// The keys are already hashes: pass them through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One slot per hash: a rare collision replaces the older token, which then just
/// verifies again (no chains to allocate on the hot path).
type Shard = HashMap<u64, Slot, BuildHasherDefault<PassThrough>>;

pub(crate) struct VerifiedCache {
    shards: Box<[RwLock<Shard>]>,
    per_shard: usize,
    hasher: RandomState,
}

impl VerifiedCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        let shards = (0..SHARDS)
            .map(|_| RwLock::new(Shard::default()))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Self {
            shards,
            per_shard,
            hasher: RandomState::new(),
        }
    }

    fn locate(&self, token: &str) -> (u64, &RwLock<Shard>) {
        let bytes = token.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(HASHED_TAIL)..];
        let hash = self.hasher.hash_one(tail);
        (hash, &self.shards[(hash as usize) % SHARDS])
    }

    pub(crate) fn get(&self, token: &str) -> Option<CachedToken> {
        if self.per_shard == 0 {
            return None;
        }
        let (hash, shard) = self.locate(token);
        let shard = shard.read().ok()?;
        shard
            .get(&hash)
            .filter(|slot| &*slot.text == token)
            .map(|slot| slot.entry.clone())
    }

    pub(crate) fn insert(&self, token: &str, entry: CachedToken, now: u64) {
        if self.per_shard == 0 {
            return;
        }
        let (hash, shard) = self.locate(token);
        let Ok(mut shard) = shard.write() else {
            return;
        };
        // What is evicted is dropped after the lock is released: freeing a few
        // hundred decoded tokens is not work for the shard's readers to wait out.
        let mut evicted: Vec<Slot> = Vec::new();
        if shard.len() >= self.per_shard {
            evicted.extend(
                shard
                    .extract_if(|_, slot| slot.entry.exp <= now)
                    .map(|(_, slot)| slot),
            );
            if shard.len() >= self.per_shard {
                // Still full of live tokens: start this shard over rather than track
                // recency on the hot path. A dropped entry only costs one re-verify.
                evicted.extend(shard.drain().map(|(_, slot)| slot));
            }
        }
        if let Some(replaced) = shard.insert(
            hash,
            Slot {
                text: token.into(),
                entry,
            },
        ) {
            evicted.push(replaced);
        }
        drop(shard);
        drop(evicted);
    }

    /// Forgets every token (dropped outside each shard's lock).
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let forgotten: Vec<Slot> = match shard.write() {
                Ok(mut s) => s.drain().map(|(_, slot)| slot).collect(),
                Err(_) => continue,
            };
            drop(forgotten);
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
            iat: 0,
            token: Arc::new(()),
        }
    }

    #[test]
    fn stays_within_capacity() {
        let cache = VerifiedCache::new(32);
        for i in 0..1000 {
            cache.insert(&format!("token-{i}"), entry(u64::MAX), 0);
        }
        assert!(cache.len() <= 32 + SHARDS, "cache grew to {}", cache.len());
        assert!(cache.get("token-999").is_some());
    }

    #[test]
    fn same_tail_different_prefix_is_a_miss() {
        let cache = VerifiedCache::new(64);
        let tail = "x".repeat(HASHED_TAIL);
        cache.insert(&format!("aaaa.{tail}"), entry(u64::MAX), 0);
        assert!(cache.get(&format!("aaaa.{tail}")).is_some());
        assert!(cache.get(&format!("bbbb.{tail}")).is_none());
        // A colliding token replaces the older one, which is then a miss (re-verified).
        cache.insert(&format!("bbbb.{tail}"), entry(u64::MAX), 0);
        assert!(cache.get(&format!("bbbb.{tail}")).is_some());
        assert!(cache.get(&format!("aaaa.{tail}")).is_none());
    }

    #[test]
    fn zero_capacity_disables() {
        let cache = VerifiedCache::new(0);
        cache.insert("t", entry(u64::MAX), 0);
        assert!(cache.get("t").is_none());
    }
}
