//! What a session step answers — a new session ([`LoginResponse`]), a device's
//! new access ([`DeviceAccess`]) — and why one was refused ([`SessionError`]).

use serde::{Deserialize, Serialize};
use std::error::Error as StdError;

use crate::dpop::DpopRefusal;
use crate::signer::TokenPair;
use crate::store::{CreateDeviceError, LinkDenial, PermanentRotateError, RotateError};
use crate::verifier::VerifyError;

/// What [`DeviceSession::issue_access`](crate::DeviceSession::issue_access) hands
/// out, ready to answer: a new access token and the device's next permanent token
/// (the presented one is now superseded).
#[derive(Serialize, Deserialize, Debug, Clone, schemars::JsonSchema)]
#[non_exhaustive]
pub struct DeviceAccess {
    /// The new access token (`refresh` is absent: a device refreshes with its
    /// permanent token).
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// The device.
    pub device_id: String,
    /// The device's next permanent token, shown this once; only its digest is kept.
    /// Absent when it went back into the cookie it came in (a browser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_token: Option<String>,
    /// When the device expires unless used again (never past its absolute lifetime).
    pub device_expires_at: u64,
    /// The presented permanent token came in a cookie: the next one goes back there.
    #[serde(skip)]
    pub(crate) via_cookie: bool,
}

/// A new session: a token pair and the new device.
#[derive(Serialize, Deserialize, Debug, Clone, schemars::JsonSchema)]
#[non_exhaustive]
pub struct LoginResponse {
    /// Access and refresh tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// The device this login created.
    pub device_id: String,
    /// The device's permanent token, shown this once; only its digest is stored.
    /// Absent when it was set as an `HttpOnly` cookie instead (a browser in cookie
    /// mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_token: Option<String>,
    /// A password login's known-device credential: send it back in a
    /// `Device-Cookie` header on later logins, and guessing by others never locks
    /// this client out (see `login_throttle`). Absent when it was set as an
    /// `HttpOnly` cookie instead, and for other kinds of session start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_cookie: Option<String>,
}

/// Why a session step (start, refresh, device access) was refused or could not be
/// done. Each refusal is its own variant; an outage keeps its cause. The HTTP
/// edge's one conversion table (`error/from.rs`) says what each answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SessionError {
    /// The subject is at `max_devices` and the policy is to reject.
    #[error("the subject already has the most devices allowed")]
    DeviceCap,
    /// The login link could not be used; nothing was stored.
    #[error("the login link cannot be used: {}", .0.as_str())]
    Link(LinkDenial),
    /// The presented token does not verify.
    #[error("the token is not valid")]
    Token(#[from] VerifyError),
    /// The refresh window since the original login has passed.
    #[error("the refresh window since login has passed")]
    WindowPassed,
    /// The token's user no longer exists.
    #[error("the token's user no longer exists")]
    UserGone,
    /// The refresh token is unknown, revoked, or its device is gone.
    #[error("the refresh token is not current")]
    NotCurrent,
    /// The refresh token was already rotated: reuse. Its device has been revoked.
    #[error("the refresh token was already used; its device has been revoked")]
    Reused,
    /// The permanent token was already rotated: reuse. Its device has been revoked.
    #[error("the permanent token was already used; its device has been revoked")]
    PermanentReused,
    /// The permanent token is no longer any device's (signed out or removed).
    #[error("the permanent token is not current")]
    PermanentNotCurrent,
    /// The device expired; it has been removed.
    #[error("the device has expired")]
    DeviceExpired,
    /// The DPoP proof was refused (RFC 9449), or the session it continues is
    /// bound to another key: the answer is the refusal's own.
    #[error("the DPoP proof was refused")]
    Proof(#[source] DpopRefusal),
    /// The application's claims cannot be written as JSON (a bug of the app's
    /// claims type, answered `500`); nothing was changed.
    #[error("the application's claims cannot be written as JSON")]
    Claims(#[source] serde_json::Error),
    /// Storage, the user store or the signer failed; nothing was changed.
    #[error("a session step could not be completed")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
}

impl SessionError {
    /// An outage with its cause.
    pub(crate) fn unavailable(cause: impl StdError + Send + Sync + 'static) -> Self {
        SessionError::Unavailable(Box::new(cause))
    }
}

impl From<DpopRefusal> for SessionError {
    fn from(e: DpopRefusal) -> Self {
        SessionError::Proof(e)
    }
}

impl From<CreateDeviceError> for SessionError {
    fn from(e: CreateDeviceError) -> Self {
        match e {
            CreateDeviceError::CapReached => SessionError::DeviceCap,
            CreateDeviceError::Link(denial) => SessionError::Link(denial),
            CreateDeviceError::Store(e) => e.into(),
        }
    }
}

impl From<RotateError> for SessionError {
    fn from(e: RotateError) -> Self {
        match e {
            RotateError::Invalid => SessionError::NotCurrent,
            RotateError::Reused => SessionError::Reused,
            RotateError::Store(e) => e.into(),
        }
    }
}

impl From<PermanentRotateError> for SessionError {
    fn from(e: PermanentRotateError) -> Self {
        match e {
            PermanentRotateError::Reused => SessionError::PermanentReused,
            PermanentRotateError::NotCurrent => SessionError::PermanentNotCurrent,
            PermanentRotateError::Expired => SessionError::DeviceExpired,
            PermanentRotateError::Store(e) => e.into(),
        }
    }
}
