//! Names: what a user wrote (without `r#`), and the hidden names expansions add.

use syn::{Ident, ItemFn};

/// Prefix of every name an expansion adds to the user's scope.
pub(crate) const HIDDEN_PREFIX: &str = "__jwt_guard_";

/// An identifier as text, without the `r#` of a raw identifier: the name Rocket
/// gives a route and serde gives a field.
pub(crate) fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => name,
    }
}

/// A `#[doc(hidden)]` item name for `handler`, e.g. `__jwt_guard_policy_stats`.
pub(crate) fn hidden_name(kind: &str, handler: &ItemFn) -> Ident {
    Ident::new(
        &format!("{HIDDEN_PREFIX}{kind}_{}", unraw(&handler.sig.ident)),
        handler.sig.ident.span(),
    )
}

/// A hidden local name, e.g. the injected guard parameter `__jwt_guard_auth`.
pub(crate) fn hidden_local(kind: &str) -> Ident {
    Ident::new(
        &format!("{HIDDEN_PREFIX}{kind}"),
        proc_macro2::Span::call_site(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_identifiers_lose_their_prefix() {
        let raw: Ident = syn::parse_quote!(r#type);
        let plain: Ident = syn::parse_quote!(stats);
        assert_eq!(unraw(&raw), "type");
        assert_eq!(unraw(&plain), "stats");
        let handler: ItemFn = syn::parse_quote!(
            fn r#loop() {}
        );
        assert_eq!(
            hidden_name("policy", &handler).to_string(),
            "__jwt_guard_policy_loop"
        );
    }
}
