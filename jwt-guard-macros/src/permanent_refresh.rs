//! `#[permanent_refresh]`: marks the one route that accepts `Permanent-Token`.

use proc_macro2::{Span, TokenStream};
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
        return route::finish_with_errors(cx, item);
    };

    let marker = hidden_name("permanent", &handler);
    let vis = handler.vis.clone();
    let name = unraw(&handler.sig.ident);
    let method = &target.method;
    let path = route::uri_path(&target.uri.value()).to_owned();
    let p = exports::private(Span::call_site());
    let declaration = route::declare(&handler, &target, quote!(#p::Protection::PermanentRefresh));
    let guard = hidden_local("permanent");
    route::inject_guard(&mut handler, &guard, quote!(#p::PermanentRefresh<#marker>));

    quote! {
        #declaration

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
