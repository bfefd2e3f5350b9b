//! Emits the zero-sized policy type, its `Policy` impl, and the injected guard.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

use super::validate::{PolicyModel, RoleMode, RoleRef};
use crate::exports;
use crate::names::{hidden_local, hidden_name};
use crate::route;

/// Tokens as one line of text, the way they were written (spaces of `quote` out).
fn written(tokens: impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

/// The manifest's text of a role requirement: `Role::Admin`, `any(a, b)`, `all(…)`.
fn role_text(mode: RoleMode, roles: &[RoleRef]) -> String {
    let names: Vec<String> = roles
        .iter()
        .map(|role| match role {
            RoleRef::Path(path) => written(path),
            RoleRef::Name(name) => format!("{:?}", name.value()),
        })
        .collect();
    match (mode, names.as_slice()) {
        (_, [one]) => one.clone(),
        (RoleMode::Any, _) => format!("any({})", names.join(", ")),
        (RoleMode::All, _) => format!("all({})", names.join(", ")),
    }
}

pub(super) fn expand(
    args: &PolicyModel,
    mut handler: ItemFn,
    target: Option<&route::RouteTarget>,
) -> TokenStream {
    let policy = hidden_name("policy", &handler);
    let vis = handler.vis.clone();
    // The policy type and the injected guard stand for the handler: a trait
    // error about them points at its name.
    let at_handler = handler.sig.ident.span();
    let authorized_path = exports::authorized(at_handler);
    let policy_path = exports::policy(at_handler);
    let denied_path = exports::denied(Span::call_site());
    let string_path = exports::string(Span::call_site());
    let option_path = exports::option(Span::call_site());
    let result_path = exports::result(Span::call_site());
    let claims_ty = match &args.claims {
        Some(ty) => quote_spanned!(ty.span()=> #ty),
        None => exports::standard_claims(Span::call_site()),
    };
    let optional = args.optional.is_some();
    let dpop = args.dpop.is_some();
    let fresh = match &args.fresh {
        Some(fresh) => {
            let (secs, option_path) = (fresh.secs, exports::option(fresh.lit.span()));
            quote_spanned!(fresh.lit.span()=> #option_path::Some(#secs))
        }
        None => quote!(#option_path::None),
    };
    let claims = hidden_local("claims");

    let role_checks = args.roles.as_ref().map(|(mode, roles)| {
        let tests: Vec<TokenStream> = roles
            .iter()
            .map(|role| match role {
                RoleRef::Path(path) => {
                    let has_role = exports::has_role(path.span());
                    quote_spanned!(path.span()=> #has_role(#claims, &#path))
                }
                RoleRef::Name(name) => {
                    let has_role_named = exports::has_role_named(name.span());
                    quote_spanned!(name.span()=> #has_role_named(#claims, #name))
                }
            })
            .collect();
        // The refusal names the roles as tokens carry them (built only on refusal).
        let names: Vec<TokenStream> = roles
            .iter()
            .map(|role| match role {
                RoleRef::Path(path) => {
                    let role_name = exports::role_name(path.span());
                    quote_spanned!(path.span()=> #role_name(&#path))
                }
                RoleRef::Name(name) => quote!(#string_path::from(#name)),
            })
            .collect();
        let all = matches!(mode, RoleMode::All);
        let refuse = quote! {
            return #result_path::Err(#denied_path::roles(#all, &[#(#names),*]));
        };
        match mode {
            RoleMode::Any => quote! {
                if !(false #(|| #tests)*) {
                    #refuse
                }
            },
            RoleMode::All => quote! {
                if !(true #(&& #tests)*) {
                    #refuse
                }
            },
        }
    });
    let scope_checks = args.scopes.iter().flatten().map(|scope| {
        let has_scope = exports::has_scope(scope.span());
        let denied = exports::denied(scope.span());
        quote_spanned! {scope.span()=>
            if !#has_scope(#claims, #scope) {
                return #result_path::Err(#denied::scope(#scope));
            }
        }
    });
    let check = args.check.as_ref().map(|path| {
        // Coerce to a fn pointer first, so a wrong signature is reported as such on
        // the user's path.
        let check_fn = hidden_local("check");
        let denied = exports::denied(path.span());
        let coerce = quote_spanned! {path.span()=>
            let #check_fn: fn(&Self::Claims) -> bool = #path;
        };
        quote! {
            #coerce
            if !#check_fn(#claims) {
                return #result_path::Err(#denied::check());
            }
        }
    });

    let some_text = |text: Option<String>| match text {
        Some(text) => quote!(#option_path::Some(#text)),
        None => quote!(#option_path::None),
    };
    let some_lit = |lit: Option<&LitStr>| match lit {
        Some(lit) => {
            let option = exports::option(lit.span());
            quote_spanned!(lit.span()=> #option::Some(#lit))
        }
        None => quote!(#option_path::None),
    };
    let issuer = some_lit(args.issuer.as_ref());
    let claims_text = match &args.claims {
        Some(ty) => written(ty),
        None => "StandardClaims".to_owned(),
    };
    let role = some_text(
        args.roles
            .as_ref()
            .map(|(mode, roles)| role_text(*mode, roles)),
    );
    let scope = some_text(args.scopes.as_ref().map(|scopes| {
        scopes
            .iter()
            .map(|s| s.value())
            .collect::<Vec<_>>()
            .join(" ")
    }));
    let check_text = some_text(args.check.as_ref().map(written));
    let acr = some_lit(args.acr.as_ref());
    let declaration = target.map(|target| {
        let protection_path = exports::protection(target.uri.span());
        route::declare(
            &handler,
            target,
            quote!(#protection_path::Jwt {
                claims: #claims_text,
                issuer: #issuer,
                role: #role,
                scope: #scope,
                check: #check_text,
                optional: #optional,
                fresh_secs: #fresh,
                acr: #acr,
                dpop: #dpop,
            }),
        )
    });
    let guard = hidden_local("auth");
    route::inject_guard(&mut handler, &guard, quote!(#authorized_path<#policy>));

    quote! {
        #declaration

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #policy;

        impl #policy_path for #policy {
            type Claims = #claims_ty;
            const OPTIONAL: bool = #optional;
            const MAX_LOGIN_AGE: #option_path<u64> = #fresh;
            const ISSUER: #option_path<&'static str> = #issuer;
            const SCOPE: #option_path<&'static str> = #scope;
            const ACR: #option_path<&'static str> = #acr;
            const DPOP: bool = #dpop;

            #[inline]
            fn authorize(#claims: &Self::Claims) -> #result_path<(), #denied_path> {
                #role_checks
                #(#scope_checks)*
                #check
                #result_path::Ok(())
            }
        }

        #handler
    }
}
