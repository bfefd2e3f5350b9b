//! The keys themselves: the one signing key and the keys that verify, each bound
//! to its algorithm.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A key that verifies tokens of exactly one algorithm (and, if it belongs to
/// another party, of one issuer).
pub(crate) struct VerificationKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
    pub(crate) issuer: Option<String>,
}

/// The key tokens are signed with.
pub(super) struct SigningKey {
    pub(super) kid: String,
    pub(super) algorithm: Algorithm,
    pub(super) key: EncodingKey,
    /// A digest of the key material, from which secrets of other uses are
    /// derived (the same on every instance configured with this key).
    pub(super) seed: Zeroizing<[u8; 32]>,
}

/// The seed of [`KeyRing::derive_secret`](super::KeyRing::derive_secret): never the key itself, nothing the key
/// can be recovered from.
pub(super) fn seed_of(material: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(
        Sha256::new()
            .chain_update(b"jwt-guard derived secrets\0")
            .chain_update(material)
            .finalize()
            .into(),
    )
}
