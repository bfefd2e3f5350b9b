//! Authentication failures and their RFC 6750 responses, in four rooms: the
//! failure value ([`AuthError`]), its challenges, how a request's failure is
//! recorded and written, and the one table of which failure answers what
//! (`from`), fed by the crate's typed rejections.

// The one table: the only place in the crate where a status and a text are
// picked (`clippy.toml` refuses these constructors everywhere else).
#![allow(clippy::disallowed_methods)]

mod challenge;
mod failure;
mod from;
mod record;
mod rejection;

pub(crate) use challenge::Realm;
pub use failure::{AuthError, ErrorCode, RETRY_AFTER_SECS};
pub(crate) use record::{fail, finish_failed_response, RecordedFailure};
pub(crate) use rejection::Rejection;
