//! Finds the `#[claims(roles)]` and `#[claims(scopes)]` fields, and refuses fields
//! that would shadow a registered claim.

use jwt_guard_grammar::REGISTERED_CLAIM_NAMES;
use quote::quote;
use syn::{Data, DeriveInput, Field, Fields, LitStr};

use crate::ctxt::Ctxt;
use crate::names::unraw;

const ATTRIBUTE: &str = "claims";
const ROLES: &str = "roles";
const SCOPES: &str = "scopes";
const OPTIONS: &str = "`roles`, `scopes`";

/// The fields the impl reads.
#[derive(Default)]
pub(super) struct ClaimsFields<'a> {
    pub(super) roles: Option<&'a Field>,
    pub(super) scopes: Option<&'a Field>,
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
    field.ident.as_ref().map(unraw)
}

pub(super) fn find_fields<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> ClaimsFields<'a> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                cx.error_spanned_by(
                    &input.ident,
                    "`#[derive(Claims)]` needs a struct with named fields (claims are a JSON object)",
                );
                return ClaimsFields::default();
            }
        },
        Data::Enum(e) => {
            cx.error_spanned_by(
                e.enum_token,
                "`#[derive(Claims)]` needs a struct with named fields, not an enum",
            );
            return ClaimsFields::default();
        }
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "`#[derive(Claims)]` needs a struct with named fields, not a union",
            );
            return ClaimsFields::default();
        }
    };

    let mut roles: Option<&Field> = None;
    let mut scopes: Option<&Field> = None;
    for field in fields {
        if let Some(name) = serialized_name(field) {
            if REGISTERED_CLAIM_NAMES.contains(&name.as_str()) {
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
        for attr in field.attrs.iter().filter(|a| a.path().is_ident(ATTRIBUTE)) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(ROLES) {
                    mark(cx, &mut roles, field, &meta.path, ROLES);
                } else if meta.path.is_ident(SCOPES) {
                    mark(cx, &mut scopes, field, &meta.path, SCOPES);
                } else {
                    crate::ctxt::unknown_option(cx, &meta.path, ATTRIBUTE, OPTIONS);
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
    ClaimsFields { roles, scopes }
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
