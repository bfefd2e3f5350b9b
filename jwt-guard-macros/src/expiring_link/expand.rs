//! Emits the `LinkTarget` impl on Rocket's route type, the target alias, and the
//! injected guard.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{ItemFn, LitInt};

use super::validate::{LinkModel, MaxUses};
use crate::exports;
use crate::names::{hidden_local, unraw};
use crate::route::{self, RouteTarget};

pub(super) fn expand(args: &LinkModel, mut handler: ItemFn, target: &RouteTarget) -> TokenStream {
    let route_ty = handler.sig.ident.clone();
    let route_name = unraw(&route_ty);
    let link_target = args.target.clone().unwrap_or_else(|| route_ty.clone());
    let audience = unraw(&link_target);
    let vis = handler.vis.clone();
    let method = &target.method;
    let path = route::uri_path(&target.uri.value()).to_owned();
    let max_uses = args.max_uses;
    // The runtime's `LinkTarget::MAX_USES` stores "unlimited" as 0.
    let stored_max_uses = LitInt::new(
        &match max_uses {
            MaxUses::Limited(n) => n.get(),
            MaxUses::Unlimited => 0,
        }
        .to_string(),
        Span::call_site(),
    );
    let ttl = args.ttl_secs;
    let login = args.login.is_some();
    let confirm = args.confirm.is_some();
    // The impl and the guard stand for the handler: a trait error points at its
    // name.
    let at_handler = handler.sig.ident.span();
    let link_guard_path = exports::link_guard(at_handler);
    let link_target_path = exports::link_target(at_handler);
    let method_path = exports::method(target.method.span());
    let option_path = exports::option(Span::call_site());
    let protection_path = exports::protection(target.uri.span());
    // `links.mint::<target>()` names the target; when it differs from the handler,
    // it is an alias of the route type Rocket generates for the handler.
    let alias = (link_target != route_ty).then(|| {
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis type #link_target = #route_ty;
        }
    });
    let uses = match max_uses {
        MaxUses::Unlimited => quote!(#option_path::None),
        MaxUses::Limited(n) => {
            let n = n.get();
            quote!(#option_path::Some(#n))
        }
    };
    let declaration = route::declare(
        &handler,
        target,
        quote!(#protection_path::Link {
            target: #audience,
            max_uses: #uses,
            ttl_secs: #ttl,
            login: #login,
            confirm: #confirm,
        }),
    );
    let guard = hidden_local("link");
    route::inject_guard(&mut handler, &guard, quote!(#link_guard_path<#route_ty>));

    quote! {
        #declaration

        impl #link_target_path for #route_ty {
            const TARGET: &'static str = #audience;
            const ROUTE: &'static str = #route_name;
            const METHOD: #method_path = #method_path::#method;
            const PATH: &'static str = #path;
            const MAX_USES: u32 = #stored_max_uses;
            const TTL_SECS: u64 = #ttl;
            const LOGIN: bool = #login;
            const CONFIRM: bool = #confirm;
        }

        #alias

        #handler
    }
}
