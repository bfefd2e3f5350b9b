//! The decision on a verified token: its DPoP binding (RFC 9449 §7), its
//! authentication's age and class (RFC 9470), then the route's compiled policy.

use std::sync::Arc;

use rocket::request::Request;

use super::credential::Credential;
use super::verify::{accepted, Verified};
use crate::claims::{RegisteredClaims, Token};
use crate::dpop::{self, Dpop, Scheme};
use crate::error::{AuthError, Rejection};
use crate::policy::Policy;
use crate::private_response::mark_private;
use crate::runtime::JwtRuntime;

/// The policy `P`'s verdict once the token is verified (or refused): the token
/// it accepts (`None` only for an `optional` route reached without one), or the
/// refusal, naming the route's scopes (RFC 6750 §3) and, on a route that takes
/// bound tokens only, the `DPoP` challenge alone.
pub(super) async fn decide<P: Policy>(
    req: &Request<'_>,
    rt: &JwtRuntime,
    credential: &Credential,
    verified: &Verified<P::Claims>,
) -> Result<Option<Arc<Token<P::Claims>>>, AuthError> {
    let refuse = |e: AuthError| {
        let e = e.for_route_scope(P::SCOPE);
        Err(if P::DPOP { e.dpop_only() } else { e })
    };
    let token = match &verified.verdict {
        Err(e) => return refuse(e.clone()),
        Ok(None) if P::OPTIONAL => return Ok(None),
        Ok(None) => return refuse(credential.absent(rt).into()),
        Ok(Some(token)) => token.clone(),
    };
    if let Err(e) =
        confirm_binding(req, credential, &token.registered, P::DPOP, verified.scheme).await
    {
        return refuse(e);
    }
    if let Err(e) = step_up::<P>(rt, &token.registered) {
        return refuse(e.into());
    }
    if let Err(denied) = P::authorize(&token.claims) {
        return refuse(Rejection::Denied(denied).into());
    }
    mark_private(req);
    let _ = accepted::<P::Claims>(req).set(token.clone());
    Ok(Some(token))
}

/// RFC 9449: a verified token may be used as it was presented — a bound one
/// only with the `DPoP` scheme and a proof by its key; an unbound one not where
/// the route (`route_requires`) or the app insists on binding.
async fn confirm_binding(
    req: &Request<'_>,
    credential: &Credential,
    registered: &RegisteredClaims,
    route_requires: bool,
    scheme: Option<Scheme>,
) -> Result<(), AuthError> {
    // Most requests: DPoP off and a bearer token — nothing to look at.
    if registered.cnf.is_none() && Dpop::of(req).is_none() {
        return Ok(());
    }
    let as_dpop = scheme == Some(Scheme::Dpop);
    // An unbound token: only the scheme it came with matters.
    if registered.cnf.is_none() {
        return dpop::confirm_unbound(req, as_dpop, route_requires).map_err(AuthError::from);
    }
    // The token that was verified, as the credential read it.
    let Some(presented) = scheme.and_then(|scheme| credential.presented(req, scheme)) else {
        return Err(Rejection::NoToken.into());
    };
    // Boxed: the proof check's future is large, and every guard's future would
    // otherwise carry (and copy) its space.
    Box::pin(dpop::confirm(
        req,
        registered,
        presented.token,
        presented.scheme,
        route_requires,
    ))
    .await
    .map_err(AuthError::from)
}

/// RFC 9470 §3: a valid token whose authentication is too old for `fresh`, or of
/// a class `acr` does not list, asks the client to authenticate again (`401
/// insufficient_user_authentication` with `max_age` / `acr_values`).
fn step_up<P: Policy>(rt: &JwtRuntime, registered: &RegisteredClaims) -> Result<(), Rejection> {
    if let Some(max_age) = P::MAX_LOGIN_AGE {
        // The token's own `auth_time` (own tokens: their login's, kept through
        // refreshes); never its `iat`, which a refresh renews.
        let Some(login) = registered.auth_time.or(registered.orig_iat) else {
            return Err(Rejection::AuthenticationTimeUnknown { max_age });
        };
        let now = rt.verifier().clock().now();
        // An authentication after now (past the clock-skew leeway) is no
        // authentication: it would count as fresh forever.
        if login > now.saturating_add(rt.config().leeway.as_secs()) {
            return Err(Rejection::AuthenticationInFuture);
        }
        if now.saturating_sub(login) > max_age {
            return Err(Rejection::AuthenticationTooOld { max_age });
        }
    }
    if let Some(accepted) = P::ACR {
        let reached = registered
            .acr
            .as_deref()
            .is_some_and(|acr| accepted.split(' ').any(|a| a == acr));
        if !reached {
            return Err(Rejection::AuthenticationTooWeak(accepted));
        }
    }
    Ok(())
}
