//! One error shape for everything an API client can meet: Rocket's own errors (no
//! route, a body too large or of the wrong type, a failing guard of the app's)
//! answered as `{"error", "error_description"}`, like jwt-guard's own — and a path
//! that exists for other methods answered `405` with `Allow` (RFC 9110 §15.5.6),
//! which Rocket 0.5 answers 404 (or 400, for a method it does not know).

use rocket::http::{Header, Method, Status};
use rocket::response::{self, Responder};
use rocket::{catch, catchers as rocket_catchers, Catcher, Request, Route};

use crate::error::{AuthError, RecordedFailure, Rejection};

/// What a catcher answers: a failure, with `Allow` when it is a `405`.
struct CaughtError {
    error: AuthError,
    allow: Option<String>,
}

impl<'r> Responder<'r, 'static> for CaughtError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = self.error.respond_to(req)?;
        if let Some(allow) = self.allow {
            res.set_header(Header::new("Allow", allow));
        }
        Ok(res)
    }
}

/// Answers every error status: the failure a jwt-guard guard recorded for this
/// request when it produced the status; `405` with `Allow` where the path exists
/// for other methods; else [`AuthError::for_status`].
#[catch(default)]
fn any_error(status: Status, req: &Request<'_>) -> CaughtError {
    let answer = |error| CaughtError { error, allow: None };
    match RecordedFailure::get(req) {
        Some(failure) if failure.status() == status => return answer(failure.clone()),
        _ => {}
    }
    // A request Rocket could not read (an unknown method, say `QUERY`) reaches the
    // catcher as a salvaged `GET` that was never routed: its own method is lost, so
    // every method the path has is "another" one.
    let salvaged = status == Status::BadRequest && req.route().is_none();
    if status == Status::NotFound || salvaged {
        let methods = methods_at(req.rocket().routes(), req.uri().path().as_str());
        let others = salvaged || !methods.contains(&req.method());
        if !methods.is_empty() && others {
            return CaughtError {
                error: AuthError::for_status(Status::MethodNotAllowed),
                allow: Some(allow_header(&methods)),
            };
        }
    }
    if status == Status::UnprocessableEntity && !carries_body(req) {
        // No body to blame: a path or query parameter did not parse.
        return answer(Rejection::ParameterInvalid.into());
    }
    if status == Status::UnprocessableEntity && carries_json(req) {
        return answer(Rejection::BodyUnprocessable.into());
    }
    answer(AuthError::for_status(status))
}

/// Whether the request says it carries a body.
fn carries_body(req: &Request<'_>) -> bool {
    req.content_type().is_some()
        || req
            .headers()
            .get_one("Content-Length")
            .is_some_and(|n| n.trim() != "0")
}

fn carries_json(req: &Request<'_>) -> bool {
    req.content_type().is_some_and(|ct| ct.is_json())
}

/// The methods of the routes whose path pattern matches `path`, in a fixed order.
fn methods_at<'a>(routes: impl Iterator<Item = &'a Route>, path: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = routes
        .filter(|route| path_matches(route.uri.path(), path))
        .map(|route| route.method)
        .collect();
    methods.sort_by_key(|m| m.as_str());
    methods.dedup();
    methods
}

/// `Allow`'s value: the methods, with `HEAD` wherever `GET` is (Rocket answers
/// `HEAD` with the `GET` route).
fn allow_header(methods: &[Method]) -> String {
    let mut names: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    if methods.contains(&Method::Get) && !methods.contains(&Method::Head) {
        names.push("HEAD");
    }
    names.sort_unstable();
    names.join(", ")
}

/// Whether a route's path pattern (`/auth/devices/<id>`, `/files/<path..>`)
/// matches a request path, segment by segment as Rocket's router does.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut wanted = pattern.split('/').filter(|s| !s.is_empty());
    let mut given = path.split('/').filter(|s| !s.is_empty());
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), _) if w.starts_with('<') && w.ends_with("..>") => return true,
            (Some(w), Some(_)) if w.starts_with('<') && w.ends_with('>') => continue,
            (Some(w), Some(g)) if w == g => continue,
            _ => return false,
        }
    }
}

/// Catchers that answer every HTTP error as jwt-guard's JSON
/// (`{"error", "error_description"}`, `Cache-Control: no-store`, a challenge where
/// RFC 6750 asks for one), and a method the path does not have as `405` with
/// `Allow`. Register them for the paths API clients use:
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns_match_as_the_router_does() {
        for (pattern, path) in [
            ("/me", "/me"),
            ("/auth/devices/<id>", "/auth/devices/abc"),
            ("/files/<path..>", "/files"),
            ("/files/<path..>", "/files/a/b"),
            ("/", "/"),
        ] {
            assert!(path_matches(pattern, path), "{pattern} {path}");
        }
        for (pattern, path) in [
            ("/me", "/me/x"),
            ("/auth/devices/<id>", "/auth/devices"),
            ("/auth/devices/<id>", "/auth/devices/a/b"),
            ("/me", "/you"),
        ] {
            assert!(!path_matches(pattern, path), "{pattern} {path}");
        }
    }

    #[test]
    fn allow_names_head_beside_get() {
        assert_eq!(allow_header(&[Method::Get]), "GET, HEAD");
        assert_eq!(
            allow_header(&[Method::Delete, Method::Get]),
            "DELETE, GET, HEAD"
        );
        assert_eq!(allow_header(&[Method::Post]), "POST");
    }
}
