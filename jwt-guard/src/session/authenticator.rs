//! The application's user store as jwt-guard sees it: the [`Authenticator`]
//! contract an app implements, and its erasure to JSON claims so the built-in
//! routes need no generics.

use std::error::Error as StdError;
use std::sync::Arc;

use rocket::Request;

use super::outcome::SessionError;
use crate::claims::Claims;

/// A user the application recognised, and the claims their tokens carry.
#[derive(Clone, Debug)]
pub struct Principal<C> {
    /// The subject (stable user id) written as `sub`.
    pub subject: String,
    /// The claims for this user's access tokens.
    pub claims: C,
}

/// The application's user store could not answer: the check was not made (its
/// database is down, say). Answered `503` with `Retry-After` — never `401`, which
/// would make a client throw its session away.
#[derive(Debug, thiserror::Error)]
#[error("the user store is unavailable")]
pub struct UserStoreUnavailable(#[source] Box<dyn StdError + Send + Sync>);

impl UserStoreUnavailable {
    /// Wraps what went wrong (it is logged, never sent).
    pub fn new(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

impl From<sqlx::Error> for UserStoreUnavailable {
    fn from(e: sqlx::Error) -> Self {
        Self::new(e)
    }
}

/// The application's user store, as the built-in routes see it.
///
/// Each method tells three answers apart: a user (`Ok(Some(…))`), no such user or
/// a wrong password (`Ok(None)`, answered 401), and "could not check"
/// (`Err(UserStoreUnavailable)`, answered 503 — the client keeps its session and retries).
///
/// ```
/// use jwt_guard::{Authenticator, Principal, StandardClaims, UserStoreUnavailable};
///
/// struct OneUser;
///
/// #[rocket::async_trait]
/// impl Authenticator for OneUser {
///     type Claims = StandardClaims;
///
///     async fn authenticate(
///         &self,
///         _req: &rocket::Request<'_>,
///         username: &str,
///         password: &str,
///     ) -> Result<Option<Principal<StandardClaims>>, UserStoreUnavailable> {
///         Ok((username == "ada" && password == "correct horse").then(|| Principal {
///             subject: "ada".into(),
///             claims: StandardClaims::default(),
///         }))
///     }
///
///     async fn claims_for(
///         &self,
///         _req: &rocket::Request<'_>,
///         subject: &str,
///     ) -> Result<Option<StandardClaims>, UserStoreUnavailable> {
///         Ok((subject == "ada").then(StandardClaims::default))
///     }
/// }
/// ```
#[rocket::async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a jwt-guard authenticator",
    note = "implement `jwt_guard::Authenticator` for `{Self}` with `#[rocket::async_trait]`"
)]
pub trait Authenticator: Send + Sync + 'static {
    /// The claims access tokens carry.
    type Claims: Claims;

    /// Checks a username and password. Return `Ok(None)` for an unknown user and
    /// for a wrong password alike, taking the same time for both; `Err` when the
    /// check could not be made.
    ///
    /// `req` gives access to managed state (a database pool, say) and the client.
    /// Calls are throttled per account and client address, and at most
    /// `login_throttle.max_concurrent_checks` run at once (a slow password hash is a
    /// memory and CPU lever).
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal<Self::Claims>>, UserStoreUnavailable>;

    /// The current claims of `subject`: `Ok(None)` if the user no longer exists
    /// (their refresh then fails with 401), `Err` if that cannot be told now (503;
    /// the refresh token stays usable). Called on every refresh, so role changes
    /// take effect.
    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<Self::Claims>, UserStoreUnavailable>;

    /// Called after each successful login, e.g. to update a last-login column.
    async fn record_login(&self, _req: &Request<'_>, _subject: &str, _at: u64) {}

    /// The account a typed username names, as this app's user store tells
    /// accounts apart: what the failed-login budget, its lock-out and the
    /// known-device credential are kept under, so that guessing at one account
    /// never spends, clears or unlocks another's.
    ///
    /// Default: the name exactly as typed — right for a store that compares
    /// names exactly (`WHERE username = $1`). A store that folds names (case,
    /// surrounding spaces, Unicode normalisation) must return the name folded
    /// *the same way* it looks accounts up, or a guesser spreads attempts over
    /// spellings of one account: `typed.trim().to_lowercase()` for
    /// `WHERE lower(username) = lower(trim($1))` under a Unicode-aware `lower`,
    /// `typed.to_ascii_lowercase()` for an ASCII-only one (PostgreSQL's `C`
    /// collation leaves the Kelvin sign `K` alone; Rust's `to_lowercase` folds it
    /// to `k`). Called before the password is checked; it must not fail.
    fn account_key(&self, typed: &str) -> String {
        typed.to_owned()
    }
}

/// [`Authenticator`] with its claims type erased (to JSON), so the routes need no
/// generics.
#[rocket::async_trait]
pub(crate) trait ErasedAuthenticator: Send + Sync {
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<(String, serde_json::Value)>, SessionError>;

    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<serde_json::Value>, SessionError>;

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64);

    fn account_key(&self, typed: &str) -> String;
}

#[rocket::async_trait]
impl<A: Authenticator> ErasedAuthenticator for A {
    async fn authenticate(
        &self,
        req: &Request<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<(String, serde_json::Value)>, SessionError> {
        let Some(principal) = Authenticator::authenticate(self, req, username, password).await?
        else {
            return Ok(None);
        };
        let claims = claims_json(&principal.claims)?;
        Ok(Some((principal.subject, claims)))
    }

    async fn claims_for(
        &self,
        req: &Request<'_>,
        subject: &str,
    ) -> Result<Option<serde_json::Value>, SessionError> {
        match Authenticator::claims_for(self, req, subject).await? {
            Some(claims) => claims_json(&claims).map(Some),
            None => Ok(None),
        }
    }

    async fn record_login(&self, req: &Request<'_>, subject: &str, at: u64) {
        Authenticator::record_login(self, req, subject, at).await
    }

    fn account_key(&self, typed: &str) -> String {
        Authenticator::account_key(self, typed)
    }
}

/// The application's authenticator, as managed state.
#[derive(Clone)]
pub(crate) struct AppAuthenticator(pub(crate) Arc<dyn ErasedAuthenticator>);

impl AppAuthenticator {
    /// Erases `authenticator`'s claims type.
    pub(crate) fn new<A: Authenticator>(authenticator: A) -> Self {
        Self(Arc::new(authenticator))
    }
}

/// The app's claims as the JSON its tokens carry. A type that cannot be written
/// as JSON is the app's bug, not an outage: answered `500`, never `503`.
pub(crate) fn claims_json<C: Claims>(claims: &C) -> Result<serde_json::Value, SessionError> {
    serde_json::to_value(claims).map_err(SessionError::Claims)
}
