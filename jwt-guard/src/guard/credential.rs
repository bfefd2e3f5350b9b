//! The credential a request presents — `Authorization` with a bearer scheme or
//! `DPoP` (RFC 6750 §2.1, RFC 9449 §7.1), else the access cookie — read once per
//! request into a request-local [`Credential`] that the span, the verification,
//! the DPoP binding check and the refusal all use. A second parse of the same
//! header is a bug waiting for the two to disagree.

use std::sync::OnceLock;

use rocket::request::Request;

use jwt_guard_grammar::is_token68;

use crate::config::MAX_TOKEN_BYTES;
use crate::cookies;
use crate::dpop::{Scheme, DPOP_SCHEME};
use crate::error::Rejection;
use crate::header_scan;
use crate::runtime::JwtRuntime;

/// Token schemes clients of other JWT libraries send; one that is not configured
/// gets a hint in the `401` (djangorestframework-jwt's `JWT`, knox's `Token`).
const KNOWN_SCHEMES: [&str; 3] = ["JWT", "Bearer", "Token"];

/// A token as the request presented it.
pub(crate) struct Presented<'a> {
    /// How it came: a bearer scheme, `DPoP`, or the access cookie.
    pub(crate) scheme: Scheme,
    /// Its text, at most [`MAX_TOKEN_BYTES`].
    pub(crate) token: &'a str,
}

/// What the request's `Authorization` header holds for this app.
struct FromHeader {
    /// The token of one of our schemes; `None` for no header or another scheme.
    found: Result<Option<(Scheme, Box<str>)>, Rejection>,
    /// An `Authorization` header came, whatever its scheme.
    sent: bool,
    /// A well-known token scheme that is not configured here (for the hint).
    unaccepted: Option<&'static str>,
}

/// The request's credential, read once: the `Authorization` header at the first
/// guard that asks, the access cookie only when a route that takes it finds no
/// header (an outside issuer's route never reads the cookie).
pub(crate) struct Credential {
    header: FromHeader,
    cookie: OnceLock<Result<Option<Box<str>>, Rejection>>,
}

impl Credential {
    /// The credential of `req`, read on the first call of the request.
    pub(crate) fn of<'r>(req: &'r Request<'_>, rt: &JwtRuntime) -> &'r Credential {
        req.local_cache(|| Credential {
            header: read_header(req, rt),
            cookie: OnceLock::new(),
        })
    }

    /// The token in `Authorization` (any of our schemes); `Ok(None)` without one.
    /// The token68 check is the caller's ([`check_token68`]): a token verified
    /// before was token68 then.
    pub(crate) fn in_header(&self) -> Result<Option<Presented<'_>>, Rejection> {
        match &self.header.found {
            Ok(Some((scheme, token))) => Ok(Some(Presented {
                scheme: *scheme,
                token,
            })),
            Ok(None) => Ok(None),
            Err(e) => Err(e.clone()),
        }
    }

    /// The app's own access token: `Authorization`, else the access cookie
    /// (cookie mode; the cookie's CSRF rule applies to unsafe methods).
    pub(crate) fn own<'c>(&'c self, req: &Request<'_>) -> Result<Option<Presented<'c>>, Rejection> {
        if let Some(found) = self.in_header()? {
            return Ok(Some(found));
        }
        let cookie = self
            .cookie
            .get_or_init(|| cookies::access_from_cookie(req).map(|token| token.map(Box::from)));
        match cookie {
            Ok(Some(token)) => Ok(Some(Presented {
                scheme: Scheme::Cookie,
                token,
            })),
            Ok(None) => Ok(None),
            Err(e) => Err(e.clone()),
        }
    }

    /// The token a check read with `scheme`, as the request presented it.
    pub(crate) fn presented(&self, req: &Request<'_>, scheme: Scheme) -> Option<Presented<'_>> {
        self.own(req)
            .ok()
            .flatten()
            .filter(|presented| presented.scheme == scheme)
    }

    /// Whether an `Authorization` header came at all (whatever its scheme).
    pub(crate) fn authorization_sent(&self) -> bool {
        self.header.sent
    }

    /// The refusal for a request without a token this app reads: a token sent
    /// with a known scheme that is not configured gets a hint; the challenge
    /// still carries no `error` (RFC 6750 §3.1: no credentials).
    pub(crate) fn absent(&self, rt: &JwtRuntime) -> Rejection {
        match self.header.unaccepted {
            Some(scheme) => Rejection::SchemeNotAccepted {
                scheme,
                accepted: rt
                    .config()
                    .header_prefixes
                    .first()
                    .map_or("Bearer", String::as_str)
                    .to_owned(),
            },
            None => Rejection::NoToken,
        }
    }
}

/// Reads `Authorization` once: the token of a configured scheme, or `DPoP` with
/// DPoP on.
fn read_header(req: &Request<'_>, rt: &JwtRuntime) -> FromHeader {
    count_read();
    let mut values = header_scan::values(req.headers(), "Authorization");
    let Some(first) = values.next() else {
        return FromHeader {
            found: Ok(None),
            sent: false,
            unaccepted: None,
        };
    };
    let found = parse_authorization(
        std::iter::once(first).chain(values),
        &rt.config().header_prefixes,
        crate::dpop::Dpop::of(req).is_some(),
    );
    let unaccepted = match &found {
        Ok(None) => {
            let scheme = first.trim().split(' ').next().unwrap_or_default();
            KNOWN_SCHEMES
                .into_iter()
                .find(|known| known.eq_ignore_ascii_case(scheme))
        }
        _ => None,
    };
    FromHeader {
        found: found.map(|found| found.map(|(scheme, token)| (scheme, Box::from(token)))),
        sent: true,
        unaccepted,
    }
}

/// Finds the bearer token in `Authorization`, for routes that read a bearer
/// credential of their own (the metrics token, a transmitter's push
/// credential) rather than the app's tokens.
///
/// `Ok(None)`: no header, or a scheme that is not one of `prefixes` (e.g.
/// `Basic`). `Err`: several `Authorization` headers, or a scheme of ours with no
/// token or a token that is not token68 (RFC 7235).
pub(crate) fn bearer_token<'r>(
    req: &'r Request<'_>,
    prefixes: &[String],
) -> Result<Option<&'r str>, Rejection> {
    parse_bearer(
        header_scan::values(req.headers(), "Authorization"),
        prefixes,
    )
}

/// [`bearer_token`] on the header's values, as sent.
fn parse_bearer<'a>(
    values: impl Iterator<Item = &'a str>,
    prefixes: &[String],
) -> Result<Option<&'a str>, Rejection> {
    let token = parse_authorization(values, prefixes, false)?.map(|(_, token)| token);
    token.map(check_token68).transpose()?;
    Ok(token)
}

/// The token in `Authorization` and its scheme: one of `prefixes`, or `DPoP`
/// (RFC 9449 §7.1) when `dpop` is on. `Ok(None)` for no header or another scheme.
fn parse_authorization<'a>(
    mut values: impl Iterator<Item = &'a str>,
    prefixes: &[String],
    dpop: bool,
) -> Result<Option<(Scheme, &'a str)>, Rejection> {
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::SeveralAuthorizations);
    }
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if dpop && scheme.eq_ignore_ascii_case(DPOP_SCHEME) {
        Scheme::Dpop
    } else if prefixes.iter().any(|p| p.eq_ignore_ascii_case(scheme)) {
        Scheme::Bearer
    } else {
        return Ok(None);
    };
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Rejection::EmptyAuthorization);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::TokenTooLarge);
    }
    Ok(Some((scheme, token)))
}

/// RFC 6750 §2.1: a bearer credential is token68 text; anything else is a
/// malformed request.
pub(crate) fn check_token68(token: &str) -> Result<(), Rejection> {
    if is_token68(token) {
        Ok(())
    } else {
        Err(Rejection::MalformedAuthorization)
    }
}

/// How many times a request's `Authorization` was read for its credential (a
/// test build's counting hook: one per request is the promise).
#[cfg(feature = "testing")]
pub(crate) static AUTHORIZATION_READS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

#[inline]
fn count_read() {
    #[cfg(feature = "testing")]
    AUTHORIZATION_READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["Bearer".to_owned(), "JWT".to_owned()]
    }

    proptest! {
        #![proptest_config(crate::test_cases())]

        /// Any header text: no panic, and a token found is token68, bounded, and
        /// taken from the header itself.
        #[test]
        fn any_header_is_parsed_safely(value in any::<String>(), second in proptest::option::of(any::<String>())) {
            let values: Vec<&str> = std::iter::once(value.as_str()).chain(second.as_deref()).collect();
            if let Ok(Some(token)) = parse_bearer(values.into_iter(), &prefixes()) {
                prop_assert!(second.is_none());
                prop_assert!(is_token68(token) && !token.is_empty());
                prop_assert!(token.len() <= MAX_TOKEN_BYTES);
                prop_assert!(value.contains(token));
            }
        }

        /// A well-formed header always yields its token, whatever the scheme's case.
        #[test]
        fn well_formed_headers_yield_their_token(token in "[A-Za-z0-9._~+/=-]{1,200}", upper in any::<bool>()) {
            let scheme = if upper { "BEARER" } else { "bearer" };
            let header = format!("{scheme} {token}");
            let found = parse_bearer(std::iter::once(header.as_str()), &prefixes());
            prop_assert_eq!(found.ok().flatten(), Some(token.as_str()));
        }
    }
}
