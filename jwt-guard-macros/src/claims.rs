//! `#[derive(Claims)]`: finds the roles and scopes fields and implements the trait.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Field, Fields, LitStr};

use crate::ctxt::Ctxt;

const ROLES: &str = "roles";
const SCOPES: &str = "scopes";

/// Claims jwt-guard writes itself; an application struct may not declare them.
const REGISTERED: &[&str] = &[
    "typ", "sub", "exp", "iat", "nbf", "jti", "did", "orig_iat", "iss", "aud",
];

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let (roles, scopes) = find_fields(&mut cx, &input);
    if let Some(errors) = cx.into_compile_errors() {
        return errors;
    }

    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let p = quote!(::jwt_guard::__private);

    let roles_impl = match roles {
        Some(field) => {
            let ty = &field.ty;
            let ident = &field.ident;
            quote_spanned! {ty.span()=>
                type Role = <#ty as #p::RoleField>::Role;
                fn roles(&self) -> &[Self::Role] {
                    #p::RoleField::as_roles(&self.#ident)
                }
            }
        }
        None => quote! {
            type Role = #p::NoRole;
            fn roles(&self) -> &[Self::Role] {
                &[]
            }
        },
    };
    let scopes_impl = match scopes {
        Some(field) => {
            let ty = &field.ty;
            let ident = &field.ident;
            quote_spanned! {ty.span()=>
                fn has_scope(&self, scope: &str) -> bool {
                    <#ty as #p::ScopeField>::contains_scope(&self.#ident, scope)
                }
            }
        }
        None => quote! {
            fn has_scope(&self, _scope: &str) -> bool {
                false
            }
        },
    };

    quote! {
        impl #impl_generics #p::Claims for #name #ty_generics #where_clause {
            #roles_impl
            #scopes_impl
        }
    }
}

/// The serialized name of a field: its `#[serde(rename = "…")]`, else its ident.
fn serialized_name(field: &Field) -> Option<String> {
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let mut renamed = None;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if let Ok(value) = meta.value() {
                    if let Ok(lit) = value.parse::<LitStr>() {
                        renamed = Some(lit.value());
                    }
                }
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        });
        if renamed.is_some() {
            return renamed;
        }
    }
    field
        .ident
        .as_ref()
        .map(|i| i.to_string().trim_start_matches("r#").to_owned())
}

fn find_fields<'a>(
    cx: &mut Ctxt,
    input: &'a DeriveInput,
) -> (Option<&'a Field>, Option<&'a Field>) {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                cx.error_spanned_by(
                    &input.ident,
                    "`#[derive(Claims)]` needs a struct with named fields (claims are a JSON object)",
                );
                return (None, None);
            }
        },
        Data::Enum(e) => {
            cx.error_spanned_by(
                e.enum_token,
                "`#[derive(Claims)]` needs a struct with named fields, not an enum",
            );
            return (None, None);
        }
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "`#[derive(Claims)]` needs a struct with named fields, not a union",
            );
            return (None, None);
        }
    };

    let mut roles: Option<&Field> = None;
    let mut scopes: Option<&Field> = None;
    for field in fields {
        if let Some(name) = serialized_name(field) {
            if REGISTERED.contains(&name.as_str()) {
                cx.error_spanned_by(
                    field
                        .ident
                        .as_ref()
                        .map(|i| quote!(#i))
                        .unwrap_or_else(|| quote!(#field)),
                    format!(
                        "`{name}` is a registered claim that jwt-guard sets and checks itself; \
                         remove this field and read it from `Jwt::registered()`"
                    ),
                );
            }
        }
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("claims")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(ROLES) {
                    mark(cx, &mut roles, field, &meta.path, ROLES);
                } else if meta.path.is_ident(SCOPES) {
                    mark(cx, &mut scopes, field, &meta.path, SCOPES);
                } else {
                    let shown = meta
                        .path
                        .get_ident()
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "?".into());
                    cx.error_spanned_by(
                        &meta.path,
                        format!("unknown `#[claims]` option `{shown}`; expected `roles`, `scopes`"),
                    );
                }
                Ok(())
            });
            if let Err(e) = result {
                cx.syn_error(e);
            }
        }
    }
    if let (Some(r), Some(s)) = (roles, scopes) {
        if std::ptr::eq(r, s) {
            cx.error_spanned_by(&r.ident, "one field cannot hold both `roles` and `scopes`");
        }
    }
    (roles, scopes)
}

fn mark<'a>(
    cx: &mut Ctxt,
    slot: &mut Option<&'a Field>,
    field: &'a Field,
    at: &syn::Path,
    what: &str,
) {
    if slot.is_some() {
        cx.error_spanned_by(at, format!("only one field can be `#[claims({what})]`"));
    } else {
        *slot = Some(field);
    }
}
