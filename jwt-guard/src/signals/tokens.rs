//! Checking the two kinds of signed signal: a logout token (OpenID Connect
//! Back-Channel Logout 1.0 §2.4, validated as §2.6 says) and a Security Event
//! Token (RFC 8417 §2, as SSF 1.0 §4 profiles it).

use jsonwebtoken::Validation;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::refusal::SignalRefusal;
use super::subject::SubjectId;
use crate::config::MAX_TOKEN_BYTES;
use crate::trusted_issuers::OutsideIssuer;

/// The event a logout token carries (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The claims both kinds share, each checked by [`decode`].
#[derive(Deserialize)]
struct Signed {
    iat: Option<u64>,
    jti: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    events: Option<Map<String, Value>>,
    nonce: Option<Value>,
    /// SSF 1.0 §4.1.1: the subject of a SET, beside its events.
    sub_id: Option<Value>,
    /// RFC 8417 §2.2: the transaction a SET belongs to.
    txn: Option<String>,
}

/// What a signal is checked against: its issuer (`iss`), this app as its
/// audience (`aud`: the client id for logout tokens, the stream audience for
/// events), how old it may be by `iat`, the issuer's leeway, and now.
pub(crate) struct Expected<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
    pub(crate) max_age: u64,
    pub(crate) leeway: u64,
    pub(crate) now: u64,
}

fn type_matches(accepted: &str, typ: &str) -> bool {
    // RFC 7515 §4.1.9: `application/` may be left off.
    let bare = if typ.len() > 12 && typ[..12].eq_ignore_ascii_case("application/") {
        &typ[12..]
    } else {
        typ
    };
    bare.eq_ignore_ascii_case(accepted)
}

/// What every signal must pass, in the order the checks cost: size, not
/// encrypted, a header with one of `types` and no `crit`, the claimed `iss`
/// (before any key is looked for), the signature by the issuer's key, `aud`,
/// `exp` when present, then `iat` — present, not in the future, not older than
/// `max_age` — and `jti` present.
async fn decode(
    keys: &OutsideIssuer,
    token: &str,
    types: &[&str],
    expected: &Expected<'_>,
) -> Result<(Signed, u64, String), SignalRefusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(SignalRefusal::TooLarge);
    }
    // A JWE has five parts; only signed tokens are read.
    if token.split('.').count() == 5 {
        return Err(SignalRefusal::Encrypted);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| SignalRefusal::Malformed)?;
    if header.crit.is_some() {
        return Err(SignalRefusal::Malformed);
    }
    let typ_ok = header
        .typ
        .as_deref()
        .is_some_and(|typ| types.iter().any(|t| type_matches(t, typ)));
    if !typ_ok {
        return Err(SignalRefusal::WrongType);
    }
    #[derive(Deserialize)]
    struct ClaimedIssuer {
        iss: Option<String>,
    }
    let claimed: ClaimedIssuer = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| SignalRefusal::Malformed)?;
    if claimed.iss.as_deref() != Some(expected.issuer) {
        return Err(SignalRefusal::WrongIssuer);
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.audience]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.leeway = expected.leeway;
    validation.validate_nbf = true;
    let claims: Signed = keys
        .decode_signed(token, &header, validation)
        .await
        .map_err(|e| SignalRefusal::of(&e))?;
    let iat = claims.iat.ok_or(SignalRefusal::MissingIat)?;
    if iat > expected.now.saturating_add(expected.leeway) {
        return Err(SignalRefusal::IssuedInFuture);
    }
    let oldest = iat
        .saturating_add(expected.max_age)
        .saturating_add(expected.leeway);
    if expected.now > oldest {
        return Err(SignalRefusal::Stale);
    }
    let jti = claims
        .jti
        .clone()
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(SignalRefusal::MissingJti)?;
    Ok((claims, iat, jti))
}

/// A logout token that passed every check of §2.6.
#[derive(Debug)]
pub(crate) struct LogoutToken {
    pub(crate) jti: String,
    pub(crate) iat: u64,
    pub(crate) sub: Option<String>,
    pub(crate) sid: Option<String>,
}

/// Back-Channel Logout 1.0 §2.6: steps 2–6 (the signature by the issuer's keys;
/// `iss`, `aud`, `iat` as for an ID token, with a maximum age even without `exp`;
/// `sub` or `sid`; the `events` member; no `nonce`), step 1 (an encrypted token is
/// refused: none is configured), and the `typ` of §2.4 — `logout+jwt`, or `JWT`,
/// which some providers send. Step 7, the `jti` seen once, is the store's
/// (across instances).
pub(crate) async fn verify_logout_token(
    keys: &OutsideIssuer,
    token: &str,
    expected: &Expected<'_>,
) -> Result<LogoutToken, SignalRefusal> {
    let (claims, iat, jti) = decode(keys, token, &["logout+jwt", "JWT"], expected).await?;
    // §2.6 step 5 (§2.4: the member's value is a JSON object).
    let event = claims
        .events
        .as_ref()
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(SignalRefusal::MissingEvents);
    }
    // Step 6.
    if claims.nonce.is_some() {
        return Err(SignalRefusal::NonceForbidden);
    }
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty() && s.len() <= 1024);
    let (sub, sid) = (nonempty(claims.sub), nonempty(claims.sid));
    // Step 4.
    if sub.is_none() && sid.is_none() {
        return Err(SignalRefusal::MissingSubject);
    }
    Ok(LogoutToken { jti, iat, sub, sid })
}

/// A Security Event Token that passed RFC 8417's checks.
#[derive(Debug)]
pub(crate) struct SecurityEvent {
    pub(crate) jti: String,
    pub(crate) iat: u64,
    /// The subject (`sub_id`, SSF 1.0 §4.1.1), when given beside the events.
    pub(crate) subject: Option<Value>,
    /// Each event type with its payload.
    pub(crate) events: Map<String, Value>,
    pub(crate) txn: Option<String>,
}

/// RFC 8417 §2 as SSF 1.0 §4 profiles it: `typ` `secevent+jwt` (§2.3), signed by
/// the transmitter, `iss`, `aud`, `iat` in its window, `jti`, and an `events`
/// object of at least one event whose payload is an object (§2.2). No `sub`
/// claim decides anything: SSF puts the subject in `sub_id`.
pub(crate) async fn verify_security_event(
    keys: &OutsideIssuer,
    token: &str,
    expected: &Expected<'_>,
) -> Result<SecurityEvent, SignalRefusal> {
    let (claims, iat, jti) = decode(keys, token, &["secevent+jwt"], expected).await?;
    let events = claims.events.unwrap_or_default();
    if events.is_empty() || !events.values().all(Value::is_object) {
        return Err(SignalRefusal::MissingEvents);
    }
    if claims
        .sub_id
        .as_ref()
        .is_some_and(|s| SubjectId::parse(s).is_none())
    {
        return Err(SignalRefusal::Malformed);
    }
    Ok(SecurityEvent {
        jti,
        iat,
        subject: claims.sub_id,
        events,
        txn: claims.txn,
    })
}
