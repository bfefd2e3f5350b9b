#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[allow(unused_extern_crates)] // lets the crate's own tests and docs use its macros
extern crate self as jwt_guard;

mod background;
mod cache;
mod catchers;
mod claims;
mod clock;
pub mod config;
mod cookies;
mod device;
mod device_description;
pub mod dpop;
mod duration;
mod error;
mod fairing;
mod guard;
mod header_scan;
pub mod headers;
pub mod keys;
pub mod link;
mod login;
pub mod manifest;
mod observe;
pub mod openapi;
#[cfg(feature = "passkeys")]
pub mod passkeys;
pub mod peer;
mod policy;
mod private_response;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod request;
mod response_marks;
// Public for tests and benchmarks only (`jwt_guard::testing`).
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
mod revocation_set;
pub mod routes;
pub mod runtime;
pub mod secret;
mod session;
pub mod signals;
mod signer;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;
pub mod trusted_issuers;
pub mod verifier;

// What a handler author uses. Everything else lives in the modules above, each
// item at one path.
pub use catchers::catchers;
pub use claims::{Claims, NestedRoles, NoClaims, Scopes, StandardClaims};
pub use clock::Clock;
pub use device::DeviceSession;
pub use error::{AuthError, ErrorCode, RETRY_AFTER_SECS};
pub use fairing::JwtGuard;
pub use guard::Jwt;
pub use link::guard::LinkUse;
pub use link::mint::{Links, MintedLink};
pub use login::{Sessions, Upstream};
pub use private_response::CarriesCredentials;
pub use session::{Authenticator, DeviceAccess, LoginResponse, Principal, UserStoreUnavailable};

/// Re-exported so applications need not depend on it to name algorithms.
pub use jsonwebtoken::Algorithm;

pub use jwt_guard_macros::{expiring_link, permanent_refresh, public, use_jwt, Claims};

/// Tokens: the claims every token carries, its kinds, and the signer that mints
/// the application's own ([`Issuer`](token::Issuer)). Outside issuers' tokens are
/// [`trusted_issuers`]'.
pub mod token {
    pub use crate::claims::{
        Confirmation, RegisteredClaims, Token, TokenKind, REGISTERED_CLAIM_NAMES,
    };
    pub use crate::signer::{Grant, IssueError, IssuedToken, Issuer, TokenPair};
}

/// How many cases each property test runs: `PROPTEST_CASES`, else 64 (a bounded
/// run inside `cargo test`; `PROPTEST_CASES=100000 cargo test properties` runs long).
#[cfg(test)]
pub(crate) fn test_cases() -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    proptest::test_runner::Config::with_cases(cases)
}

/// Not public API: what macro expansions refer to. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::claims::{Claims, NoRole, StandardClaims};
    pub use crate::claims::{RoleField, ScopeField, REGISTERED_CLAIM_NAMES};
    pub use crate::device::{PermanentRefresh, PermanentRoute};
    pub use crate::guard::Authorized;
    pub use crate::link::guard::LinkGuard;
    pub use crate::link::LinkTarget;
    pub use crate::manifest::{DeclaredRoute, Protection};
    pub use crate::policy::{has_role, has_role_named, has_scope, role_name, Denied, Policy};
    pub use core;
    pub use inventory;
    pub use rocket;
    pub use serde;
    pub use std::string::String;
}
