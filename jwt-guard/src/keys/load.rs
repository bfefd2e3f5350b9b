//! Loading keys from the configuration: the signing key of each family (HMAC,
//! or RSA/EC/Ed25519 from PEM), extra verification keys, and the checks that
//! stop launch on a missing, unreadable, short or mismatched key.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::KeyError;
use super::material::{seed_of, SigningKey, VerificationKey};
use crate::config::{JwtConfig, VerificationKeyConfig};
use crate::secret::SecretText;

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
pub(super) struct OwnVerifier {
    pub(super) key: VerificationKey,
    pub(super) public: Option<Jwk>,
}

/// The HMAC signing key: `jwt.secret` or `jwt.secret_file` (exactly one), long
/// enough for the algorithm; its `kid` is configured or derived from the secret.
pub(super) fn hmac_signing_key(config: &JwtConfig) -> Result<(SigningKey, OwnVerifier), KeyError> {
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
pub(super) fn asymmetric_signing_key(
    config: &JwtConfig,
) -> Result<(SigningKey, OwnVerifier), KeyError> {
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

pub(super) fn public_jwk(mut jwk: Jwk, kid: &str) -> Jwk {
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk
}

pub(super) fn load_verification_key(
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
