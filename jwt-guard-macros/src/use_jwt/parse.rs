//! Reads `#[use_jwt(...)]` into its written form: each option once, as the
//! tokens the user wrote (so every later error can point at them). What the
//! values mean is `validate`'s.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, LitStr, Path, Type};

use super::ATTRIBUTE;
use crate::ctxt::{set_once, unknown_option, Ctxt};

pub(super) const CLAIMS: &str = "claims";
pub(super) const ROLE: &str = "role";
pub(super) const SCOPE: &str = "scope";
pub(super) const CHECK: &str = "check";
pub(super) const OPTIONAL: &str = "optional";
pub(super) const FRESH: &str = "fresh";
pub(super) const ISSUER: &str = "issuer";
pub(super) const ACR: &str = "acr";
pub(super) const DPOP: &str = "dpop";
const OPTIONS: &str =
    "`claims`, `role`, `scope`, `check`, `optional`, `fresh`, `acr`, `dpop`, `issuer`";

/// The options as written.
#[derive(Default)]
pub(super) struct WrittenArgs {
    pub(super) claims: Option<Type>,
    pub(super) role: Option<Expr>,
    pub(super) scope: Option<Expr>,
    pub(super) check: Option<Path>,
    pub(super) optional: Option<Span>,
    pub(super) fresh: Option<LitStr>,
    pub(super) issuer: Option<LitStr>,
    pub(super) acr: Option<Expr>,
    pub(super) dpop: Option<Span>,
}

pub(super) fn parse_args(cx: &mut Ctxt, attr: TokenStream) -> WrittenArgs {
    let mut args = WrittenArgs::default();
    let parser = syn::meta::parser(|meta| parse_option(cx, &mut args, &meta));
    if let Err(e) = parser.parse2(attr) {
        cx.syn_error(e);
    }
    args
}

fn parse_option(
    cx: &mut Ctxt,
    args: &mut WrittenArgs,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<()> {
    let path = &meta.path;
    if path.is_ident(CLAIMS) {
        let ty: Type = meta.value()?.parse()?;
        set_once(cx, &mut args.claims, ty, path, ATTRIBUTE);
    } else if path.is_ident(ROLE) {
        let expr: Expr = meta.value()?.parse()?;
        set_once(cx, &mut args.role, expr, path, ATTRIBUTE);
    } else if path.is_ident(SCOPE) {
        let expr: Expr = meta.value()?.parse()?;
        set_once(cx, &mut args.scope, expr, path, ATTRIBUTE);
    } else if path.is_ident(CHECK) {
        let check: Path = meta.value()?.parse()?;
        set_once(cx, &mut args.check, check, path, ATTRIBUTE);
    } else if path.is_ident(OPTIONAL) {
        flag(cx, meta, "`optional` takes no value; write `optional`")?;
        set_once(cx, &mut args.optional, path.span(), path, ATTRIBUTE);
    } else if path.is_ident(DPOP) {
        flag(
            cx,
            meta,
            "`dpop` takes no value; write `dpop` for a route that accepts DPoP-bound tokens only",
        )?;
        set_once(cx, &mut args.dpop, path.span(), path, ATTRIBUTE);
    } else if path.is_ident(FRESH) {
        let lit: LitStr = meta.value()?.parse()?;
        set_once(cx, &mut args.fresh, lit, path, ATTRIBUTE);
    } else if path.is_ident(ACR) {
        let expr: Expr = meta.value()?.parse()?;
        set_once(cx, &mut args.acr, expr, path, ATTRIBUTE);
    } else if path.is_ident(ISSUER) {
        let lit: LitStr = meta.value()?.parse()?;
        set_once(cx, &mut args.issuer, lit, path, ATTRIBUTE);
    } else {
        unknown_option(cx, path, ATTRIBUTE, OPTIONS);
        skip_value(meta)?;
    }
    Ok(())
}

/// An option written alone: a value after it is reported (on the value) and
/// skipped.
fn flag(cx: &mut Ctxt, meta: &ParseNestedMeta<'_>, takes_none: &str) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let value: Expr = meta.value()?.parse()?;
        cx.error_spanned_by(value, takes_none);
    }
    Ok(())
}

/// Consumes `= value` or `(…)` after an unknown option so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}
