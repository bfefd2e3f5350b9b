//! Responses that carry or depend on credentials are never stored by a cache
//! (RFC 6749 §5.1, RFC 6750 §5.3): whoever authenticates a request or issues a token
//! marks it, and the response fairing adds `Cache-Control: no-store` and
//! `Pragma: no-cache` unless the handler chose its own `Cache-Control`.
//!
//! Both headers go on a protected route's answer too: the guard cannot tell data
//! from a credential the handler minted (a link, a token of its own).

use rocket::http::Header;
use rocket::{Request, Response};

use crate::header_scan;
use crate::response_marks::{is_marked, mark, Mark};

/// Marks this request's response as private.
pub(crate) fn mark_private(req: &Request<'_>) {
    mark(req, Mark::Private);
}

/// After the response: the no-store headers on a marked one.
pub(crate) fn finish_private_response(req: &Request<'_>, res: &mut Response<'_>) {
    if !is_marked(req, Mark::Private) {
        return;
    }
    if !header_scan::contains(res.headers(), "Cache-Control") {
        res.set_header(Header::new("Cache-Control", "no-store"));
    }
    res.set_header(Header::new("Pragma", "no-cache"));
}
