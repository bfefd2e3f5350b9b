//! One DPoP proof, checked (RFC 9449 §4.3): everything but the replay check
//! (which needs the cache) and the comparison with a token's `cnf.jkt` (which
//! needs the token); each check cites its number in §4.3's list.

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use jwt_guard_grammar::is_token68;

use super::nonce::Nonces;

/// Largest `DPoP` header read, in bytes (an RSA-4096 key and the claims fit).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Longest proof `jti` accepted, in bytes.
pub const MAX_JTI_BYTES: usize = 256;

/// What a valid proof says, once every check has passed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key (base64url): what a
    /// bound token's `cnf.jkt` names.
    pub jkt: String,
    /// The proof's unique id.
    pub jti: String,
    /// When the client made it.
    pub iat: u64,
}

/// Why a proof was refused. Each is a check of RFC 9449 §4.3; the message is what
/// the client is told (`error_description`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Check 1: more than one `DPoP` header.
    #[error("more than one DPoP header was sent")]
    SeveralHeaders,
    /// Check 2: not one well-formed compact JWT, or too large.
    #[error("the DPoP header is not a well-formed JWT")]
    Malformed,
    /// Check 4: `typ` is not `dpop+jwt`.
    #[error("the proof's typ must be dpop+jwt")]
    WrongType,
    /// Check 5: `alg` is `none`, symmetric, or not accepted here.
    #[error("the proof's alg is not accepted here")]
    Algorithm,
    /// Check 6/7: no usable public `jwk`, or one that does not fit `alg`.
    #[error("the proof's jwk is missing, not a public key, or does not fit its alg")]
    Key,
    /// Check 7: the `jwk` holds private key members.
    #[error("the proof's jwk contains a private key")]
    PrivateKey,
    /// Check 6: the signature does not verify with the `jwk`.
    #[error("the proof's signature does not verify")]
    Signature,
    /// Check 3: a required claim is missing (or `jti` is too long).
    #[error("the proof lacks a valid {0} claim")]
    MissingClaim(&'static str),
    /// Check 8: `htm` is not the request's method.
    #[error("the proof's htm is not this request's method")]
    WrongMethod,
    /// Check 9: `htu` is not the request's URI.
    #[error("the proof's htu is not this request's URI")]
    WrongUri,
    /// Check 11: `iat` is outside the accepted window.
    #[error("the proof's iat is too old or in the future")]
    Stale,
    /// Check 12: `ath` is missing or is not the hash of the access token sent.
    #[error("the proof's ath does not match the access token")]
    WrongAth,
    /// Check 10: the server's nonce is required, or the one sent is not current.
    #[error("a current server nonce is required in the proof")]
    Nonce,
    /// The replay check (§11.1): this proof was already used.
    #[error("the proof was already used")]
    Replayed,
}

impl ProofError {
    /// A short fixed name of the check that failed (a metric or log label).
    pub fn reason(&self) -> &'static str {
        match self {
            ProofError::SeveralHeaders => "several_headers",
            ProofError::Malformed => "malformed",
            ProofError::WrongType => "typ",
            ProofError::Algorithm => "alg",
            ProofError::Key => "jwk",
            ProofError::PrivateKey => "private_jwk",
            ProofError::Signature => "signature",
            ProofError::MissingClaim(_) => "missing_claim",
            ProofError::WrongMethod => "htm",
            ProofError::WrongUri => "htu",
            ProofError::Stale => "iat",
            ProofError::WrongAth => "ath",
            ProofError::Nonce => "nonce",
            ProofError::Replayed => "replay",
        }
    }
}

/// What the request a proof came with says, and the local policy.
pub(crate) struct Expected<'a> {
    /// The request's method (`htm`).
    pub(crate) method: &'a str,
    /// The request's URI under each name the app answers to, normalised (`htu`,
    /// see [`super::htu::normalize`]).
    pub(crate) uris: &'a [String],
    /// The access token sent with the proof, if any (`ath`).
    pub(crate) access_token: Option<&'a str>,
    /// Accepted algorithms.
    pub(crate) algorithms: &'a [Algorithm],
    /// Now, and the window around it `iat` must fall in.
    pub(crate) now: u64,
    pub(crate) lifetime: u64,
    pub(crate) skew: u64,
    /// The server's nonces, when proofs must carry one.
    pub(crate) nonces: Option<&'a Nonces>,
}

/// The proof's payload (RFC 9449 §4.2).
#[derive(Deserialize)]
struct ProofClaims {
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    htm: Option<String>,
    #[serde(default)]
    htu: Option<String>,
    #[serde(default)]
    iat: Option<serde_json::Value>,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// The JWK members that only a private (or symmetric) key has (RFC 7518 §6).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// base64url(SHA-256(`token`)): a proof's `ath` (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of `jwk` (RSA, EC and OKP keys), base64url.
pub fn thumbprint(jwk: &Jwk) -> Option<String> {
    jwk.thumbprint(ThumbprintHash::SHA256).ok()
}

/// Whether `jwk` is a public key of the family and curve `alg` signs with.
fn key_fits(alg: Algorithm, jwk: &Jwk) -> bool {
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
            ec.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519
        }
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        _ => false,
    }
}

/// Checks `proof` against `expected`: RFC 9449 §4.3 checks 2 to 12 but the
/// token binding (the caller compares [`Proof::jkt`]) and the replay check.
pub(crate) fn check(proof: &str, expected: &Expected<'_>) -> Result<Proof, ProofError> {
    // Check 2: one compact JWS, bounded before anything is decoded.
    let proof = proof.trim();
    if proof.is_empty() || proof.len() > MAX_PROOF_BYTES || !is_token68(proof) {
        return Err(ProofError::Malformed);
    }
    let mut parts = proof.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProofError::Malformed);
    };
    let header: serde_json::Map<String, serde_json::Value> =
        crate::signer::decode_part(header).ok_or(ProofError::Malformed)?;
    // Check 4: explicitly typed (RFC 8725 §3.11), compared as a media type.
    let typ = header.get("typ").and_then(|t| t.as_str());
    if !typ.is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt")) {
        return Err(ProofError::WrongType);
    }
    // Check 5: an asymmetric algorithm of the accepted list; never `none` or a MAC.
    let alg = header
        .get("alg")
        .cloned()
        .and_then(|a| serde_json::from_value::<Algorithm>(a).ok())
        .filter(|a| expected.algorithms.contains(a))
        .filter(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        .ok_or(ProofError::Algorithm)?;
    // Check 7: the key is public — no private or symmetric member at all.
    let jwk_value = header.get("jwk").ok_or(ProofError::Key)?;
    let members = jwk_value.as_object().ok_or(ProofError::Key)?;
    if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
        return Err(ProofError::PrivateKey);
    }
    let jwk: Jwk = serde_json::from_value(jwk_value.clone()).map_err(|_| ProofError::Key)?;
    if !key_fits(alg, &jwk) {
        return Err(ProofError::Key);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| ProofError::Key)?;
    let jkt = thumbprint(&jwk).ok_or(ProofError::Key)?;
    // Check 6: the signature, by the embedded key. Times are checked below, by
    // the proof's own rules (no `exp`).
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => ProofError::Signature,
            jsonwebtoken::errors::ErrorKind::Json(_) => ProofError::MissingClaim("jti/htm/htu/iat"),
            _ => ProofError::Malformed,
        })?
        .claims;
    // Check 3: the required claims (RFC 9449 §4.2).
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_BYTES)
        .ok_or(ProofError::MissingClaim("jti"))?;
    let htm = claims.htm.ok_or(ProofError::MissingClaim("htm"))?;
    let htu = claims.htu.ok_or(ProofError::MissingClaim("htu"))?;
    let iat = claims
        .iat
        .as_ref()
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        })
        .ok_or(ProofError::MissingClaim("iat"))?;
    // Check 8: the method, exactly (RFC 9110 §9.1: methods are case-sensitive).
    if htm != expected.method {
        return Err(ProofError::WrongMethod);
    }
    // Check 9: the URI without query and fragment, both normalised.
    let named = super::htu::normalize(&htu);
    if !named.is_some_and(|uri| expected.uris.contains(&uri)) {
        return Err(ProofError::WrongUri);
    }
    // Check 10: the server's nonce, when it asks for one (§8, §9).
    if let Some(nonces) = expected.nonces {
        let current = claims.nonce.as_deref();
        if !current.is_some_and(|nonce| nonces.is_valid(nonce, expected.now)) {
            return Err(ProofError::Nonce);
        }
    }
    // Check 11: made recently (§11.1), allowing a client clock a little fast.
    let too_old = iat.saturating_add(expected.lifetime) < expected.now;
    let too_new = iat > expected.now.saturating_add(expected.skew);
    if too_old || too_new {
        return Err(ProofError::Stale);
    }
    // Check 12 (first half): bound to the access token presented with it.
    if let Some(token) = expected.access_token {
        if claims.ath.as_deref() != Some(access_token_hash(token).as_str()) {
            return Err(ProofError::WrongAth);
        }
    }
    Ok(Proof { jkt, jti, iat })
}
