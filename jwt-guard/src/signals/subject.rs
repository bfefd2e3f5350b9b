//! Whom a signal is about: RFC 9493 subject identifiers (and the Shared Signals
//! Framework's complex subjects), and how one becomes what jwt-guard ends.

use serde_json::Value;

/// A subject identifier (RFC 9493 §3), as a security event names its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectId {
    /// `iss_sub` (§3.2.5): a `sub` and the issuer that gave it.
    IssSub {
        /// The issuer.
        iss: String,
        /// Its subject.
        sub: String,
    },
    /// `email` (§3.2.2).
    Email(String),
    /// `opaque` (§3.2.4): an id only the transmitter and receiver understand.
    Opaque(String),
    /// `phone_number` (§3.2.6), E.164.
    PhoneNumber(String),
    /// `account` (§3.2.1): an `acct:` URI.
    Account(String),
    /// `uri` (§3.2.7).
    Uri(String),
    /// `aliases` (§3.2.3): several identifiers of one subject.
    Aliases(Vec<SubjectId>),
    /// A complex subject (SSF 1.0 §3.2): a user and, when one session is meant,
    /// that session.
    Complex {
        /// The `user` member.
        user: Option<Box<SubjectId>>,
        /// The `session` member.
        session: Option<Box<SubjectId>>,
    },
    /// Another format, kept as sent.
    Other(Value),
}

/// Longest text member of a subject identifier read.
const MAX_MEMBER: usize = 1024;
/// Deepest nesting of aliases and complex subjects read.
const MAX_DEPTH: usize = 3;

impl SubjectId {
    /// Reads a subject identifier; `None` when it is not a JSON object, or a
    /// known format lacks its member (RFC 9493 §3: each format's members are
    /// required).
    pub fn parse(value: &Value) -> Option<SubjectId> {
        Self::parse_at(value, 0)
    }

    fn parse_at(value: &Value, depth: usize) -> Option<SubjectId> {
        let object = value.as_object()?;
        if depth > MAX_DEPTH {
            return None;
        }
        let text = |name: &str| -> Option<String> {
            let s = object.get(name)?.as_str()?;
            (!s.is_empty() && s.len() <= MAX_MEMBER).then(|| s.to_owned())
        };
        let nested = |name: &str| -> Option<Option<Box<SubjectId>>> {
            match object.get(name) {
                None => Some(None),
                Some(v) => Self::parse_at(v, depth + 1).map(|id| Some(Box::new(id))),
            }
        };
        let format = object.get("format").and_then(Value::as_str);
        let complex = || -> Option<SubjectId> {
            let user = nested("user")?;
            let session = nested("session")?;
            (user.is_some() || session.is_some()).then_some(SubjectId::Complex { user, session })
        };
        Some(match format {
            Some("iss_sub") => SubjectId::IssSub {
                iss: text("iss")?,
                sub: text("sub")?,
            },
            Some("email") => SubjectId::Email(text("email")?),
            Some("opaque") => SubjectId::Opaque(text("id")?),
            Some("phone_number") => SubjectId::PhoneNumber(text("phone_number")?),
            Some("account") => SubjectId::Account(text("uri")?),
            Some("uri") => SubjectId::Uri(text("uri")?),
            Some("aliases") => {
                let ids = object.get("identifiers")?.as_array()?;
                let parsed: Option<Vec<SubjectId>> =
                    ids.iter().map(|v| Self::parse_at(v, depth + 1)).collect();
                SubjectId::Aliases(parsed.filter(|ids| !ids.is_empty())?)
            }
            Some("complex") => complex()?,
            // SSF 1.0 §3.2: a complex subject may also come without `format`.
            None => complex()?,
            Some(_) => SubjectId::Other(value.clone()),
        })
    }

    /// The identifier as JSON (what its digest is taken of).
    pub fn to_json(&self) -> Value {
        use serde_json::json;
        match self {
            SubjectId::IssSub { iss, sub } => json!({"format": "iss_sub", "iss": iss, "sub": sub}),
            SubjectId::Email(email) => json!({"format": "email", "email": email}),
            SubjectId::Opaque(id) => json!({"format": "opaque", "id": id}),
            SubjectId::PhoneNumber(n) => json!({"format": "phone_number", "phone_number": n}),
            SubjectId::Account(uri) => json!({"format": "account", "uri": uri}),
            SubjectId::Uri(uri) => json!({"format": "uri", "uri": uri}),
            SubjectId::Aliases(ids) => json!({
                "format": "aliases",
                "identifiers": ids.iter().map(SubjectId::to_json).collect::<Vec<_>>(),
            }),
            SubjectId::Complex { user, session } => {
                let mut object = serde_json::Map::new();
                object.insert("format".into(), "complex".into());
                if let Some(user) = user {
                    object.insert("user".into(), user.to_json());
                }
                if let Some(session) = session {
                    object.insert("session".into(), session.to_json());
                }
                Value::Object(object)
            }
            SubjectId::Other(value) => value.clone(),
        }
    }

    /// The transmitter's own `sub` for the user this names, by jwt-guard's
    /// default reading: an `iss_sub` of `issuer` itself, or an `opaque` id (the
    /// transmitter's id of its user), directly, among aliases, or as a complex
    /// subject's `user`.
    pub fn upstream_subject(&self, issuer: &str) -> Option<&str> {
        match self {
            SubjectId::IssSub { iss, sub } if iss == issuer => Some(sub),
            SubjectId::Opaque(id) => Some(id),
            SubjectId::Aliases(ids) => ids.iter().find_map(|id| id.upstream_subject(issuer)),
            SubjectId::Complex {
                user: Some(user), ..
            } => user.upstream_subject(issuer),
            _ => None,
        }
    }

    /// The transmitter's session id, when a complex subject names one session
    /// (its `session` member, `opaque`: the `sid` of that login).
    pub fn upstream_session(&self) -> Option<&str> {
        match self {
            SubjectId::Complex {
                session: Some(session),
                ..
            } => match session.as_ref() {
                SubjectId::Opaque(id) => Some(id),
                _ => None,
            },
            _ => None,
        }
    }
}

/// How the application maps a signal's subject to its own user, for sessions
/// jwt-guard cannot find by the outside login they rest on (a session started
/// with [`Sessions::start`](crate::Sessions::start) without an upstream, or an
/// `email` identifier). Give it with
/// [`JwtGuard::signal_subjects`](crate::JwtGuard::signal_subjects).
///
/// The default maps nothing: a signal ends the sessions started from that
/// issuer's login of the user ([`Upstream`](crate::Upstream) records it) and
/// revokes that issuer's own tokens of the user; nothing else.
///
/// ```
/// use jwt_guard::signals::{SignalSubjects, SubjectId};
///
/// /// Users here are their email addresses.
/// struct ByEmail;
///
/// #[rocket::async_trait]
/// impl SignalSubjects for ByEmail {
///     async fn local_subject(&self, _issuer: &str, id: &SubjectId) -> Option<String> {
///         match id {
///             SubjectId::Email(email) => Some(email.to_lowercase()),
///             _ => None,
///         }
///     }
/// }
/// ```
#[rocket::async_trait]
pub trait SignalSubjects: Send + Sync + 'static {
    /// The app's subject (`sub` of its own tokens) that `id`, sent by the issuer
    /// `issuer` (its `iss`), names; `None` when it names no user here. Asked
    /// about the identifier as sent, then (when it maps none) about each of an
    /// `aliases` identifier's members, or a complex subject's `user`.
    async fn local_subject(&self, issuer: &str, id: &SubjectId) -> Option<String>;
}

/// The default: no mapping.
pub(crate) struct NoLocalSubjects;

#[rocket::async_trait]
impl SignalSubjects for NoLocalSubjects {
    async fn local_subject(&self, _issuer: &str, _id: &SubjectId) -> Option<String> {
        None
    }
}

/// A short digest of a subject identifier for the audit log and the signal list
/// (never the identifier itself: an email address is personal data).
pub(crate) fn subject_digest(id: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(id.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_format_of_rfc_9493_is_read() {
        let iss = "https://idp.example";
        let cases = [
            (
                json!({"format": "iss_sub", "iss": iss, "sub": "u1"}),
                Some("u1"),
            ),
            (json!({"format": "opaque", "id": "u2"}), Some("u2")),
            (json!({"format": "email", "email": "a@b.example"}), None),
            (
                json!({"format": "iss_sub", "iss": "https://other", "sub": "u3"}),
                None,
            ),
            (
                json!({"format": "aliases", "identifiers": [
                    {"format": "email", "email": "a@b.example"},
                    {"format": "iss_sub", "iss": iss, "sub": "u4"}]}),
                Some("u4"),
            ),
            (
                json!({"format": "complex",
                       "user": {"format": "iss_sub", "iss": iss, "sub": "u5"},
                       "session": {"format": "opaque", "id": "s5"}}),
                Some("u5"),
            ),
        ];
        for (value, upstream) in cases {
            let id = SubjectId::parse(&value).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(id.upstream_subject(iss), upstream, "{value}");
            assert_eq!(SubjectId::parse(&id.to_json()).as_ref(), Some(&id));
        }
        let complex = json!({"user": {"format": "opaque", "id": "u"},
                             "session": {"format": "opaque", "id": "s"}});
        let id = SubjectId::parse(&complex);
        assert_eq!(id.as_ref().and_then(SubjectId::upstream_session), Some("s"));
    }

    #[test]
    fn a_format_without_its_member_is_refused() {
        for bad in [
            json!({"format": "iss_sub", "sub": "u"}),
            json!({"format": "email"}),
            json!({"format": "opaque", "id": ""}),
            json!({"format": "aliases", "identifiers": []}),
            json!("u"),
            json!({"format": "opaque", "id": "x".repeat(2000)}),
        ] {
            assert!(SubjectId::parse(&bad).is_none(), "{bad}");
        }
        assert!(matches!(
            SubjectId::parse(&json!({"format": "did", "url": "did:example:1"})),
            Some(SubjectId::Other(_))
        ));
    }
}
