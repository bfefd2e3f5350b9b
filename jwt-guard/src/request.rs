//! Small pieces every built-in route needs: the request itself as a guard, JSON
//! bodies turned into clear 400s, and jwt-guard's managed state looked up with a 503
//! instead of a panic when the fairing is missing.

use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::{self, Json};
use rocket::{Request, State};

use crate::error::AuthError;
use crate::runtime::JwtRuntime;
use crate::store::Store;

/// The request itself, for handing to the [`Authenticator`](crate::Authenticator).
pub(crate) struct RequestRef<'r>(pub(crate) &'r Request<'r>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestRef<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(RequestRef(req))
    }
}

/// Turns Rocket's JSON error into a 400 with our body.
pub(crate) fn json_body<T>(body: Result<Json<T>, json::Error<'_>>) -> Result<T, AuthError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(json::Error::Io(_)) => Err(AuthError::invalid_request(
            "the request body could not be read",
        )),
        Err(json::Error::Parse(_, _)) => Err(AuthError::invalid_request(
            "the request body is not the expected JSON object",
        )),
    }
}

/// The managed [`JwtRuntime`], or a 400 when jwt-guard's fairing is missing.
pub(crate) fn runtime(rt: Option<&State<JwtRuntime>>) -> Result<&JwtRuntime, AuthError> {
    rt.map(|s| s.inner())
        .ok_or_else(|| AuthError::invalid_request("authentication is not configured"))
}

/// The managed [`Store`], or a 503 when jwt-guard's fairing is missing.
pub(crate) fn store(store: Option<&State<Store>>) -> Result<&Store, AuthError> {
    store
        .map(|s| s.inner())
        .ok_or_else(|| AuthError::unavailable("device storage is not configured"))
}
