//! Server-provided DPoP nonces (RFC 9449 §8, §9), without state: a nonce names a
//! time window and carries a keyed digest of it, so every instance holding the
//! same keys issues and accepts the same nonces.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// Bytes of the keyed digest a nonce carries.
const TAG_BYTES: usize = 16;

/// Issues and checks nonces.
pub(crate) struct Nonces {
    key: Zeroizing<[u8; 32]>,
    /// Seconds per window; a nonce is good in its window and the next.
    window: u64,
}

impl Nonces {
    pub(crate) fn new(key: Zeroizing<[u8; 32]>, lifetime: u64) -> Self {
        Self {
            key,
            window: lifetime.max(1),
        }
    }

    fn tag(&self, window: u64) -> [u8; 32] {
        // A fixed-length key and a fixed-length message: no length extension
        // makes another window's tag.
        Sha256::new()
            .chain_update(*self.key)
            .chain_update(window.to_be_bytes())
            .finalize()
            .into()
    }

    /// The nonce to hand out at `now` (`DPoP-Nonce`): base64url, so it is the
    /// `NQCHAR`s RFC 9449 §8.1 allows.
    pub(crate) fn current(&self, now: u64) -> String {
        let window = now / self.window;
        let mut bytes = [0u8; 8 + TAG_BYTES];
        bytes[..8].copy_from_slice(&window.to_be_bytes());
        bytes[8..].copy_from_slice(&self.tag(window)[..TAG_BYTES]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `nonce` was issued by these keys in this window or the one before.
    pub(crate) fn is_valid(&self, nonce: &str, now: u64) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let Some((window, tag)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let window = u64::from_be_bytes(*window);
        let current = now / self.window;
        let recent = window == current || window.saturating_add(1) == current;
        recent && tag.len() == TAG_BYTES && bool::from(tag.ct_eq(&self.tag(window)[..TAG_BYTES]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonces(key: u8) -> Nonces {
        Nonces::new(Zeroizing::new([key; 32]), 300)
    }

    #[test]
    fn a_nonce_is_good_for_its_window_and_the_next_on_every_instance() {
        let (a, b) = (nonces(1), nonces(1));
        let nonce = a.current(1_000_000);
        assert!(b.is_valid(&nonce, 1_000_000));
        assert!(b.is_valid(&nonce, 1_000_000 + 300));
        assert!(!b.is_valid(&nonce, 1_000_000 + 900));
    }

    #[test]
    fn other_keys_and_edits_are_refused() {
        let nonce = nonces(1).current(1_000_000);
        assert!(!nonces(2).is_valid(&nonce, 1_000_000));
        let mut edited = nonce.clone().into_bytes();
        let last = edited.len() - 1;
        edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        assert!(!nonces(1).is_valid(&edited, 1_000_000));
        assert!(!nonces(1).is_valid("", 1_000_000));
        assert!(!nonces(1).is_valid("not base64!", 1_000_000));
    }
}
