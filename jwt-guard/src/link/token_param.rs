//! A link's token in a request: taken out of the URI by the fairing before Rocket
//! writes its request line (Rocket logs the URI, query included, at `info`, after
//! the request fairings ran), kept in the request's local cache for the guard and
//! the confirmation page.

use std::sync::{Arc, OnceLock};

use rocket::http::uri::Origin;
use rocket::request::Request;

use super::{LinkRoutes, LINK_TOKEN_PARAM};
use crate::store::LinkDenial;

/// The `token` parameter as the URI carried it: its decoded value, or `Err` when it
/// could not be decoded.
#[derive(Default)]
struct TakenToken(OnceLock<Result<String, ()>>);

/// On a request to a link route, moves the `token` query parameter from the URI
/// into the request's cache, so that no log line (Rocket's, a proxy's that
/// rewrites nothing, the app's own) prints a usable link. Other parameters stay.
pub(crate) fn take_link_token(req: &mut Request<'_>) {
    let on_link_route = req
        .rocket()
        .state::<Arc<LinkRoutes>>()
        .and_then(|routes| routes.target_at(req.uri().path().as_str()))
        .is_some();
    if !on_link_route {
        return;
    }
    let taken = match req.query_value::<&str>(LINK_TOKEN_PARAM) {
        None => return,
        Some(Ok(token)) => Ok(token.to_owned()),
        Some(Err(_)) => Err(()),
    };
    let path = req.uri().path().as_str().to_owned();
    let query = req.uri().query().map(|q| q.as_str()).unwrap_or_default();
    let rest: Vec<&str> = query
        .split('&')
        .filter(|field| !field.is_empty() && field.split('=').next() != Some(LINK_TOKEN_PARAM))
        .collect();
    let uri = match rest.is_empty() {
        true => path,
        false => format!("{path}?{}", rest.join("&")),
    };
    let _ = req.local_cache(TakenToken::default).0.set(taken);
    if let Ok(uri) = Origin::parse_owned(uri) {
        req.set_uri(uri);
    }
}

/// The link token this request carries: taken by the fairing, else (no fairing
/// ran, as in a unit of the guard alone) still in the query.
pub(crate) fn link_token<'r>(req: &'r Request<'_>) -> Result<&'r str, LinkDenial> {
    if let Some(taken) = req.local_cache(TakenToken::default).0.get() {
        return taken.as_deref().map_err(|()| LinkDenial::Tampered);
    }
    match req.query_value::<&str>(LINK_TOKEN_PARAM) {
        None => Err(LinkDenial::Missing),
        Some(Err(_)) => Err(LinkDenial::Tampered),
        Some(Ok(token)) => Ok(token),
    }
}
