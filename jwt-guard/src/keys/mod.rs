//! Signing and verification keys, chosen by `kid`, and their public JWKS.

//!
//! In two rooms beside this one: why a key cannot be loaded (`error`) and how
//! each is loaded from the configuration (`load`).

mod error;
mod load;
mod material;

use std::collections::HashMap;
use std::fmt;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::{JwtConfig, VerificationKeyConfig};
pub use error::KeyError;
use load::{asymmetric_signing_key, hmac_signing_key, load_verification_key, public_jwk};
use material::SigningKey;
pub(crate) use material::VerificationKey;

/// Every key jwt-guard knows: one signing key, and verification keys selected by
/// exact `kid` (the signing key's own public half among them).
///
/// Rotating keys without logging anyone out: make the new key the signing key and
/// list the old one under `verification_keys` until its last token has expired.
pub struct KeyRing {
    signing: SigningKey,
    verifying: HashMap<String, VerificationKey>,
    jwks: JwkSet,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("signing_kid", &self.signing.kid)
            .field("signing_algorithm", &self.signing.algorithm)
            .field(
                "verification_kids",
                &self.verifying.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl KeyRing {
    /// Builds the ring from configuration, checking every key: present, readable,
    /// of the type the algorithm needs, and (for HMAC) long enough.
    pub fn from_config(config: &JwtConfig) -> Result<Self, KeyError> {
        let (signing, own) = if config.algorithm.family() == AlgorithmFamily::Hmac {
            hmac_signing_key(config)?
        } else {
            asymmetric_signing_key(config)?
        };
        let mut ring = Self {
            signing,
            verifying: HashMap::new(),
            jwks: JwkSet { keys: Vec::new() },
        };
        ring.add_verifier(ring.signing.kid.clone(), own.key, own.public);
        for (i, extra) in config.verification_keys.iter().enumerate() {
            ring.add_extra(config, i, extra)?;
        }
        ring.self_test()?;
        Ok(ring)
    }

    /// Adds a key that verifies tokens carrying `kid`, published in the JWKS
    /// when `public` is given.
    fn add_verifier(&mut self, kid: String, key: VerificationKey, public: Option<Jwk>) {
        if let Some(jwk) = public {
            self.jwks.keys.push(public_jwk(jwk, &kid));
        }
        self.verifying.insert(kid, key);
    }

    /// Adds the `i`th of `jwt.verification_keys`: an older key of the app's own
    /// (published), or another party's (verified with, never published as ours).
    fn add_extra(
        &mut self,
        config: &JwtConfig,
        i: usize,
        extra: &VerificationKeyConfig,
    ) -> Result<(), KeyError> {
        let setting = format!("jwt.verification_keys[{i}] (kid `{}`)", extra.kid);
        if self.verifying.contains_key(&extra.kid) {
            return Err(KeyError::DuplicateKid {
                setting,
                kid: extra.kid.clone(),
            });
        }
        let (key, jwk) = load_verification_key(&setting, extra)?;
        let anothers = extra
            .issuer
            .as_ref()
            .is_some_and(|iss| Some(iss) != config.issuer.as_ref());
        let key = VerificationKey {
            algorithm: extra.algorithm,
            key,
            issuer: extra.issuer.clone(),
        };
        self.add_verifier(extra.kid.clone(), key, jwk.filter(|_| !anothers));
        Ok(())
    }

    /// Signs and verifies a probe so that a key pair that does not match its
    /// algorithm (say a P-384 key under ES256) stops launch instead of every request.
    fn self_test(&self) -> Result<(), KeyError> {
        let algorithm = self.signing.algorithm;
        let failed = |source| KeyError::SelfTest { algorithm, source };
        let mut header = jsonwebtoken::Header::new(algorithm);
        header.kid = Some(self.signing.kid.clone());
        let claims = serde_json::json!({ "exp": u64::MAX / 2, "probe": true });
        let token = jsonwebtoken::encode(&header, &claims, &self.signing.key).map_err(failed)?;
        // The signing key's own verification key is always in the ring.
        if let Some(key) = self.verifying.get(&self.signing.kid) {
            let validation = jsonwebtoken::Validation::new(algorithm);
            jsonwebtoken::decode::<serde_json::Value>(&token, &key.key, &validation)
                .map_err(failed)?;
        }
        Ok(())
    }

    /// A 32-byte secret for `purpose`, derived from the signing key: the same on
    /// every instance with this key, different for every purpose, and revealing
    /// nothing about the key.
    pub(crate) fn derive_secret(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(
            Sha256::new()
                .chain_update(*self.signing.seed)
                .chain_update(purpose.as_bytes())
                .finalize()
                .into(),
        )
    }

    /// The `kid` new tokens carry.
    pub fn signing_kid(&self) -> &str {
        &self.signing.kid
    }

    /// The algorithm new tokens are signed with.
    pub fn signing_algorithm(&self) -> Algorithm {
        self.signing.algorithm
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.signing.key
    }

    /// The verification key for `kid`; a token without `kid` is checked against
    /// the signing key.
    pub(crate) fn verification_key(&self, kid: Option<&str>) -> Option<&VerificationKey> {
        self.verifying.get(kid.unwrap_or(&self.signing.kid))
    }

    /// Every verification `kid` with the algorithm bound to it.
    pub fn kids(&self) -> impl Iterator<Item = (&str, Algorithm)> {
        self.verifying
            .iter()
            .map(|(kid, key)| (kid.as_str(), key.algorithm))
    }

    /// Public keys as a JWKS (RFC 7517). Empty when every key is an HMAC secret:
    /// secrets are never published.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}
