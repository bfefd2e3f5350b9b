//! Request guards: [`Jwt`] (verified claims) and [`Authorized`] (a compiled
//! policy), in four rooms: reading the request's credential once
//! (`credential`), verifying it once per request (`verify`), the decision on it
//! (`decide`), and what the check tells operators (`observe`).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::claims::{Claims, RegisteredClaims, StandardClaims, Token};
use crate::dpop::Scheme;
use crate::error::{fail, AuthError, Rejection};
use crate::observe::route_template;
use crate::policy::{Denied, Policy};
use crate::runtime::JwtRuntime;
use crate::trusted_issuers::TrustedIssuers;

mod credential;
mod decide;
mod observe;
mod verify;

pub(crate) use credential::bearer_token;
use credential::Credential;
#[cfg(feature = "testing")]
pub(crate) use credential::AUTHORIZATION_READS;

/// The verified claims of the request's access token.
///
/// Take it as a handler parameter. The token is verified once per request, however
/// many guards ask for it. `Option<Jwt<C>>` makes the token optional (an invalid
/// token then yields `None`; pair it with `#[use_jwt(optional)]` to refuse invalid
/// tokens while accepting none).
///
/// Dereferences to the application's claims `C`.
pub struct Jwt<C: Claims = StandardClaims> {
    token: Arc<Token<C>>,
}

impl<C: Claims> Clone for Jwt<C> {
    fn clone(&self) -> Self {
        Self {
            token: self.token.clone(),
        }
    }
}

impl<C: Claims + std::fmt::Debug> std::fmt::Debug for Jwt<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("registered", &self.token.registered)
            .field("claims", &self.token.claims)
            .finish()
    }
}

impl<C: Claims> Jwt<C> {
    /// The application's claims.
    pub fn claims(&self) -> &C {
        &self.token.claims
    }

    /// The registered claims (`sub`, `exp`, `jti`, `did`, …).
    pub fn registered(&self) -> &RegisteredClaims {
        &self.token.registered
    }

    /// The subject (user id).
    pub fn subject(&self) -> &str {
        &self.token.registered.sub
    }

    /// The device (login) this token belongs to, if any.
    pub fn device_id(&self) -> Option<&str> {
        self.token.registered.did.as_deref()
    }

    /// The token id.
    pub fn token_id(&self) -> &str {
        &self.token.registered.jti
    }
}

impl<C: Claims> Deref for Jwt<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.token.claims
    }
}

/// The policy of a route that takes [`Jwt`] without `#[use_jwt]` (jwt-guard's
/// own device routes): any valid token of the app's own.
struct AnyToken<C>(PhantomData<fn() -> C>);

impl<C: Claims> Policy for AnyToken<C> {
    type Claims = C;

    fn authorize(_: &C) -> Result<(), Denied> {
        Ok(())
    }
}

#[rocket::async_trait]
impl<'r, C: Claims> FromRequest<'r> for Jwt<C> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        // The route's policy (`#[use_jwt]`, which runs first) decided already.
        if let Some(token) = verify::accepted::<C>(req).get() {
            return Outcome::Success(Jwt {
                token: token.clone(),
            });
        }
        // The route's policy takes an outside issuer's tokens and accepted none:
        // the app's own token (a cookie, say) must not stand in for one.
        if verify::route_issuer(req).get().is_some() {
            let refusal = match JwtRuntime::from_request(req) {
                Some(rt) => Credential::of(req, rt).absent(rt),
                None => Rejection::NotAttached,
            };
            return fail(req, refusal.into());
        }
        match Authorized::<AnyToken<C>>::from_request(req).await {
            Outcome::Success(Authorized { jwt: Some(jwt), .. }) => Outcome::Success(jwt),
            // `AnyToken` is not optional: a success carries its token.
            Outcome::Success(Authorized { jwt: None, .. }) => fail(req, Rejection::NoToken.into()),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(status) => Outcome::Forward(status),
        }
    }
}

impl<C: Claims> Sentinel for Jwt<C> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        runtime_missing(rocket, "Jwt")
    }
}

/// Proof that the request passed the policy `P`. Injected by `#[use_jwt]`; handlers
/// normally take [`Jwt`] instead.
pub struct Authorized<P: Policy> {
    jwt: Option<Jwt<P::Claims>>,
    _policy: PhantomData<fn() -> P>,
}

impl<P: Policy> Authorized<P> {
    /// The verified token (`None` only for an `optional` route reached without one).
    pub fn jwt(&self) -> Option<&Jwt<P::Claims>> {
        self.jwt.as_ref()
    }
}

#[rocket::async_trait]
impl<'r, P: Policy> FromRequest<'r> for Authorized<P> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let started = std::time::Instant::now();
        let route = route_template(req);
        // The runtime and the credential, fetched once for every step below.
        let Some(rt) = JwtRuntime::from_request(req) else {
            let e = AuthError::from(Rejection::NotAttached);
            let span = crate::observe::AuthSpan::start(route, P::ISSUER, || None);
            let scheme = observe::scheme_label(None, P::ISSUER, None);
            observe::observe(None, &span, route, scheme, Err(&e), started);
            return fail(req, e);
        };
        let credential = Credential::of(req, rt);
        let span = observe::start_span(req, credential, route, P::ISSUER);
        #[cfg(feature = "tracing")]
        let (outcome, found) = {
            use tracing::Instrument as _;
            authorize::<P>(req, rt, credential)
                .instrument(span.span().clone())
                .await
        };
        #[cfg(not(feature = "tracing"))]
        let (outcome, found) = authorize::<P>(req, rt, credential).await;
        let scheme = observe::scheme_label(Some(credential), P::ISSUER, found);
        match &outcome {
            Outcome::Success(_) => {
                observe::observe(Some(rt), &span, route, scheme, Ok(()), started)
            }
            Outcome::Error((_, e)) => {
                observe::observe(Some(rt), &span, route, scheme, Err(e), started)
            }
            Outcome::Forward(_) => {}
        }
        outcome
    }
}

/// Verification, then the decision, and the scheme the token came with.
async fn authorize<P: Policy>(
    req: &Request<'_>,
    rt: &JwtRuntime,
    credential: &Credential,
) -> (Outcome<Authorized<P>, AuthError>, Option<Scheme>) {
    let verified = match P::ISSUER {
        Some(name) => {
            let _ = verify::route_issuer(req).set(name);
            // Boxed: an outside issuer's check (its key fetch included) is a
            // future of kilobytes; unboxed, every route's guard would copy that
            // much per request.
            Box::pin(verify::outside::<P::Claims>(req, rt, credential, name)).await
        }
        None => verify::own::<P::Claims>(req, rt, credential),
    };
    let outcome = match decide::decide::<P>(req, rt, credential, verified).await {
        Ok(token) => Outcome::Success(Authorized {
            jwt: token.map(|token| Jwt { token }),
            _policy: PhantomData,
        }),
        Err(e) => fail(req, e),
    };
    (outcome, verified.scheme)
}

/// The request's own access token judged by the policy `P` exactly as a route
/// guard judges it — verification, revocations, the DPoP binding (RFC 9449 §7:
/// a bound token only as `DPoP` with a proof by its key; the app's `required`
/// mode), step-up, the policy — but answered by the caller: nothing is recorded
/// for the response fairing. For endpoints that authenticate a caller's token
/// and refuse in words of their own (RFC 7662's `invalid_client`).
pub(crate) async fn judge<P: Policy>(
    req: &Request<'_>,
) -> Result<Arc<Token<P::Claims>>, AuthError> {
    let rt = JwtRuntime::from_request(req).ok_or(Rejection::NotAttached)?;
    let credential = Credential::of(req, rt);
    let verified = verify::own::<P::Claims>(req, rt, credential);
    decide::decide::<P>(req, rt, credential, verified)
        .await?
        .ok_or_else(|| Rejection::NoToken.into())
}

fn runtime_missing(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if rocket.state::<JwtRuntime>().is_none() {
        rocket::error!(
            "`{guard}` needs jwt-guard's state: attach `jwt_guard::JwtGuard::fairing()` to this Rocket"
        );
        return true;
    }
    false
}

impl<P: Policy> Sentinel for Authorized<P> {
    /// Stops launch without jwt-guard, or when the route names an outside issuer
    /// that `trusted_issuers` does not configure.
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if runtime_missing(rocket, "#[use_jwt]") {
            return true;
        }
        let Some(name) = P::ISSUER else {
            return false;
        };
        let issuers = rocket.state::<TrustedIssuers>();
        if issuers.is_some_and(|i| i.get(name).is_some()) {
            return false;
        }
        let known = issuers.map(|i| i.names().join("`, `")).unwrap_or_default();
        rocket::error!(
            "`#[use_jwt(issuer = \"{name}\")]`: no trusted issuer `{name}` is configured \
             (jwt.trusted_issuers names: `{known}`); add it to the `jwt` table"
        );
        true
    }
}
