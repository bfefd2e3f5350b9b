//! Revocation from outside, received: `POST /signals/backchannel-logout/<issuer>`
//! (OpenID Connect Back-Channel Logout 1.0) and `POST /signals/ssf/<issuer>`
//! (Security Event Tokens pushed as RFC 8935 says). Mounted when a trusted issuer
//! configures `backchannel_logout` or `ssf`.

use rocket::data::{Data, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{Header, Status};
use rocket::response::{self, Responder};
use rocket::{post, routes, Request, Route, State};

use crate::config::MAX_TOKEN_BYTES;
use crate::error::{AuthError, Rejection};
use crate::guard::bearer_token;
use crate::manifest::{declare_route, Protection};
use crate::private_response::mark_credential;
use crate::request::Services;
use crate::secret::{SecretText, TokenDigest};
use crate::signals::{
    self, Applied, LocalSubjects, LogoutRefused, NotApplied, PushRefused, SignalRefusal,
};
use crate::trusted_issuers::TrustedIssuers;

/// Longest body read: a token of the largest size, with room for the form.
const MAX_BODY_BYTES: usize = MAX_TOKEN_BYTES + 1024;

/// The logout form (Back-Channel Logout 1.0 §2.5).
#[derive(FromForm, schemars::JsonSchema)]
pub(crate) struct LogoutForm {
    /// The logout token (a signed JWT).
    #[schemars(required, length(min = 1))]
    pub(crate) logout_token: Option<String>,
}

/// What a signal route answers.
pub(crate) enum SignalAnswer {
    /// §2.8: `200`, `Cache-Control: no-store`.
    LoggedOut,
    /// RFC 8935 §2.2: `202 Accepted`.
    Accepted,
    LogoutRefused(SignalRefusal),
    PushRefused(SignalRefusal),
    /// `404` (no such issuer, or not configured for this), `503` with
    /// `Retry-After`.
    Failed(AuthError),
}

impl<'r> Responder<'r, 'static> for SignalAnswer {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self {
            SignalAnswer::LoggedOut => {
                let mut res = rocket::Response::build().status(Status::Ok).finalize();
                res.set_header(Header::new("Cache-Control", "no-store"));
                Ok(res)
            }
            SignalAnswer::Accepted => Ok(rocket::Response::build()
                .status(Status::Accepted)
                .finalize()),
            SignalAnswer::LogoutRefused(r) => LogoutRefused(r).respond_to(req),
            SignalAnswer::PushRefused(r) => PushRefused(r).respond_to(req),
            SignalAnswer::Failed(e) => e.respond_to(req),
        }
    }
}

/// Reads the body, up to [`MAX_BODY_BYTES`]: refused past it, or when it is not
/// text.
async fn read_body(data: Data<'_>) -> Result<String, SignalRefusal> {
    let body = data
        .open(MAX_BODY_BYTES.bytes())
        .into_string()
        .await
        .map_err(|_| SignalRefusal::Malformed)?;
    if !body.is_complete() {
        return Err(SignalRefusal::TooLarge);
    }
    Ok(body.into_inner())
}

fn answer(applied: Result<Applied, NotApplied>, ok: SignalAnswer, push: bool) -> SignalAnswer {
    match applied {
        Ok(_) => ok,
        Err(NotApplied::Refused(r)) if push => SignalAnswer::PushRefused(r),
        Err(NotApplied::Refused(r)) => SignalAnswer::LogoutRefused(r),
        Err(NotApplied::Unavailable(e)) => SignalAnswer::Failed(e),
    }
}

fn not_configured() -> SignalAnswer {
    SignalAnswer::Failed(Rejection::NoSignalReceiver.into())
}

/// OpenID Connect Back-Channel Logout 1.0 §2.5: the issuer `POST`s a logout
/// token as a form; §2.6 says how it is checked (see `signals`), §2.7 what is
/// ended, §2.8 what is answered: `200` with `Cache-Control: no-store`, or `400`
/// with an error for a token that is invalid (nothing ends). `503` with
/// `Retry-After` when storage is down: nothing is half written, and the
/// issuer's retry finds the token new.
#[post("/signals/backchannel-logout/<issuer>", data = "<data>")]
async fn backchannel_logout(
    issuer: &str,
    data: Data<'_>,
    services: Services<'_>,
    trusted: &State<TrustedIssuers>,
) -> SignalAnswer {
    let Services { req, rt, store, .. } = services;
    mark_credential(req);
    let Some(outside) = trusted
        .get(issuer)
        .filter(|i| i.config().backchannel_logout.is_some())
    else {
        return not_configured();
    };
    if !req.content_type().is_some_and(|ct| ct.is_form()) {
        return SignalAnswer::LogoutRefused(SignalRefusal::NoToken);
    }
    let body = match read_body(data).await {
        Ok(body) => body,
        Err(refusal) => return SignalAnswer::LogoutRefused(refusal),
    };
    let token = Form::<LogoutForm>::parse(&body)
        .ok()
        .and_then(|f| f.logout_token)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return SignalAnswer::LogoutRefused(SignalRefusal::NoToken);
    };
    let now = rt.issuer().clock().now();
    let applied = signals::receive_logout_token(outside, store, &token, now).await;
    answer(applied, SignalAnswer::LoggedOut, false)
}

/// The transmitter's bearer credential (RFC 8935 §2: the push is authenticated
/// as the receiver's configuration says — here `Authorization: Bearer`, read as
/// the metrics token is and compared by digest in constant time).
fn authenticated(req: &Request<'_>, expected: &SecretText) -> bool {
    let prefixes = ["Bearer".to_owned()];
    match bearer_token(req, &prefixes) {
        Ok(Some(token)) => TokenDigest::of(token.as_bytes())
            .matches(&TokenDigest::of(expected.expose().as_bytes())),
        _ => false,
    }
}

/// RFC 8935 §2: the transmitter `POST`s one Security Event Token
/// (`application/secevent+jwt`); §2.2: `202 Accepted` once it is checked and
/// applied; §2.3: `400` with `err` (§2.4) and `description` for one that is not
/// (nothing ends). A push without the transmitter's credential is `401`
/// (`authentication_failed`). `503` with `Retry-After` when storage or the
/// transmitter's keys are out of reach: the transmitter retries, nothing is
/// lost.
#[post("/signals/ssf/<issuer>", data = "<data>")]
async fn ssf_push(
    issuer: &str,
    data: Data<'_>,
    services: Services<'_>,
    trusted: &State<TrustedIssuers>,
    subjects: &State<LocalSubjects>,
) -> SignalAnswer {
    let Services { req, rt, store, .. } = services;
    mark_credential(req);
    let configured = trusted.get(issuer).and_then(|i| {
        let token = i.config().ssf.as_ref()?.push_token.as_ref()?;
        Some((i, token))
    });
    let (Some((outside, push_token)), Some(keys)) = (configured, trusted.event_keys(issuer)) else {
        return not_configured();
    };
    if !authenticated(req, push_token) {
        return SignalAnswer::PushRefused(SignalRefusal::NotAuthenticated);
    }
    let is_set = req.content_type().is_some_and(|ct| {
        ct.top() == "application" && ct.sub().as_str().eq_ignore_ascii_case("secevent+jwt")
    });
    if !is_set {
        return SignalAnswer::PushRefused(SignalRefusal::NoToken);
    }
    let token = match read_body(data).await {
        Ok(body) => body.trim().to_owned(),
        Err(refusal) => return SignalAnswer::PushRefused(refusal),
    };
    if token.is_empty() {
        return SignalAnswer::PushRefused(SignalRefusal::NoToken);
    }
    let now = rt.issuer().clock().now();
    let applied =
        signals::receive_security_event(outside, keys, store, subjects, &token, now, "ssf_push")
            .await;
    answer(applied, SignalAnswer::Accepted, true)
}

declare_route!(
    backchannel_logout,
    Post,
    "/signals/backchannel-logout/<issuer>",
    Protection::Public
);
declare_route!(ssf_push, Post, "/signals/ssf/<issuer>", Protection::Public);

/// `POST /signals/backchannel-logout/<issuer>` and `POST /signals/ssf/<issuer>`.
pub fn signal_routes() -> Vec<Route> {
    routes![backchannel_logout, ssf_push]
}
