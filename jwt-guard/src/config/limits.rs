//! The hard limits every table's checks share.

/// Largest token, in bytes, that jwt-guard will look at. Longer ones are refused
/// before any base64 or JSON parsing happens.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Largest leeway accepted for `exp`/`nbf` checks.
pub const MAX_LEEWAY_SECS: u64 = 60;
