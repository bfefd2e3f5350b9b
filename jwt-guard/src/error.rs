//! Authentication failures and their RFC 6750 responses.

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::OnceLock;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

/// The RFC 6750 §3.1 error code of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// No credentials were sent: the challenge carries no `error`.
    MissingToken,
    /// The request is malformed (`400`).
    InvalidRequest,
    /// The token is expired, revoked, malformed or otherwise invalid (`401`).
    InvalidToken,
    /// The token is valid but lacks a role, scope or check (`403`).
    InsufficientScope,
    /// Username or password wrong (`401`), for the login endpoint.
    InvalidCredentials,
    /// The server could not complete the request (`503`), e.g. its database failed.
    TemporarilyUnavailable,
    /// The login would exceed the per-user device cap (`403`).
    DeviceLimit,
    /// A link was used up, expired or revoked (`410`).
    LinkGone,
    /// A link is tampered, for another route, or not a link at all (`403`).
    InvalidLink,
}

impl ErrorCode {
    /// The `error` value written in the body and the challenge.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::DeviceLimit => "device_limit",
            ErrorCode::LinkGone => "link_gone",
            ErrorCode::InvalidLink => "invalid_link",
        }
    }
}

/// A refused request: status, RFC 6750 error code and a short description that never
/// says whether a user exists.
///
/// Guards fail with it; handlers can return it too (it is a [`Responder`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError {
    status: Status,
    code: ErrorCode,
    description: Cow<'static, str>,
    scope: Option<Cow<'static, str>>,
}

impl AuthError {
    fn new(status: Status, code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            scope: None,
        }
    }

    /// `401`, no token was sent.
    pub fn missing_token() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorCode::MissingToken,
            "a bearer token is required",
        )
    }

    /// `401 invalid_token`.
    pub fn invalid_token(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Unauthorized, ErrorCode::InvalidToken, description)
    }

    /// `400 invalid_request`.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::BadRequest, ErrorCode::InvalidRequest, description)
    }

    /// `403 insufficient_scope`; `scope` names the scope that was needed, if any.
    pub fn insufficient_scope(
        description: impl Into<Cow<'static, str>>,
        scope: Option<&'static str>,
    ) -> Self {
        let mut e = Self::new(Status::Forbidden, ErrorCode::InsufficientScope, description);
        e.scope = scope.map(Cow::Borrowed);
        e
    }

    /// `401`, the username or password is wrong (deliberately not saying which).
    pub fn invalid_credentials() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorCode::InvalidCredentials,
            "invalid username or password",
        )
    }

    /// `503`: the server failed (a database error). `detail` is logged, never sent.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        rocket::error!("jwt-guard: {detail}");
        Self::new(
            Status::ServiceUnavailable,
            ErrorCode::TemporarilyUnavailable,
            "the service is temporarily unavailable",
        )
    }

    /// `403`: the user already has the most devices allowed.
    pub fn device_limit() -> Self {
        Self::new(
            Status::Forbidden,
            ErrorCode::DeviceLimit,
            "too many devices are signed in; log one out first",
        )
    }

    /// `404` with a JSON body, for ids that are unknown or not the caller's.
    pub fn not_found(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::NotFound, ErrorCode::InvalidRequest, description)
    }

    /// `410 link_gone`: the link existed but can no longer be used.
    pub fn link_gone(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Gone, ErrorCode::LinkGone, description)
    }

    /// `403 invalid_link`: tampered, for another route, or not a link token.
    pub fn invalid_link(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Forbidden, ErrorCode::InvalidLink, description)
    }

    /// The HTTP status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The RFC 6750 error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The `WWW-Authenticate` challenge for this failure, if it has one.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        let realm = quote(realm);
        match self.code {
            ErrorCode::MissingToken | ErrorCode::InvalidCredentials => {
                Some(format!("Bearer realm=\"{realm}\""))
            }
            ErrorCode::TemporarilyUnavailable
            | ErrorCode::DeviceLimit
            | ErrorCode::LinkGone
            | ErrorCode::InvalidLink => None,
            ErrorCode::InvalidRequest if self.status == Status::NotFound => None,
            ErrorCode::InvalidRequest | ErrorCode::InvalidToken => Some(format!(
                "Bearer realm=\"{realm}\", error=\"{}\", error_description=\"{}\"",
                self.code.as_str(),
                quote(&self.description)
            )),
            ErrorCode::InsufficientScope => {
                let mut c = format!(
                    "Bearer realm=\"{realm}\", error=\"insufficient_scope\", error_description=\"{}\"",
                    quote(&self.description)
                );
                if let Some(scope) = &self.scope {
                    c.push_str(&format!(", scope=\"{}\"", quote(scope)));
                }
                Some(c)
            }
        }
    }

    /// The JSON body `{error, error_description}`.
    pub fn body(&self) -> String {
        serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        })
        .to_string()
    }

    /// Writes this failure onto `response`: status, challenge, JSON body, and
    /// `Cache-Control: no-store`.
    pub(crate) fn write_to(&self, realm: &str, response: &mut Response<'_>) {
        let body = self.body();
        response.set_status(self.status);
        response.set_header(ContentType::JSON);
        response.set_header(Header::new("Cache-Control", "no-store"));
        if let Some(challenge) = self.challenge(realm) {
            response.set_header(Header::new("WWW-Authenticate", challenge));
        }
        response.set_sized_body(body.len(), Cursor::new(body));
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.as_str(),
            self.status.code,
            self.description
        )
    }
}

impl std::error::Error for AuthError {}

/// Keeps only what may appear inside a quoted-string of a challenge.
fn quote(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
        .collect()
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
    }

    pub(crate) fn get<'r>(req: &'r Request<'_>) -> Option<&'r AuthError> {
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
        let realm = crate::runtime::JwtRuntime::from_request(req)
            .map(|rt| rt.config().realm.clone())
            .unwrap_or_else(|| "jwt-guard".to_owned());
        let mut response = Response::new();
        self.write_to(&realm, &mut response);
        Ok(response)
    }
}
