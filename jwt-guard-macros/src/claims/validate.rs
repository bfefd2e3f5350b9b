//! Checks a `#[derive(Claims)]` struct: named fields, none shadowing a
//! registered claim, at most one field of roles and one of scopes, and not one
//! field for both.

use jwt_guard_grammar::REGISTERED_CLAIM_NAMES;
use quote::quote;
use syn::Field;

use super::parse::{Holds, Written, ROLES, SCOPES};
use crate::ctxt::Ctxt;

/// The fields the impl reads.
#[derive(Default)]
pub(super) struct ClaimsFields<'a> {
    pub(super) roles: Option<&'a Field>,
    pub(super) scopes: Option<&'a Field>,
}

pub(super) fn validate<'a>(cx: &mut Ctxt, written: Written<'a>) -> ClaimsFields<'a> {
    let fields = match written {
        Written::Named(fields) => fields,
        Written::NotNamed(at, why) => {
            cx.error_spanned_by(
                at,
                format!("`#[derive(Claims)]` needs a struct with named fields{why}"),
            );
            return ClaimsFields::default();
        }
    };
    let mut found = ClaimsFields::default();
    for written in &fields {
        let field = written.field;
        if let Some(name) = &written.serialized {
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
        for (holds, at) in &written.marks {
            let (slot, what) = match holds {
                Holds::Roles => (&mut found.roles, ROLES),
                Holds::Scopes => (&mut found.scopes, SCOPES),
            };
            if slot.is_some() {
                cx.error_spanned_by(at, format!("only one field can be `#[claims({what})]`"));
            } else {
                *slot = Some(field);
            }
        }
    }
    if let (Some(r), Some(s)) = (found.roles, found.scopes) {
        if std::ptr::eq(r, s) {
            cx.error_spanned_by(&r.ident, "one field cannot hold both `roles` and `scopes`");
        }
    }
    found
}
