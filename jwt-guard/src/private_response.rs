//! Responses that carry or depend on credentials are never stored by a cache.
//! Two marks, read by the response fairing:
//!
//! - a response that *carries* a credential — a token pair, a link, a page
//!   holding a link token — gets `Cache-Control: no-store` and `Pragma: no-cache`,
//!   as RFC 6749 §5.1 asks of token responses ([`mark_credential`]);
//! - a response that *answers* an authenticated request — a protected route's
//!   data — gets `Cache-Control: no-store` alone ([`mark_private`]). RFC 9111 §5.4:
//!   `Pragma` is for HTTP/1.0 caches' requests and has no specified meaning in a
//!   response, and a third header on every protected answer takes Rocket's and
//!   hyper's header maps past their first allocation (3.2k instructions a request).
//!
//! A handler that returns a credential of its own (a minted link, a token of its
//! own) wraps it in [`CarriesCredentials`]; [`MintedLink`](crate::MintedLink) does
//! so by itself.
//!
//! A handler's own `Cache-Control` is kept.

use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::{Request, Response};

use crate::header_scan;
use crate::response_marks::{mark, Mark, Marks};

/// Marks this request's response as answering an authenticated request.
pub(crate) fn mark_private(req: &Request<'_>) {
    mark(req, Mark::Private);
}

/// Marks this request's response as carrying a credential.
pub(crate) fn mark_credential(req: &Request<'_>) {
    mark(req, Mark::Credential);
}

/// After the response: the no-store headers on a marked one.
pub(crate) fn finish_private_response(res: &mut Response<'_>, marks: Marks) {
    if !marks.any(Mark::Private, Mark::Credential) {
        return;
    }
    if !header_scan::contains(res.headers(), "Cache-Control") {
        res.set_header(Header::new("Cache-Control", "no-store"));
    }
    if marks.has(Mark::Credential) {
        res.set_header(Header::new("Pragma", "no-cache"));
    }
}

/// An answer that carries credentials of the application's own — a token it
/// minted, a link, a secret — on any route, protected or public: it goes out with
/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1), as jwt-guard's
/// own token responses do. (A protected route's answer gets `Cache-Control:
/// no-store` without it.)
///
/// ```
/// use jwt_guard::{public, CarriesCredentials};
/// use rocket::serde::json::{json, Json, Value};
///
/// /// Hands out an API key the application keeps by itself.
/// #[public]
/// #[rocket::post("/api-keys")]
/// fn create_api_key() -> CarriesCredentials<Json<Value>> {
///     CarriesCredentials(Json(json!({ "key": "ak_live_…" })))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriesCredentials<R>(pub R);

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for CarriesCredentials<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'o> {
        mark_credential(req);
        self.0.respond_to(req)
    }
}
