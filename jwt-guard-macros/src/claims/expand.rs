//! Emits the `Claims` impl, or the fallback impl beside errors.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::DeriveInput;

use super::validate::ClaimsFields;
use crate::exports;

pub(super) fn expand(input: &DeriveInput, fields: &ClaimsFields<'_>) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Spanned on the user's type and fields: a trait error points at them.
    let claims_path = exports::claims(name.span());

    let roles_impl = match fields.roles {
        Some(field) => {
            let ty = &field.ty;
            let ident = &field.ident;
            let role_field_path = exports::role_field(ty.span());
            quote_spanned! {ty.span()=>
                type Role = <#ty as #role_field_path>::Role;
                fn roles(&self) -> &[Self::Role] {
                    #role_field_path::as_roles(&self.#ident)
                }
            }
        }
        None => no_roles(),
    };
    let scopes_impl = match fields.scopes {
        Some(field) => {
            let ty = &field.ty;
            let ident = &field.ident;
            let scope_field_path = exports::scope_field(ty.span());
            quote_spanned! {ty.span()=>
                fn has_scope(&self, scope: &str) -> bool {
                    <#ty as #scope_field_path>::contains_scope(&self.#ident, scope)
                }
            }
        }
        None => no_scopes(),
    };

    quote! {
        impl #impl_generics #claims_path for #name #ty_generics #where_clause {
            #roles_impl
            #scopes_impl
        }
    }
}

/// An impl with no roles and no scopes, emitted beside the errors of a failed
/// derive so that uses of the type report nothing more.
pub(super) fn fallback(input: &DeriveInput) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let claims_path = exports::claims(name.span());
    let roles = no_roles();
    let scopes = no_scopes();
    quote! {
        impl #impl_generics #claims_path for #name #ty_generics #where_clause {
            #roles
            #scopes
        }
    }
}

fn no_roles() -> TokenStream {
    let no_role_path = exports::no_role(Span::call_site());
    quote! {
        type Role = #no_role_path;
        fn roles(&self) -> &[Self::Role] {
            &[]
        }
    }
}

fn no_scopes() -> TokenStream {
    quote! {
        fn has_scope(&self, _scope: &str) -> bool {
            false
        }
    }
}
