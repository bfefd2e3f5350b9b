//! Procedural macros for [jwt-guard](https://docs.rs/jwt-guard). Depend on `jwt-guard`,
//! which re-exports these; this crate's expansions name `::jwt_guard::__private`.

mod claims;
mod ctxt;
mod duration;
mod expiring_link;
mod exports;
mod names;
mod permanent_refresh;
mod public;
mod route;
mod use_jwt;

use proc_macro::TokenStream;

/// Protects a Rocket route with a JWT policy. Place it **above** the route attribute.
///
/// See the `jwt-guard` crate documentation for the options.
#[proc_macro_attribute]
pub fn use_jwt(attr: TokenStream, item: TokenStream) -> TokenStream {
    use_jwt::expand(attr.into(), item.into()).into()
}

/// Marks the route that refreshes access tokens from a device's `Permanent-Token`
/// header. Place it above the route attribute; the route's path must be static.
#[proc_macro_attribute]
pub fn permanent_refresh(attr: TokenStream, item: TokenStream) -> TokenStream {
    permanent_refresh::expand(attr.into(), item.into()).into()
}

/// Declares a route reachable through expiring links (`?token=…`): one-time or
/// N-use, bound to a recipient and to this route. Place it above the route
/// attribute; the route's path must be static.
///
/// Options: a target name first (default: the handler's name), `max_uses = N` or
/// `max_uses = unlimited` (default 1), `ttl = "7d"` (default `1d`), `login` (using
/// the link logs the recipient in), `confirm` (scanner-safe: the route must be a POST;
/// a GET of the same path with `?token=` is answered by jwt-guard's confirmation page,
/// which shadows any GET route the app has on that path).
#[proc_macro_attribute]
pub fn expiring_link(attr: TokenStream, item: TokenStream) -> TokenStream {
    expiring_link::expand(attr.into(), item.into()).into()
}

/// Declares a route deliberately open: no guard is added, but the route-protection
/// manifest lists it as public, and `require_protection` (deny by default) accepts
/// it. Place it above the route attribute; it cannot be combined with a guard.
#[proc_macro_attribute]
pub fn public(attr: TokenStream, item: TokenStream) -> TokenStream {
    public::expand(attr.into(), item.into()).into()
}

/// Implements `jwt_guard::Claims` for an application's claims struct.
#[proc_macro_derive(Claims, attributes(claims))]
pub fn derive_claims(input: TokenStream) -> TokenStream {
    claims::expand(input.into()).into()
}
