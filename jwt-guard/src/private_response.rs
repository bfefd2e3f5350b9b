//! Responses that carry or depend on credentials are never stored by a cache
//! (RFC 6749 §5.1, RFC 6750 §5.3): whoever authenticates a request or issues a token
//! marks it, and the response fairing adds `Cache-Control: no-store` and
//! `Pragma: no-cache` unless the handler chose its own `Cache-Control`.

use std::sync::atomic::{AtomicBool, Ordering};

use rocket::http::Header;
use rocket::{Request, Response};

#[derive(Default)]
struct Private(AtomicBool);

/// Marks this request's response as private.
pub(crate) fn mark_private(req: &Request<'_>) {
    req.local_cache(Private::default)
        .0
        .store(true, Ordering::Relaxed);
}

/// After the response: the no-store headers on a marked one.
pub(crate) fn finish_private_response(req: &Request<'_>, res: &mut Response<'_>) {
    if !req.local_cache(Private::default).0.load(Ordering::Relaxed) {
        return;
    }
    if !res.headers().contains("Cache-Control") {
        res.set_header(Header::new("Cache-Control", "no-store"));
    }
    res.set_header(Header::new("Pragma", "no-cache"));
}
