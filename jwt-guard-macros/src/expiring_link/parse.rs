//! Reads `#[expiring_link(...)]` options into a model that keeps their spans.

use std::num::NonZeroU32;

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path};

use super::ATTRIBUTE;
use crate::ctxt::{set_once, unknown_option, Ctxt};
use crate::duration::parse_duration_lit;

const MAX_USES: &str = "max_uses";
const TTL: &str = "ttl";
const LOGIN: &str = "login";
const CONFIRM: &str = "confirm";
const UNLIMITED: &str = "unlimited";
const OPTIONS: &str = "a target name, `max_uses`, `ttl`, `login`, `confirm`";

/// How often a link may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MaxUses {
    /// At most this many uses (`max_uses = N`, N ≥ 1).
    Limited(NonZeroU32),
    /// Any number until it expires (`max_uses = unlimited`).
    Unlimited,
}

/// Uses of a link when `max_uses` is not given: one.
pub(super) const DEFAULT_MAX_USES: MaxUses = MaxUses::Limited(NonZeroU32::MIN);
/// Lifetime of a link when `ttl` is not given.
pub(super) const DEFAULT_TTL_SECS: u64 = 24 * 3600;

#[derive(Default)]
pub(super) struct LinkArgs {
    pub(super) target: Option<Ident>,
    pub(super) max_uses: Option<MaxUses>,
    pub(super) ttl: Option<u64>,
    /// Where `login` was written.
    pub(super) login: Option<Path>,
    /// Where `confirm` was written.
    pub(super) confirm: Option<Path>,
}

pub(super) fn parse_args(cx: &mut Ctxt, attr: TokenStream) -> LinkArgs {
    let mut args = LinkArgs::default();
    let parser = syn::meta::parser(|meta| parse_option(cx, &mut args, &meta));
    if let Err(e) = parser.parse2(attr) {
        cx.syn_error(e);
    }
    args
}

fn parse_option(cx: &mut Ctxt, args: &mut LinkArgs, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let path = &meta.path;
    let has_value = meta.input.peek(syn::Token![=]);
    if path.is_ident(MAX_USES) {
        let value: Expr = meta.value()?.parse()?;
        match &value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(n), ..
            }) => match n.base10_parse::<u32>().map(NonZeroU32::new) {
                Ok(None) => cx.error_spanned_by(
                    n,
                    "`max_uses` must be at least 1 (or `unlimited` for no limit until expiry)",
                ),
                Ok(Some(uses)) => set_once(
                    cx,
                    &mut args.max_uses,
                    MaxUses::Limited(uses),
                    path,
                    ATTRIBUTE,
                ),
                Err(_) => cx.error_spanned_by(n, "`max_uses` must fit in a u32"),
            },
            Expr::Path(p) if p.path.is_ident(UNLIMITED) => {
                set_once(cx, &mut args.max_uses, MaxUses::Unlimited, path, ATTRIBUTE)
            }
            other => cx.error_spanned_by(
                other,
                "expected a number of uses such as `1`, or `unlimited`",
            ),
        }
    } else if path.is_ident(TTL) {
        let lit: LitStr = meta.value()?.parse()?;
        match parse_duration_lit(&lit) {
            Ok(secs) => set_once(cx, &mut args.ttl, secs, path, ATTRIBUTE),
            Err(e) => cx.syn_error(e),
        }
    } else if path.is_ident(LOGIN) && !has_value {
        set_once(cx, &mut args.login, path.clone(), path, ATTRIBUTE);
    } else if path.is_ident(CONFIRM) && !has_value {
        set_once(cx, &mut args.confirm, path.clone(), path, ATTRIBUTE);
    } else if let (Some(ident), false) = (path.get_ident(), has_value) {
        if args.target.is_some() {
            cx.error_spanned_by(
                path,
                format!("unknown `#[{ATTRIBUTE}]` option `{ident}`; expected {OPTIONS} (the target name comes first, once)"),
            );
        } else {
            args.target = Some(ident.clone());
        }
    } else {
        unknown_option(cx, path, ATTRIBUTE, OPTIONS);
        if has_value {
            let _: Expr = meta.value()?.parse()?;
        }
    }
    Ok(())
}
