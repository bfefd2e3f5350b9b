//! Known devices, after OWASP's device-cookie scheme ("Slow Down Online Guessing
//! Attacks with Device Cookies"): a client that once logged in to an account holds
//! a signed credential for it, and its logins spend a failure budget of their own.
//! Guessing from anywhere else locks out unknown clients only — never the owner.
//!
//! The credential is a JWT of kind [`TokenKind::Device`], signed with the app's
//! signing key (so every instance accepts it, and a key rotation retires it like
//! any token): `sub` is the digest of the account key the app resolved
//! (`Authenticator::account_key`; the name itself is not written into it), `jti` a
//! random id that names the device's own budget.

use rocket::Request;

use crate::claims::{NoClaims, RegisteredClaims, TokenKind};
use crate::cookies;
use crate::runtime::JwtRuntime;
use crate::secret::{random_id, TokenDigest};
use crate::signer::IssueError;

/// The header API clients send their credential back in.
pub(crate) const HEADER: &str = "Device-Cookie";

/// An account key as jwt-guard writes it down (the credential's `sub`, the audit
/// log's `username_sha256`): its digest, of the key exactly as the app resolved
/// it.
pub(crate) fn account_digest(account: &str) -> String {
    TokenDigest::of(account.as_bytes()).as_str().to_owned()
}

/// A new credential binding this client to `account`.
pub(crate) fn issue(rt: &JwtRuntime, account: &str) -> Result<String, IssueError> {
    let issuer = rt.issuer();
    let now = issuer.clock().now();
    let ttl = rt.config().login_throttle.known_device_ttl.as_secs();
    let registered = RegisteredClaims {
        typ: TokenKind::Device,
        sub: account_digest(account),
        exp: now.saturating_add(ttl),
        iat: now,
        nbf: Some(now),
        jti: random_id(),
        did: None,
        orig_iat: None,
        iss: rt.config().issuer.clone(),
        aud: rt.config().audience.clone(),
        auth_time: None,
        acr: None,
        amr: None,
        cnf: None,
    };
    Ok(issuer.sign(registered, &NoClaims {})?.token)
}

/// The id of the known device this login comes from, if it presents a valid
/// credential for `account` (its `Device-Cookie` header, else its cookie). Anything
/// else — no credential, another account's, a tampered, expired or foreign one — is
/// an unknown client, not an error: the login goes on under the account's budget.
pub(crate) fn presented(req: &Request<'_>, rt: &JwtRuntime, account: &str) -> Option<String> {
    let text = req
        .headers()
        .get_one(HEADER)
        .or_else(|| cookies::known_device_from_cookie(req))?;
    let token = rt
        .verifier()
        .verify::<NoClaims>(text.trim(), TokenKind::Device, None)
        .ok()?;
    (token.registered.sub == account_digest(account)).then_some(token.registered.jti)
}

/// How long a credential lasts, for its cookie.
pub(crate) fn ttl(rt: &JwtRuntime) -> u64 {
    rt.config().login_throttle.known_device_ttl.as_secs()
}
