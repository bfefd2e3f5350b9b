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
    #[error(
        "invalid `jwt` configuration: {}; set e.g. `[default.jwt] secret = \"…\"` in \
         Rocket.toml or ROCKET_JWT='{{secret=\"…\"}}'",
        Unreadable(.0)
    )]
    Unreadable(#[source] Box<rocket::figment::Error>),
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
            ConfigError::Unreadable(_) => &[],
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
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TooLong { value, max } => write!(f, "is {value}; at most {max}s is allowed"),
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

/// figment's errors, each with its key as the user wrote it (`jwt.access_ttl`).
struct Unreadable<'a>(&'a rocket::figment::Error);

impl fmt::Display for Unreadable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
            if path.is_empty() {
                write!(f, "jwt: {}", error.kind)?;
            } else {
                write!(f, "jwt.{}: {}", path.join("."), error.kind)?;
            }
        }
        Ok(())
    }
}
