#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[allow(unused_extern_crates)] // lets the crate's own tests and docs use its macros
extern crate self as jwt_guard;

mod background;
mod cache;
mod claims;
mod client;
mod clock;
pub mod config;
mod cookies;
mod device;
mod duration;
mod error;
mod fairing;
mod guard;
mod issuer;
pub mod issuers;
pub mod keys;
mod link;
pub mod manifest;
mod policy;
mod private_response;
mod request;
pub mod revocation;
pub mod routes;
mod runtime;
pub mod secret;
pub mod session;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;
pub mod verifier;

// What a handler author uses; the rest lives in the modules above.
pub use claims::{
    Claims, NestedRoles, NoClaims, RegisteredClaims, Scopes, StandardClaims, Token, TokenKind,
    REGISTERED_CLAIM_NAMES,
};
pub use client::DEVICE_MODEL_HEADER;
pub use clock::Clock;
pub use config::JwtConfig;
pub use device::{DeviceSession, PERMANENT_TOKEN_HEADER};
pub use duration::HumanDuration;
pub use error::{AuthError, ErrorCode, RETRY_AFTER_SECS};
pub use fairing::JwtGuard;
pub use guard::Jwt;
pub use issuer::{Grant, IssueError, IssuedToken, Issuer, TokenPair};
pub use link::{
    DefaultLinkPages, DeliveryError, DevOutbox, LinkError, LinkMailer, LinkMessage, LinkPage,
    LinkPages, LinkUse, Links, MintOptions, MintedLink, SentLink, DEFAULT_CSP, DEV_OUTBOX_CAPACITY,
    LINK_TOKEN_PARAM,
};
pub use runtime::{JwtRuntime, SetupError};
pub use session::{Authenticator, DeviceAccess, LoginResponse, Principal, Unavailable};
pub use store::JwtDb;
pub use throttle::LoginThrottle;

/// Re-exported so applications need not depend on it to name algorithms.
pub use jsonwebtoken::Algorithm;

pub use jwt_guard_macros::{expiring_link, permanent_refresh, public, use_jwt, Claims};

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
    pub use crate::link::{LinkGuard, LinkTarget};
    pub use crate::manifest::{DeclaredRoute, Protection};
    pub use crate::policy::{has_role, has_role_named, has_scope, Denied, Policy};
    pub use core;
    pub use inventory;
    pub use rocket;
    pub use serde;
}
