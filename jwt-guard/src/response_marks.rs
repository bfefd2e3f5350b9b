//! What the response fairing must do for a request, marked while the request is
//! served: the no-store headers, a guard's failure to write out, a link use to
//! log. The marks are one request-local entry read once per response, so that a
//! response with nothing to do costs one look-up — each type a request caches is
//! an insert into its type map, and a map that outgrows its first allocation is
//! rehashed, per request.

use std::sync::atomic::{AtomicU8, Ordering};

use rocket::Request;

/// Something the response fairing must see to.
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
pub(crate) enum Mark {
    /// Credentials were used or issued: never stored by a cache.
    Private = 1,
    /// A guard failed and recorded its error (`RecordedFailure`).
    Failure = 2,
    /// A link was used or refused and recorded (`RecordedAttempt`).
    LinkAttempt = 4,
}

#[derive(Default)]
struct Marks(AtomicU8);

fn marks<'r>(req: &'r Request<'_>) -> &'r AtomicU8 {
    &req.local_cache(Marks::default).0
}

/// Marks this request.
pub(crate) fn mark(req: &Request<'_>, mark: Mark) {
    marks(req).fetch_or(mark as u8, Ordering::Relaxed);
}

/// Whether this request was marked so.
pub(crate) fn is_marked(req: &Request<'_>, mark: Mark) -> bool {
    marks(req).load(Ordering::Relaxed) & mark as u8 != 0
}
