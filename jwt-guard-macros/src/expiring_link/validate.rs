//! Checks what `#[expiring_link(...)]`'s options say, alone and against the route
//! they sit on, and turns them into the typed link target the expansion emits.

use std::num::NonZeroU32;

use syn::{Expr, ExprLit, Ident, Lit, Path};

use super::parse::LinkArgs;
use super::ATTRIBUTE;
use crate::ctxt::Ctxt;
use crate::duration::parse_duration_lit;
use crate::route::RouteTarget;

const UNLIMITED: &str = "unlimited";

/// How often a link may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MaxUses {
    /// At most this many uses (`max_uses = N`, N ≥ 1).
    Limited(NonZeroU32),
    /// Any number until it expires (`max_uses = unlimited`).
    Unlimited,
}

/// Uses of a link when `max_uses` is not given: one.
const DEFAULT_MAX_USES: MaxUses = MaxUses::Limited(NonZeroU32::MIN);
/// Lifetime of a link when `ttl` is not given.
const DEFAULT_TTL_SECS: u64 = 24 * 3600;

/// The link target, checked.
pub(super) struct LinkModel {
    /// The target's name when it is not the handler's.
    pub(super) target: Option<Ident>,
    pub(super) max_uses: MaxUses,
    pub(super) ttl_secs: u64,
    /// Where `login` was written.
    pub(super) login: Option<Path>,
    /// Where `confirm` was written.
    pub(super) confirm: Option<Path>,
}

/// The options, each checked alone.
pub(super) fn options(cx: &mut Ctxt, args: LinkArgs) -> LinkModel {
    LinkModel {
        max_uses: args
            .max_uses
            .as_ref()
            .and_then(|expr| max_uses(cx, expr))
            .unwrap_or(DEFAULT_MAX_USES),
        ttl_secs: match &args.ttl {
            Some(lit) => parse_duration_lit(lit).unwrap_or_else(|e| {
                cx.syn_error(e);
                DEFAULT_TTL_SECS
            }),
            None => DEFAULT_TTL_SECS,
        },
        target: args.target,
        login: args.login,
        confirm: args.confirm,
    }
}

fn max_uses(cx: &mut Ctxt, expr: &Expr) -> Option<MaxUses> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => match n.base10_parse::<u32>().map(NonZeroU32::new) {
            Ok(Some(uses)) => Some(MaxUses::Limited(uses)),
            Ok(None) => {
                cx.error_spanned_by(
                    n,
                    "`max_uses` must be at least 1 (or `unlimited` for no limit until expiry)",
                );
                None
            }
            Err(_) => {
                cx.error_spanned_by(n, "`max_uses` must fit in a u32");
                None
            }
        },
        Expr::Path(p) if p.path.is_ident(UNLIMITED) => Some(MaxUses::Unlimited),
        other => {
            cx.error_spanned_by(
                other,
                "expected a number of uses such as `1`, or `unlimited`",
            );
            None
        }
    }
}

/// Rules that need the route as well as the options.
pub(super) fn against_route(cx: &mut Ctxt, link: &LinkModel, target: &RouteTarget) {
    let is_post = target.method == "Post";
    if link.confirm.is_some() && !is_post {
        cx.error_spanned_by(
            &target.method,
            format!(
                "`#[{ATTRIBUTE}(confirm)]` needs a POST route: jwt-guard serves the GET \
                 confirmation page, and its button posts to this route"
            ),
        );
    }
    if let (Some(login), None) = (&link.login, &link.confirm) {
        if !is_post {
            cx.error_spanned_by(
                login,
                format!(
                    "a `#[{ATTRIBUTE}(login)]` link grants a session, so it is used by POST only, \
                     after a confirmation page (mail scanners and link previews open every GET); \
                     add `confirm` and make the route `#[post]`"
                ),
            );
        }
    }
}
