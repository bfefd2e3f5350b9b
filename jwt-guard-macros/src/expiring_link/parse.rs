//! Reads `#[expiring_link(...)]` into its written form: each option once, as the
//! tokens the user wrote. What the values mean is `validate`'s.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, Ident, LitStr, Path};

use super::ATTRIBUTE;
use crate::ctxt::{set_once, unknown_option, Ctxt};

const MAX_USES: &str = "max_uses";
const TTL: &str = "ttl";
const LOGIN: &str = "login";
const CONFIRM: &str = "confirm";
const OPTIONS: &str = "a target name, `max_uses`, `ttl`, `login`, `confirm`";

/// The options as written.
#[derive(Default)]
pub(super) struct LinkArgs {
    pub(super) target: Option<Ident>,
    pub(super) max_uses: Option<Expr>,
    pub(super) ttl: Option<LitStr>,
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
        set_once(cx, &mut args.max_uses, value, path, ATTRIBUTE);
    } else if path.is_ident(TTL) {
        let lit: LitStr = meta.value()?.parse()?;
        set_once(cx, &mut args.ttl, lit, path, ATTRIBUTE);
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
