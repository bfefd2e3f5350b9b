//! Checks what `#[use_jwt(...)]`'s options say and turns them into the typed
//! policy the expansion emits. Every mistake is reported on the user's token.

use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit, LitStr, Path, Type};

use super::parse::WrittenArgs;
use crate::ctxt::Ctxt;
use crate::duration::parse_duration_lit;

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

/// `fresh = "5m"`: the most seconds since authentication, and the literal it
/// was written as (the const it becomes is spanned on it).
pub(super) struct Fresh {
    pub(super) secs: u64,
    pub(super) lit: LitStr,
}

/// The route's policy, checked.
pub(super) struct PolicyModel {
    pub(super) claims: Option<Type>,
    pub(super) roles: Option<(RoleMode, Vec<RoleRef>)>,
    /// Every scope required, each a literal spanned on the user's string.
    pub(super) scopes: Option<Vec<LitStr>>,
    pub(super) check: Option<Path>,
    pub(super) optional: Option<Span>,
    pub(super) fresh: Option<Fresh>,
    pub(super) issuer: Option<LitStr>,
    /// Accepted `acr` values, space-separated, spanned on the user's string.
    pub(super) acr: Option<LitStr>,
    /// `dpop`: DPoP-bound tokens only (RFC 9449).
    pub(super) dpop: Option<Span>,
}

pub(super) fn validate(cx: &mut Ctxt, args: WrittenArgs) -> PolicyModel {
    PolicyModel {
        roles: args.role.as_ref().and_then(|expr| roles(cx, expr)),
        scopes: args.scope.as_ref().and_then(|expr| scopes(cx, expr)),
        fresh: args.fresh.and_then(|lit| match parse_duration_lit(&lit) {
            Ok(secs) => Some(Fresh { secs, lit }),
            Err(e) => {
                cx.syn_error(e);
                None
            }
        }),
        issuer: args.issuer.filter(|lit| {
            let named = !lit.value().trim().is_empty();
            if !named {
                cx.error_spanned_by(
                    lit,
                    "`issuer` names an entry of `jwt.trusted_issuers`, e.g. \"partner\"",
                );
            }
            named
        }),
        acr: args.acr.as_ref().and_then(|expr| acr(cx, expr)),
        claims: args.claims,
        check: args.check,
        optional: args.optional,
        dpop: args.dpop,
    }
}

fn role(cx: &mut Ctxt, expr: &Expr) -> Option<RoleRef> {
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

fn roles(cx: &mut Ctxt, expr: &Expr) -> Option<(RoleMode, Vec<RoleRef>)> {
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
            let roles: Vec<_> = call.args.iter().filter_map(|a| role(cx, a)).collect();
            return (roles.len() == call.args.len()).then_some((mode, roles));
        }
    }
    role(cx, expr).map(|r| (RoleMode::Any, vec![r]))
}

/// `acr = "urn:example:mfa"` (several accepted: space-separated, as RFC 9470's
/// `acr_values`): printable ASCII without `"` or `\`, like a scope.
fn acr(cx: &mut Ctxt, expr: &Expr) -> Option<LitStr> {
    let words = SpaceSeparated {
        not_a_string: "expected the accepted authentication classes as a string, e.g. \"urn:example:mfa\" (several: space-separated)",
        empty: "`acr` needs at least one accepted class",
        invalid: "is not a valid `acr` value (printable ASCII, no `\"` or `\\`)",
    };
    let (lit, values) = words.parse(cx, expr)?;
    Some(LitStr::new(&values.join(" "), lit.span()))
}

fn scopes(cx: &mut Ctxt, expr: &Expr) -> Option<Vec<LitStr>> {
    let words = SpaceSeparated {
        not_a_string:
            "expected a scope string such as \"reports:read\" (several: \"a b\", all required)",
        empty: "a scope cannot be empty",
        invalid: "is not a valid OAuth scope (RFC 6749 §3.3: printable ASCII, no `\"` or `\\`)",
    };
    let (lit, tokens) = words.parse(cx, expr)?;
    Some(tokens.iter().map(|t| LitStr::new(t, lit.span())).collect())
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
