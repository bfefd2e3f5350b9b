//! `#[expiring_link(target, max_uses = 1, ttl = "7d", login, confirm)]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitInt, LitStr};

use crate::ctxt::{set_once, unknown_option, Ctxt};
use crate::duration::parse_duration_lit;
use crate::route;

const ATTRIBUTE: &str = "expiring_link";
const OPTIONS: &str = "a target name, `max_uses`, `ttl`, `login`, `confirm`";
/// Lifetime of a link when `ttl` is not given.
const DEFAULT_TTL_SECS: u64 = 24 * 3600;

#[derive(Default)]
struct LinkArgs {
    target: Option<Ident>,
    /// 0 = unlimited.
    max_uses: Option<u32>,
    ttl: Option<u64>,
    login: Option<()>,
    confirm: Option<Span>,
}

fn parse_option(cx: &mut Ctxt, args: &mut LinkArgs, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let path = &meta.path;
    let has_value = meta.input.peek(syn::Token![=]);
    if path.is_ident("max_uses") {
        let value: Expr = meta.value()?.parse()?;
        match &value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(n), ..
            }) => match n.base10_parse::<u32>() {
                Ok(0) => cx.error_spanned_by(
                    n,
                    "`max_uses` must be at least 1 (or `unlimited` for no limit until expiry)",
                ),
                Ok(n) => set_once(cx, &mut args.max_uses, n, path, ATTRIBUTE),
                Err(_) => cx.error_spanned_by(n, "`max_uses` must fit in a u32"),
            },
            Expr::Path(p) if p.path.is_ident("unlimited") => {
                set_once(cx, &mut args.max_uses, 0, path, ATTRIBUTE)
            }
            other => cx.error_spanned_by(
                other,
                "expected a number of uses such as `1`, or `unlimited`",
            ),
        }
    } else if path.is_ident("ttl") {
        let lit: LitStr = meta.value()?.parse()?;
        match parse_duration_lit(&lit) {
            Ok(secs) => set_once(cx, &mut args.ttl, secs, path, ATTRIBUTE),
            Err(e) => cx.syn_error(e),
        }
    } else if (path.is_ident("login") || path.is_ident("confirm")) && !has_value {
        if path.is_ident("login") {
            set_once(cx, &mut args.login, (), path, ATTRIBUTE);
        } else {
            set_once(cx, &mut args.confirm, Span::call_site(), path, ATTRIBUTE);
        }
    } else if let (Some(ident), false) = (path.get_ident(), has_value) {
        if args.target.is_some() {
            cx.error_spanned_by(
                path,
                format!("unknown `#[{ATTRIBUTE}]` option `{ident}`; expected {OPTIONS} (the target name comes first, once)"),
            );
        } else {
            args.target = Some(ident.clone());
        }
    } else {
        unknown_option(cx, path, ATTRIBUTE, OPTIONS);
        if has_value {
            let _: Expr = meta.value()?.parse()?;
        }
    }
    Ok(())
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut args = LinkArgs::default();
    let parser = syn::meta::parser(|meta| parse_option(&mut cx, &mut args, &meta));
    if let Err(e) = parser.parse2(attr) {
        cx.syn_error(e);
    }
    let prepared = route::static_route(
        &mut cx,
        item.clone(),
        ATTRIBUTE,
        "the link URL is built from the route's own path",
    );
    if let (Some((_, target)), Some(_)) = (&prepared, args.confirm) {
        if target.method != "Post" {
            cx.error_spanned_by(
                &target.method,
                format!(
                    "`#[{ATTRIBUTE}(confirm)]` needs a POST route: jwt-guard serves the GET \
                     confirmation page, and its button posts to this route"
                ),
            );
        }
    }
    let Some((mut handler, target)) = prepared.filter(|_| !cx.has_errors()) else {
        return finish_with_errors(cx, item);
    };

    let route_ty = handler.sig.ident.clone();
    let route_name = route_ty.to_string();
    let route_name = route_name
        .strip_prefix("r#")
        .unwrap_or(&route_name)
        .to_owned();
    let link_target = args.target.clone().unwrap_or_else(|| route_ty.clone());
    let audience = link_target.to_string();
    let audience = audience.strip_prefix("r#").unwrap_or(&audience).to_owned();
    let vis = handler.vis.clone();
    let method = &target.method;
    let path = route::uri_path(&target.uri.value()).to_owned();
    let max_uses = LitInt::new(&args.max_uses.unwrap_or(1).to_string(), Span::call_site());
    let ttl = args.ttl.unwrap_or(DEFAULT_TTL_SECS);
    let login = args.login.is_some();
    let confirm = args.confirm.is_some();
    let p = quote!(::jwt_guard::__private);
    // `links.mint::<target>()` names the target; when it differs from the handler,
    // it is an alias of the route type Rocket generates for the handler.
    let alias = (link_target != route_ty).then(|| {
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis type #link_target = #route_ty;
        }
    });
    let guard = Ident::new("__jwt_guard_link", Span::call_site());
    route::inject_guard(&mut handler, &guard, quote!(#p::LinkGuard<#route_ty>));

    quote! {
        impl #p::LinkTarget for #route_ty {
            const TARGET: &'static str = #audience;
            const ROUTE: &'static str = #route_name;
            const METHOD: #p::rocket::http::Method = #p::rocket::http::Method::#method;
            const PATH: &'static str = #path;
            const MAX_USES: u32 = #max_uses;
            const TTL_SECS: u64 = #ttl;
            const LOGIN: bool = #login;
            const CONFIRM: bool = #confirm;
        }

        #alias

        #handler
    }
}

fn finish_with_errors(cx: Ctxt, item: TokenStream) -> TokenStream {
    let errors = cx.into_compile_errors().unwrap_or_default();
    route::with_errors(errors, item)
}
