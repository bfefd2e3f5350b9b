//! New signing keys: PKCS#8 PEM from aws-lc-rs (the crypto jsonwebtoken already
//! uses here), or a random HMAC secret.

use aws_lc_rs::encoding::AsDer;
use base64::Engine as _;
use rand::RngCore;

use crate::args::KeyAlgorithm;
use crate::error::CliError;

/// A new key for `alg`: PEM text, or a base64url secret for HMAC.
pub(crate) fn generate(alg: KeyAlgorithm) -> Result<String, CliError> {
    use KeyAlgorithm::*;
    let pkcs8: Vec<u8> = match alg {
        HS256 | HS384 | HS512 => {
            let mut secret = [0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            return Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        }
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => {
            let failed = |_| CliError::KeyGeneration("RSA");
            let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(failed)?;
            let der = key.as_der().map_err(failed)?;
            der.as_ref().to_vec()
        }
        ES256 | ES384 => {
            let failed = |_| CliError::KeyGeneration("ECDSA");
            let curve = if alg == ES256 {
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let key = aws_lc_rs::signature::EcdsaKeyPair::generate(curve).map_err(failed)?;
            key.to_pkcs8v1().map_err(failed)?.as_ref().to_vec()
        }
        EdDSA => {
            let failed = |_| CliError::KeyGeneration("Ed25519");
            let key = aws_lc_rs::signature::Ed25519KeyPair::generate().map_err(failed)?;
            key.to_pkcs8v1().map_err(failed)?.as_ref().to_vec()
        }
    };
    Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8)))
}

/// Writes `text` to `path`, readable by its owner only.
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| CliError::KeyFile {
        action: "create",
        path: path.display().to_string(),
        source,
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|source| CliError::KeyFile {
            action: "write",
            path: path.display().to_string(),
            source,
        })
}
