//! The request and response headers jwt-guard reads or writes besides
//! `Authorization`, each named once.

/// The header carrying a device's permanent token, read by the device refresh
/// route only (drf-jwt-devices).
pub const PERMANENT_TOKEN_HEADER: &str = "Permanent-Token";

/// The header naming a device model at login (as drf-jwt-devices).
pub const DEVICE_MODEL_HEADER: &str = "X-Device-Model";

/// The header naming the device to log out on `DELETE /auth/device-logout`.
pub const DEVICE_ID_HEADER: &str = "Device-Id";

/// The request header carrying a DPoP proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "DPoP";

/// The header a server-provided DPoP nonce comes in (RFC 9449 §8.1).
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";
