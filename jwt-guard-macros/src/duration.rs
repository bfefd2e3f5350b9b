//! Duration literals in attributes. The grammar is the runtime's
//! (`jwt_guard::config::parse_duration`): trimmed, a bare number of seconds, or
//! `humantime` text — a test in `tests/` checks that the two agree. Attributes add
//! one rule of their own: a lifetime of zero is refused.

use syn::LitStr;

/// Seconds in `text`, by the runtime's grammar.
fn parse_secs(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration".to_owned());
    }
    if let Ok(secs) = trimmed.parse::<u64>() {
        return Ok(secs);
    }
    humantime::parse_duration(trimmed)
        .map(|d| d.as_secs())
        .map_err(|e| e.to_string())
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
