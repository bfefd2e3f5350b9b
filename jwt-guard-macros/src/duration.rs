//! Duration literals in attributes, read with the same parser as the runtime crate.

use syn::LitStr;

/// Seconds in `lit` (`"5m"`, `"7d"`, or a bare number of seconds).
pub(crate) fn parse_duration_lit(lit: &LitStr) -> syn::Result<u64> {
    let text = lit.value();
    let trimmed = text.trim();
    let parsed = if let Ok(secs) = trimmed.parse::<u64>() {
        Ok(secs)
    } else {
        humantime::parse_duration(trimmed)
            .map(|d| d.as_secs())
            .map_err(|e| e.to_string())
    };
    match parsed {
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
