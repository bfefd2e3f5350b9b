//! A bounded memory of tokens whose signature has already been checked.
//!
//! A hit means "these very bytes verified before": entries keep the whole token and
//! a hit compares it in full. Only the last bytes (the signature's tail) are hashed,
//! by one seeded multiplication rather than SipHash, which keeps a hit cheap; that is
//! safe because only genuinely signed tokens are ever inserted, so their tails are
//! unpredictable and cannot be made to collide (a made-up tail only finds a slot
//! whose bytes then differ). Expiry and revocation are still checked on every hit by
//! the verifier.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;
/// Bytes of the token (from its end) that are hashed: 16 base64url characters of
/// a signature, 96 unpredictable bits.
const HASHED_TAIL: usize = 16;

/// What is remembered about one verified token.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub(crate) exp: u64,
    pub(crate) nbf: Option<u64>,
    pub(crate) iat: u64,
    /// `Arc<Token<C>>` for the claims type it was decoded as.
    pub(crate) token: Arc<dyn Any + Send + Sync>,
}

/// Where a token's bytes sit in its shard's `texts`.
struct Slot {
    start: usize,
    end: usize,
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

/// A shard's tokens: one slot per hash (a rare collision replaces the older token,
/// which then just verifies again: no chains to allocate on the hot path), and
/// their bytes side by side in one buffer. One buffer rather than an allocation a
/// token: remembering a token appends to it, and forgetting a shard's tokens frees
/// nothing, where a few thousand separately allocated texts would each be freed
/// cold.
#[derive(Default)]
struct Shard {
    slots: HashMap<u64, Slot, BuildHasherDefault<PassThrough>>,
    texts: String,
    /// Bytes of `texts` that live slots point at; the rest is left by forgotten
    /// tokens until the buffer is compacted.
    live: usize,
}

/// `texts` is compacted when less than half of it is live (and past this size).
const COMPACT_FROM: usize = 64 * 1024;

impl Shard {
    fn find(&self, hash: u64, token: &str) -> Option<&Slot> {
        self.slots
            .get(&hash)
            .filter(|slot| self.texts.get(slot.start..slot.end) == Some(token))
    }

    /// Removes the slots `forget` picks, returning their entries.
    fn forget(&mut self, mut forget: impl FnMut(&Slot) -> bool) -> Vec<CachedToken> {
        let gone: Vec<CachedToken> = self
            .slots
            .extract_if(|_, slot| forget(slot))
            .map(|(_, slot)| {
                self.live -= slot.end - slot.start;
                slot.entry
            })
            .collect();
        if self.slots.is_empty() {
            self.texts.clear();
        }
        gone
    }

    fn insert(&mut self, hash: u64, token: &str, entry: CachedToken) -> Option<CachedToken> {
        if self.texts.len() >= COMPACT_FROM && self.texts.len() > 2 * self.live {
            self.compact();
        }
        let start = self.texts.len();
        self.texts.push_str(token);
        self.live += token.len();
        let slot = Slot {
            start,
            end: self.texts.len(),
            entry,
        };
        let replaced = self.slots.insert(hash, slot)?;
        self.live -= replaced.end - replaced.start;
        Some(replaced.entry)
    }

    /// Copies the live texts into a buffer of their own size.
    fn compact(&mut self) {
        let mut texts = String::with_capacity(self.live);
        for slot in self.slots.values_mut() {
            let start = texts.len();
            texts.push_str(self.texts.get(slot.start..slot.end).unwrap_or_default());
            (slot.start, slot.end) = (start, texts.len());
        }
        self.texts = texts;
    }
}

pub(crate) struct VerifiedCache {
    shards: Box<[RwLock<Shard>]>,
    per_shard: usize,
    /// Per process, so that slots differ from one instance to the next.
    seed: [u64; 2],
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
            seed: [rand::random(), rand::random()],
        }
    }

    fn locate(&self, token: &str) -> (u64, &RwLock<Shard>) {
        let bytes = token.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(HASHED_TAIL)..];
        let mut word = [0u8; HASHED_TAIL];
        word[HASHED_TAIL - tail.len()..].copy_from_slice(tail);
        let [low, high] = [&word[..8], &word[8..]]
            .map(|half| u64::from_le_bytes(half.try_into().unwrap_or_default()));
        // A folded 64×64→128-bit multiply (as foldhash and ahash fold).
        let product = u128::from(low ^ self.seed[0]) * u128::from(high ^ self.seed[1]);
        let hash = (product as u64) ^ ((product >> 64) as u64);
        (hash, &self.shards[(hash as usize) % SHARDS])
    }

    pub(crate) fn get(&self, token: &str) -> Option<CachedToken> {
        if self.per_shard == 0 {
            return None;
        }
        let (hash, shard) = self.locate(token);
        let shard = shard.read().ok()?;
        shard.find(hash, token).map(|slot| slot.entry.clone())
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
        let mut evicted = Vec::new();
        if shard.slots.len() >= self.per_shard {
            evicted = shard.forget(|slot| slot.entry.exp <= now);
            if shard.slots.len() >= self.per_shard {
                // Still full of live tokens: start this shard over rather than track
                // recency on the hot path. A dropped entry only costs one re-verify.
                evicted.extend(shard.forget(|_| true));
            }
        }
        evicted.extend(shard.insert(hash, token, entry));
        drop(shard);
        drop(evicted);
    }

    /// Forgets every token (dropped outside each shard's lock).
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let forgotten = match shard.write() {
                Ok(mut s) => s.forget(|_| true),
                Err(_) => continue,
            };
            drop(forgotten);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map(|s| s.slots.len()).unwrap_or(0))
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
    fn forgotten_bytes_are_reclaimed_and_live_tokens_still_found() {
        let mut shard = Shard::default();
        let token = |i: u64| format!("{i:04}.{}", "t".repeat(1000));
        for i in 0..100 {
            shard.insert(i, &token(i), entry(i));
        }
        // Three in four expire; their bytes stay in the buffer until it is compacted.
        shard.forget(|slot| slot.entry.exp % 4 != 1);
        assert_eq!(shard.slots.len(), 25);
        assert!(shard.texts.len() > 2 * shard.live);
        shard.insert(100, &token(100), entry(100));
        assert_eq!(shard.texts.len(), shard.live, "compacted before appending");
        for i in (1..100).step_by(4).chain([100]) {
            assert!(shard.find(i, &token(i)).is_some(), "token {i} lost");
        }
        assert!(shard.find(2, &token(2)).is_none());
        // A colliding insert gives back the entry it replaced.
        let replaced = shard.insert(1, &token(1), entry(7));
        assert_eq!(replaced.map(|e| e.exp), Some(1));
        shard.forget(|_| true);
        assert_eq!((shard.texts.len(), shard.live), (0, 0));
    }

    #[test]
    fn tokens_spread_over_the_shards() {
        // 2,000 tokens in room for 4,000: a shard gets 250 slots, so a hash that
        // sent over 250 of them to one shard would start it over and lose some.
        let cache = VerifiedCache::new(4000);
        let tokens: Vec<String> = (0..2000_u64)
            .map(|i| {
                format!(
                    "header.payload.{:016x}",
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )
            })
            .collect();
        for token in &tokens {
            cache.insert(token, entry(u64::MAX), 0);
        }
        assert_eq!(cache.len(), tokens.len());
        assert!(tokens.iter().all(|t| cache.get(t).is_some()));
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
