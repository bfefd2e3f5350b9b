//! Signing and verification keys, chosen by `kid`, and their public JWKS.

use std::collections::HashMap;
use std::fmt;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::{JwtConfig, VerificationKeyConfig};
use crate::secret::SecretText;

/// Why a key could not be loaded. Reported at launch, never at request time; the
/// message names the setting and never contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A required setting is missing.
    #[error("{setting} is missing; {algorithm:?} needs {needs}")]
    Missing {
        /// The setting, e.g. `jwt.secret`.
        setting: String,
        /// The algorithm that needs it.
        algorithm: Algorithm,
        /// What it needs, e.g. "a secret of at least 32 bytes".
        needs: String,
    },
    /// Two settings that say the same thing are both set: keep one.
    #[error("{} and {} are both set; keep one of them", settings.0, settings.1)]
    Conflict {
        /// The two settings.
        settings: (&'static str, &'static str),
    },
    /// A setting that does not belong to the algorithm is set.
    #[error("{setting} is set but the algorithm is {algorithm:?}, which uses {instead}")]
    Misplaced {
        /// The setting that should not be there.
        setting: String,
        /// The configured algorithm.
        algorithm: Algorithm,
        /// The setting that algorithm uses.
        instead: &'static str,
    },
    /// An HMAC secret is shorter than its hash.
    #[error("{setting} is {len} bytes; {algorithm:?} needs a secret of at least {min} bytes")]
    SecretTooShort {
        /// The setting.
        setting: String,
        /// Its length.
        len: usize,
        /// The algorithm.
        algorithm: Algorithm,
        /// The least length.
        min: usize,
    },
    /// A key file could not be read.
    #[error("{setting}: cannot read {what} file `{path}`")]
    Unreadable {
        /// The setting.
        setting: String,
        /// What the file holds: "PEM", "secret".
        what: &'static str,
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key is not of the kind the algorithm needs, or does not fit it.
    #[error("{setting} is not a {family} key in PEM form for {algorithm:?}")]
    WrongKey {
        /// The setting.
        setting: String,
        /// What kind of key was expected, e.g. "RSA private".
        family: String,
        /// The algorithm.
        algorithm: Algorithm,
        /// What the key parser reported.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// Two keys carry one `kid`.
    #[error("{setting}: kid `{kid}` is used twice")]
    DuplicateKid {
        /// The setting.
        setting: String,
        /// The repeated `kid`.
        kid: String,
    },
    /// The signing key failed to sign and verify a probe with its algorithm.
    #[error("the jwt signing key does not work with {algorithm:?}")]
    SelfTest {
        /// The algorithm.
        algorithm: Algorithm,
        /// What failed.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

/// A key that verifies tokens of exactly one algorithm (and, if it belongs to
/// another party, of one issuer).
pub(crate) struct VerificationKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
    pub(crate) issuer: Option<String>,
}

/// The key tokens are signed with.
struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    /// A digest of the key material, from which secrets of other uses are
    /// derived (the same on every instance configured with this key).
    seed: Zeroizing<[u8; 32]>,
}

/// The seed of [`KeyRing::derive_secret`]: never the key itself, nothing the key
/// can be recovered from.
fn seed_of(material: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(
        Sha256::new()
            .chain_update(b"jwt-guard derived secrets\0")
            .chain_update(material)
            .finalize()
            .into(),
    )
}

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

fn min_secret_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

/// Reads PEM text given inline or as a path. Text that looks like key material is
/// never echoed into an error, even when it is malformed.
fn read_pem(setting: &str, value: &str) -> Result<Vec<u8>, KeyError> {
    if value.trim_start().starts_with("-----BEGIN") {
        return Ok(value.as_bytes().to_vec());
    }
    let looks_inline = value.contains("-----") || value.contains('\n') || value.len() > 1024;
    std::fs::read(value).map_err(|source| KeyError::Unreadable {
        what: "PEM",
        setting: setting.to_owned(),
        path: if looks_inline {
            "<inline key material, not a PEM block>".to_owned()
        } else {
            value.to_owned()
        },
        source,
    })
}

fn family_name(algorithm: Algorithm) -> &'static str {
    match algorithm.family() {
        AlgorithmFamily::Hmac => "HMAC secret",
        AlgorithmFamily::Rsa => "RSA",
        AlgorithmFamily::Ec => "EC",
        AlgorithmFamily::Ed => "Ed25519",
    }
}

/// The secret in `path`, without a trailing line break (files written by editors
/// and `echo` end with one).
fn read_secret_file(path: &str) -> Result<SecretText, KeyError> {
    use zeroize::Zeroize as _;
    let mut text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
        setting: "jwt.secret_file".into(),
        what: "secret",
        path: path.to_owned(),
        source,
    })?;
    let secret = SecretText::new(text.trim_end_matches(['\n', '\r']));
    text.zeroize();
    Ok(secret)
}

fn hmac_secret(setting: &str, algorithm: Algorithm, secret: &str) -> Result<(), KeyError> {
    let min = min_secret_len(algorithm);
    if secret.len() < min {
        return Err(KeyError::SecretTooShort {
            setting: setting.to_owned(),
            len: secret.len(),
            algorithm,
            min,
        });
    }
    Ok(())
}

fn wrong_key(
    setting: &str,
    algorithm: Algorithm,
    kind: &str,
) -> impl FnOnce(jsonwebtoken::errors::Error) -> KeyError {
    let setting = setting.to_owned();
    let family = format!("{} {kind}", family_name(algorithm));
    move |source| KeyError::WrongKey {
        setting,
        family,
        algorithm,
        source,
    }
}

/// The signing key's own verification key, and its public JWK (none for HMAC).
struct OwnVerifier {
    key: VerificationKey,
    public: Option<Jwk>,
}

/// The HMAC signing key: `jwt.secret` or `jwt.secret_file` (exactly one), long
/// enough for the algorithm; its `kid` is configured or derived from the secret.
fn hmac_signing_key(config: &JwtConfig) -> Result<(SigningKey, OwnVerifier), KeyError> {
    let algorithm = config.algorithm;
    if config.private_key.is_some() {
        return Err(KeyError::Misplaced {
            setting: "jwt.private_key".into(),
            algorithm,
            instead: "jwt.secret",
        });
    }
    let from_file = match (&config.secret, &config.secret_file) {
        (Some(_), Some(_)) => {
            return Err(KeyError::Conflict {
                settings: ("jwt.secret", "jwt.secret_file"),
            })
        }
        (None, Some(path)) => Some(read_secret_file(path)?),
        _ => None,
    };
    let (setting, secret) = match (&from_file, &config.secret) {
        (Some(secret), _) => ("jwt.secret_file", secret.expose()),
        (None, Some(secret)) => ("jwt.secret", secret.expose()),
        (None, None) => {
            return Err(KeyError::Missing {
                setting: "jwt.secret".into(),
                algorithm,
                needs: format!(
                    "a secret of at least {} bytes (or jwt.secret_file)",
                    min_secret_len(algorithm)
                ),
            })
        }
    };
    hmac_secret(setting, algorithm, secret)?;
    let kid = match &config.kid {
        Some(kid) => kid.clone(),
        None => {
            // Deterministic across instances, and reveals nothing about the secret.
            let digest = Sha256::new()
                .chain_update(b"jwt-guard kid\0")
                .chain_update(secret.as_bytes())
                .finalize();
            digest[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let own = OwnVerifier {
        key: VerificationKey {
            algorithm,
            key: DecodingKey::from_secret(secret.as_bytes()),
            issuer: None,
        },
        public: None,
    };
    let signing = SigningKey {
        kid,
        algorithm,
        key: EncodingKey::from_secret(secret.as_bytes()),
        seed: seed_of(secret.as_bytes()),
    };
    Ok((signing, own))
}

/// The RSA, EC or Ed25519 signing key of `jwt.private_key`; its `kid` is
/// configured or its RFC 7638 thumbprint, and its public half goes in the JWKS.
fn asymmetric_signing_key(config: &JwtConfig) -> Result<(SigningKey, OwnVerifier), KeyError> {
    let algorithm = config.algorithm;
    if config.secret.is_some() {
        return Err(KeyError::Misplaced {
            setting: "jwt.secret".into(),
            algorithm,
            instead: "jwt.private_key",
        });
    }
    let source = config
        .private_key
        .as_ref()
        .map(|s| s.expose())
        .ok_or_else(|| KeyError::Missing {
            setting: "jwt.private_key".into(),
            algorithm,
            needs: format!("a {} private key in PEM form", family_name(algorithm)),
        })?;
    let pem = Zeroizing::new(read_pem("jwt.private_key", source)?);
    let not_private = || wrong_key("jwt.private_key", algorithm, "private");
    let key = match algorithm.family() {
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(&pem),
        AlgorithmFamily::Ec => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_ed_pem(&pem),
    }
    .map_err(not_private())?;
    let jwk = Jwk::from_encoding_key(&key, algorithm).map_err(not_private())?;
    let kid = match &config.kid {
        Some(kid) => kid.clone(),
        None => jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(not_private())?,
    };
    let own = OwnVerifier {
        key: VerificationKey {
            algorithm,
            key: DecodingKey::from_jwk(&jwk).map_err(not_private())?,
            issuer: None,
        },
        public: Some(jwk),
    };
    let signing = SigningKey {
        kid,
        algorithm,
        key,
        seed: seed_of(&pem),
    };
    Ok((signing, own))
}

fn public_jwk(mut jwk: Jwk, kid: &str) -> Jwk {
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk
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

fn load_verification_key(
    setting: &str,
    config: &VerificationKeyConfig,
) -> Result<(DecodingKey, Option<Jwk>), KeyError> {
    let algorithm = config.algorithm;
    if algorithm.family() == AlgorithmFamily::Hmac {
        if config.public_key.is_some() {
            return Err(KeyError::Misplaced {
                setting: format!("{setting}.public_key"),
                algorithm,
                instead: "secret",
            });
        }
        let secret =
            config
                .secret
                .as_ref()
                .map(|s| s.expose())
                .ok_or_else(|| KeyError::Missing {
                    setting: format!("{setting}.secret"),
                    algorithm,
                    needs: format!("a secret of at least {} bytes", min_secret_len(algorithm)),
                })?;
        hmac_secret(&format!("{setting}.secret"), algorithm, secret)?;
        return Ok((DecodingKey::from_secret(secret.as_bytes()), None));
    }
    if config.secret.is_some() {
        return Err(KeyError::Misplaced {
            setting: format!("{setting}.secret"),
            algorithm,
            instead: "public_key",
        });
    }
    let source = config
        .public_key
        .as_deref()
        .ok_or_else(|| KeyError::Missing {
            setting: format!("{setting}.public_key"),
            algorithm,
            needs: format!("a {} public key in PEM form", family_name(algorithm)),
        })?;
    let pem = read_pem(setting, source)?;
    let key = match algorithm.family() {
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(&pem),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(&pem),
        _ => DecodingKey::from_ed_pem(&pem),
    }
    .map_err(wrong_key(setting, algorithm, "public"))?;
    let jwk = Jwk::from_decoding_key(&key, Some(algorithm))
        .map_err(wrong_key(setting, algorithm, "public"))?;
    Ok((key, Some(jwk)))
}
