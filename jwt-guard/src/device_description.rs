//! What a client says about its device — `X-Device-Model`, `User-Agent` —
//! cleaned before anything stores it, and the description a new device is given.

use rocket::request::Request;

use crate::peer::client_ip;
use crate::store::{DeviceDescription, NewDevice, DEVICE_NAME_MAX};

pub(crate) use crate::headers::DEVICE_MODEL_HEADER;

/// Longest user agent kept.
pub(crate) const USER_AGENT_MAX: usize = 512;

/// Keeps printable text only, cut to `max` characters and trimmed.
pub(crate) fn clean_text(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The request's `User-Agent`, cleaned; `None` when absent or empty.
pub(crate) fn user_agent(req: &Request<'_>) -> Option<String> {
    req.headers()
        .get_one("User-Agent")
        .map(|ua| clean_text(ua, USER_AGENT_MAX))
        .filter(|ua| !ua.is_empty())
}

/// Describes the device a login comes from: `X-Device-Model` if sent, else the
/// browser and OS parsed from `User-Agent` (by `woothee`), and the client IP.
pub(crate) fn describe_device(req: &Request<'_>, subject: &str) -> NewDevice {
    let user_agent = user_agent(req);
    let parsed = user_agent
        .as_deref()
        .and_then(|ua| woothee::parser::Parser::new().parse(ua));
    let known = |s: &str| (!s.is_empty() && s != "UNKNOWN").then(|| s.to_owned());
    let browser = parsed.as_ref().and_then(|p| known(p.name));
    let os = parsed.as_ref().and_then(|p| known(p.os));
    let kind = parsed.as_ref().and_then(|p| known(p.category));
    let model = req
        .headers()
        .get_one(DEVICE_MODEL_HEADER)
        .map(|m| clean_text(m, DEVICE_NAME_MAX))
        .filter(|m| !m.is_empty());
    let name = model.unwrap_or_else(|| match (&browser, &os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => "unknown device".to_owned(),
    });
    NewDevice {
        subject: subject.to_owned(),
        description: DeviceDescription {
            name: clean_text(&name, DEVICE_NAME_MAX),
            browser,
            os,
            kind,
            ip: client_ip(req),
        },
        user_agent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped_and_length_is_bounded() {
        assert_eq!(clean_text("  a\u{0}b\r\nc  ", 10), "abc");
        assert_eq!(clean_text(&"x".repeat(50), 8).len(), 8);
        assert_eq!(clean_text("é".repeat(10).as_str(), 3), "ééé");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(crate::test_cases())]

        /// Any user agent or device name: bounded, printable, trimmed, no panic in
        /// the user-agent parser either.
        #[test]
        fn any_client_text_is_cleaned(text in any::<String>(), max in 0usize..600) {
            let cleaned = clean_text(&text, max);
            prop_assert!(cleaned.chars().count() <= max);
            prop_assert!(!cleaned.chars().any(char::is_control));
            prop_assert_eq!(cleaned.trim(), cleaned.as_str());
            let _ = woothee::parser::Parser::new().parse(&clean_text(&text, USER_AGENT_MAX));
        }
    }
}
