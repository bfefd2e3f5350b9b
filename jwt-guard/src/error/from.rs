//! The one table of which failure answers what: every `From` conversion into
//! [`AuthError`], so handlers and built-in routes use `?` and no call site picks a
//! status by hand. Outages keep their cause as the error's source (logged, never
//! sent); refusals carry one safe description each.

use rocket::http::Status;

use super::failure::{AuthError, ErrorCode};
use super::rejection::Rejection;
use crate::dpop::{DpopRefusal, ProofError};
use crate::runtime::StaleRevocations;
use crate::session::{SessionError, UserStoreUnavailable};
use crate::signer::IssueError;
use crate::store::{LinkDenial, StoreError};
use crate::verifier::VerifyError;

/// jwt-guard's own refusals: the one place their statuses and texts are written.
impl From<Rejection> for AuthError {
    fn from(r: Rejection) -> Self {
        use Rejection as R;
        match r {
            R::SeveralAuthorizations => {
                AuthError::invalid_request("more than one Authorization header was sent")
            }
            R::EmptyAuthorization => AuthError::invalid_request("the Authorization header has no token"),
            R::TokenTooLarge => AuthError::invalid_token("token is too large"),
            R::MalformedAuthorization => {
                AuthError::invalid_request("the Authorization header is malformed")
            }
            R::NoToken => AuthError::missing_token(),
            R::SchemeNotAccepted { scheme, accepted } => AuthError::missing_token_because(format!(
                "the `{scheme}` scheme is not accepted here: send `Authorization: {accepted} <token>`, \
                 or add \"{scheme}\" to jwt.header_prefixes"
            )),
            r @ (R::NotAttached
            | R::NoAuthenticator
            | R::IssuerNotConfigured(_)
            | R::CheckQueueTimedOut
            | R::LinkNotConsumed
            | R::LinkStorageUnreachable) => AuthError::unavailable(r),
            R::OtherIssuer(name) => AuthError::invalid_token(format!(
                "this route accepts tokens of the issuer `{name}` only"
            )),
            R::AuthenticationTooOld { max_age } => AuthError::insufficient_user_authentication(
                "this route needs a more recent authentication; sign in again",
                Some(max_age),
                None,
            ),
            R::AuthenticationTimeUnknown { max_age } => {
                AuthError::insufficient_user_authentication(
                    "this route needs to know when the user authenticated (`auth_time`)",
                    Some(max_age),
                    None,
                )
            }
            R::AuthenticationInFuture => {
                AuthError::invalid_token("the token says the user authenticated in the future")
            }
            R::AuthenticationTooWeak(accepted) => AuthError::insufficient_user_authentication(
                "this route needs a stronger authentication",
                None,
                Some(accepted),
            ),
            R::Denied(denied) => AuthError::insufficient_scope(denied.description, denied.scope),
            #[cfg(feature = "prometheus")]
            R::NotTheMetricsToken => AuthError::invalid_token("not the metrics token"),
            R::IntrospectionCallerUnknown => AuthError::invalid_client(
                "introspection needs a client's credentials (HTTP Basic) or a token with scope \
                 token:introspect",
            ),
            R::CrossSiteFetch => {
                AuthError::cross_site("this request comes from another site (Sec-Fetch-Site)")
            }
            R::TossedCookie => AuthError::invalid_request(
                "a session cookie was sent twice; sign in again from this site",
            ),
            R::CrossSiteOrigin => {
                AuthError::cross_site("this request comes from another site (Origin)")
            }
            R::CrossSiteReferer => {
                AuthError::cross_site("this request comes from another site (Referer)")
            }
            R::OriginUnknown => AuthError::cross_site(
                "a cookie-authenticated request must say where it comes from (Origin)",
            ),
            // Rocket's status is kept: 422, what the request said is readable
            // but not what the route takes.
            R::ParameterInvalid => AuthError::new(
                Status::UnprocessableEntity,
                ErrorCode::InvalidRequest,
                "a path or query parameter is not valid for this route",
            ),
            R::BodyUnprocessable => AuthError::new(
                Status::UnprocessableEntity,
                ErrorCode::InvalidRequest,
                "the request body is not the expected JSON object",
            ),
            R::BodyUnreadable => AuthError::invalid_request("the request body could not be read"),
            R::BodyNotExpected { problem } => AuthError::invalid_request(match problem {
                Some(problem) => {
                    format!("the request body is not the expected JSON object: {problem}")
                }
                None => "the request body is not the expected JSON object".to_owned(),
            }),
            R::NotJson => AuthError::for_status(Status::UnsupportedMediaType),
            // RFC 7009 §2.1 / RFC 7662 §2.1: the type these endpoints take, named.
            R::NotAForm => AuthError::new(
                Status::UnsupportedMediaType,
                ErrorCode::UnsupportedMediaType,
                "the request body must be a form \
                 (Content-Type: application/x-www-form-urlencoded)",
            ),
            R::FormUnreadable => AuthError::invalid_request("the form could not be read"),
            R::FormTooLarge => AuthError::for_status(Status::PayloadTooLarge),
            R::FormMalformed => AuthError::invalid_request("the form is malformed"),
            R::TokenParameterMissing => {
                AuthError::invalid_request("the `token` parameter is required")
            }
            R::CredentialsTooLong => AuthError::invalid_request("username or password is too long"),
            R::InvalidCredentials => AuthError::invalid_credentials(),
            // No credential at all: 401, like a protected route without a token.
            R::NoRefreshToken => AuthError::new(
                Status::Unauthorized,
                ErrorCode::MissingToken,
                "no refresh token: send {\"refresh\": \"…\"} or the refresh cookie",
            ),
            R::NoPermanentToken => AuthError::missing_permanent_token(),
            R::SeveralPermanentTokens => {
                AuthError::invalid_request("more than one Permanent-Token header was sent")
            }
            R::PermanentTokenMalformed => AuthError::invalid_token("permanent token is malformed"),
            R::MisplacedPermanentToken => AuthError::invalid_request(
                "the Permanent-Token header is only accepted by the device refresh route",
            ),
            R::NoSuchDevice => AuthError::not_found("no such device"),
            R::NoSuchToken => AuthError::not_found("no such token"),
            R::DeviceIdRequired => AuthError::invalid_request("the Device-Id header is required"),
            R::TokenOfNoDevice => AuthError::invalid_request("this token belongs to no device"),
            R::NotAWholeNumber(name) => {
                AuthError::invalid_request(format!("`{name}` must be a whole number"))
            }
            R::QueryParameterTwice(name) => {
                AuthError::invalid_request(format!("`{name}` is given more than once"))
            }
            R::KeepCurrentNotBoolean => {
                AuthError::invalid_request("`keep_current` must be `true` or `false`")
            }
            R::TooManyAttempts { retry_after } => AuthError::too_many_requests(retry_after),
            R::LinkUserGone => AuthError::invalid_link("this link's user does not exist"),
            R::NotALinkRoute => {
                AuthError::invalid_link("this route is not an `#[expiring_link]` route")
            }
            R::NoPublicKeys => {
                AuthError::not_found("no public keys: tokens are signed with a shared secret (HMAC)")
            }
            #[cfg(feature = "passkeys")]
            R::PasskeyCeremonyGone => AuthError::invalid_request(
                "this passkey challenge is unknown, answered already or expired: ask for new options",
            ),
            #[cfg(feature = "passkeys")]
            R::PasskeyRegistrationRefused(why) => AuthError::invalid_request(why),
            #[cfg(feature = "passkeys")]
            R::PasskeyLoginRefused(why) => {
                AuthError::new(Status::Unauthorized, ErrorCode::InvalidCredentials, why)
            }
            #[cfg(feature = "passkeys")]
            R::PasskeyUnknown => AuthError::new(
                Status::Unauthorized,
                ErrorCode::InvalidCredentials,
                "this passkey is not registered here",
            ),
            #[cfg(feature = "passkeys")]
            R::PasskeyUserHandleMismatch => AuthError::new(
                Status::Unauthorized,
                ErrorCode::InvalidCredentials,
                "the passkey's user handle is not its owner's",
            ),
            #[cfg(feature = "passkeys")]
            R::PasskeyCounterRegressed => AuthError::new(
                Status::Unauthorized,
                ErrorCode::InvalidCredentials,
                "the passkey's signature counter did not move forwards (a replayed assertion, \
                 or a cloned authenticator)",
            ),
            #[cfg(feature = "passkeys")]
            R::PasskeyAlreadyRegistered => {
                AuthError::invalid_request("this passkey is registered already")
            }
            #[cfg(feature = "passkeys")]
            R::PasskeyNotFound => AuthError::not_found("no such passkey"),
            #[cfg(feature = "passkeys")]
            R::PasskeyOfAnotherUser => AuthError::new(
                Status::Forbidden,
                ErrorCode::InsufficientScope,
                "this passkey is another user's than the session's",
            ),
            #[cfg(feature = "passkeys")]
            R::PasskeyServerFailure(_) => AuthError::for_status(Status::InternalServerError),
            R::NoKeysOfItsOwn => AuthError::not_found(
                "no keys of its own: this app only verifies tokens of the issuers it trusts \
                 (their keys are at their own JWKS URLs)",
            ),
            R::NoProtectedResource => AuthError::not_found("no protected resource is configured"),
            R::NoResourceAtPath => AuthError::not_found("no protected resource at this path"),
            R::NoSignalReceiver => {
                AuthError::not_found("no trusted issuer of that name sends these signals here")
            }
            // The sender retries a 503; a 4xx would make it give the signal up.
            r @ R::SignalKeysUnreachable => AuthError::unavailable(r),
        }
    }
}

/// A refused token: `401 invalid_token` with the failure's safe description.
impl From<VerifyError> for AuthError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::ClaimsMismatch { claims, detail } => AuthError::invalid_token(format!(
                "the token's claims do not match `{claims}`: {detail}"
            )),
            e => AuthError::invalid_token(e.description()),
        }
    }
}

/// A refused link: `410` when it existed but can no longer be used, `403` when it
/// is tampered, for another route, or no link at all.
impl From<LinkDenial> for AuthError {
    fn from(denial: LinkDenial) -> Self {
        match denial {
            LinkDenial::Expired => AuthError::link_gone("this link has expired"),
            LinkDenial::UsedUp => AuthError::link_gone("this link has already been used"),
            LinkDenial::Revoked => AuthError::link_gone("this link has been revoked"),
            LinkDenial::WrongTarget => AuthError::invalid_link("this link is for another page"),
            LinkDenial::WrongKind => AuthError::invalid_link("this is not a link token"),
            LinkDenial::Tampered => AuthError::invalid_link("this link is not valid"),
            LinkDenial::Missing => AuthError::invalid_link("the link token is missing"),
        }
    }
}

/// What a session step refused or could not do.
/// A DPoP refusal (RFC 9449): `invalid_dpop_proof` / `use_dpop_nonce` with the
/// status of where the proof came (§5: 400 at a token endpoint, §7.1: 401 at a
/// resource), `invalid_token` in a `DPoP` challenge for a binding (§7.1), 503
/// when the replay cache cannot be reached.
impl From<DpopRefusal> for AuthError {
    fn from(r: DpopRefusal) -> Self {
        match r {
            DpopRefusal::Proof(ProofError::Nonce, at) => AuthError::use_dpop_nonce(at.status()),
            DpopRefusal::Proof(e, at) => AuthError::invalid_dpop_proof(at.status(), e.to_string()),
            DpopRefusal::NoProof(why, at) => AuthError::invalid_dpop_proof(at.status(), why),
            DpopRefusal::Binding { reason, bound_only } => {
                let e = AuthError::invalid_token(reason).in_dpop_challenge();
                if bound_only {
                    e.dpop_only()
                } else {
                    e
                }
            }
            DpopRefusal::Unchecked(why) => AuthError::invalid_token(why),
            r @ DpopRefusal::Unavailable(_) => AuthError::unavailable(r),
        }
    }
}

impl From<SessionError> for AuthError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::DeviceCap => AuthError::device_limit(),
            SessionError::Proof(refusal) => refusal.into(),
            SessionError::Link(denial) => denial.into(),
            SessionError::Token(e) => e.into(),
            SessionError::WindowPassed => {
                AuthError::invalid_token("the refresh window since login has passed; sign in again")
            }
            SessionError::UserGone => AuthError::invalid_token("the token's user no longer exists"),
            SessionError::NotCurrent => AuthError::invalid_token("refresh token is not valid"),
            SessionError::Reused => AuthError::invalid_token(
                "refresh token was already used; the device has been signed out",
            ),
            SessionError::PermanentReused => AuthError::invalid_token(
                "the permanent token was already used; the device has been signed out",
            ),
            SessionError::PermanentNotCurrent => {
                AuthError::invalid_token("permanent token is not valid")
            }
            SessionError::DeviceExpired => {
                AuthError::invalid_token("the device has expired; sign in again")
            }
            e @ SessionError::Claims(_) => AuthError::server_fault(e),
            SessionError::Unavailable(cause) => AuthError::unavailable(cause),
        }
    }
}

/// The outages a session step can meet, written once for both failure types:
/// `503` with the cause kept as the error's source (logged, never sent), and the
/// same outage inside a session step.
macro_rules! outages {
    ($($(#[$doc:meta])* $outage:ty;)*) => {$(
        $(#[$doc])*
        impl From<$outage> for AuthError {
            fn from(e: $outage) -> Self {
                AuthError::unavailable(e)
            }
        }

        $(#[$doc])*
        impl From<$outage> for SessionError {
            fn from(e: $outage) -> Self {
                SessionError::unavailable(e)
            }
        }
    )*};
}

outages! {
    /// jwt-guard's database failed.
    StoreError;
    /// The application's user store could not answer (never a `401`).
    UserStoreUnavailable;
    /// A token could not be signed (a key fault, not the client's).
    IssueError;
}

/// Revocations may be out of date and the policy is to fail closed: `503`.
impl From<StaleRevocations> for AuthError {
    fn from(e: StaleRevocations) -> Self {
        AuthError::unavailable(e)
    }
}

/// A query of the application's own failed: an outage (`503`), for handlers that
/// read their own tables with `?`.
impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::unavailable(e)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use rocket::http::Status;

    use super::*;

    #[test]
    fn an_outage_keeps_its_cause_as_the_source_and_sends_none_of_it() {
        let e = AuthError::from(SessionError::unavailable(StoreError(
            sqlx::Error::PoolTimedOut,
        )));
        assert_eq!(e.status(), Status::ServiceUnavailable);
        let source = e
            .source()
            .map(|s| crate::observe::Chain(s).to_string())
            .unwrap_or_default();
        assert!(source.contains("pool timed out"), "{source}");
        assert!(!e.body().contains("pool"), "{}", e.body());
    }

    #[test]
    fn a_device_cap_is_a_403_and_a_used_up_login_link_a_410() {
        assert_eq!(
            AuthError::from(SessionError::DeviceCap).status(),
            Status::Forbidden
        );
        let gone = AuthError::from(SessionError::Link(LinkDenial::UsedUp));
        assert_eq!(gone.status(), Status::Gone);
    }
}
