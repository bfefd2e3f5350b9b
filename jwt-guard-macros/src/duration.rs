//! Duration literals in attributes, read by the runtime's own grammar
//! (`jwt_guard_grammar::parse_duration`). Attributes add one rule of their own: a
//! lifetime of zero is refused.

use jwt_guard_grammar::{parse_duration, DurationError};
use syn::LitStr;

/// Seconds in `text`, by the runtime's grammar; the error says only what is wrong
/// (the caller adds the text and examples).
fn parse_secs(text: &str) -> Result<u64, String> {
    match parse_duration(text) {
        Ok(d) => Ok(d.as_secs()),
        Err(DurationError::Invalid { source, .. }) => Err(source.to_string()),
        Err(DurationError::Empty) => Err("empty duration".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Seconds in `lit` (`"5m"`, `"7d"`, or a bare number of seconds), more than zero.
pub(crate) fn parse_duration_lit(lit: &LitStr) -> syn::Result<u64> {
    let text = lit.value();
    match parse_secs(&text) {
        Ok(0) => Err(syn::Error::new(
            lit.span(),
            "duration must be longer than zero seconds",
        )),
        Ok(secs) => Ok(secs),
        Err(e) => Err(syn::Error::new(
            lit.span(),
            format!("invalid duration `{text}`: {e}; expected e.g. \"30s\", \"15m\", \"7d\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_read_but_refused_as_a_lifetime() {
        assert_eq!(parse_secs("0"), Ok(0));
        assert_eq!(parse_secs("0s"), Ok(0));
        let lit: LitStr = syn::parse_quote!("0s");
        assert!(parse_duration_lit(&lit).is_err());
    }
}
