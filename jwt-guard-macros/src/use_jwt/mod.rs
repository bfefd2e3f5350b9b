//! `#[use_jwt(...)]`: parse → validate → expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::route;

pub(crate) const ATTRIBUTE: &str = "use_jwt";

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let written = parse::parse_args(&mut cx, attr);
    let policy = validate::validate(&mut cx, written);
    let Some((handler, target)) = route::protected_handler(&mut cx, item.clone(), ATTRIBUTE) else {
        return cx.finish(item);
    };
    if cx.has_errors() {
        return cx.finish(item);
    }
    expand::expand(&policy, handler, target.as_ref())
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn injects_guard_first_and_keeps_where_clause() {
        let out = super::expand(
            quote!(role = Role::Admin),
            quote! {
                #[get("/x")]
                fn handler<T>(x: T) -> String where T: Clone { String::new() }
            },
        )
        .to_string();
        assert!(out.contains("__jwt_guard_policy_handler"), "{out}");
        assert!(out.contains("where T : Clone"), "{out}");
        let guard = out.find("__jwt_guard_auth").unwrap_or(usize::MAX);
        let own = out.find("x : T").unwrap_or(0);
        assert!(guard < own, "guard must be the first parameter: {out}");
    }

    #[test]
    fn reports_every_mistake_at_once() {
        let out = super::expand(
            quote!(rol = Admin, scope = 3, claims = A, claims = B),
            quote! { #[get("/")] fn h() {} },
        )
        .to_string();
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
        assert!(out.contains("fn h"), "item must still be emitted: {out}");
    }
}
