//! The steps every way of signing in shares: start a session (a device and its
//! first token pair) by the one start path, rotate a refresh token, and issue a
//! device a new access token. The token routes, magic-login links,
//! [`Sessions`](crate::Sessions) and [`DeviceSession`](crate::DeviceSession) all
//! call these.

use rocket::Request;

use super::authenticator::AppAuthenticator;
use super::outcome::{DeviceAccess, LoginResponse, SessionError};
use crate::claims::{Claims, NoClaims, RegisteredClaims, TokenKind, REGISTERED_CLAIM_NAMES};
use crate::device_description::describe_device;
use crate::runtime::JwtRuntime;
use crate::secret::{random_id, TokenDigest};
use crate::signer::{decode_part, Grant, IssuedToken, Issuer, TokenPair};
use crate::store::{
    DeviceRecord, LinkConsumed, RotateError, Rotation, SessionRows, Store, Successor,
};

/// How a session is being started, and what its transaction records besides.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SessionOrigin<'a> {
    /// A login the app checked (a password, or its own way): clear the account's
    /// attempt counter, audit the login.
    Login {
        /// The attempt counter to clear.
        attempts: &'a str,
        /// The audit detail.
        audit: &'a str,
        /// How the user authenticated (`amr`, RFC 8176), e.g. `["pwd"]`.
        amr: &'a [String],
        /// The authentication context class (`acr`), if the app names one.
        acr: Option<&'a str>,
        /// The login method counted in metrics (`password`, or the app's name).
        method: &'a str,
        /// When the user authenticated, when that was before this request (a
        /// login that rests on another token); `None`: now.
        authenticated_at: Option<u64>,
        /// The outside login the session rests on — issuer (`iss`), its `sub`,
        /// its login session (`sid`) — for a logout signal from it to find.
        upstream: Option<(&'a str, &'a str, Option<&'a str>)>,
    },
    /// A login link: use it (link id, target) in the same transaction.
    Link(&'a str, &'a str),
}

/// The login a session's tokens descend from: when it happened (`auth_time`, and
/// the start of the refresh window), its class and methods, and the DPoP key the
/// session is bound to. Every token a session issues gets its claims from here.
#[derive(Clone, Copy)]
struct SessionLogin<'a> {
    at: u64,
    acr: Option<&'a str>,
    amr: &'a [String],
    dpop_jkt: Option<&'a str>,
}

impl<'a> SessionLogin<'a> {
    /// The login a token of the session descends from (a refresh is no new
    /// authentication, RFC 9470: its time, class and methods travel on).
    fn of(token: &'a RegisteredClaims) -> Self {
        Self {
            at: token.orig_iat.unwrap_or(token.iat),
            acr: token.acr.as_deref(),
            amr: token.amr.as_deref().unwrap_or_default(),
            dpop_jkt: token.dpop_jkt(),
        }
    }

    /// The grant of `subject`'s tokens on `device_id`: the one place a session's
    /// tokens get their claims.
    fn grant(self, subject: &'a str, device_id: Option<&'a str>) -> Grant<'a> {
        Grant {
            subject,
            device_id,
            orig_iat: self.at,
            acr: self.acr,
            amr: self.amr,
            dpop_jkt: self.dpop_jkt,
        }
    }
}

/// A new authentication on a session that goes on (RFC 9470 step-up): the
/// session's next tokens carry its time, class and methods, on the same device.
#[derive(Clone, Copy)]
pub(crate) struct StepUp<'a> {
    /// When the user authenticated.
    pub(crate) at: u64,
    /// Its class (`acr`).
    pub(crate) acr: &'a str,
    /// Its methods (`amr`).
    pub(crate) amr: &'a [String],
}

/// Opens a session: a device for `subject` (described from the request) and its
/// first token pair. Signing comes first; then one transaction uses the link (if
/// any), creates the device and records the tokens, so an outage leaves nothing
/// half-written. Every login reaches it through the one start path,
/// [`login::start`](crate::login).
pub(crate) async fn open_session(
    req: &Request<'_>,
    rt: &JwtRuntime,
    store: &Store,
    subject: &str,
    claims: &serde_json::Value,
    origin: SessionOrigin<'_>,
) -> Result<(LoginResponse, Option<LinkConsumed>), SessionError> {
    // A proof sent with the sign-in binds the new device to its key (RFC 9449
    // §5), whichever way the session starts.
    let dpop_jkt = crate::dpop::bind_sign_in(req).await?;
    let issuer = rt.issuer();
    let now = issuer.clock().now();
    let device_id = random_id();
    // A login link is a one-time secret sent out of band: `otp` (RFC 8176 §2).
    let link_amr = ["otp".to_owned()];
    let (amr, acr, at) = match origin {
        SessionOrigin::Login {
            amr,
            acr,
            authenticated_at,
            ..
        } => (amr, acr, authenticated_at.unwrap_or(now)),
        SessionOrigin::Link(..) => (&link_amr[..], None, now),
    };
    let login = SessionLogin {
        at,
        acr,
        amr,
        dpop_jkt: dpop_jkt.as_deref(),
    };
    let (access, refresh) = issuer.pair(&login.grant(subject, Some(&device_id)), claims)?;
    let rows = SessionRows {
        device_id: device_id.clone(),
        tokens: vec![
            (&refresh.claims, None),
            (&access.claims, Some(refresh.claims.jti.as_str())),
        ],
        link: match origin {
            SessionOrigin::Link(id, target) => Some((id, target)),
            SessionOrigin::Login { .. } => None,
        },
        clear_attempts: match origin {
            SessionOrigin::Login { attempts, .. } => Some(attempts),
            SessionOrigin::Link(..) => None,
        },
        audit_login: match origin {
            SessionOrigin::Login { audit, .. } => Some(audit),
            SessionOrigin::Link(..) => None,
        },
        dpop_jkt: dpop_jkt.as_deref(),
        login_method: Some(match origin {
            SessionOrigin::Login { method, .. } => method,
            SessionOrigin::Link(..) => "link",
        }),
    };
    // Before the device: no session exists that a logout signal could miss.
    if let SessionOrigin::Login {
        upstream: Some((issuer, upstream_subject, sid)),
        ..
    } = origin
    {
        store
            .link_upstream(&device_id, issuer, upstream_subject, sid)
            .await?;
    }
    let (device, permanent, consumed) = store
        .open_session(describe_device(req, subject), login.at, rows)
        .await?;
    let login = LoginResponse {
        tokens: issuer.pair_body(&access, &refresh),
        device_id: device.id,
        permanent_token: Some(permanent.expose().to_owned()),
        device_cookie: None,
    };
    Ok((login, consumed))
}

/// Verifies a refresh token (signature, kind, times, revocation): the first step
/// of [`refresh_session`], apart so a caller can budget by the token's device.
pub(crate) fn verify_refresh(
    rt: &JwtRuntime,
    refresh_token: &str,
) -> Result<RegisteredClaims, SessionError> {
    Ok(rt
        .verifier()
        .verify::<NoClaims>(refresh_token, TokenKind::Refresh, None)?
        .registered)
}

/// Trades a verified refresh token ([`verify_refresh`]) for a new pair: checks the
/// refresh window since login, reloads the user's claims, and rotates it (a second
/// use is reuse, and revokes the device).
pub(crate) async fn refresh_session(
    req: &Request<'_>,
    rt: &JwtRuntime,
    store: &Store,
    authenticator: &AppAuthenticator,
    old: RegisteredClaims,
    step_up: Option<StepUp<'_>>,
) -> Result<TokenPair, SessionError> {
    let mut login = SessionLogin::of(&old);
    // A step-up is an authentication: from now on the session's tokens carry its
    // time, class and methods (and its refresh window runs from it).
    if let Some(step_up) = step_up {
        login.at = step_up.at;
        login.acr = Some(step_up.acr);
        login.amr = step_up.amr;
    }
    let orig_iat = login.at;
    let window = rt.config().refresh_window.as_secs();
    if rt.verifier().clock().now() > orig_iat.saturating_add(window) {
        return Err(SessionError::WindowPassed);
    }
    // Nothing is written before this answer: when the user store cannot answer,
    // the refresh token stays as it was, to be presented again once it is back.
    // A bound refresh token is used only with a proof by its key (RFC 9449 §5.2),
    // checked before anything is written: a stolen copy cannot even burn it.
    let whose = crate::dpop::Whose {
        subject: &old.sub,
        device_id: old.did.as_deref(),
    };
    crate::dpop::continue_session(req, login.dpop_jkt, whose).await?;
    let claims = authenticator
        .0
        .claims_for(req, &old.sub)
        .await?
        .ok_or(SessionError::UserGone)?;
    // The login's time, class, methods and key travel with the session.
    let grant = login.grant(&old.sub, old.did.as_deref());
    let issuer = rt.issuer();
    let (access, refresh) = issuer.pair(&grant, &claims)?;
    let rotation = store
        .rotate_refresh(&old, successor(&refresh), successor(&access))
        .await;
    match &rotation {
        Ok(Rotation::Rotated) => crate::observe::refreshed("rotated"),
        Ok(Rotation::Retry { .. }) => crate::observe::refreshed("grace"),
        Err(RotateError::Reused) => crate::observe::refreshed("reuse"),
        Err(RotateError::Invalid) => crate::observe::refreshed("refused"),
        Err(_) => {}
    }
    match rotation? {
        Rotation::Rotated => Ok(issuer.pair_body(&access, &refresh)),
        Rotation::Retry {
            refresh,
            access,
            ids: (refresh_id, access_id),
        } => {
            // The retry gets the successor it was given before — the same `jti`
            // and `iat` — and nothing else of what the store kept is signed: the
            // header and every other claim are rebuilt from this rotation, and a
            // stored payload that says anything else is refused. Database write
            // access must not become the power to mint tokens.
            let retry = Retry {
                issuer,
                grant: &grant,
                now: rt.verifier().clock().now(),
                grace: rt.config().refresh_reuse_grace.as_secs(),
            };
            let access = retry.rebuild(
                &access,
                (TokenKind::Access, &access_id),
                issuer.access_ttl(),
                &claims,
            )?;
            let no_claims = serde_json::Value::Object(serde_json::Map::new());
            let refresh = retry.rebuild(
                &refresh,
                (TokenKind::Refresh, &refresh_id),
                issuer.refresh_ttl(),
                &no_claims,
            )?;
            Ok(issuer.pair_body(&access, &refresh))
        }
    }
}

/// What a retry within the reuse grace signs again: the successor the rotation
/// recorded, rebuilt from the rotation's own grant.
struct Retry<'a> {
    issuer: &'a Issuer,
    grant: &'a Grant<'a>,
    now: u64,
    grace: u64,
}

impl Retry<'_> {
    /// The successor stored as `stored` (its signing input) and recorded as the
    /// `kind` token `id`, rebuilt: `iat` read from it, the header, every other
    /// registered claim and the app's `claims` from now. Refused (`NotCurrent`)
    /// unless the stored header and payload are exactly what the rebuild says,
    /// under the recorded id, issued within the grace.
    fn rebuild(
        &self,
        stored: &str,
        (kind, id): (TokenKind, &str),
        ttl: u64,
        claims: &serde_json::Value,
    ) -> Result<IssuedToken, SessionError> {
        let (header, payload) = stored.split_once('.').ok_or(SessionError::NotCurrent)?;
        let mut written = decode_part::<serde_json::Map<String, serde_json::Value>>(payload)
            .ok_or(SessionError::NotCurrent)?;
        let registered: RegisteredClaims =
            serde_json::from_value(serde_json::Value::Object(written.clone()))
                .map_err(|_| SessionError::NotCurrent)?;
        written.retain(|name, _| !REGISTERED_CLAIM_NAMES.contains(&name.as_str()));
        let within_grace = registered.iat <= self.now && self.now - registered.iat <= self.grace;
        if !within_grace || registered.jti != id {
            return Err(SessionError::NotCurrent);
        }
        let rebuilt = self.issuer.reissued(
            kind,
            self.grant,
            ttl,
            registered.jti.clone(),
            registered.iat,
        );
        let same_claims = claims
            .as_object()
            .is_some_and(|current| *current == written);
        let same_header =
            decode_part::<jsonwebtoken::Header>(header) == Some(self.issuer.header_for(kind));
        if rebuilt != registered || !same_claims || !same_header {
            return Err(SessionError::NotCurrent);
        }
        Ok(self.issuer.sign(rebuilt, claims)?)
    }
}

/// What the store keeps of a freshly signed successor.
fn successor(token: &IssuedToken) -> Successor<'_> {
    Successor {
        claims: &token.claims,
        signing_input: token.signing_input(),
    }
}

/// Signs an access token for `device` carrying `claims` and rotates the device's
/// permanent token `presented`: what a `#[permanent_refresh]` route does.
pub(crate) async fn issue_device_access<C: Claims>(
    issuer: &Issuer,
    store: &Store,
    device: &DeviceRecord,
    presented: &TokenDigest,
    dpop_jkt: Option<&str>,
    claims: &C,
) -> Result<DeviceAccess, SessionError> {
    let login = SessionLogin {
        at: device.orig_iat,
        acr: None,
        amr: &[],
        dpop_jkt,
    };
    let access = issuer.access(&login.grant(&device.subject, Some(&device.id)), claims)?;
    let (permanent_token, device_expires_at) = store
        .rotate_permanent(device, presented, &access.claims)
        .await?;
    Ok(DeviceAccess {
        tokens: issuer.access_body(&access),
        device_id: device.id.clone(),
        permanent_token: Some(permanent_token.expose().to_owned()),
        device_expires_at,
        via_cookie: false,
    })
}
