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
    if route_attribute(handler).is_none() {
        cx.error_at(
            Span::call_site(),
            format!(
                "`#[{attribute}]` must be placed above the route attribute (`#[get]`, `#[post]`, …); \
                 attributes expand top to bottom, so below it the route is already built without the guard"
            ),
        );
    }
}

/// jwt-guard's route attributes: at most one of them protects a route.
const PROTECTION_ATTRIBUTES: &[&str] = &["use_jwt", "expiring_link", "permanent_refresh", "public"];

/// Reports any other protection attribute left below ours: `#[public]` with a guard
/// says two contradictory things, and two guards are one too many to read.
pub(crate) fn check_single_protection(cx: &mut Ctxt, handler: &ItemFn, attribute: &str) {
    for attr in &handler.attrs {
        let Some(last) = attr.path().segments.last() else {
            continue;
        };
        let name = last.ident.to_string();
        let clash = PROTECTION_ATTRIBUTES.contains(&name.as_str())
            && (attribute == "public" || name == "public");
        if clash {
            cx.error_spanned_by(
                attr.path(),
                format!(
                    "`#[{attribute}]` and `#[{name}]` cannot both protect one route: a `#[public]` \
                     route is deliberately open, a guarded one is not; keep one of them"
                ),
            );
        }
    }
}

/// The manifest entry of `handler`: its name, method, path and `protection` (an
/// expression of `__private::Protection`), registered for `JwtGuard::manifest`.
pub(crate) fn declare(
    handler: &ItemFn,
    target: &RouteTarget,
    protection: TokenStream,
) -> TokenStream {
    // Spanned on the route's path as written: the entry describes that route.
    let at = target.uri.span();
    let declared_route_path = crate::exports::declared_route(at);
    let inventory_path = crate::exports::inventory(at);
    let method_path = crate::exports::method(at);
    let name = crate::names::unraw(&handler.sig.ident);
    let method = &target.method;
    let path = &target.uri;
    quote! {
        #inventory_path::submit! {
            #declared_route_path {
                handler: #name,
                method: #method_path::#method,
                path: #path,
                protection: #protection,
            }
        }
    }
}

/// Inserts `name: ty` as the handler's first parameter, so the guard runs before any
/// of the handler's own guards.
pub(crate) fn inject_guard(handler: &mut ItemFn, name: &syn::Ident, ty: TokenStream) {
    let arg: FnArg = syn::parse_quote!(#name: #ty);
    handler.sig.inputs.insert(0, arg);
}

/// The one entry sequence of every jwt-guard route attribute: the handler it sits
/// on, placed above the route attribute, the route's only protection, and the
/// method and path the route attribute declares (`None` when there is no route
/// attribute to read). Errors go to `cx`; `None` when the item is not a function at
/// all.
pub(crate) fn protected_handler(
    cx: &mut Ctxt,
    item: TokenStream,
    attribute: &str,
) -> Option<(ItemFn, Option<RouteTarget>)> {
    let handler = match parse_handler(item, attribute) {
        Ok(handler) => handler,
        Err(e) => {
            cx.syn_error(e);
            return None;
        }
    };
    check_route_below(cx, &handler, attribute);
    check_single_protection(cx, &handler, attribute);
    let target = route_target(&handler).unwrap_or_else(|e| {
        cx.syn_error(e);
        None
    });
    Some((handler, target))
}

/// The method and path a Rocket route attribute declares.
pub(crate) struct RouteTarget {
    /// `Get`, `Post`, … (the variant of `rocket::http::Method`).
    pub(crate) method: syn::Ident,
    /// The URI literal as written.
    pub(crate) uri: syn::LitStr,
}

fn method_variant(name: &str, span: Span) -> Option<syn::Ident> {
    let variant = match name.to_ascii_lowercase().as_str() {
        "get" => "Get",
        "put" => "Put",
        "post" => "Post",
        "delete" => "Delete",
        "patch" => "Patch",
        "head" => "Head",
        "options" => "Options",
        _ => return None,
    };
    Some(syn::Ident::new(variant, span))
}

/// The route attribute below ours, if any.
fn route_attribute(handler: &ItemFn) -> Option<&syn::Attribute> {
    handler.attrs.iter().find(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| ROUTE_ATTRIBUTES.contains(&s.ident.to_string().as_str()))
    })
}

/// Reads the route attribute below ours: `#[post("/path", …)]` or
/// `#[route(POST, uri = "/path")]`. `Ok(None)` without a route attribute; an error
/// spanned on the part of the attribute that cannot be read.
pub(crate) fn route_target(handler: &ItemFn) -> syn::Result<Option<RouteTarget>> {
    let Some(attr) = route_attribute(handler) else {
        return Ok(None);
    };
    let Some(last) = attr.path().segments.last() else {
        return Ok(None);
    };
    let name = last.ident.to_string();
    if name == "route" {
        attr.parse_args_with(|input: syn::parse::ParseStream<'_>| {
            let method: syn::Ident = input.parse()?;
            let mut uri = None;
            while !input.is_empty() {
                let _: syn::Token![,] = input.parse()?;
                if input.is_empty() {
                    break;
                }
                if input.peek(syn::LitStr) && uri.is_none() {
                    uri = Some(input.parse::<syn::LitStr>()?);
                    continue;
                }
                let key: syn::Ident = input.parse()?;
                let _: syn::Token![=] = input.parse()?;
                let value: syn::Expr = input.parse()?;
                if key == "uri" {
                    match value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => uri = Some(s),
                        other => {
                            return Err(syn::Error::new_spanned(
                                other,
                                "write the route's `uri` as a string literal",
                            ))
                        }
                    }
                }
            }
            let method = method_variant(&method.to_string(), method.span()).ok_or_else(|| {
                syn::Error::new(
                    method.span(),
                    "unknown HTTP method; expected GET, PUT, POST, DELETE, PATCH, HEAD or OPTIONS",
                )
            })?;
            let uri = uri.ok_or_else(|| {
                syn::Error::new_spanned(attr, "the route attribute names no `uri`")
            })?;
            Ok(Some(RouteTarget { method, uri }))
        })
    } else {
        let Some(method) = method_variant(&name, last.ident.span()) else {
            return Ok(None);
        };
        attr.parse_args_with(|input: syn::parse::ParseStream<'_>| {
            let uri: syn::LitStr = input.parse()?;
            let _rest: TokenStream = input.parse()?;
            Ok(Some(RouteTarget { method, uri }))
        })
    }
}

/// The path part of a route URI (before `?`).
pub(crate) fn uri_path(uri: &str) -> &str {
    uri.split('?').next().unwrap_or(uri)
}

/// The first dynamic segment (`<name>` or `<name..>`) of a route's path, if any.
pub(crate) fn first_dynamic_segment(uri: &str) -> Option<&str> {
    uri_path(uri)
        .split('/')
        .find(|segment| segment.contains('<'))
}

/// The common front of attributes that need the route's static path
/// (`#[permanent_refresh]`, `#[expiring_link]`): [`protected_handler`], with a
/// route path that exists and has no dynamic segment. `why` ends the dynamic-segment
/// error. Errors go to `cx`; `None` when the item cannot be used at all.
pub(crate) fn static_route(
    cx: &mut Ctxt,
    item: TokenStream,
    attribute: &str,
    why: &str,
) -> Option<(ItemFn, RouteTarget)> {
    let (handler, target) = protected_handler(cx, item, attribute)?;
    match &target {
        Some(target) => {
            let uri = target.uri.value();
            if let Some(segment) = first_dynamic_segment(&uri) {
                cx.error_spanned_by(
                    &target.uri,
                    format!(
                        "`#[{attribute}]` routes cannot have dynamic path segments (`{segment}`): {why}"
                    ),
                );
            }
        }
        None if !cx.has_errors() => cx.error_at(
            Span::call_site(),
            format!(
                "`#[{attribute}]` cannot read the route attribute's path; write it as `#[post(\"/path\")]`"
            ),
        ),
        None => {}
    }
    Some((handler, target?))
}
