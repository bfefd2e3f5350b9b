//! What every jwt-guard attribute does to a Rocket handler: check placement, inject a
//! guard parameter, and keep the rest of the function untouched.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{FnArg, Item, ItemFn};

use crate::ctxt::Ctxt;

const ROUTE_ATTRIBUTES: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "route",
];

/// The handler the attribute sits on, or an error spanned on whatever it sits on.
pub(crate) fn parse_handler(item: TokenStream, attribute: &str) -> Result<ItemFn, syn::Error> {
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(f)) => Ok(f),
        Ok(other) => Err(syn::Error::new_spanned(
            item_head(&other),
            format!("`#[{attribute}]` can only be placed on a Rocket route handler function"),
        )),
        Err(e) => Err(e),
    }
}

/// The part of an item to point at: its keyword and name, not its whole body.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => {
            let (k, i) = (&s.struct_token, &s.ident);
            quote!(#k #i)
        }
        Item::Enum(e) => {
            let (k, i) = (&e.enum_token, &e.ident);
            quote!(#k #i)
        }
        Item::Const(c) => {
            let (k, i) = (&c.const_token, &c.ident);
            quote!(#k #i)
        }
        Item::Static(s) => {
            let (k, i) = (&s.static_token, &s.ident);
            quote!(#k #i)
        }
        Item::Mod(m) => {
            let (k, i) = (&m.mod_token, &m.ident);
            quote!(#k #i)
        }
        Item::Impl(i) => {
            let k = &i.impl_token;
            quote!(#k)
        }
        Item::Trait(t) => {
            let (k, i) = (&t.trait_token, &t.ident);
            quote!(#k #i)
        }
        other => quote!(#other),
    }
}

/// Whether a Rocket route attribute is still below ours: attributes expand top to
/// bottom, so if the route attribute was above ours it has already run and gone.
pub(crate) fn check_route_below(cx: &mut Ctxt, handler: &ItemFn, attribute: &str) {
    let has_route = handler.attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| ROUTE_ATTRIBUTES.contains(&s.ident.to_string().as_str()))
    });
    if !has_route {
        cx.error_at(
            Span::call_site(),
            format!(
                "`#[{attribute}]` must be placed above the route attribute (`#[get]`, `#[post]`, …); \
                 attributes expand top to bottom, so below it the route is already built without the guard"
            ),
        );
    }
}

/// Inserts `name: ty` as the handler's first parameter, so the guard runs before any
/// of the handler's own guards.
pub(crate) fn inject_guard(handler: &mut ItemFn, name: &syn::Ident, ty: TokenStream) {
    let arg: FnArg = syn::parse_quote!(#name: #ty);
    handler.sig.inputs.insert(0, arg);
}

/// `#[doc(hidden)]` policy-type name for a handler.
pub(crate) fn hidden_name(prefix: &str, handler: &ItemFn) -> syn::Ident {
    let name = handler.sig.ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    syn::Ident::new(&format!("__jwt_guard_{prefix}_{name}"), handler.sig.ident.span())
}

/// On error: the errors beside the untouched item, so `routes![]` still finds it.
pub(crate) fn with_errors(errors: TokenStream, item: TokenStream) -> TokenStream {
    quote!(#errors #item)
}
