//! Authentication failures and their RFC 6750 responses.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use crate::response_marks::{is_marked, mark, Mark};

mod from;

/// The `realm` of every `WWW-Authenticate` challenge, and the protected
/// resource's metadata URL it points to (RFC 9728 §5.1), managed by the fairing.
#[derive(Clone, Debug)]
pub(crate) struct Realm {
    pub(crate) name: String,
    pub(crate) resource_metadata: Option<String>,
    /// With DPoP on: the proof algorithms accepted, space-separated (RFC 9449
    /// §7.1 `algs`), and whether bearer tokens are refused everywhere.
    pub(crate) dpop_algs: Option<String>,
    pub(crate) dpop_required: bool,
}

impl Realm {
    /// The realm, metadata URL and DPoP settings of the application serving `req`
    /// (jwt-guard's defaults without the fairing).
    fn of<'r>(req: &'r Request<'_>) -> &'r Realm {
        static DEFAULT: OnceLock<Realm> = OnceLock::new();
        req.rocket().state::<Realm>().unwrap_or_else(|| {
            DEFAULT.get_or_init(|| Realm {
                name: "jwt-guard".to_owned(),
                resource_metadata: None,
                dpop_algs: None,
                dpop_required: false,
            })
        })
    }
}

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
            ErrorCode::ServerError => "server_error",
            ErrorCode::HttpError => "http_error",
        }
    }
}

/// A refused request: status, RFC 6750 error code and a short description that never
/// says whether a user exists.
///
/// Guards fail with it; handlers can return it too (it is a [`Responder`]), and `?`
/// turns the crate's own failures into it through the `From` conversions below —
/// the one table of which failure answers what.
///
/// Two errors are equal when a client would see the same answer; the inside cause
/// ([`std::error::Error::source`]) is not compared.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{} ({}): {}", code.as_str(), status.code, description)]
pub struct AuthError {
    status: Status,
    code: ErrorCode,
    description: Cow<'static, str>,
    scope: Option<Cow<'static, str>>,
    /// RFC 9470 step-up: the most seconds since authentication the route accepts.
    max_age: Option<u64>,
    /// RFC 9470 step-up: the authentication classes the route accepts.
    acr_values: Option<&'static str>,
    /// What went wrong inside (a 503's cause): logged with its source chain when
    /// the response is written, never sent.
    #[source]
    cause: Option<Arc<dyn StdError + Send + Sync>>,
    /// Seconds the client should wait (`Retry-After`), for 429 and 503.
    retry_after: Option<u64>,
    /// The failure is about DPoP (RFC 9449 §7.1): its error goes in the `DPoP`
    /// challenge rather than the `Bearer` one.
    dpop: bool,
    /// The route takes DPoP-bound tokens only: no `Bearer` challenge beside.
    dpop_only: bool,
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
    fn new(status: Status, code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
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
            413 => (ErrorCode::PayloadTooLarge, "the request body is too large"),
            415 => (
                ErrorCode::UnsupportedMediaType,
                "the request body must be JSON (Content-Type: application/json)",
            ),
            422 => (
                ErrorCode::InvalidRequest,
                "the request body is not the expected JSON object",
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

    /// The `WWW-Authenticate` challenge for this failure, if it has one.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        self.challenge_for(realm, None)
    }

    /// The challenge, pointing to the protected resource's metadata
    /// (`resource_metadata`, RFC 9728 §5.1) when one is configured.
    pub fn challenge_for(&self, realm: &str, resource_metadata: Option<&str>) -> Option<String> {
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: the scheme the client authenticates with.
            return Some(format!("Basic realm=\"{}\"", quote(realm)));
        }
        let c = self.bare_challenge(realm)?;
        Some(self.with_parameters(c, resource_metadata))
    }

    /// Every challenge of this failure, first the one carrying its error: with
    /// DPoP on, a `DPoP` challenge naming the accepted algorithms beside the
    /// `Bearer` one (RFC 9449 §7.1), or alone where bearer tokens are refused.
    fn challenges(&self, app: &Realm) -> Vec<String> {
        if self.dpop && self.status != Status::Unauthorized {
            // A token endpoint's refusal (RFC 9449 §5): the JSON body says it.
            return Vec::new();
        }
        let metadata = app.resource_metadata.as_deref();
        // DPoP is named beside the failure's own challenge on 401s of our tokens
        // (a client failing `Basic` is told `Basic` alone).
        let dpop_401 = self.status == Status::Unauthorized && self.code != ErrorCode::InvalidClient;
        let Some(algs) = app.dpop_algs.as_deref().filter(|_| dpop_401) else {
            return self
                .challenge_for(&app.name, metadata)
                .into_iter()
                .collect();
        };
        let realm = quote(&app.name);
        let algs = format!("algs=\"{}\"", quote(algs));
        let bearer_too = !(self.dpop_only || app.dpop_required);
        let mut found = Vec::new();
        if self.dpop || !bearer_too {
            let mut c = format!("DPoP realm=\"{realm}\"");
            if self.code != ErrorCode::MissingToken {
                c.push_str(&format!(
                    ", error=\"{}\", error_description=\"{}\"",
                    self.code.as_str(),
                    quote(&self.description)
                ));
            }
            c.push_str(&format!(", {algs}"));
            found.push(self.with_parameters(c, metadata));
            if bearer_too {
                found.push(format!("Bearer realm=\"{realm}\""));
            }
        } else {
            found.extend(self.challenge_for(&app.name, metadata));
            found.push(format!("DPoP realm=\"{realm}\", {algs}"));
        }
        found
    }

    /// `c` with the parameters every challenge of this failure carries.
    fn with_parameters(&self, mut c: String, resource_metadata: Option<&str>) -> String {
        if let Some(scope) = &self.scope {
            c.push_str(&format!(", scope=\"{}\"", quote(scope)));
        }
        // RFC 9470 §3: what the new authentication must satisfy.
        if let Some(max_age) = self.max_age {
            c.push_str(&format!(", max_age=\"{max_age}\""));
        }
        if let Some(acr_values) = self.acr_values {
            c.push_str(&format!(", acr_values=\"{}\"", quote(acr_values)));
        }
        if let Some(url) = resource_metadata {
            c.push_str(&format!(", resource_metadata=\"{}\"", quote(url)));
        }
        c
    }

    /// The challenge's scheme, realm and RFC 6750 §3 error.
    fn bare_challenge(&self, realm: &str) -> Option<String> {
        let realm = quote(realm);
        match self.code {
            ErrorCode::MissingToken | ErrorCode::InvalidCredentials => {
                Some(format!("Bearer realm=\"{realm}\""))
            }
            ErrorCode::TemporarilyUnavailable
            | ErrorCode::InvalidClient
            | ErrorCode::TooManyRequests
            | ErrorCode::CrossSite
            | ErrorCode::DeviceLimit
            | ErrorCode::LinkGone
            | ErrorCode::InvalidLink
            | ErrorCode::NotFound
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::ServerError
            | ErrorCode::HttpError => None,
            ErrorCode::InvalidRequest
            | ErrorCode::InvalidToken
            | ErrorCode::InsufficientScope
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce
            | ErrorCode::InsufficientUserAuthentication => Some(format!(
                "Bearer realm=\"{realm}\", error=\"{}\", error_description=\"{}\"",
                self.code.as_str(),
                quote(&self.description)
            )),
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
        for challenge in self.challenges(app) {
            response.adjoin_header(Header::new("WWW-Authenticate", challenge));
        }
        response.set_sized_body(body.len(), Cursor::new(body));
    }
}

/// An error and its sources, `: `-separated, for the log.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(source) = next {
            write!(f, ": {source}")?;
            next = source.source();
        }
        Ok(())
    }
}

/// `text` as the inside of an RFC 9110 §5.6.4 quoted-string: `"` and `\` escaped
/// as quoted-pairs; what no quoted-string may hold (control characters, so no
/// header can be split, and non-ASCII) dropped.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len());
    for c in text.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_token_gets_a_bare_challenge() {
        assert_eq!(
            AuthError::missing_token().challenge("app").as_deref(),
            Some("Bearer realm=\"app\"")
        );
    }

    #[test]
    fn invalid_token_names_the_error() {
        let c = AuthError::invalid_token("token has expired").challenge("app");
        assert_eq!(
            c.as_deref(),
            Some(
                "Bearer realm=\"app\", error=\"invalid_token\", \
                 error_description=\"token has expired\""
            )
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope() {
        let c = AuthError::insufficient_scope("a scope is missing", Some("reports:read"))
            .challenge("app")
            .unwrap_or_default();
        assert!(c.contains("error=\"insufficient_scope\""), "{c}");
        assert!(c.ends_with(", scope=\"reports:read\""), "{c}");
    }

    #[test]
    fn quotes_and_control_characters_cannot_break_the_header() {
        let c = AuthError::invalid_token("bad \"x\"\r\nSet-Cookie: a=b\\")
            .challenge("re\"alm")
            .unwrap_or_default();
        assert!(!c.contains('\r') && !c.contains('\n'), "{c}");
        // Escaped, not stripped: the description says what it said.
        assert!(c.contains(r#"realm="re\"alm""#), "{c}");
        assert!(
            c.contains(r#"error_description="bad \"x\"Set-Cookie: a=b\\""#),
            "{c}"
        );
        // Three quoted-strings: six quotes that are not quoted-pairs.
        let (mut delimiters, mut escaped) = (0, false);
        for ch in c.chars() {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => delimiters += 1,
                _ => {}
            }
        }
        assert_eq!(delimiters, 6, "{c}");
    }

    #[test]
    fn server_faults_carry_no_challenge_and_hide_their_cause() {
        let e = AuthError::unavailable("connection refused to db.internal:5432");
        assert_eq!(e.status(), Status::ServiceUnavailable);
        assert!(e.challenge("app").is_none());
        assert!(!e.body().contains("db.internal"), "{}", e.body());
    }
}
