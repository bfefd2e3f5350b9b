//! The failure value: a refused request's status, RFC 6750 error code and safe
//! description, and the constructors an application's own handlers use.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::Arc;

use rocket::http::Status;

/// Seconds a client is asked to wait after a 503 (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 2;

/// The RFC 6750 §3.1 error code of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// No credentials were sent: the challenge carries no `error`.
    MissingToken,
    /// The request is malformed (`400`).
    InvalidRequest,
    /// The token is expired, revoked, malformed or otherwise invalid (`401`).
    InvalidToken,
    /// The token is valid but lacks a role, scope or check (`403`).
    InsufficientScope,
    /// The token is valid but its authentication is too old or of too weak a class
    /// for the route (`401`, RFC 9470 step-up: the challenge says `max_age` or
    /// `acr_values`).
    InsufficientUserAuthentication,
    /// Username or password wrong (`401`), for the login endpoint.
    InvalidCredentials,
    /// A client (an introspecting resource server) failed to authenticate (`401`,
    /// RFC 6749 §5.2 `invalid_client`; the challenge is `Basic`).
    InvalidClient,
    /// The server could not complete the request (`503`), e.g. its database failed.
    TemporarilyUnavailable,
    /// A DPoP proof is missing or fails a check (RFC 9449 §5, §7.1: `400` at a
    /// token endpoint, `401` at a protected resource).
    InvalidDpopProof,
    /// The DPoP proof must carry the server's nonce, sent in `DPoP-Nonce` (RFC
    /// 9449 §8, §9).
    UseDpopNonce,
    /// The login would exceed the per-user device cap (`403`).
    DeviceLimit,
    /// A link was used up, expired or revoked (`410`).
    LinkGone,
    /// A link is tampered, for another route, or not a link at all (`403`).
    InvalidLink,
    /// Too many attempts for this account or from this address (`429`).
    TooManyRequests,
    /// A cookie-authenticated request came from another site (`403`, CSRF).
    CrossSite,
    /// No such resource, or none of the caller's (`404`).
    NotFound,
    /// The request body is larger than the route reads (`413`).
    PayloadTooLarge,
    /// The request body is not of a type the route reads (`415`).
    UnsupportedMediaType,
    /// The path exists, but not for this method (`405`, with `Allow`).
    MethodNotAllowed,
    /// The server failed (`500`).
    ServerError,
    /// Any other HTTP error status, from [`catchers`](crate::catchers).
    HttpError,
}

impl ErrorCode {
    /// The `error` value written in the body and the challenge.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InsufficientUserAuthentication => "insufficient_user_authentication",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::DeviceLimit => "device_limit",
            ErrorCode::LinkGone => "link_gone",
            ErrorCode::InvalidLink => "invalid_link",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::CrossSite => "cross_site_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::ServerError => "server_error",
            ErrorCode::HttpError => "http_error",
        }
    }
}

/// A refused request: status, RFC 6750 error code and a short description that never
/// says whether a user exists.
///
/// Guards fail with it; handlers can return it too (it is a [`Responder`](rocket::response::Responder)), and `?`
/// turns the crate's own failures into it through the `From` conversions below —
/// the one table of which failure answers what.
///
/// Two errors are equal when a client would see the same answer; the inside cause
/// ([`std::error::Error::source`]) is not compared.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{} ({}): {}", code.as_str(), status.code, description)]
pub struct AuthError {
    pub(super) status: Status,
    pub(super) code: ErrorCode,
    pub(super) description: Cow<'static, str>,
    pub(super) scope: Option<Cow<'static, str>>,
    /// RFC 9470 step-up: the most seconds since authentication the route accepts.
    pub(super) max_age: Option<u64>,
    /// RFC 9470 step-up: the authentication classes the route accepts.
    pub(super) acr_values: Option<&'static str>,
    /// What went wrong inside (a 503's cause): logged with its source chain when
    /// the response is written, never sent.
    #[source]
    pub(super) cause: Option<Arc<dyn StdError + Send + Sync>>,
    /// Seconds the client should wait (`Retry-After`), for 429 and 503.
    pub(super) retry_after: Option<u64>,
    /// The failure is about DPoP (RFC 9449 §7.1): its error goes in the `DPoP`
    /// challenge rather than the `Bearer` one.
    pub(super) dpop: bool,
    /// The route takes DPoP-bound tokens only: no `Bearer` challenge beside.
    pub(super) dpop_only: bool,
}

impl PartialEq for AuthError {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.code == other.code
            && self.description == other.description
            && self.scope == other.scope
            && self.max_age == other.max_age
            && self.acr_values == other.acr_values
            && self.retry_after == other.retry_after
            && self.dpop == other.dpop
            && self.dpop_only == other.dpop_only
    }
}

impl Eq for AuthError {}

impl AuthError {
    pub(super) fn new(
        status: Status,
        code: ErrorCode,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            scope: None,
            max_age: None,
            acr_values: None,
            cause: None,
            retry_after: None,
            dpop: false,
            dpop_only: false,
        }
    }

    /// `invalid_dpop_proof` (RFC 9449): `400` at a token endpoint (§5), `401`
    /// at a protected resource (§7.1).
    pub fn invalid_dpop_proof(status: Status, description: impl Into<Cow<'static, str>>) -> Self {
        let mut e = Self::new(status, ErrorCode::InvalidDpopProof, description);
        e.dpop = true;
        e
    }

    /// `use_dpop_nonce` (RFC 9449 §8, §9): `400` at a token endpoint, `401` at a
    /// protected resource; the nonce to use comes in `DPoP-Nonce`.
    pub fn use_dpop_nonce(status: Status) -> Self {
        let mut e = Self::new(
            status,
            ErrorCode::UseDpopNonce,
            "the DPoP proof must carry the nonce sent in DPoP-Nonce",
        );
        e.dpop = true;
        e
    }

    /// This failure, told in the `DPoP` challenge (a binding failure, RFC 9449
    /// §7.1).
    pub(crate) fn in_dpop_challenge(mut self) -> Self {
        self.dpop = true;
        self
    }

    /// This failure on a route that takes DPoP-bound tokens only.
    pub(crate) fn dpop_only(mut self) -> Self {
        self.dpop_only = true;
        self
    }

    /// `401`, no token was sent.
    pub fn missing_token() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorCode::MissingToken,
            "a bearer token is required",
        )
    }

    /// `401`, no token this app reads was sent; `description` says what was sent
    /// instead (the challenge still carries no `error`).
    pub fn missing_token_because(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Unauthorized, ErrorCode::MissingToken, description)
    }

    /// `401`, no `Permanent-Token` header (or cookie) was sent to the device
    /// refresh route.
    pub fn missing_permanent_token() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorCode::MissingToken,
            "the Permanent-Token header is required",
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

    /// `401 insufficient_user_authentication` (RFC 9470 §3): the token is valid,
    /// but the user must authenticate again — more recently than `max_age`
    /// seconds, or with one of the classes `acr_values` (space-separated).
    pub fn insufficient_user_authentication(
        description: impl Into<Cow<'static, str>>,
        max_age: Option<u64>,
        acr_values: Option<&'static str>,
    ) -> Self {
        let mut e = Self::new(
            Status::Unauthorized,
            ErrorCode::InsufficientUserAuthentication,
            description,
        );
        e.max_age = max_age;
        e.acr_values = acr_values;
        e
    }

    /// This failure on a route that requires `scope` (space-separated): a `401`
    /// names them (RFC 6750 §3), and a `403 insufficient_scope` names them all in
    /// one challenge, so a client steps up once (what MCP clients expect).
    pub(crate) fn for_route_scope(mut self, scope: Option<&'static str>) -> Self {
        let bearer =
            self.status == Status::Unauthorized || self.code == ErrorCode::InsufficientScope;
        if let (true, Some(scope)) = (bearer, scope) {
            self.scope = Some(Cow::Borrowed(scope));
        }
        self
    }

    /// `401 invalid_client` (RFC 6749 §5.2): the caller's client credentials (or
    /// the access token it authenticated with) do not let it use this endpoint.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Unauthorized, ErrorCode::InvalidClient, description)
    }

    /// `401`, the username or password is wrong (deliberately not saying which).
    pub fn invalid_credentials() -> Self {
        Self::new(
            Status::Unauthorized,
            ErrorCode::InvalidCredentials,
            "invalid username or password",
        )
    }

    /// `503`: the server could not complete the request (its database failed).
    /// `cause` — an error, or a message — is kept as this error's
    /// [`source`](std::error::Error::source) and logged when the response is written,
    /// never sent.
    pub fn unavailable(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let mut e = Self::new(
            Status::ServiceUnavailable,
            ErrorCode::TemporarilyUnavailable,
            "the service is temporarily unavailable",
        );
        e.cause = Some(Arc::from(cause.into()));
        e.retry_after = Some(RETRY_AFTER_SECS);
        e
    }

    /// `500`: jwt-guard or the application failed in a way no retry mends (the
    /// app's claims cannot be written as JSON, say). `cause` is logged, never sent.
    pub(crate) fn server_fault(cause: impl StdError + Send + Sync + 'static) -> Self {
        let mut e = Self::new(
            Status::InternalServerError,
            ErrorCode::ServerError,
            "the server failed",
        );
        e.cause = Some(Arc::new(cause));
        e
    }

    /// `429`: too many attempts; try again in `retry_after` seconds. Says nothing
    /// about whether the account exists.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            Status::TooManyRequests,
            ErrorCode::TooManyRequests,
            "too many attempts; try again later",
        );
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// The `Retry-After` seconds of a 429 or 503.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// `403`: a request authenticated by a cookie came from another site (CSRF).
    pub fn cross_site(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Forbidden, ErrorCode::CrossSite, description)
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
        Self::new(Status::NotFound, ErrorCode::NotFound, description)
    }

    /// The answer for an HTTP error `status` that nothing of jwt-guard's produced
    /// (Rocket's own: no route, a body too large, a guard of the app's): the same
    /// JSON shape as every other failure.
    pub fn for_status(status: Status) -> Self {
        let (code, description) = match status.code {
            400 => (ErrorCode::InvalidRequest, "the request is malformed"),
            401 => (ErrorCode::MissingToken, "authentication is required"),
            403 => (ErrorCode::InsufficientScope, "this request is not allowed"),
            404 => (ErrorCode::NotFound, "no such resource"),
            405 => (
                ErrorCode::MethodNotAllowed,
                "this method is not allowed here (`Allow` names those that are)",
            ),
            413 => (ErrorCode::PayloadTooLarge, "the request body is too large"),
            415 => (
                ErrorCode::UnsupportedMediaType,
                "the request body must be JSON (Content-Type: application/json)",
            ),
            422 => (
                ErrorCode::InvalidRequest,
                "a parameter or the request body is not what the route expects",
            ),
            429 => return Self::too_many_requests(RETRY_AFTER_SECS),
            503 => return Self::unavailable("a route answered 503"),
            500..=599 => (ErrorCode::ServerError, "the server failed"),
            _ => (ErrorCode::HttpError, status.reason_lossy()),
        };
        Self::new(status, code, description)
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

    /// The JSON body `{error, error_description}`.
    pub fn body(&self) -> String {
        serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_faults_carry_no_challenge_and_hide_their_cause() {
        let e = AuthError::unavailable("connection refused to db.internal:5432");
        assert_eq!(e.status(), Status::ServiceUnavailable);
        assert!(e.challenge("app").is_none());
        assert!(!e.body().contains("db.internal"), "{}", e.body());
    }
}
