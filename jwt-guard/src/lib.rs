#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[allow(unused_extern_crates)] // lets the crate's own tests and docs use its macros
extern crate self as jwt_guard;

mod cache;
mod claims;
mod clock;
mod config;
mod db;
mod device;
mod devices_api;
mod duration;
mod endpoints;
mod error;
mod fairing;
mod guard;
mod issuer;
mod keys;
mod link;
mod policy;
mod revocation;
mod runtime;
mod secret;
mod store;
mod verifier;

pub use claims::{
    Claims, NoClaims, NoRole, RegisteredClaims, Scopes, StandardClaims, Token, TokenKind,
};
pub use clock::Clock;
pub use config::{JwtConfig, VerificationKeyConfig, MAX_LEEWAY_SECS, MAX_TOKEN_BYTES};
pub use db::{Backend, JwtDb, JwtPool};
pub use device::{
    describe_device, DeviceSession, PermanentRoute, DEVICE_MODEL_HEADER, PERMANENT_TOKEN_HEADER,
};
pub use devices_api::{
    device_routes, DeviceView, ExpireResponse, LogoutResponse, DEVICE_ID_HEADER,
};
pub use duration::{parse_duration, DurationError, HumanDuration};
pub use endpoints::{
    routes, Authenticator, LoginRequest, LoginResponse, Principal, RefreshRequest, VerifyRequest,
    VerifyResponse, MAX_CREDENTIAL_BYTES,
};
pub use error::{AuthError, ErrorCode};
pub use fairing::JwtGuard;
pub use guard::{Authorized, Jwt};
pub use issuer::{Grant, IssueError, IssuedToken, Issuer, TokenPair};
pub use keys::{KeyError, KeyRing};
pub use link::{LinkError, LinkUse, Links, MintOptions, MintedLink, LINK_TOKEN_PARAM};
pub use policy::{Denied, Policy};
pub use revocation::RevocationSet;
pub use runtime::JwtRuntime;
pub use secret::{PermanentToken, TokenDigest, PERMANENT_TOKEN_PREFIX};
pub use store::{
    ArchiveReport, AuditEvent, AuditRecord, CapPolicy, CreateDeviceError, DeviceRecord,
    LinkConsumed, LinkDenial, LinkRecord, LinkUseRecord, NewDevice, PermanentLookup,
    RevocationNotice, RotateError, Store, StoreError, StoreSettings, TokenNode, DEVICE_NAME_MAX,
    REVOCATION_CHANNEL,
};
pub use verifier::{Verifier, VerifyError};

/// Re-exported so applications need not depend on it to name algorithms.
pub use jsonwebtoken::Algorithm;

pub use jwt_guard_macros::{expiring_link, permanent_refresh, use_jwt, Claims};

/// Not public API: what macro expansions refer to. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::claims::{Claims, NoRole};
    pub use crate::claims::{RoleField, ScopeField, REGISTERED_CLAIM_NAMES};
    pub use crate::device::{PermanentRefresh, PermanentRoute};
    pub use crate::guard::Authorized;
    pub use crate::link::{LinkGuard, LinkTarget};
    pub use crate::policy::{has_role, has_role_named, has_scope, Denied, Policy};
    pub use core;
    pub use rocket;
    pub use serde;
}
