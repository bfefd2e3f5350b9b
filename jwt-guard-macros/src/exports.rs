//! Every path an expansion may emit, in one table (as rocket_codegen's `exports`):
//! expansions reach the runtime only through `::jwt_guard::__private`, so a user's
//! own dependency names never matter, and no expander spells a path of its own.
//! Each entry is a function that spans its path onto a token (the user's, where a
//! trait error should point): located there, resolved at the macro's call site.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// Where a path is reported: at `span`'s place in the user's code, resolved as
/// the macro's own call (a path re-spanned onto a token a `macro_rules!` wrote
/// must not take that macro's hygiene).
fn at(span: Span) -> Span {
    Span::call_site().located_at(span)
}

macro_rules! exports {
    ($($(#[$doc:meta])* $name:ident => $($path:tt)::+;)*) => {
        $(
            $(#[$doc])*
            #[allow(dead_code)]
            pub(crate) fn $name(span: Span) -> TokenStream {
                let span = at(span);
                quote_spanned!(span=> $(::$path)+)
            }
        )*
    };
}

exports! {
    /// `Option`, for optional consts.
    option => core::option::Option;
    /// `Result`, for policy checks.
    result => core::result::Result;
    /// Rocket's `Method`, for route consts.
    method => jwt_guard::__private::rocket::http::Method;
    /// `inventory::submit!`, for the route manifest.
    inventory => jwt_guard::__private::inventory;
    /// How a route is protected, for the manifest.
    protection => jwt_guard::__private::Protection;
    /// A route's manifest entry.
    declared_route => jwt_guard::__private::DeclaredRoute;
    /// The claims trait `#[derive(Claims)]` implements.
    claims => jwt_guard::__private::Claims;
    /// Claims without a role field.
    no_role => jwt_guard::__private::NoRole;
    /// Field types that hold roles.
    role_field => jwt_guard::__private::RoleField;
    /// Field types that hold scopes.
    scope_field => jwt_guard::__private::ScopeField;
    /// The default claims of `#[use_jwt]`.
    standard_claims => jwt_guard::__private::StandardClaims;
    /// The policy trait `#[use_jwt]` implements.
    policy => jwt_guard::__private::Policy;
    /// The guard `#[use_jwt]` injects.
    authorized => jwt_guard::__private::Authorized;
    /// A policy's refusal.
    denied => jwt_guard::__private::Denied;
    /// Role check by value.
    has_role => jwt_guard::__private::has_role;
    /// Role check by name.
    has_role_named => jwt_guard::__private::has_role_named;
    /// Scope check.
    has_scope => jwt_guard::__private::has_scope;
    /// A role's name as tokens carry it.
    role_name => jwt_guard::__private::role_name;
    /// `String`, for the names of missing roles.
    string => jwt_guard::__private::String;
    /// The trait `#[expiring_link]` implements on the route type.
    link_target => jwt_guard::__private::LinkTarget;
    /// The guard `#[expiring_link]` injects.
    link_guard => jwt_guard::__private::LinkGuard;
    /// The trait `#[permanent_refresh]` implements on its marker.
    permanent_route => jwt_guard::__private::PermanentRoute;
    /// The guard `#[permanent_refresh]` injects.
    permanent_refresh => jwt_guard::__private::PermanentRefresh;
}
