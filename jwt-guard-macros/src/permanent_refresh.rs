//! `#[permanent_refresh]`: marks the one route that accepts `Permanent-Token`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ctxt::Ctxt;
use crate::route;

const ATTRIBUTE: &str = "permanent_refresh";

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    if !attr.is_empty() {
        cx.error_spanned_by(&attr, format!("`#[{ATTRIBUTE}]` takes no options"));
    }
    let mut handler = match route::parse_handler(item.clone(), ATTRIBUTE) {
        Ok(handler) => handler,
        Err(e) => {
            cx.syn_error(e);
            return finish_with_errors(cx, item);
        }
    };
    route::check_route_below(&mut cx, &handler, ATTRIBUTE);
    let target = route::route_target(&handler);
    if let Some(target) = &target {
        let uri = target.uri.value();
        if let Some(segment) = route::first_dynamic_segment(&uri) {
            cx.error_spanned_by(
                &target.uri,
                format!(
                    "`#[{ATTRIBUTE}]` routes cannot have dynamic path segments (`{segment}`): \
                     the Permanent-Token header is accepted on one fixed path only"
                ),
            );
        }
    } else if !cx.has_errors() {
        cx.error_at(
            Span::call_site(),
            format!("`#[{ATTRIBUTE}]` cannot read the route attribute's path; write it as `#[post(\"/path\")]`"),
        );
    }
    let (Some(target), None) = (target, cx.has_errors().then_some(())) else {
        return finish_with_errors(cx, item);
    };

    let marker = route::hidden_name("permanent", &handler);
    let vis = handler.vis.clone();
    let name = handler.sig.ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
    let method = &target.method;
    let path = route::uri_path(&target.uri.value()).to_owned();
    let p = quote!(::jwt_guard::__private);
    let guard = syn::Ident::new("__jwt_guard_permanent", Span::call_site());
    route::inject_guard(&mut handler, &guard, quote!(#p::PermanentRefresh<#marker>));

    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl #p::PermanentRoute for #marker {
            const NAME: &'static str = #name;
            const METHOD: #p::rocket::http::Method = #p::rocket::http::Method::#method;
            const PATH: &'static str = #path;
        }

        #handler
    }
}

fn finish_with_errors(cx: Ctxt, item: TokenStream) -> TokenStream {
    let errors = cx.into_compile_errors().unwrap_or_default();
    route::with_errors(errors, item)
}
