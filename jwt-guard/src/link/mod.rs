//! Expiring links: what the attribute declares ([`LinkTarget`]), minting and
//! delivery, pages for people, and the log of every attempt. The guard and
//! [`LinkUse`](crate::LinkUse) are in `guard`, minting ([`Links`]) in
//! `mint`, the scanner-safe confirmation page in `confirm`, the log in `log`, the
//! token's way out of the URI in `token_param`.

mod confirm;
mod delivery;
pub(crate) mod guard;
mod log;
pub(crate) mod mint;
mod pages;
mod token_param;

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use rocket::http::Method;
use rocket::request::Request;

use crate::claims::{NoClaims, TokenKind};
use crate::config::MAX_TOKEN_BYTES;
use crate::private_response::mark_credential;
use crate::response_marks::{is_marked, mark, Mark};
use crate::runtime::JwtRuntime;
use crate::secret::is_opaque_id;
use crate::store::LinkDenial;
use crate::verifier::VerifyError;

pub(crate) use confirm::{link_confirm, route_link_preview};
pub use delivery::{DeliveryError, DevOutbox, LinkMailer, LinkMessage, DEV_OUTBOX_CAPACITY};
pub(crate) use log::{finish_link_response, UnverifiedLogBudget};
pub(crate) use mint::default_base_url;
pub(crate) use mint::Links;
pub use mint::{LinkError, MintOptions, SentLink};
pub(crate) use pages::AppLinkPages;
pub use pages::{DefaultLinkPages, LinkPage, LinkPages, DEFAULT_CSP};
pub(crate) use token_param::{link_token, take_link_token};

/// The query parameter that carries a link token.
pub const LINK_TOKEN_PARAM: &str = "token";
pub(crate) const CONFIRM_PATH: &str = "/__jwt_guard/link-confirm";

/// A route declared with `#[expiring_link]`, described by the macro. Implemented on
/// the route's own type (the one `routes![]` names), so links can only be minted
/// for such routes: `links.mint::<unsubscribe>(subject)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an `#[expiring_link]` route",
    label = "links can only be minted for routes declared with `#[expiring_link]`",
    note = "add `#[expiring_link(...)]` above the route attribute of `{Self}`"
)]
pub trait LinkTarget: Send + Sync + 'static {
    /// The audience links for this route carry; links for other targets are refused.
    const TARGET: &'static str;
    /// The handler's name (Rocket's route name).
    const ROUTE: &'static str;
    /// The route's method.
    const METHOD: Method;
    /// The route's static path as written.
    const PATH: &'static str;
    /// Uses allowed; 0 for unlimited until expiry.
    const MAX_USES: u32;
    /// Lifetime of a minted link, in seconds.
    const TTL_SECS: u64;
    /// Whether using the link logs the recipient in (creates a device, returns tokens).
    const LOGIN: bool;
    /// Whether a GET shows a confirmation page and only the POST uses the link.
    const CONFIRM: bool;
}

/// What happened to one request's link: the `outcome` of its log row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkOutcome {
    /// Used (counted).
    Used,
    /// A confirmation page was shown (not counted).
    ConfirmPage,
    /// A `HEAD` request looked at a link (never counted).
    Head,
    /// Refused for a reason of the link's own.
    Denied(LinkDenial),
    /// A login link whose user no longer exists.
    UserGone,
    /// A login link whose user is at the device cap.
    DeviceLimit,
    /// A login link used from a page of another site (not used).
    CrossSite,
    /// Storage (or the user store) failed; never counted.
    Unavailable,
}

impl LinkOutcome {
    /// The stored name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LinkOutcome::Used => "used",
            LinkOutcome::ConfirmPage => "confirm_page",
            LinkOutcome::Head => "head",
            LinkOutcome::Denied(denial) => denial.as_str(),
            LinkOutcome::UserGone => "user_gone",
            LinkOutcome::DeviceLimit => "device_limit",
            LinkOutcome::CrossSite => "cross_site",
            LinkOutcome::Unavailable => "unavailable",
        }
    }

    /// Whether the request carried no verified link token (anyone can send those
    /// without limit, so their log rows are budgeted).
    pub(crate) fn unverified(self) -> bool {
        matches!(
            self,
            LinkOutcome::Denied(LinkDenial::Tampered | LinkDenial::Missing | LinkDenial::WrongKind)
        )
    }
}

/// What happened to this request's link, for the response fairing's log row.
pub(crate) struct LinkAttempt {
    pub(crate) target: &'static str,
    pub(crate) link_id: Option<String>,
    pub(crate) outcome: LinkOutcome,
    pub(crate) use_number: Option<u32>,
    /// The log row already written with the use (PostgreSQL), with
    /// [`log::ASSUMED_STATUS`]: only a different answer is written after.
    pub(crate) logged: Option<String>,
}

#[derive(Default)]
pub(crate) struct RecordedAttempt(OnceLock<LinkAttempt>);

impl RecordedAttempt {
    pub(crate) fn record(req: &Request<'_>, attempt: LinkAttempt) {
        crate::observe::link_used(attempt.target, attempt.outcome.as_str());
        let _ = req.local_cache(RecordedAttempt::default).0.set(attempt);
        mark(req, Mark::LinkAttempt);
        // A link's answer (its page, its confirmation form) carries its token.
        mark_credential(req);
    }

    pub(crate) fn get<'r>(req: &'r Request<'_>) -> Option<&'r LinkAttempt> {
        if !is_marked(req, Mark::LinkAttempt) {
            return None;
        }
        req.local_cache(RecordedAttempt::default).0.get()
    }
}

/// Mounted link routes by target: path, and whether GET shows a confirmation page.
#[derive(Default)]
pub(crate) struct LinkRoutes {
    by_target: RwLock<HashMap<&'static str, (String, bool)>>,
}

impl LinkRoutes {
    pub(crate) fn path_of(&self, target: &str) -> Option<String> {
        self.by_target
            .read()
            .ok()?
            .get(target)
            .map(|(path, _)| path.clone())
    }

    /// The target mounted at `path`, and whether it is a `confirm` link route.
    pub(crate) fn target_at(&self, path: &str) -> Option<(&'static str, bool)> {
        self.by_target
            .read()
            .ok()?
            .iter()
            .find(|(_, (p, _))| p == path)
            .map(|(t, (_, confirm))| (*t, *confirm))
    }
}

/// Cuts a claimed (unverified) link id down to something safe to log.
pub(crate) fn claimed_link_id(token: &str) -> Option<String> {
    let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let jti = claims.get("jti")?.as_str()?;
    is_opaque_id(jti).then(|| jti.to_owned())
}

/// Checks a link token's signature and binding to `target` (not its row).
pub(crate) fn verify_link(
    rt: &JwtRuntime,
    token: &str,
    target: &str,
) -> Result<(String, String), LinkDenial> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(LinkDenial::Tampered);
    }
    let verifier = rt.verifier();
    match verifier.verify::<NoClaims>(token, TokenKind::Link, Some(target)) {
        Ok(t) => Ok((t.registered.jti, t.registered.sub)),
        Err(VerifyError::Expired) => Err(LinkDenial::Expired),
        Err(VerifyError::Revoked) => Err(LinkDenial::Revoked),
        Err(VerifyError::WrongKind { .. }) => Err(LinkDenial::WrongKind),
        Err(VerifyError::WrongAudience) => {
            // Genuine, but for another target, or another kind of token altogether?
            let claims: Option<serde_json::Value> =
                jsonwebtoken::dangerous::insecure_decode_claims(token).ok();
            let aud = claims
                .as_ref()
                .and_then(|c| c.get("aud"))
                .and_then(|a| a.as_str())
                .map(str::to_owned);
            match verifier.verify::<NoClaims>(token, TokenKind::Link, aud.as_deref()) {
                Ok(_) => Err(LinkDenial::WrongTarget),
                Err(VerifyError::WrongKind { .. }) => Err(LinkDenial::WrongKind),
                Err(_) => Err(LinkDenial::Tampered),
            }
        }
        Err(_) => Err(LinkDenial::Tampered),
    }
}
