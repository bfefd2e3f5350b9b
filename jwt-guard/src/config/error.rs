//! Why a configuration cannot be used: every problem of the `jwt` table at once,
//! each naming its key as the user wrote it.

use std::fmt;

use crate::duration::HumanDuration;

/// A configuration jwt-guard cannot start with. Reported at launch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The `jwt` table does not have the expected shape (a wrong type, an unknown
    /// key); every such error figment found, each with its key.
    /// (Not a `source`: the message already says all of it, key by key.)
    #[error("invalid `jwt` configuration: {}", Unreadable(.0))]
    Unreadable(Box<rocket::figment::Error>),
    /// An environment variable holding a table (`ROCKET_JWT`, `ROCKET_DATABASES`)
    /// is not one: figment would read it as a plain string and the app would run
    /// on defaults, so launch stops instead.
    #[error(
        "{variable} is not a TOML table ({reason}); write it like \
         {variable}='{{key=\"value\", other=1}}'"
    )]
    NotATable {
        /// The variable, as set: `ROCKET_JWT`.
        variable: String,
        /// Why its text is no table (the TOML parser's words).
        reason: String,
    },
    /// Settings that were read but cannot be used: all of them, not only the first.
    #[error("{}", Listed(.0))]
    Invalid(Vec<ConfigProblem>),
}

impl ConfigError {
    /// The problems found in settings that were read (empty for
    /// [`ConfigError::Unreadable`]).
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            ConfigError::Invalid(problems) => problems,
            ConfigError::Unreadable(_) | ConfigError::NotATable { .. } => &[],
        }
    }
}

/// One unusable setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key} {reason}")]
#[non_exhaustive]
pub struct ConfigProblem {
    /// The key as written, from the top of Rocket's configuration:
    /// `jwt.access_ttl`, `jwt.cookies.path`, `jwt.trusted_issuers.partner`.
    pub key: String,
    /// What is wrong with it.
    pub reason: Problem,
}

/// What is wrong with a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A duration longer than jwt-guard allows.
    TooLong {
        /// The configured value.
        value: HumanDuration,
        /// The most allowed, in seconds.
        max: u64,
    },
    /// A duration shorter than allowed (`min` is a duration or another setting).
    TooShort {
        /// The least allowed.
        min: &'static str,
    },
    /// A count that must be at least 1 is 0.
    Zero,
    /// `max_devices = 0`.
    NoDevicesAllowed,
    /// Not an http(s) URL without query or fragment.
    NotHttpUrl(String),
    /// A list that must name at least one thing is empty.
    Empty {
        /// What it must name, e.g. "one scheme, e.g. `Bearer`".
        needs: &'static str,
    },
    /// Not an RFC 7235 auth scheme.
    NotAuthScheme(String),
    /// Not an RFC 6265 cookie name.
    NotCookieName,
    /// A cookie would share another session cookie's name (the setting named).
    SameCookieName(&'static str),
    /// Not a path starting with `/`.
    NotAPath,
    /// Not a network (`10.0.0.0/8`) or an address.
    NotANetwork(String),
    /// Not an origin (`scheme://host[:port]`).
    NotAnOrigin(String),
    /// A name that must be unique and non-empty is neither.
    NameNotUnique,
    /// Not exactly one of the listed alternatives was given.
    NotExactlyOne(&'static str),
    /// HMAC keys of another party cannot be trusted.
    HmacFromOutside,
    /// A required setting is missing or empty.
    Missing(&'static str),
    /// Not an RFC 9728 resource identifier (an `https` URL without a fragment).
    NotAResource(String),
    /// The resource is no audience this app accepts (RFC 9728 §7.4: tokens must be
    /// issued for it).
    ResourceNotAnAudience(String),
    /// Two protected resources would share one metadata URL.
    ResourceTwice(String),
    /// Not a domain name (a WebAuthn relying party id).
    NotADomain(String),
    /// An origin whose host is neither the relying party id nor under it
    /// (WebAuthn §5.1.4.1: the browser would refuse every ceremony).
    OriginOutsideRpId {
        /// The origin.
        origin: String,
        /// The relying party id.
        rp_id: String,
    },
    /// The setting needs a cargo feature of jwt-guard this build lacks.
    NeedsFeature(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TooLong { value, max } => {
                let max = HumanDuration::from_secs(*max);
                write!(f, "is {value}; at most {max} is allowed")
            }
            Problem::TooShort { min } => write!(f, "must be at least {min}"),
            Problem::Zero => f.write_str("must be at least 1"),
            Problem::NoDevicesAllowed => f.write_str("must be at least 1 (or unset for no cap)"),
            Problem::NotHttpUrl(url) => {
                write!(
                    f,
                    "`{url}` must be an http(s) URL without query or fragment"
                )
            }
            Problem::Empty { needs } => write!(f, "must name at least {needs}"),
            Problem::NotAuthScheme(scheme) => {
                write!(f, "contains `{scheme}`, which is not a valid auth scheme")
            }
            Problem::NotCookieName => f.write_str("is not a cookie name"),
            Problem::SameCookieName(other) => write!(f, "is also `{other}`"),
            Problem::NotAPath => f.write_str("must be a path starting with `/`"),
            Problem::NotANetwork(net) => write!(f, "`{net}` is not a network (CIDR) or address"),
            Problem::NotAnOrigin(origin) => {
                write!(f, "`{origin}` is not an origin (scheme://host[:port])")
            }
            Problem::NameNotUnique => f.write_str("names must be non-empty and unique"),
            Problem::NotExactlyOne(which) => write!(f, "give exactly one of {which}"),
            Problem::HmacFromOutside => f.write_str(
                "HMAC algorithms cannot be trusted from another party; use its public keys",
            ),
            Problem::Missing(what) => write!(f, "{what} is required"),
            Problem::NotAResource(url) => write!(
                f,
                "`{url}` is not a resource identifier (an https URL without a fragment; \
                 http only for a loopback host)"
            ),
            Problem::ResourceNotAnAudience(url) => write!(
                f,
                "`{url}` is no audience this app accepts: set `jwt.audience` or a trusted \
                 issuer's `audience` to it, so that only tokens issued for this resource pass"
            ),
            Problem::NotADomain(id) => write!(
                f,
                "`{id}` is not a domain (a relying party id is a host name like `example.com`, \
                 no scheme or port)"
            ),
            Problem::OriginOutsideRpId { origin, rp_id } => write!(
                f,
                "`{origin}` is not `{rp_id}` or under it: browsers refuse passkey ceremonies \
                 from it (WebAuthn §5.1.4.1); set `rp_id` to a suffix of every origin's host"
            ),
            Problem::NeedsFeature(feature) => write!(
                f,
                "needs jwt-guard's `{feature}` cargo feature (features = [\"{feature}\"])"
            ),
            Problem::ResourceTwice(url) => write!(
                f,
                "`{url}` is described twice (two resources would share one metadata URL)"
            ),
        }
    }
}

/// Every problem found while checking one configuration: each table adds its own.
#[derive(Debug)]
pub(crate) struct Problems {
    prefix: String,
    found: Vec<ConfigProblem>,
}

impl Problems {
    /// Problems of the table at `prefix` (`jwt`).
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            found: Vec::new(),
        }
    }

    /// Records `reason` for `key`, relative to the current table.
    pub(crate) fn add(&mut self, key: &str, reason: Problem) {
        self.found.push(ConfigProblem {
            key: format!("{}.{key}", self.prefix),
            reason,
        });
    }

    /// Checks of the sub-table `name`, whose keys are relative to it.
    pub(crate) fn table(&mut self, name: &str, check: impl FnOnce(&mut Problems)) {
        let mut inner = Problems::new(&format!("{}.{name}", self.prefix));
        check(&mut inner);
        self.found.append(&mut inner.found);
    }

    /// Every duration in `limits` at most its maximum.
    pub(crate) fn at_most(&mut self, key: &str, value: HumanDuration, max: u64) {
        if value.as_secs() > max {
            self.add(key, Problem::TooLong { value, max });
        }
    }

    /// A duration of at least one second.
    pub(crate) fn positive(&mut self, key: &str, value: HumanDuration) {
        if value.as_secs() == 0 {
            self.add(key, Problem::TooShort { min: "1s" });
        }
    }

    /// A count of at least one.
    pub(crate) fn nonzero(&mut self, key: &str, value: u32) {
        if value == 0 {
            self.add(key, Problem::Zero);
        }
    }

    /// `Ok` when nothing was found, else every problem.
    pub(crate) fn finish(self) -> Result<(), ConfigError> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(self.found))
        }
    }
}

/// Problems joined for one message.
struct Listed<'a>(&'a [ConfigProblem]);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() > 1 {
            write!(f, "{} problems: ", self.0.len())?;
        }
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// figment's errors, each with its key as the user wrote it (`jwt.access_ttl`) and
/// where it came from; an unknown key with the setting it most likely meant.
struct Unreadable<'a>(&'a rocket::figment::Error);

impl fmt::Display for Unreadable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rocket::figment::error::Kind;
        for (i, error) in self.0.clone().into_iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            // `extract_inner("jwt")` appends the table's name after the key inside it
            // (figment 0.10); other sources put it first.
            let jwt = ["jwt".to_owned()];
            let path = (error.path.strip_suffix(&jwt))
                .or_else(|| error.path.strip_prefix(&jwt))
                .unwrap_or(&error.path);
            let key = std::iter::once("jwt")
                .chain(path.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(".");
            match &error.kind {
                // serde names the unknown key in the kind, not in the path.
                Kind::UnknownField(name, expected) => {
                    // Some sources put the unknown key at the end of the path too.
                    let key = key.strip_suffix(&format!(".{name}")).unwrap_or(&key);
                    write!(f, "{key}.{name} is no setting")?;
                    match closest(name, expected) {
                        Some(meant) => write!(f, "; did you mean `{meant}`?")?,
                        None => write!(f, " (the settings here: {})", expected.join(", "))?,
                    }
                }
                kind => write!(f, "{key}: {kind}")?,
            }
            if let Some(source) = source_of(&error) {
                write!(f, " (in {source})")?;
            }
        }
        Ok(())
    }
}

/// The expected name most like `name`, when one is close enough to be a typo.
pub(crate) fn closest<'e>(name: &str, expected: &[&'e str]) -> Option<&'e str> {
    expected
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// Where the value at fault was set: a file's path, or the environment variable.
fn source_of(error: &rocket::figment::Error) -> Option<String> {
    use rocket::figment::Source;
    let metadata = error.metadata.as_ref()?;
    match &metadata.source {
        Some(Source::File(path)) => Some(path.display().to_string()),
        // Rocket reads each `ROCKET_*` variable as a top-level key: this is `jwt`.
        _ if metadata.name.contains("environment") => Some("ROCKET_JWT".to_owned()),
        _ => None,
    }
}

/// `ROCKET_JWT` or `ROCKET_DATABASES` whose text is no table: figment keeps such a
/// value as a string, and an app that merges defaults over it would launch
/// silently on those defaults.
pub fn check_environment(figment: &rocket::figment::Figment) -> Result<(), ConfigError> {
    use rocket::figment::providers::{Format, Toml};
    use rocket::figment::value::Value;
    for key in ["jwt", "databases"] {
        let Ok(Value::String(_, text)) = figment.find_value(key) else {
            continue;
        };
        let from_env = figment
            .find_metadata(key)
            .is_some_and(|m| m.name.contains("environment"));
        if !from_env {
            continue;
        }
        let variable = format!("ROCKET_{}", key.to_ascii_uppercase());
        let parsed = rocket::figment::Figment::from(Toml::string(&format!("value = {text}")))
            .extract_inner::<Value>("value");
        let reason = match parsed {
            Err(e) => one_line(&e.kind.to_string()),
            Ok(_) => format!("`{}` is not a `{{…}}` table", shorten(&text)),
        };
        return Err(ConfigError::NotATable { variable, reason });
    }
    Ok(())
}

/// The TOML parser's report on one line: what it expected, and at which column of
/// the variable's value (it drew a caret under the text, and counted from the
/// `value = ` this check put in front).
fn one_line(report: &str) -> String {
    let column = report
        .split_once("column ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| n.saturating_sub("value = ".len()));
    let said: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("TOML parse error") && !is_drawing(l))
        .collect();
    match column {
        Some(column) => format!("{} at character {column}", said.join(", ")),
        None => said.join(", "),
    }
}

/// A line of the parser's drawing of the text (`  |`, `1 | value = …`).
fn is_drawing(line: &str) -> bool {
    let gutter = line.split_once('|').map(|(before, _)| before.trim());
    gutter.is_some_and(|g| g.is_empty() || g.parse::<u32>().is_ok())
}

/// At most 40 characters of `text`, for a message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_gets_the_setting_it_meant_and_nothing_far_off() {
        let expected = ["access_ttl", "refresh_ttl", "secret", "secret_file"];
        assert_eq!(closest("acess_ttl", &expected), Some("access_ttl"));
        assert_eq!(closest("secret_fil", &expected), Some("secret_file"));
        assert_eq!(closest("colour", &expected), None);
    }

    #[test]
    fn the_parsers_report_fits_one_line() {
        let report = "TOML parse error at line 1, column 26\n  |\n1 | value = {access_ttl=\"5m\"\n  |                         ^\ninvalid inline table\nexpected `}`\n";
        assert_eq!(
            one_line(report),
            "invalid inline table, expected `}` at character 18"
        );
    }

    #[test]
    fn an_environment_variable_that_is_no_table_stops_launch() {
        use rocket::figment::providers::Env;
        use rocket::figment::Figment;
        // A prefix of this test's own, so no other test sees the variable.
        const VAR: &str = "JWT_GUARD_UNIT_CHECK_ENV_JWT";
        let read = || Figment::from(Env::prefixed("JWT_GUARD_UNIT_CHECK_ENV_").global());
        std::env::set_var(VAR, "{access_ttl=\"5m\"");
        let said = check_environment(&read()).map(|()| String::new());
        let said = said.unwrap_or_else(|e| e.to_string());
        assert!(
            said.starts_with("ROCKET_JWT is not a TOML table (invalid inline table"),
            "{said}"
        );
        assert!(!said.contains('\n'), "{said}");
        std::env::set_var(VAR, "{access_ttl=\"5m\"}");
        assert!(check_environment(&read()).is_ok());
        std::env::remove_var(VAR);
    }
}
