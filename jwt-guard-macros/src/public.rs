//! `#[public]`: declares a route deliberately open, so the manifest (and
//! deny-by-default launch) know it was not forgotten.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ctxt::Ctxt;
use crate::exports;
use crate::route;

const ATTRIBUTE: &str = "public";

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    if !attr.is_empty() {
        cx.error_spanned_by(&attr, format!("`#[{ATTRIBUTE}]` takes no options"));
    }
    let handler = match route::parse_handler(item.clone(), ATTRIBUTE) {
        Ok(handler) => handler,
        Err(e) => {
            cx.syn_error(e);
            return finish_with_errors(cx, item);
        }
    };
    route::check_route_below(&mut cx, &handler, ATTRIBUTE);
    route::check_single_protection(&mut cx, &handler, ATTRIBUTE);
    let target = match route::route_target(&handler) {
        Ok(target) => target,
        Err(e) => {
            cx.syn_error(e);
            None
        }
    };
    let Some(target) = target.filter(|_| !cx.has_errors()) else {
        return finish_with_errors(cx, item);
    };
    let p = exports::private(Span::call_site());
    let declaration = route::declare(&handler, &target, quote!(#p::Protection::Public));
    quote! {
        #declaration
        #handler
    }
}

fn finish_with_errors(cx: Ctxt, item: TokenStream) -> TokenStream {
    let errors = cx.into_compile_errors().unwrap_or_default();
    route::with_errors(errors, item)
}
