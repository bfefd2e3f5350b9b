//! Every refusal jwt-guard's own code makes that is not a domain failure of its
//! own (a [`VerifyError`](crate::verifier::VerifyError), a
//! [`SessionError`](crate::session::SessionError), …): one variant each. What a
//! variant answers — status, code, the one safe description — is written once, in
//! the conversion table (`from.rs`); no call site spells a status or a text.
//!
//! The `Display` text is what the log says when a variant is an outage (a `503`
//! keeps the rejection as its cause); clients see the table's description.

use crate::policy::Denied;

/// A request jwt-guard refuses, or cannot serve, for a reason of its own.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Rejection {
    // --- Reading the credential (RFC 6750 §2.1, RFC 7235) ---
    /// Two `Authorization` headers: which one speaks is ambiguous.
    #[error("more than one Authorization header was sent")]
    SeveralAuthorizations,
    /// A scheme of ours with nothing after it.
    #[error("the Authorization header has no token")]
    EmptyAuthorization,
    /// Longer than `MAX_TOKEN_BYTES`: refused before any parsing.
    #[error("the token is too large")]
    TokenTooLarge,
    /// Not token68 text.
    #[error("the Authorization header is malformed")]
    MalformedAuthorization,
    /// No token this app reads was sent.
    #[error("no token was sent")]
    NoToken,
    /// A token was sent with a known scheme this app does not accept.
    #[error("the `{scheme}` scheme is not accepted")]
    SchemeNotAccepted {
        /// The scheme sent (one of a fixed list, never the client's text).
        scheme: &'static str,
        /// The first scheme the app does accept.
        accepted: String,
    },

    // --- Configuration the request found missing ---
    /// jwt-guard's fairing is not attached to this Rocket.
    #[error("jwt-guard is not attached: attach `jwt_guard::JwtGuard::fairing()` to this Rocket")]
    NotAttached,
    /// A login route without an authenticator.
    #[error("login needs an authenticator: `JwtGuard::fairing().authenticator(…)`")]
    NoAuthenticator,
    /// A route names an outside issuer that is not configured.
    #[error("issuer `{0}` is not configured in jwt.trusted_issuers")]
    IssuerNotConfigured(&'static str),

    // --- The token, judged against the route ---
    /// The app's own token, or another provider's, where one issuer's is needed.
    #[error("this route accepts tokens of the issuer `{0}` only")]
    OtherIssuer(&'static str),
    /// RFC 9470: the authentication is older than the route's `fresh`.
    #[error("the authentication is older than {max_age}s")]
    AuthenticationTooOld {
        /// The route's `fresh`, in seconds.
        max_age: u64,
    },
    /// RFC 9470: the token does not say when the user authenticated.
    #[error("the token has no `auth_time`")]
    AuthenticationTimeUnknown {
        /// The route's `fresh`, in seconds.
        max_age: u64,
    },
    /// The token (or the login a session rests on) says the user authenticated
    /// after now, past the leeway.
    #[error("the authentication time is in the future")]
    AuthenticationInFuture,
    /// RFC 9470: the authentication class is not one the route accepts.
    #[error("the authentication class is not one of `{0}`")]
    AuthenticationTooWeak(&'static str),
    /// The route's policy refused the claims (role, scope, check).
    #[error("{}", .0.description())]
    Denied(Denied),
    /// `GET /metrics` with another bearer token.
    #[cfg(feature = "prometheus")]
    #[error("not the metrics token")]
    NotTheMetricsToken,
    /// `/oauth/introspect` without a client's credentials or a permitted token.
    #[error("introspection caller is not authenticated")]
    IntrospectionCallerUnknown,

    // --- Browsers (cookie mode's CSRF rule) ---
    /// `Sec-Fetch-Site: cross-site`: the browser says another site made it send
    /// the request.
    #[error("cross-site request (Sec-Fetch-Site)")]
    CrossSiteFetch,
    /// A session cookie name sent twice (cookie tossing).
    #[error("a session cookie was sent twice")]
    TossedCookie,
    /// `Origin` names another site.
    #[error("cross-site request (Origin)")]
    CrossSiteOrigin,
    /// `Referer` names another site.
    #[error("cross-site request (Referer)")]
    CrossSiteReferer,
    /// A cookie-authenticated request that says nothing of where it comes from.
    #[error("cookie-authenticated request without Origin")]
    OriginUnknown,

    // --- Bodies and parameters ---
    /// Rocket's 422 on a request without a body: a path or query parameter did
    /// not parse.
    #[error("a path or query parameter is not valid for this route")]
    ParameterInvalid,
    /// Rocket's 422 on a JSON body: the app's data guard could not read it.
    #[error("the request body is not the expected JSON object")]
    BodyUnprocessable,
    /// The body could not be read.
    #[error("the request body could not be read")]
    BodyUnreadable,
    /// The JSON body is not the route's object; `problem` names a field when
    /// serde does (never a value).
    #[error("the request body is not the expected JSON object")]
    BodyNotExpected {
        /// E.g. "missing field `password`".
        problem: Option<String>,
    },
    /// A JSON route got another content type.
    #[error("the request body is not JSON")]
    NotJson,
    /// A form route (RFC 7009/7662) got another content type.
    #[error("the request body is not a form")]
    NotAForm,
    /// The form could not be read.
    #[error("the form could not be read")]
    FormUnreadable,
    /// The form is larger than the route reads.
    #[error("the form is too large")]
    FormTooLarge,
    /// The form does not parse.
    #[error("the form is malformed")]
    FormMalformed,
    /// The form has no `token`.
    #[error("the `token` parameter is missing")]
    TokenParameterMissing,

    // --- Sessions and devices ---
    /// Login credentials longer than the route reads.
    #[error("username or password is too long")]
    CredentialsTooLong,
    /// The username or password is wrong (never saying which).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// A refresh without a token in the body or the cookie.
    #[error("no refresh token")]
    NoRefreshToken,
    /// The device refresh route without a permanent token.
    #[error("no permanent token")]
    NoPermanentToken,
    /// Two `Permanent-Token` headers.
    #[error("more than one Permanent-Token header was sent")]
    SeveralPermanentTokens,
    /// Not a permanent token's form.
    #[error("the permanent token is malformed")]
    PermanentTokenMalformed,
    /// `Permanent-Token` sent to a route other than the device refresh route.
    #[error("Permanent-Token sent to a route that does not take it")]
    MisplacedPermanentToken,
    /// Unknown, or not the caller's.
    #[error("no such device")]
    NoSuchDevice,
    /// Unknown, or not the caller's.
    #[error("no such token")]
    NoSuchToken,
    /// `DELETE /auth/device-logout` without `Device-Id`.
    #[error("no Device-Id header")]
    DeviceIdRequired,
    /// A device route reached with a token of no device (a minted one).
    #[error("the token belongs to no device")]
    TokenOfNoDevice,
    /// A query parameter that must be a whole number.
    #[error("`{0}` is not a whole number")]
    NotAWholeNumber(&'static str),
    /// A query parameter was given more than once.
    #[error("the query parameter is given twice")]
    QueryParameterTwice(&'static str),
    /// `keep_current` other than `true`/`false`.
    #[error("`keep_current` is not a boolean")]
    KeepCurrentNotBoolean,
    /// Too many attempts (logins, messages, refreshes); try again in so many
    /// seconds.
    #[error("too many attempts")]
    TooManyAttempts {
        /// Seconds until the budget allows one more.
        retry_after: u64,
    },
    /// Every password check is busy and the queue's patience ran out.
    #[error("every password check is busy; the login queue timed out")]
    CheckQueueTimedOut,

    // --- Links ---
    /// The user a link was minted for is gone.
    #[error("the link's user does not exist")]
    LinkUserGone,
    /// A login link opened a session but was not used in its transaction.
    #[error("the login link was not used by the session that opened")]
    LinkNotConsumed,
    /// `LinkUse` taken by a route that is not an `#[expiring_link]` route.
    #[error("this route is not an `#[expiring_link]` route")]
    NotALinkRoute,
    /// Link storage could not be reached.
    #[error("link storage is unreachable")]
    LinkStorageUnreachable,

    // --- Passkeys (WebAuthn) ---
    /// A ceremony token that names no open ceremony of this kind (never opened,
    /// answered already, expired, or opened by another user).
    #[error("the passkey ceremony is unknown, answered or expired")]
    #[cfg(feature = "passkeys")]
    PasskeyCeremonyGone,
    /// A registration answer `webauthn-rs-core` refused (the check named).
    #[error("the passkey registration was refused: {0}")]
    #[cfg(feature = "passkeys")]
    PasskeyRegistrationRefused(&'static str),
    /// A login assertion `webauthn-rs-core` refused (the check named).
    #[error("the passkey assertion was refused: {0}")]
    #[cfg(feature = "passkeys")]
    PasskeyLoginRefused(&'static str),
    /// An assertion by a credential registered nowhere here.
    #[error("the passkey is not registered here")]
    #[cfg(feature = "passkeys")]
    PasskeyUnknown,
    /// An assertion whose user handle is not the credential owner's.
    #[error("the passkey's user handle does not match")]
    #[cfg(feature = "passkeys")]
    PasskeyUserHandleMismatch,
    /// A signature counter that did not move forwards: a cloned authenticator,
    /// or the same assertion twice.
    #[error("the passkey's signature counter did not move forwards")]
    #[cfg(feature = "passkeys")]
    PasskeyCounterRegressed,
    /// A credential id registered already.
    #[error("the passkey is registered already")]
    #[cfg(feature = "passkeys")]
    PasskeyAlreadyRegistered,
    /// None of the caller's passkeys has this id.
    #[error("no such passkey of the caller's")]
    #[cfg(feature = "passkeys")]
    PasskeyNotFound,
    /// A step-up with a passkey of another user than the session's.
    #[error("the passkey is another user's than the session's")]
    #[cfg(feature = "passkeys")]
    PasskeyOfAnotherUser,
    /// The server could not build or keep a ceremony.
    #[error("passkey ceremony failure: {0}")]
    #[cfg(feature = "passkeys")]
    PasskeyServerFailure(&'static str),

    // --- Metadata ---
    /// No JWKS: tokens are signed with a shared secret.
    #[error("no public keys (HMAC)")]
    NoPublicKeys,
    /// No JWKS: a verify-only app with no key of its own signs nothing.
    #[error("no keys of its own (verify-only)")]
    NoKeysOfItsOwn,
    /// RFC 9728 metadata with no protected resource configured.
    #[error("no protected resource is configured")]
    NoProtectedResource,
    /// RFC 9728 metadata at a path no resource has.
    #[error("no protected resource at this path")]
    NoResourceAtPath,
    /// A signal route for an issuer that is not configured to send that signal.
    #[error("no trusted issuer of that name sends these signals")]
    NoSignalReceiver,
    /// An issuer's keys are needed to check its signal, and cannot be fetched.
    #[error("the issuer's keys cannot be fetched")]
    SignalKeysUnreachable,
}
