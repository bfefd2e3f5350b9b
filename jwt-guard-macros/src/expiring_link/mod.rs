//! `#[expiring_link(target, max_uses = 1, ttl = "7d", login, confirm)]`:
//! parse → validate → expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::route;

pub(crate) const ATTRIBUTE: &str = "expiring_link";

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let written = parse::parse_args(&mut cx, attr);
    let link = validate::options(&mut cx, written);
    let prepared = route::static_route(
        &mut cx,
        item.clone(),
        ATTRIBUTE,
        "the link URL is built from the route's own path",
    );
    if let Some((_, target)) = &prepared {
        validate::against_route(&mut cx, &link, target);
    }
    match prepared.filter(|_| !cx.has_errors()) {
        Some((handler, target)) => expand::expand(&link, handler, &target),
        None => cx.finish(item),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn a_login_link_on_get_without_confirm_is_refused() {
        let out = super::expand(
            quote!(magic, login),
            quote! { #[get("/magic")] fn magic(link: LinkUse) {} },
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains("fn magic"),
            "item must still be emitted: {out}"
        );
    }

    #[test]
    fn a_confirmed_login_link_on_post_expands() {
        let out = super::expand(
            quote!(magic, login, confirm),
            quote! { #[post("/magic")] fn magic(link: LinkUse) {} },
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("const LOGIN : bool = true"), "{out}");
    }
}
