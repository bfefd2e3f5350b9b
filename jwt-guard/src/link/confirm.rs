//! Link previews that use nothing: the scanner-safe confirmation page of `confirm`
//! links (a GET checks the link and shows a button; only the button's POST uses
//! it), and the answer to a HEAD of any link route (Rocket would otherwise run the
//! GET route for it, and mail scanners and chat previews send HEADs).

use std::sync::{Arc, OnceLock};

use rocket::get;
use rocket::http::uri::Origin;
use rocket::http::{ContentType, Header, Method, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use super::{
    claimed_link_id, link_token, verify_link, AppLinkPages, LinkAttempt, LinkOutcome, LinkPage,
    LinkRoutes, RecordedAttempt, CONFIRM_PATH, LINK_TOKEN_PARAM,
};
use crate::manifest::{declare_route, Protection};
use crate::request::{RequestRef, Services};
use crate::store::{LinkId, LinkUseError};

/// The page a GET of a `confirm` link shows: the link is checked, not used.
pub(crate) struct ConfirmPage {
    status: Status,
    html: String,
    csp: Option<String>,
}

impl ConfirmPage {
    fn render(req: &Request<'_>, status: Status, page: LinkPage<'_>) -> Self {
        let pages = req
            .rocket()
            .state::<AppLinkPages>()
            .cloned()
            .unwrap_or_default();
        ConfirmPage {
            status,
            html: pages.0.render(&page),
            csp: pages.0.content_security_policy().map(str::to_owned),
        }
    }
}

impl<'r> Responder<'r, 'static> for ConfirmPage {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::build();
        res.status(self.status)
            .header(ContentType::HTML)
            .header(Header::new("Referrer-Policy", "no-referrer"))
            .header(Header::new("Cache-Control", "no-store"))
            .header(Header::new("X-Robots-Tag", "noindex, nofollow"));
        if let Some(csp) = self.csp {
            res.header(Header::new("Content-Security-Policy", csp));
        }
        // An outage page says when to come back, like every other 503.
        if self.status == Status::ServiceUnavailable {
            res.header(Header::new(
                "Retry-After",
                crate::error::RETRY_AFTER_SECS.to_string(),
            ));
        }
        res.sized_body(self.html.len(), std::io::Cursor::new(self.html))
            .ok()
    }
}

/// Where a previewed request was headed, stashed before the request is rewritten.
/// (target, path, whether it was a HEAD: Rocket answers HEAD with the GET route, so
/// the page cannot tell from the method it sees).
struct ConfirmTarget(OnceLock<(&'static str, String, bool)>);

/// Sends a GET of a `confirm` link route, and a HEAD of any link route, to the
/// preview page, which checks the link without using it. Called by the fairing on
/// every GET and HEAD.
pub(crate) fn route_link_preview(req: &mut Request<'_>) {
    let Some((target, confirm)) = req
        .rocket()
        .state::<Arc<LinkRoutes>>()
        .and_then(|routes| routes.target_at(req.uri().path().as_str()))
    else {
        return;
    };
    let previewed = match req.method() {
        Method::Head => true,
        Method::Get => confirm,
        _ => false,
    };
    if !previewed {
        return;
    }
    let path = req.uri().path().as_str().to_owned();
    let query = req.uri().query().map(|q| q.as_str().to_owned());
    let stash = req.local_cache(|| ConfirmTarget(OnceLock::new()));
    let _ = stash.0.set((target, path, req.method() == Method::Head));
    let uri = match query {
        Some(q) => format!("{CONFIRM_PATH}?{q}"),
        None => CONFIRM_PATH.to_owned(),
    };
    if let Ok(uri) = Origin::parse_owned(uri) {
        req.set_uri(uri);
    }
}

/// Percent-encodes everything but the token68 alphabet.
fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// The confirmation page uses nothing: it only shows whether the link could be used.
declare_route!(
    link_confirm,
    Get,
    "/__jwt_guard/link-confirm",
    Protection::Public
);

#[get("/__jwt_guard/link-confirm")]
pub(crate) async fn link_confirm(req: RequestRef<'_>) -> ConfirmPage {
    let req = req.0;
    let stashed = req
        .local_cache(|| ConfirmTarget(OnceLock::new()))
        .0
        .get()
        .cloned();
    let Some((target, path, head)) = stashed else {
        return ConfirmPage::render(req, Status::NotFound, LinkPage::NotFound);
    };
    let outcome = match (link_token(req), Services::of(req)) {
        (Ok(token), Ok(services)) => match verify_link(services.rt, token, target) {
            Ok((id, _)) => match services.store.check_link(LinkId(&id), target).await {
                Ok(()) => Ok((token, id)),
                Err(LinkUseError::Denied(d)) => Err((Some(d), Some(id))),
                Err(_) => Err((None, Some(id))),
            },
            Err(d) => Err((Some(d), claimed_link_id(token))),
        },
        (Err(d), _) => Err((Some(d), None)),
        _ => Err((None, None)),
    };
    match outcome {
        Ok((token, id)) => {
            RecordedAttempt::record(
                req,
                LinkAttempt {
                    target,
                    link_id: Some(id),
                    outcome: if head {
                        LinkOutcome::Head
                    } else {
                        LinkOutcome::ConfirmPage
                    },
                    use_number: None,
                    logged: None,
                },
            );
            let action = format!("{path}?{LINK_TOKEN_PARAM}={}", encode_query(token));
            ConfirmPage::render(
                req,
                Status::Ok,
                LinkPage::Confirm {
                    target,
                    action: &action,
                },
            )
        }
        Err((denial, id)) => {
            RecordedAttempt::record(
                req,
                LinkAttempt {
                    target,
                    link_id: id,
                    outcome: denial.map_or(LinkOutcome::Unavailable, LinkOutcome::Denied),
                    use_number: None,
                    logged: None,
                },
            );
            let error: crate::error::AuthError = match denial {
                Some(denial) => denial.into(),
                None => crate::error::Rejection::LinkStorageUnreachable.into(),
            };
            ConfirmPage::render(
                req,
                error.status(),
                LinkPage::Refused {
                    target,
                    status: error.status(),
                    reason: error.description(),
                },
            )
        }
    }
}
