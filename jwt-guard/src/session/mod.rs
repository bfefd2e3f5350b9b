//! Sessions, in three rooms: the application's user store as jwt-guard sees it
//! (`authenticator`), what a session step answers and why it refuses
//! (`outcome`), and the steps themselves (`steps`: start, refresh, device access).

mod authenticator;
mod outcome;
mod steps;

pub(crate) use authenticator::{claims_json, AppAuthenticator};
pub use authenticator::{Authenticator, Principal, UserStoreUnavailable};
pub(crate) use outcome::SessionError;
pub use outcome::{DeviceAccess, LoginResponse};
#[cfg(feature = "passkeys")]
pub(crate) use steps::StepUp;
pub(crate) use steps::{
    issue_device_access, open_session, refresh_session, verify_refresh, SessionOrigin,
};
