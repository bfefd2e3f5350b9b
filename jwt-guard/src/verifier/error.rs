//! Why a token was refused: one variant per failure, each with one safe
//! description, and how `jsonwebtoken`'s errors map onto them.

use jsonwebtoken::errors::ErrorKind;

use crate::claims::TokenKind;

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.description())]
#[non_exhaustive]
pub enum VerifyError {
    /// Longer than [`MAX_TOKEN_BYTES`](crate::config::MAX_TOKEN_BYTES).
    TooLarge,
    /// Not a well-formed JWS, or claims of the wrong shape.
    Malformed,
    /// The header names a `kid` no configured key has.
    UnknownKey,
    /// The header's `alg` is not the algorithm bound to the key.
    AlgorithmMismatch,
    /// The header lists `crit` extensions, none of which are supported.
    UnsupportedCritical,
    /// The signature does not verify.
    BadSignature,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future (beyond the leeway): minted by a clock that is wrong,
    /// or forged to outlive its `exp` checks.
    IssuedInFuture,
    /// A token of another kind (`typ`) was presented.
    WrongKind {
        /// The kind that was required.
        expected: TokenKind,
    },
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` is not the expected audience.
    WrongAudience,
    /// The token, its device, or its user's tokens were revoked.
    Revoked,
    /// A genuine token of the right kind whose claims do not fit the route's claims
    /// type (minted for another app, or by hand without a claim the app needs).
    ClaimsMismatch {
        /// The claims type, as named in its crate (`AppClaims`).
        claims: &'static str,
        /// What did not fit (`missing field `roles``).
        detail: std::sync::Arc<str>,
    },
}

impl VerifyError {
    /// A short description, safe to send to the client.
    pub fn description(&self) -> &'static str {
        match self {
            VerifyError::TooLarge => "token is too large",
            VerifyError::Malformed => "token is malformed",
            VerifyError::UnknownKey => "token was signed with an unknown key",
            VerifyError::AlgorithmMismatch => "token algorithm does not match its key",
            VerifyError::UnsupportedCritical => "token has unsupported critical header parameters",
            VerifyError::BadSignature => "token signature is invalid",
            VerifyError::Expired => "token has expired",
            VerifyError::IssuedInFuture => "token was issued in the future",
            VerifyError::NotYetValid => "token is not valid yet",
            VerifyError::WrongKind { expected } => match expected {
                TokenKind::Access => "an access token is required",
                TokenKind::Refresh => "a refresh token is required",
                TokenKind::Link => "a link token is required",
                TokenKind::Device => "a device credential is required",
            },
            VerifyError::WrongIssuer => "token issuer is not accepted",
            VerifyError::WrongAudience => "token audience is not accepted",
            VerifyError::Revoked => "token has been revoked",
            VerifyError::ClaimsMismatch { .. } => "the token's claims do not match the app's",
        }
    }
}

/// `C`'s name without its module path (`AppClaims`).
pub(super) fn short_type_name<C>() -> &'static str {
    let full = std::any::type_name::<C>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// What serde said about the claims, without its position in the JSON.
pub(super) fn serde_detail(e: &jsonwebtoken::errors::Error) -> String {
    let text = match e.kind() {
        ErrorKind::Json(json) => json.to_string(),
        _ => e.to_string(),
    };
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

pub(crate) fn map_error(e: &jsonwebtoken::errors::Error) -> VerifyError {
    match e.kind() {
        ErrorKind::InvalidSignature => VerifyError::BadSignature,
        ErrorKind::InvalidAlgorithm => VerifyError::AlgorithmMismatch,
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
        ErrorKind::InvalidAudience => VerifyError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => VerifyError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => VerifyError::WrongAudience,
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
        _ => VerifyError::Malformed,
    }
}
