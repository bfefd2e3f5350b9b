//! `#[permanent_refresh]`: marks the one route that accepts `Permanent-Token`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::exports;
use crate::names::{hidden_local, hidden_name, unraw};
use crate::route;

const ATTRIBUTE: &str = "permanent_refresh";

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    if !attr.is_empty() {
        cx.error_spanned_by(&attr, format!("`#[{ATTRIBUTE}]` takes no options"));
    }
    let prepared = route::static_route(
        &mut cx,
        item.clone(),
        ATTRIBUTE,
        "the Permanent-Token header is accepted on one fixed path only",
    );
    let Some((mut handler, target)) = prepared.filter(|_| !cx.has_errors()) else {
        return cx.finish(item);
    };

    let marker = hidden_name("permanent", &handler);
    let vis = handler.vis.clone();
    let name = unraw(&handler.sig.ident);
    let method = &target.method;
    let path = route::uri_path(&target.uri.value()).to_owned();
    // The marker's impl and the guard stand for the handler.
    let at_handler = handler.sig.ident.span();
    let method_path = exports::method(target.method.span());
    let permanent_refresh_path = exports::permanent_refresh(at_handler);
    let permanent_route_path = exports::permanent_route(at_handler);
    let protection_path = exports::protection(target.uri.span());
    let declaration = route::declare(
        &handler,
        &target,
        quote!(#protection_path::PermanentRefresh),
    );
    let guard = hidden_local("permanent");
    route::inject_guard(
        &mut handler,
        &guard,
        quote!(#permanent_refresh_path<#marker>),
    );

    quote! {
        #declaration

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl #permanent_route_path for #marker {
            const NAME: &'static str = #name;
            const METHOD: #method_path = #method_path::#method;
            const PATH: &'static str = #path;
        }

        #handler
    }
}
