//! `#[public]`: declares a route deliberately open, so the manifest (and
//! deny-by-default launch) know it was not forgotten.

use proc_macro2::TokenStream;
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
    let Some((handler, target)) = route::protected_handler(&mut cx, item.clone(), ATTRIBUTE) else {
        return cx.finish(item);
    };
    let Some(target) = target.filter(|_| !cx.has_errors()) else {
        return cx.finish(item);
    };
    let protection_path = exports::protection(target.uri.span());
    let declaration = route::declare(&handler, &target, quote!(#protection_path::Public));
    quote! {
        #declaration
        #handler
    }
}
