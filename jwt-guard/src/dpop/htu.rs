//! The `htu` comparison of RFC 9449 §4.3 check 9: the request's URI without query
//! and fragment, both sides normalised as RFC 3986 §6.2.2 (syntax) and §6.2.3
//! (scheme) say, so that equal URIs written differently compare equal.

/// `uri` normalised for comparison: scheme and host lower-cased and the default
/// port dropped (§6.2.2.1, §6.2.3), percent-encodings upper-cased and unreserved
/// characters decoded (§6.2.2.1, §6.2.2.2), dot segments removed (§6.2.2.3), an
/// empty path made `/` (§6.2.3); query and fragment cut off (RFC 9449 §4.2 `htu`).
/// `None` for what is not an absolute `http(s)` URI.
pub(crate) fn normalize(uri: &str) -> Option<String> {
    let mut url = reqwest::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = normalize_percent_encoding(url.path());
    url.set_path(&path);
    Some(url.into())
}

/// Upper-cases the hex digits of every percent-encoding and decodes those of
/// unreserved characters (RFC 3986 §2.3: `ALPHA / DIGIT / - . _ ~`).
fn normalize_percent_encoding(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        if let (b'%', Some(hex)) = (bytes[i], hex) {
            let hex = std::str::from_utf8(hex).unwrap_or("00");
            if let Ok(value) = u8::from_str_radix(hex, 16) {
                let c = char::from(value);
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
                    out.push(c);
                } else {
                    out.push('%');
                    out.push_str(&hex.to_ascii_uppercase());
                }
                i += 3;
                continue;
            }
        }
        out.push(char::from(bytes[i]));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn equal_uris_written_differently_compare_equal() {
        let base = normalize("https://api.example/a/b").unwrap();
        for same in [
            "HTTPS://API.Example/a/b",
            "https://api.example:443/a/b",
            "https://api.example/a/./c/../b",
            "https://api.example/%61/b",
            "https://api.example/a/b?x=1#frag",
        ] {
            assert_eq!(normalize(same).as_deref(), Some(base.as_str()), "{same}");
        }
        assert_eq!(
            normalize("http://127.0.0.1:8000").as_deref(),
            Some("http://127.0.0.1:8000/")
        );
        assert_eq!(
            normalize("https://a.example/x%2fy").as_deref(),
            Some("https://a.example/x%2Fy")
        );
    }

    #[test]
    fn different_uris_stay_different() {
        let base = normalize("https://api.example/a/b").unwrap();
        for other in [
            "http://api.example/a/b",
            "https://api.example:8443/a/b",
            "https://api.example/a/b/",
            "https://api.example/A/b",
            "https://other.example/a/b",
        ] {
            assert_ne!(normalize(other).as_deref(), Some(base.as_str()), "{other}");
        }
        assert_eq!(normalize("ftp://x/"), None);
        assert_eq!(normalize("/relative"), None);
    }
}
