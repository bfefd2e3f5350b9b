//! The small grammars that `jwt-guard-macros` (at compile time) and `jwt-guard` (at
//! run time) must read alike: held once, here, the way `rocket_codegen` and
//! `rocket` share `rocket_http`. Depend on `jwt-guard`, which re-exports what an
//! application needs.

use std::time::Duration;

/// Claims jwt-guard writes into its own tokens: an application's claims struct may
/// not declare them (`#[derive(Claims)]` refuses such a field).
pub const REGISTERED_CLAIM_NAMES: &[&str] = &[
    "typ",
    "sub",
    "exp",
    "iat",
    "nbf",
    "jti",
    "did",
    "orig_iat",
    "iss",
    "aud",
    "auth_time",
    "acr",
    "amr",
    "cnf",
];

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Nothing but whitespace was given.
    #[error("empty duration; expected e.g. `30s`, `5m`, `7d`")]
    Empty,
    /// The text is not a duration.
    #[error("invalid duration `{text}`: {source}; expected e.g. `30s`, `5m`, `7d`")]
    Invalid {
        /// The text as given (trimmed).
        text: String,
        /// What the parser objected to.
        #[source]
        source: humantime::DurationError,
    },
}

/// Reads `"5m"`, `"7d"`, `"1h 30m"` (`humantime`'s grammar), or a bare number of
/// seconds; surrounding whitespace is ignored.
///
/// ```
/// use jwt_guard_grammar::parse_duration;
/// assert_eq!(parse_duration(" 1h 30m ").map(|d| d.as_secs()), Ok(5400));
/// assert_eq!(parse_duration("45").map(|d| d.as_secs()), Ok(45));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    if let Ok(secs) = trimmed.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(trimmed).map_err(|source| DurationError::Invalid {
        text: trimmed.to_owned(),
        source,
    })
}

/// Which bytes are RFC 7235 §2.1 token68 characters: 1 without the `=` padding,
/// 2 for `=` alone. A table, because every authenticated request checks its
/// whole token (hundreds of bytes) against it.
const TOKEN68: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/') {
            table[b] = 1;
        }
        b += 1;
    }
    table[b'=' as usize] = 2;
    table
};

/// RFC 7235 §2.1 token68 characters, without the `=` padding.
fn is_token68_char(b: u8) -> bool {
    TOKEN68[b as usize] == 1
}

/// Whether `text` is made of RFC 7235 §2.1 token68 characters (`ALPHA / DIGIT /
/// "-" / "." / "_" / "~" / "+" / "/"`, and `=`): the only characters a bearer
/// credential may hold. The empty string is not one. (Where `=` stands is left to
/// the token's own parser: a misplaced one fails verification, not this check.)
///
/// ```
/// use jwt_guard_grammar::is_token68;
/// assert!(is_token68("eyJh.eyJz.c2ln"));
/// assert!(is_token68("abc=="));
/// assert!(!is_token68("a b") && !is_token68("") && !is_token68("a,b"));
/// ```
pub fn is_token68(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| TOKEN68[b as usize] != 0)
}

/// An `Authorization` scheme name as jwt-guard accepts it (`Bearer`, `JWT`):
/// non-empty, of token68 characters without `=`.
pub fn is_auth_scheme(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_token68_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token68_table_is_the_rfc_alphabet() {
        for b in 0..=255u8 {
            let spec = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_token68_char(b), spec, "byte {b}");
            let text = [b];
            let text = std::str::from_utf8(&text).unwrap_or("\u{0}");
            assert_eq!(is_token68(text), spec || b == b'=', "byte {b}");
        }
    }

    #[test]
    fn zero_and_compound_durations_are_read() {
        assert_eq!(parse_duration("0").map(|d| d.as_secs()), Ok(0));
        assert_eq!(parse_duration("0s").map(|d| d.as_secs()), Ok(0));
        assert_eq!(
            parse_duration("3days 4hours").map(|d| d.as_secs()),
            Ok(3 * 86_400 + 4 * 3600)
        );
        assert_eq!(parse_duration("  "), Err(DurationError::Empty));
    }

    #[test]
    fn a_token68_is_of_its_alphabet_and_not_empty() {
        assert!(is_token68("a=") && is_token68("a") && is_token68("A-._~+/9"));
        assert!(!is_token68("") && !is_token68("a\u{e9}") && !is_token68("a\tb"));
    }

    #[test]
    fn a_scheme_has_no_padding() {
        assert!(is_auth_scheme("Bearer") && is_auth_scheme("JWT"));
        assert!(!is_auth_scheme("Bear=") && !is_auth_scheme("Bear er") && !is_auth_scheme(""));
    }
}
