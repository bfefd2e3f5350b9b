//! Reads a `#[derive(Claims)]` struct into its written form: each named field
//! with the name it is serialized under and the `#[claims(...)]` marks on it.
//! What they mean together is `validate`'s.

use syn::{Data, DeriveInput, Field, Fields, LitStr, Path};

use crate::ctxt::Ctxt;
use crate::names::unraw;

pub(super) const ATTRIBUTE: &str = "claims";
pub(super) const ROLES: &str = "roles";
pub(super) const SCOPES: &str = "scopes";
const OPTIONS: &str = "`roles`, `scopes`";

/// What a `#[claims(...)]` mark says a field holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Holds {
    Roles,
    Scopes,
}

/// One field as written.
pub(super) struct WrittenField<'a> {
    pub(super) field: &'a Field,
    /// Its name in the token: `#[serde(rename = "…")]`, else its ident.
    pub(super) serialized: Option<String>,
    /// Each mark and where it was written.
    pub(super) marks: Vec<(Holds, Path)>,
}

/// The struct as written: its named fields, or what it is instead.
pub(super) enum Written<'a> {
    Named(Vec<WrittenField<'a>>),
    /// A tuple or unit struct, an enum or a union: named by its keyword or name,
    /// and the end of the sentence that says so.
    NotNamed(proc_macro2::TokenStream, &'static str),
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

pub(super) fn parse<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Written<'a> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                let ident = &input.ident;
                return Written::NotNamed(quote::quote!(#ident), " (claims are a JSON object)");
            }
        },
        Data::Enum(e) => {
            let token = e.enum_token;
            return Written::NotNamed(quote::quote!(#token), ", not an enum");
        }
        Data::Union(u) => {
            let token = u.union_token;
            return Written::NotNamed(quote::quote!(#token), ", not a union");
        }
    };
    let written = fields
        .iter()
        .map(|field| {
            let mut marks = Vec::new();
            for attr in field.attrs.iter().filter(|a| a.path().is_ident(ATTRIBUTE)) {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident(ROLES) {
                        marks.push((Holds::Roles, meta.path.clone()));
                    } else if meta.path.is_ident(SCOPES) {
                        marks.push((Holds::Scopes, meta.path.clone()));
                    } else {
                        crate::ctxt::unknown_option(cx, &meta.path, ATTRIBUTE, OPTIONS);
                    }
                    Ok(())
                });
                if let Err(e) = result {
                    cx.syn_error(e);
                }
            }
            WrittenField {
                field,
                serialized: serialized_name(field),
                marks,
            }
        })
        .collect();
    Written::Named(written)
}
