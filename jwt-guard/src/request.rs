//! Small pieces every built-in route needs: jwt-guard's managed state as one
//! request guard ([`Services`]), the request itself as a guard, and JSON bodies
//! turned into clear 400s.

use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::{self, Json};
use rocket::{Ignite, Request, Rocket, Sentinel};

use crate::error::{fail, AuthError, Rejection};
use crate::runtime::JwtRuntime;
use crate::session::AppAuthenticator;
use crate::store::Store;
use crate::throttle::LoginThrottle;

/// The request itself, for handing to the [`Authenticator`](crate::Authenticator).
pub(crate) struct RequestRef<'r>(pub(crate) &'r Request<'r>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestRef<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(RequestRef(req))
    }
}

/// What a built-in route works with: the request, jwt-guard's runtime, store and
/// login throttle, and the application's authenticator when one was given.
///
/// The one way built-in routes reach managed state. Without jwt-guard's fairing a
/// route that takes it answers `503` (and, as a [`Sentinel`], stops launch when the
/// route is mounted by hand on a Rocket without the fairing).
pub(crate) struct Services<'r> {
    /// The request, for the authenticator and cookies.
    pub(crate) req: &'r Request<'r>,
    /// Configuration, keys, verifier and issuer.
    pub(crate) rt: &'r JwtRuntime,
    /// Persistent state.
    pub(crate) store: &'r Store,
    /// Login throttles.
    pub(crate) throttle: &'r LoginThrottle,
    authenticator: Option<&'r AppAuthenticator>,
}

impl<'r> Services<'r> {
    /// The services of the application serving `req`, or the `503` every built-in
    /// route gives when the fairing is missing.
    pub(crate) fn of(req: &'r Request<'r>) -> Result<Self, AuthError> {
        let rocket = req.rocket();
        let (Some(rt), Some(store), Some(throttle)) = (
            rocket.state::<JwtRuntime>(),
            rocket.state::<Store>(),
            rocket.state::<LoginThrottle>(),
        ) else {
            return Err(Rejection::NotAttached.into());
        };
        Ok(Self {
            req,
            rt,
            store,
            throttle,
            authenticator: rocket.state::<AppAuthenticator>(),
        })
    }

    /// The application's authenticator: routes that check passwords or reload
    /// claims need one (`503` when jwt-guard was attached without it).
    pub(crate) fn authenticator(&self) -> Result<&'r AppAuthenticator, AuthError> {
        self.authenticator
            .ok_or_else(|| Rejection::NoAuthenticator.into())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Services<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        match Services::of(req) {
            Ok(services) => Outcome::Success(services),
            Err(e) => fail(req, e),
        }
    }
}

impl Sentinel for Services<'_> {
    /// Stops launch when a built-in route is mounted without jwt-guard's fairing.
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        let missing = rocket.state::<JwtRuntime>().is_none()
            || rocket.state::<Store>().is_none()
            || rocket.state::<LoginThrottle>().is_none();
        if missing {
            rocket::error!(
                "jwt-guard's built-in routes need its state: attach `jwt_guard::JwtGuard::fairing()`"
            );
        }
        missing
    }
}

/// Turns Rocket's JSON error into a 400 with our body.
pub(crate) fn json_body<T>(body: Result<Json<T>, json::Error<'_>>) -> Result<T, AuthError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(json::Error::Io(_)) => Err(Rejection::BodyUnreadable.into()),
        Err(json::Error::Parse(_, e)) => Err(Rejection::BodyNotExpected {
            problem: field_problem(&e.to_string()).map(str::to_owned),
        }
        .into()),
    }
}

/// Which field a JSON body got wrong, when serde says so by name (`missing field
/// `password``); never a value the client sent.
fn field_problem(message: &str) -> Option<&str> {
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .any(|start| message.starts_with(start));
    if !named {
        return None;
    }
    let end = message.find('`').and_then(|open| {
        message[open + 1..]
            .find('`')
            .map(|close| open + 1 + close + 1)
    })?;
    Some(&message[..end])
}

#[cfg(test)]
mod tests {
    use super::field_problem;

    #[test]
    fn a_body_error_names_the_field_and_no_value() {
        assert_eq!(
            field_problem("missing field `password` at line 1 column 20"),
            Some("missing field `password`")
        );
        assert_eq!(
            field_problem("unknown field `pasword`, expected `username` or `password`"),
            Some("unknown field `pasword`")
        );
        assert_eq!(
            field_problem("invalid type: string \"hunter2\", expected u32 at line 1"),
            None
        );
    }
}
