//! [`JwtGuard`], the fairing an application attaches, and the builder methods
//! that say what it assembles.

use std::sync::Arc;

use rocket::Rocket;

use crate::clock::Clock;
use crate::config::JwtConfig;
use crate::link::{AppLinkPages, LinkMailer, LinkPages};
use crate::manifest::{self, RouteEntry};
use crate::session::{AppAuthenticator, Authenticator};
use crate::signals::{LocalSubjects, SignalSubjects};

/// Attach this to a Rocket to use jwt-guard.
///
/// At ignite it reads the `jwt` configuration table, loads and checks the keys
/// (a bad key stops launch with a clear message), opens the `jwt_guard` database
/// (unless [`JwtDb`](crate::store::JwtDb) is already attached), runs jwt-guard's migrations, loads the
/// revocations, and manages [`JwtRuntime`](crate::runtime::JwtRuntime), [`Issuer`](crate::token::Issuer) and [`Store`](crate::store::Store).
/// With an [`Authenticator`] it also mounts the token and device routes and the JWKS.
///
/// At liftoff it starts polling the database for revocations made by other
/// instances (`revocation_poll`) and, if configured, the archiver.
///
/// On every request carrying `Permanent-Token` to a route that is not a
/// `#[permanent_refresh]` route, it answers 400 without running the handler. On
/// every response it turns a guard's failure into an RFC 6750 answer.
///
/// ```no_run
/// # use jwt_guard::JwtGuard;
/// # use jwt_guard::config::JwtConfig;
/// let rocket = rocket::build().attach(
///     JwtGuard::fairing().config(JwtConfig::hmac("a secret of at least thirty-two bytes!")),
/// );
/// ```
pub struct JwtGuard {
    pub(super) config: Option<JwtConfig>,
    pub(super) require_protection: bool,
    pub(super) clock: Clock,
    pub(super) authenticator: Option<AppAuthenticator>,
    pub(super) mailer: Option<Arc<dyn LinkMailer>>,
    pub(super) pages: AppLinkPages,
    /// Where the token and device routes are mounted (`/` by default).
    pub(super) base: String,
    /// No database: guards and verification routes only ([`JwtGuard::verify_only`]).
    pub(super) verify_only: bool,
    /// Mount `POST /oauth/revoke` (RFC 7009).
    pub(super) revocation_endpoint: bool,
    /// Mount `POST /oauth/introspect` (RFC 7662).
    pub(super) introspection_endpoint: bool,
    /// How signals from outside name the app's own users.
    pub(super) signal_subjects: LocalSubjects,
}

impl Default for JwtGuard {
    fn default() -> Self {
        Self::fairing()
    }
}

impl JwtGuard {
    /// The fairing, reading configuration from Rocket's `jwt` table.
    pub fn fairing() -> Self {
        Self {
            config: None,
            require_protection: false,
            clock: Clock::system(),
            authenticator: None,
            mailer: None,
            pages: AppLinkPages::default(),
            base: "/".to_owned(),
            verify_only: false,
            revocation_endpoint: false,
            introspection_endpoint: false,
            signal_subjects: LocalSubjects::default(),
        }
    }

    /// Mounts `POST /oauth/revoke` under the routes' base: RFC 7009 token
    /// revocation. A client posts `token=…` (form-encoded) to end an access,
    /// refresh or permanent token it holds; the answer is `200` whether or not the
    /// token was valid.
    ///
    /// ```no_run
    /// # use jwt_guard::JwtGuard;
    /// let rocket = rocket::build().attach(JwtGuard::fairing().revocation_endpoint());
    /// ```
    pub fn revocation_endpoint(mut self) -> Self {
        self.revocation_endpoint = true;
        self
    }

    /// Mounts `POST /oauth/introspect` under the routes' base: RFC 7662 token
    /// introspection for other services. Callers authenticate with HTTP Basic
    /// credentials of a `jwt.introspection_clients` entry, or with an access token
    /// carrying scope `token:introspect`.
    pub fn introspection_endpoint(mut self) -> Self {
        self.introspection_endpoint = true;
        self
    }

    /// The fairing of an app that only verifies tokens — its own keys, or the
    /// trusted outside issuers' (`jwt.trusted_issuers`) — and keeps no state: no
    /// database is opened or created, no login, refresh, device or link route is
    /// mounted (`POST /auth/token/verify` and the JWKS are), and revocations are not
    /// checked (there is no revocation list to read). With no key of its own
    /// configured, only outside issuers' tokens are accepted.
    ///
    /// ```no_run
    /// # use jwt_guard::JwtGuard;
    /// let rocket = rocket::build().attach(JwtGuard::verify_only());
    /// ```
    pub fn verify_only() -> Self {
        Self {
            verify_only: true,
            ..Self::fairing()
        }
    }

    /// Mounts the token and device routes under `base` (`/api` gives
    /// `/api/auth/token`, …) instead of `/`. The refresh cookie's default path
    /// follows (`/api/auth`).
    pub fn routes_at(mut self, base: &str) -> Self {
        let trimmed = base.trim_end_matches('/');
        self.base = if trimmed.is_empty() {
            "/".to_owned()
        } else {
            trimmed.to_owned()
        };
        self
    }

    /// Uses `config` instead of Rocket's `jwt` table.
    pub fn config(mut self, config: JwtConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Reads time from `clock` (tests move it forward).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Shows `pages` (the confirmation and "cannot be used" pages of links)
    /// instead of jwt-guard's own.
    pub fn link_pages<P: LinkPages>(mut self, pages: P) -> Self {
        self.pages = AppLinkPages(Arc::new(pages));
        self
    }

    /// Delivers links sent with [`Links::send`](crate::Links::send) through `mailer`.
    pub fn link_mailer<M: LinkMailer>(mut self, mailer: M) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Deny by default: launch fails while a mounted route has no jwt-guard
    /// attribute (as `require_protection = true` in the `jwt` table).
    pub fn require_protection(mut self) -> Self {
        self.require_protection = true;
        self
    }

    /// The route-protection manifest of `rocket`: every mounted route with the
    /// protection its attribute declared (`None` for routes without one).
    pub fn manifest<P: rocket::Phase>(rocket: &Rocket<P>) -> Vec<RouteEntry> {
        manifest::table(rocket.routes())
    }

    /// Maps the subjects of logout and security signals from outside issuers
    /// to the app's own users (`email` identifiers, say), so that their sessions
    /// end too — beyond those jwt-guard finds by the outside login they rest on.
    /// See [`SignalSubjects`](crate::signals::SignalSubjects).
    pub fn signal_subjects<S: SignalSubjects>(mut self, subjects: S) -> Self {
        self.signal_subjects = LocalSubjects(Arc::new(subjects));
        self
    }

    /// Mounts the token and device routes, checking credentials with `authenticator`.
    pub fn authenticator<A: Authenticator>(mut self, authenticator: A) -> Self {
        self.authenticator = Some(AppAuthenticator::new(authenticator));
        self
    }
}
