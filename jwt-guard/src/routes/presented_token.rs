//! What the RFC 7009 and RFC 7662 endpoints are asked about: a form with `token`
//! and an optional `token_type_hint`, and which of this app's tokens it is.

use rocket::data::{Data, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::Request;
use serde_json::Value;

use crate::claims::{RegisteredClaims, Token, TokenKind};
use crate::config::MAX_TOKEN_BYTES;
use crate::error::{AuthError, Rejection};
use crate::runtime::JwtRuntime;
use crate::secret::PermanentToken;
use crate::store::{DeviceRecord, Store};

/// The form both endpoints read (RFC 7009 §2.1, RFC 7662 §2.1).
#[derive(FromForm, schemars::JsonSchema)]
pub(crate) struct TokenForm {
    /// The token asked about (required).
    #[schemars(required, length(min = 1))]
    pub(crate) token: Option<String>,
    /// `access_token` or `refresh_token`: where to look first (a hint only).
    pub(crate) token_type_hint: Option<String>,
}

/// Longest form read: a token of the largest size with room for the hint.
const MAX_FORM_BYTES: usize = MAX_TOKEN_BYTES + 1024;

/// Reads the `application/x-www-form-urlencoded` body (RFC 7009 §2.1, RFC 7662
/// §2.1): `415` for another type, `413` past the size, `400` without `token`.
pub(crate) async fn read_form(
    req: &Request<'_>,
    data: Data<'_>,
) -> Result<(String, Option<String>), AuthError> {
    if !req.content_type().is_some_and(|ct| ct.is_form()) {
        return Err(Rejection::NotAForm.into());
    }
    let body = data
        .open(MAX_FORM_BYTES.bytes())
        .into_string()
        .await
        .map_err(|_| Rejection::FormUnreadable)?;
    if !body.is_complete() {
        return Err(Rejection::FormTooLarge.into());
    }
    let form = Form::<TokenForm>::parse(&body).map_err(|_| Rejection::FormMalformed)?;
    match form.token {
        Some(token) if !token.is_empty() => Ok((token, form.token_type_hint)),
        _ => Err(Rejection::TokenParameterMissing.into()),
    }
}

/// Which of this app's tokens was presented, checked as fully as a request
/// presenting it would be; anything else is `Inactive`.
pub(crate) enum Presented {
    /// A valid access token.
    Access(Token<Value>),
    /// A refresh token that is its device's current one.
    Refresh(RegisteredClaims),
    /// A device's current permanent token.
    Permanent(DeviceRecord),
    /// Expired, revoked, spent, unknown, foreign or malformed.
    Inactive,
}

/// Classifies `token`, looking first where `hint` says (RFC 7009 §2.1: a hint that
/// does not find it extends the search to every type). Only a storage fault is an
/// error (a `503`); a revocation set gone stale is one too, so that nothing is
/// called active from an outdated list.
pub(crate) async fn classify(
    rt: &JwtRuntime,
    store: &Store,
    token: &str,
    hint: Option<&str>,
) -> Result<Presented, AuthError> {
    rt.fresh_revocations()?;
    if let Some(permanent) = PermanentToken::parse(token) {
        return Ok(match store.device_holding_permanent(&permanent).await? {
            Some(device) => Presented::Permanent(device),
            None => Presented::Inactive,
        });
    }
    // A token has one kind: the hint only orders two checks.
    let order = if hint == Some("refresh_token") {
        [TokenKind::Refresh, TokenKind::Access]
    } else {
        [TokenKind::Access, TokenKind::Refresh]
    };
    for kind in order {
        let Ok(found) = rt.verifier().verify::<Value>(token, kind, None) else {
            continue;
        };
        if kind == TokenKind::Access {
            return Ok(Presented::Access(found));
        }
        return Ok(if store.refresh_is_current(&found.registered.jti).await? {
            Presented::Refresh(found.registered)
        } else {
            Presented::Inactive
        });
    }
    Ok(Presented::Inactive)
}
