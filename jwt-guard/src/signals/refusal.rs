//! Why a logout token or a security event was refused, and the two answers the
//! standards give for it: OpenID Connect Back-Channel Logout 1.0 §2.8 and RFC
//! 8935 §2.3/§2.4.

use rocket::http::{Header, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::Request;
use serde_json::json;

use crate::verifier::VerifyError;

/// Why a signal was refused. Nothing is ended for a refused signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignalRefusal {
    /// No body, a body of another type, or no `logout_token` in the form.
    #[error("the request carries no token")]
    NoToken,
    /// Longer than a token may be.
    #[error("the token is too large")]
    TooLarge,
    /// Encrypted (JWE): not accepted.
    #[error("encrypted tokens are not accepted")]
    Encrypted,
    /// Not a signed JWT with the claims it must have in the right types.
    #[error("the token is malformed")]
    Malformed,
    /// Its header `typ` is not the one its kind must carry.
    #[error("the token's typ is not accepted here")]
    WrongType,
    /// Its `iss` is not this issuer.
    #[error("the token's issuer is not this one")]
    WrongIssuer,
    /// Signed with a key the issuer does not publish, or with an algorithm not
    /// configured.
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// Its `aud` is not this app.
    #[error("the token's audience is not this app")]
    WrongAudience,
    /// Its `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// Its `iat` is in the future.
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// Its `iat` is older than `max_age` (even without `exp`).
    #[error("the token is too old")]
    Stale,
    /// No `iat`.
    #[error("the token has no iat")]
    MissingIat,
    /// No `jti`.
    #[error("the token has no jti")]
    MissingJti,
    /// No `events` claim, or not the event its kind must carry.
    #[error("the token carries no event it should")]
    MissingEvents,
    /// A logout token with neither `sub` nor `sid` (§2.4).
    #[error("the logout token has neither sub nor sid")]
    MissingSubject,
    /// A logout token with a `nonce` (§2.4: it must not have one, so an ID token
    /// cannot pass as one).
    #[error("the logout token carries a nonce")]
    NonceForbidden,
    /// Its `jti` was received before.
    #[error("the token was received before (jti)")]
    Replayed,
    /// A push without the transmitter's bearer credential (RFC 8935 §2).
    #[error("the push is not authenticated")]
    NotAuthenticated,
}

impl SignalRefusal {
    /// The refusal a verification error stands for.
    pub(crate) fn of(e: &VerifyError) -> Self {
        match e {
            VerifyError::TooLarge => SignalRefusal::TooLarge,
            VerifyError::UnknownKey | VerifyError::AlgorithmMismatch => SignalRefusal::UnknownKey,
            VerifyError::BadSignature => SignalRefusal::BadSignature,
            VerifyError::Expired => SignalRefusal::Expired,
            VerifyError::IssuedInFuture | VerifyError::NotYetValid => SignalRefusal::IssuedInFuture,
            VerifyError::WrongIssuer => SignalRefusal::WrongIssuer,
            VerifyError::WrongAudience => SignalRefusal::WrongAudience,
            _ => SignalRefusal::Malformed,
        }
    }

    /// Its short name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalRefusal::NoToken => "no_token",
            SignalRefusal::TooLarge => "too_large",
            SignalRefusal::Encrypted => "encrypted",
            SignalRefusal::Malformed => "malformed",
            SignalRefusal::WrongType => "wrong_type",
            SignalRefusal::WrongIssuer => "wrong_issuer",
            SignalRefusal::UnknownKey => "unknown_key",
            SignalRefusal::BadSignature => "bad_signature",
            SignalRefusal::WrongAudience => "wrong_audience",
            SignalRefusal::Expired => "expired",
            SignalRefusal::IssuedInFuture => "issued_in_future",
            SignalRefusal::Stale => "stale",
            SignalRefusal::MissingIat => "missing_iat",
            SignalRefusal::MissingJti => "missing_jti",
            SignalRefusal::MissingEvents => "missing_events",
            SignalRefusal::MissingSubject => "missing_subject",
            SignalRefusal::NonceForbidden => "nonce",
            SignalRefusal::Replayed => "replayed",
            SignalRefusal::NotAuthenticated => "not_authenticated",
        }
    }

    /// RFC 8935 §2.4's error code.
    pub fn set_error_code(self) -> &'static str {
        match self {
            SignalRefusal::WrongIssuer => "invalid_issuer",
            SignalRefusal::WrongAudience => "invalid_audience",
            SignalRefusal::UnknownKey => "invalid_key",
            SignalRefusal::NotAuthenticated => "authentication_failed",
            _ => "invalid_request",
        }
    }
}

/// A refusal answered as Back-Channel Logout 1.0 §2.8 says: `400` with an OAuth
/// error body (`invalid_request`) and `Cache-Control: no-store`.
pub(crate) struct LogoutRefused(pub(crate) SignalRefusal);

impl<'r> Responder<'r, 'static> for LogoutRefused {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body = json!({
            "error": "invalid_request",
            "error_description": self.0.to_string(),
        });
        let mut res = Json(body).respond_to(req)?;
        res.set_status(Status::BadRequest);
        res.set_header(Header::new("Cache-Control", "no-store"));
        Ok(res)
    }
}

/// A refusal answered as RFC 8935 §2.3 says: `400` with `err` (§2.4) and
/// `description`; a push without the transmitter's credential `401` with a
/// `Bearer` challenge (RFC 6750 §3) and `authentication_failed`.
pub(crate) struct PushRefused(pub(crate) SignalRefusal);

impl<'r> Responder<'r, 'static> for PushRefused {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body = json!({
            "err": self.0.set_error_code(),
            "description": self.0.to_string(),
        });
        let mut res = Json(body).respond_to(req)?;
        res.set_header(Header::new("Cache-Control", "no-store"));
        if self.0 == SignalRefusal::NotAuthenticated {
            res.set_status(Status::Unauthorized);
            res.set_header(Header::new("WWW-Authenticate", "Bearer"));
        } else {
            res.set_status(Status::BadRequest);
        }
        Ok(res)
    }
}
