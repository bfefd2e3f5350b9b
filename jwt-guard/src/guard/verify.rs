//! The request's token, verified at most once per request and claims type — the
//! app's own (bearer, else the access cookie) or an outside issuer's — and what
//! the route's policy accepted, for [`Jwt`](super::Jwt) to hand the handler.

use std::sync::{Arc, OnceLock};

use rocket::request::Request;

use super::credential::{check_token68, Credential};
use crate::claims::{Claims, Token};
use crate::dpop::Scheme;
use crate::error::{AuthError, Rejection};
use crate::runtime::JwtRuntime;
use crate::trusted_issuers::TrustedIssuers;
use crate::verifier::VerifyError;

/// A verdict on the request's token: `Ok(None)` when no token of ours came.
pub(super) type Verification<C> = Result<Option<Arc<Token<C>>>, AuthError>;

/// The verdict and the scheme the token came with, kept together so that the
/// DPoP rules, the span and the counters read what the check read.
pub(super) struct Verified<C> {
    pub(super) verdict: Verification<C>,
    pub(super) scheme: Option<Scheme>,
}

/// What the guards of one request keep about its own token, per claims type: one
/// request-local entry (each entry is a type-map insert on the request).
struct OwnToken<C> {
    /// Verified at most once per request.
    verification: OnceLock<Verified<C>>,
    /// What the route's policy accepted (see [`accepted`]).
    accepted: OnceLock<Arc<Token<C>>>,
}

fn own_token<'r, C: Claims>(req: &'r Request<'_>) -> &'r OwnToken<C> {
    req.local_cache(|| OwnToken::<C> {
        verification: OnceLock::new(),
        accepted: OnceLock::new(),
    })
}

/// The request's own access token (bearer, else the access cookie), verified
/// once per request.
pub(super) fn own<'r, C: Claims>(
    req: &'r Request<'_>,
    rt: &JwtRuntime,
    credential: &Credential,
) -> &'r Verified<C> {
    own_token::<C>(req).verification.get_or_init(|| {
        let mut scheme = None;
        let verdict = verify_own(req, rt, credential, &mut scheme);
        Verified { verdict, scheme }
    })
}

fn verify_own<C: Claims>(
    req: &Request<'_>,
    rt: &JwtRuntime,
    credential: &Credential,
    scheme: &mut Option<Scheme>,
) -> Verification<C> {
    let Some(presented) = credential.own(req)? else {
        return Ok(None);
    };
    *scheme = Some(presented.scheme);
    // One cache look-up. The exact bytes of a token verified before were token68
    // then: the check (a pass over hundreds of bytes) is for new tokens only.
    let verifier = rt.verifier();
    let remembered = verifier.remembered::<C>(presented.token);
    if remembered.is_none() && presented.scheme != Scheme::Cookie {
        check_token68(presented.token)?;
    }
    rt.fresh_revocations()?;
    let verified = match remembered {
        Some(verdict) => verdict?,
        None => verifier.verify_first_seen::<C>(presented.token)?,
    };
    Ok(Some(verified))
}

/// The token the route's policy (`#[use_jwt]`, which runs first) accepted: what
/// `Jwt<C>` hands the handler, so a route of an outside issuer gets that issuer's
/// token and nothing is verified twice.
pub(super) fn accepted<'r, C: Claims>(req: &'r Request<'_>) -> &'r OnceLock<Arc<Token<C>>> {
    &own_token::<C>(req).accepted
}

/// The outside issuer whose tokens this request's route takes, as its
/// `#[use_jwt]` policy said before anything was verified; never set on a route
/// that takes the app's own tokens.
struct RouteIssuer(OnceLock<&'static str>);

pub(super) fn route_issuer<'r>(req: &'r Request<'_>) -> &'r OnceLock<&'static str> {
    &req.local_cache(|| RouteIssuer(OnceLock::new())).0
}

/// The request's token from the outside issuer `name` (`Authorization` only: the
/// access cookie holds the app's own), verified at most once per request and
/// claims type.
pub(super) async fn outside<'r, C: Claims>(
    req: &'r Request<'_>,
    rt: &JwtRuntime,
    credential: &Credential,
    name: &'static str,
) -> &'r Verified<C> {
    req.local_cache_async(async {
        let mut scheme = None;
        let verdict: Verification<C> = async {
            let Some(presented) = credential.in_header()? else {
                return Ok(None);
            };
            check_token68(presented.token)?;
            scheme = Some(presented.scheme);
            rt.fresh_revocations()?;
            let issuer = req
                .rocket()
                .state::<TrustedIssuers>()
                .and_then(|issuers| issuers.get(name))
                .ok_or(Rejection::IssuerNotConfigured(name))?;
            match issuer
                .verify::<C>(presented.token, rt.verifier().revocations())
                .await
            {
                Ok(token) => Ok(Some(Arc::new(token))),
                // The app's own token, or another provider's: say whose this
                // route takes.
                Err(VerifyError::WrongIssuer) => Err(Rejection::OtherIssuer(name).into()),
                Err(e) => Err(e.into()),
            }
        }
        .await;
        Verified::<C> { verdict, scheme }
    })
    .await
}
