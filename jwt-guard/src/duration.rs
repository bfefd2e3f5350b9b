//! Human-readable durations (`"5m"`, `"7d"`, `"90s"`) for configuration and attributes.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A [`Duration`] written the way people write it: `"30s"`, `"5m"`, `"12h"`, `"7d"`,
/// or `"1h 30m"`. Bare integers are read as seconds.
///
/// One grammar (`jwt-guard-grammar`, over `humantime`) reads it here and in the
/// attribute macros, so a duration accepted in `Rocket.toml` is accepted in
/// `#[expiring_link(ttl = …)]`.
///
/// ```
/// use jwt_guard::config::HumanDuration;
/// let d: HumanDuration = "7d".parse().unwrap();
/// assert_eq!(d.as_secs(), 7 * 24 * 3600);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// Whole seconds.
    pub const fn as_secs(&self) -> u64 {
        self.0.as_secs()
    }
}

pub use jwt_guard_grammar::{parse_duration, DurationError};

impl std::str::FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(HumanDuration)
    }
}

/// Written the way it is configured: `7d`, `1h 30m`, `90s` → `1m 30s`, `0s`
/// (whole seconds; a fraction is dropped).
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut left = self.0.as_secs();
        if left == 0 {
            return f.write_str("0s");
        }
        let mut first = true;
        for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
            if left >= secs {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{}{unit}", left / secs)?;
                left %= secs;
                first = false;
            }
        }
        Ok(())
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Self {
        d.0
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = HumanDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"5m\" or \"7d\", or a number of seconds")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(HumanDuration::from_secs(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(HumanDuration::from_secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_forms() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        for (secs, written) in [
            (604_800, "7d"),
            (5_400, "1h 30m"),
            (90, "1m 30s"),
            (0, "0s"),
        ] {
            let shown = HumanDuration(Duration::from_secs(secs)).to_string();
            assert_eq!(shown, written);
            assert_eq!(parse_duration(&shown), Ok(Duration::from_secs(secs)));
        }
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_duration("").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5m").is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(crate::test_cases())]

        /// Any text: a duration or an error, never a panic.
        #[test]
        fn any_text_parses_or_is_refused(text in any::<String>()) {
            let _ = parse_duration(&text);
        }

        /// Whole seconds, bare or with a unit, mean what they say.
        #[test]
        fn seconds_round_trip(secs in 0u64..10_000_000) {
            prop_assert_eq!(parse_duration(&secs.to_string()).ok(), Some(Duration::from_secs(secs)));
            prop_assert_eq!(parse_duration(&format!("{secs}s")).ok(), Some(Duration::from_secs(secs)));
            let shown = HumanDuration::from_secs(secs).to_string();
            prop_assert_eq!(parse_duration(&shown).ok(), Some(Duration::from_secs(secs)));
        }
    }
}
