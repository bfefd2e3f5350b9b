//! Facts the macro crate and the runtime crate each hold must agree: the list of
//! registered claims, and how a duration is read.

use jwt_guard::__private::{LinkTarget, REGISTERED_CLAIM_NAMES};
use jwt_guard::config::parse_duration;
use jwt_guard::{expiring_link, LinkUse};
use rocket::get;

#[test]
fn the_macros_refuse_exactly_the_registered_claims() {
    let source = include_str!("../../jwt-guard-macros/src/claims/parse.rs");
    let start = source
        .find("const REGISTERED: &[&str] = &[")
        .unwrap_or_else(|| panic!("REGISTERED not found in the macro crate"));
    let list = &source[start..];
    let list = &list[list.find('[').unwrap_or(0) + 1..];
    let list = &list[list.find('[').unwrap_or(0) + 1..list.find("];").unwrap_or(0)];
    let mut in_macros: Vec<&str> = list
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    let mut in_runtime = REGISTERED_CLAIM_NAMES.to_vec();
    in_macros.sort_unstable();
    in_runtime.sort_unstable();
    assert_eq!(in_macros, in_runtime);
}

macro_rules! link_with_ttl {
    ($($name:ident => $ttl:literal),* $(,)?) => {
        $(
            #[expiring_link(ttl = $ttl)]
            #[get("/x")]
            #[allow(dead_code)]
            fn $name(link: LinkUse) -> String {
                link.subject().to_owned()
            }
        )*
        /// Each literal with the seconds the macro read from it.
        const READ_BY_MACRO: &[(&str, u64)] = &[$(($ttl, <$name as LinkTarget>::TTL_SECS)),*];
    };
}

link_with_ttl! {
    bare_seconds => "45",
    minutes => "5m",
    days => "7d",
    compound => "1h 30m",
    padded => " 2h ",
    long_words => "3days 4hours",
    one_second => "1s",
}

#[test]
fn the_macros_read_durations_as_the_runtime_does() {
    for (text, by_macro) in READ_BY_MACRO {
        let by_runtime = parse_duration(text)
            .unwrap_or_else(|e| panic!("runtime refused {text:?}: {e}"))
            .as_secs();
        assert_eq!(*by_macro, by_runtime, "{text:?}");
    }
}
