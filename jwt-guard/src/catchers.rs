//! One error shape for everything an API client can meet: Rocket's own errors (no
//! route, a body too large or of the wrong type, a failing guard of the app's)
//! answered as `{"error", "error_description"}`, like jwt-guard's own.

use rocket::http::Status;
use rocket::{catch, catchers as rocket_catchers, Catcher, Request};

use crate::error::{AuthError, RecordedFailure};

/// Answers every error status: the failure a jwt-guard guard recorded for this
/// request when it produced the status, else [`AuthError::for_status`].
#[catch(default)]
fn any_error(status: Status, req: &Request<'_>) -> AuthError {
    match RecordedFailure::get(req) {
        Some(failure) if failure.status() == status => failure.clone(),
        _ => AuthError::for_status(status),
    }
}

/// Catchers that answer every HTTP error as jwt-guard's JSON
/// (`{"error", "error_description"}`, `Cache-Control: no-store`, a challenge where
/// RFC 6750 asks for one). Register them for the paths API clients use:
///
/// ```no_run
/// # use jwt_guard::JwtGuard;
/// let rocket = rocket::build()
///     .attach(JwtGuard::fairing())
///     .register("/", jwt_guard::catchers());
/// ```
pub fn catchers() -> Vec<Catcher> {
    rocket_catchers![any_error]
}
