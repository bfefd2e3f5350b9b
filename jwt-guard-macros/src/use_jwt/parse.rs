//! Reads `#[use_jwt(...)]` options into a model that keeps their spans.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Path, Type};

use super::ATTRIBUTE;
use crate::ctxt::{set_once, unknown_option, Ctxt};
use crate::duration::parse_duration_lit;

const CLAIMS: &str = "claims";
const ROLE: &str = "role";
const SCOPE: &str = "scope";
const CHECK: &str = "check";
const OPTIONAL: &str = "optional";
const FRESH: &str = "fresh";
const ISSUER: &str = "issuer";
const ACR: &str = "acr";
const DPOP: &str = "dpop";
const OPTIONS: &str =
    "`claims`, `role`, `scope`, `check`, `optional`, `fresh`, `acr`, `dpop`, `issuer`";

/// One required role: a path to a value of the claims' role type, or a role name.
pub(super) enum RoleRef {
    Path(Path),
    Name(LitStr),
}

/// How several roles combine.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleMode {
    Any,
    All,
}

#[derive(Default)]
pub(super) struct UseJwtArgs {
    pub(super) claims: Option<Type>,
    pub(super) roles: Option<(RoleMode, Vec<RoleRef>)>,
    pub(super) scopes: Option<Vec<LitStr>>,
    pub(super) check: Option<Path>,
    pub(super) optional: Option<Span>,
    pub(super) fresh: Option<u64>,
    pub(super) issuer: Option<LitStr>,
    /// Accepted `acr` values, space-separated as written.
    pub(super) acr: Option<LitStr>,
    /// `dpop`: DPoP-bound tokens only (RFC 9449).
    pub(super) dpop: Option<Span>,
}

pub(super) fn parse_args(cx: &mut Ctxt, attr: TokenStream) -> UseJwtArgs {
    let mut args = UseJwtArgs::default();
    let parser = syn::meta::parser(|meta| {
        parse_option(cx, &mut args, &meta)?;
        Ok(())
    });
    if let Err(e) = parser.parse2(attr) {
        cx.syn_error(e);
    }
    args
}

fn parse_option(
    cx: &mut Ctxt,
    args: &mut UseJwtArgs,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<()> {
    let path = &meta.path;
    if path.is_ident(CLAIMS) {
        let ty: Type = meta.value()?.parse()?;
        set_once(cx, &mut args.claims, ty, path, ATTRIBUTE);
    } else if path.is_ident(ROLE) {
        let expr: Expr = meta.value()?.parse()?;
        if let Some(roles) = parse_roles(cx, &expr) {
            set_once(cx, &mut args.roles, roles, path, ATTRIBUTE);
        }
    } else if path.is_ident(SCOPE) {
        let expr: Expr = meta.value()?.parse()?;
        if let Some(scopes) = parse_scopes(cx, &expr) {
            set_once(cx, &mut args.scopes, scopes, path, ATTRIBUTE);
        }
    } else if path.is_ident(CHECK) {
        let check: Path = meta.value()?.parse()?;
        set_once(cx, &mut args.check, check, path, ATTRIBUTE);
    } else if path.is_ident(OPTIONAL) {
        if meta.input.peek(syn::Token![=]) {
            let value: Expr = meta.value()?.parse()?;
            cx.error_spanned_by(value, "`optional` takes no value; write `optional`");
        }
        set_once(cx, &mut args.optional, path.span(), path, ATTRIBUTE);
    } else if path.is_ident(DPOP) {
        if meta.input.peek(syn::Token![=]) {
            let value: Expr = meta.value()?.parse()?;
            cx.error_spanned_by(
                value,
                "`dpop` takes no value; write `dpop` for a route that accepts DPoP-bound tokens only",
            );
        }
        set_once(cx, &mut args.dpop, path.span(), path, ATTRIBUTE);
    } else if path.is_ident(FRESH) {
        let lit: LitStr = meta.value()?.parse()?;
        match parse_duration_lit(&lit) {
            Ok(secs) => set_once(cx, &mut args.fresh, secs, path, ATTRIBUTE),
            Err(e) => cx.syn_error(e),
        }
    } else if path.is_ident(ACR) {
        let expr: Expr = meta.value()?.parse()?;
        if let Some(acr) = parse_acr(cx, &expr) {
            set_once(cx, &mut args.acr, acr, path, ATTRIBUTE);
        }
    } else if path.is_ident(ISSUER) {
        let lit: LitStr = meta.value()?.parse()?;
        if lit.value().trim().is_empty() {
            cx.error_spanned_by(
                &lit,
                "`issuer` names an entry of `jwt.trusted_issuers`, e.g. \"partner\"",
            );
        } else {
            set_once(cx, &mut args.issuer, lit, path, ATTRIBUTE);
        }
    } else {
        unknown_option(cx, path, ATTRIBUTE, OPTIONS);
        skip_value(meta)?;
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

fn parse_role(cx: &mut Ctxt, expr: &Expr) -> Option<RoleRef> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => Some(RoleRef::Path(p.path.clone())),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            if s.value().trim().is_empty() {
                cx.error_spanned_by(s, "a role name cannot be empty");
                return None;
            }
            Some(RoleRef::Name(s.clone()))
        }
        other => {
            cx.error_spanned_by(
                other,
                "expected a role: a path such as `Role::Admin` or a name such as \"admin\"",
            );
            None
        }
    }
}

fn parse_roles(cx: &mut Ctxt, expr: &Expr) -> Option<(RoleMode, Vec<RoleRef>)> {
    if let Expr::Call(call) = expr {
        if let Expr::Path(func) = &*call.func {
            let mode = if func.path.is_ident("any") {
                Some(RoleMode::Any)
            } else if func.path.is_ident("all") {
                Some(RoleMode::All)
            } else {
                None
            };
            let Some(mode) = mode else {
                cx.error_spanned_by(
                    &call.func,
                    "expected `any(…)` or `all(…)` around several roles",
                );
                return None;
            };
            if call.args.is_empty() {
                cx.error_spanned_by(call, "`any(…)`/`all(…)` needs at least one role");
                return None;
            }
            let roles: Vec<_> = call.args.iter().filter_map(|a| parse_role(cx, a)).collect();
            return (roles.len() == call.args.len()).then_some((mode, roles));
        }
    }
    parse_role(cx, expr).map(|r| (RoleMode::Any, vec![r]))
}

/// `acr = "urn:example:mfa"` (several accepted: space-separated, as RFC 9470's
/// `acr_values`): printable ASCII without `"` or `\`, like a scope.
fn parse_acr(cx: &mut Ctxt, expr: &Expr) -> Option<LitStr> {
    let words = SpaceSeparated {
        not_a_string: "expected the accepted authentication classes as a string, e.g. \"urn:example:mfa\" (several: space-separated)",
        empty: "`acr` needs at least one accepted class",
        invalid: "is not a valid `acr` value (printable ASCII, no `\"` or `\\`)",
    };
    let (lit, values) = words.parse(cx, expr)?;
    Some(LitStr::new(&values.join(" "), lit.span()))
}

/// What a space-separated list of RFC 6749 §3.3 tokens (scopes, `acr` values)
/// says when it is not one.
struct SpaceSeparated {
    not_a_string: &'static str,
    empty: &'static str,
    /// Follows the offending word in backquotes.
    invalid: &'static str,
}

impl SpaceSeparated {
    /// The literal and its words, or an error on the user's token.
    fn parse<'e>(&self, cx: &mut Ctxt, expr: &'e Expr) -> Option<(&'e LitStr, Vec<String>)> {
        let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = expr
        else {
            cx.error_spanned_by(expr, self.not_a_string);
            return None;
        };
        let value = s.value();
        let words: Vec<String> = value
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            cx.error_spanned_by(s, self.empty);
            return None;
        }
        if let Some(bad) = words.iter().find(|t| !valid_scope_token(t)) {
            cx.error_spanned_by(s, format!("`{bad}` {}", self.invalid));
            return None;
        }
        Some((s, words))
    }
}

/// RFC 6749 §3.3 scope-token characters.
fn valid_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn parse_scopes(cx: &mut Ctxt, expr: &Expr) -> Option<Vec<LitStr>> {
    let words = SpaceSeparated {
        not_a_string:
            "expected a scope string such as \"reports:read\" (several: \"a b\", all required)",
        empty: "a scope cannot be empty",
        invalid: "is not a valid OAuth scope (RFC 6749 §3.3: printable ASCII, no `\"` or `\\`)",
    };
    let (lit, tokens) = words.parse(cx, expr)?;
    Some(tokens.iter().map(|t| LitStr::new(t, lit.span())).collect())
}
