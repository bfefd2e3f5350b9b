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
    /// The request was authenticated: its answer is never stored by a cache.
    Private = 1,
    /// A guard failed and recorded its error (`RecordedFailure`).
    Failure = 2,
    /// A link was used or refused and recorded (`RecordedAttempt`).
    LinkAttempt = 4,
    /// The answer carries a credential (a token, a link): never stored by a
    /// cache, `Pragma` included.
    Credential = 8,
}

/// The marks a request carries, read once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marks(u8);

impl Marks {
    /// Whether this mark is among them.
    pub(crate) fn has(self, mark: Mark) -> bool {
        self.0 & mark as u8 != 0
    }

    /// Whether either mark is among them.
    pub(crate) fn any(self, a: Mark, b: Mark) -> bool {
        self.0 & (a as u8 | b as u8) != 0
    }
}

#[derive(Default)]
struct MarkCell(AtomicU8);

fn cell<'r>(req: &'r Request<'_>) -> &'r AtomicU8 {
    &req.local_cache(MarkCell::default).0
}

/// Marks this request.
pub(crate) fn mark(req: &Request<'_>, mark: Mark) {
    cell(req).fetch_or(mark as u8, Ordering::Relaxed);
}

/// Whether this request was marked so.
pub(crate) fn is_marked(req: &Request<'_>, mark: Mark) -> bool {
    marks(req).has(mark)
}

/// All of this request's marks.
pub(crate) fn marks(req: &Request<'_>) -> Marks {
    Marks(cell(req).load(Ordering::Relaxed))
}
