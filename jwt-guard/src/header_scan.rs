//! Header look-ups on the hot path. Rocket's `HeaderMap::get` finds a name by
//! hashing it byte by byte through SipHash (its names are case-insensitive):
//! about a thousand instructions a look-up, as much as the rest of a remembered
//! token's check. A request or a response carries a handful of headers, and
//! scanning them with a case-insensitive comparison gives the same answer for a
//! fraction of that.

use std::borrow::Cow;

use rocket::http::HeaderMap;

/// The values of the header `name` (ASCII case-insensitive) in the order they
/// came: what `HeaderMap::get(name)` yields.
pub(crate) fn values<'r>(
    headers: &'r HeaderMap<'_>,
    name: &'r str,
) -> impl Iterator<Item = &'r str> + 'r {
    headers
        .iter()
        .filter(move |header| header.name.as_str().eq_ignore_ascii_case(name))
        // `HeaderMap::iter` lends its values: every one is borrowed (the test
        // below holds this against `get`).
        .filter_map(|header| match header.value {
            Cow::Borrowed(value) => Some(value),
            Cow::Owned(_) => None,
        })
}

/// Whether the header `name` (ASCII case-insensitive) is present.
pub(crate) fn contains(headers: &HeaderMap<'_>, name: &'static str) -> bool {
    headers
        .iter()
        .any(|header| header.name.as_str().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use rocket::http::Header;

    use super::*;

    #[test]
    fn the_scan_answers_as_the_hashed_look_up_does() {
        let mut map = HeaderMap::new();
        map.add(Header::new("Host", "example.com"));
        map.add(Header::new("authorization", "Bearer one"));
        map.add(Header::new("Accept", "*/*"));
        map.add(Header::new("AUTHORIZATION", "Bearer two"));
        map.add(Header::new("Cookie", "a=b"));
        map.add_raw("DPoP".to_owned(), "proof".to_owned());
        for name in [
            "Authorization",
            "authorization",
            "DPoP",
            "dpop",
            "Cookie",
            "Pragma",
        ] {
            let scanned: Vec<&str> = values(&map, name).collect();
            let hashed: Vec<&str> = map.get(name).collect();
            assert_eq!(scanned, hashed, "{name}");
            assert_eq!(contains(&map, name), map.contains(name), "{name}");
        }
        assert_eq!(values(&map, "Authorization").count(), 2);
        assert!(!contains(&map, "Pragma"));
    }
}
