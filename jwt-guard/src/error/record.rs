//! A failure on its way out: recorded by the guard that failed, so the response
//! fairing can turn Rocket's catcher output into the RFC 6750 answer, and written
//! onto a response (status, challenges, JSON body, `no-store`, the cause logged).

use std::io::Cursor;
use std::sync::OnceLock;

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use super::challenge::Realm;
use super::failure::AuthError;
use crate::observe::Chain;
use crate::response_marks::{is_marked, mark, Mark};

impl AuthError {
    /// Writes this failure onto `response`: status, challenge, JSON body, and
    /// `Cache-Control: no-store`; logs the cause of a 503.
    pub(crate) fn write_to(&self, req: &Request<'_>, response: &mut Response<'_>) {
        if let Some(cause) = &self.cause {
            rocket::error!(
                "jwt-guard: {} {}: {}",
                req.method(),
                req.uri().path(),
                Chain(cause.as_ref())
            );
        }
        let app = Realm::of(req);
        let body = self.body();
        response.set_status(self.status);
        response.set_header(ContentType::JSON);
        response.set_header(Header::new("Cache-Control", "no-store"));
        if let Some(seconds) = self.retry_after {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        // Written whole each time (a catcher's answer may be finished again).
        response.remove_header("WWW-Authenticate");
        for challenge in self.challenges(app, req.uri().path().as_str()) {
            response.adjoin_header(Header::new("WWW-Authenticate", challenge));
        }
        response.set_sized_body(body.len(), Cursor::new(body));
    }
}

/// The failure a guard recorded for this request, read back by the response fairing
/// so that Rocket's catcher output gains the challenge and the JSON body.
#[derive(Default)]
pub(crate) struct RecordedFailure(OnceLock<AuthError>);

impl RecordedFailure {
    pub(crate) fn record(req: &Request<'_>, error: &AuthError) {
        let _ = req
            .local_cache(RecordedFailure::default)
            .0
            .set(error.clone());
        mark(req, Mark::Failure);
    }

    pub(crate) fn get<'r>(req: &'r Request<'_>) -> Option<&'r AuthError> {
        if !is_marked(req, Mark::Failure) {
            return None;
        }
        req.local_cache(RecordedFailure::default).0.get()
    }
}

/// Fails a request guard with `error`, recording it for the response fairing.
pub(crate) fn fail<T>(
    req: &Request<'_>,
    error: AuthError,
) -> rocket::request::Outcome<T, AuthError> {
    RecordedFailure::record(req, &error);
    rocket::request::Outcome::Error((error.status(), error))
}

impl<'r> Responder<'r, 'static> for AuthError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::new();
        self.write_to(req, &mut response);
        Ok(response)
    }
}

/// After the response: a guard's recorded failure, when it is what produced the
/// response, replaces Rocket's catcher output with the RFC 6750 answer.
pub(crate) fn finish_failed_response(req: &Request<'_>, res: &mut Response<'_>) {
    if let Some(failure) = RecordedFailure::get(req) {
        // A guard inside `Option<…>` may fail while the handler still answers 200.
        if failure.status() == res.status() {
            failure.write_to(req, res);
        }
    }
}
