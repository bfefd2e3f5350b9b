//! `#[expiring_link(target, max_uses = 1, ttl = "7d", login, confirm)]`:
//! parse → validate → expand.

mod expand;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::route::{self, RouteTarget};
use parse::LinkArgs;

pub(crate) const ATTRIBUTE: &str = "expiring_link";

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = parse::parse_args(&mut cx, attr);
    let prepared = route::static_route(
        &mut cx,
        item.clone(),
        ATTRIBUTE,
        "the link URL is built from the route's own path",
    );
    if let Some((_, target)) = &prepared {
        validate(&mut cx, &args, target);
    }
    match prepared.filter(|_| !cx.has_errors()) {
        Some((handler, target)) => expand::expand(&args, handler, &target),
        None => cx.finish(item),
    }
}

/// Rules that need the route as well as the options.
fn validate(cx: &mut Ctxt, args: &LinkArgs, target: &RouteTarget) {
    let is_post = target.method == "Post";
    if args.confirm.is_some() && !is_post {
        cx.error_spanned_by(
            &target.method,
            format!(
                "`#[{ATTRIBUTE}(confirm)]` needs a POST route: jwt-guard serves the GET \
                 confirmation page, and its button posts to this route"
            ),
        );
    }
    if let (Some(login), None) = (&args.login, &args.confirm) {
        if !is_post {
            cx.error_spanned_by(
                login,
                format!(
                    "a `#[{ATTRIBUTE}(login)]` link grants a session, so it is used by POST only, \
                     after a confirmation page (mail scanners and link previews open every GET); \
                     add `confirm` and make the route `#[post]`"
                ),
            );
        }
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
