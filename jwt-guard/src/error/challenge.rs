//! The `WWW-Authenticate` challenges of a failure: RFC 6750 §3 (`Bearer`), RFC 9449
//! §7.1 (`DPoP`, with `algs`), RFC 9470 §3 (`max_age`, `acr_values`), RFC 9728
//! §5.1 (`resource_metadata`) and RFC 6749 §5.2 (`Basic` for clients).

use std::sync::OnceLock;

use rocket::http::Status;
use rocket::request::Request;

use super::failure::{AuthError, ErrorCode};

/// The `realm` of every `WWW-Authenticate` challenge, and the protected
/// resources' metadata URLs they point to (RFC 9728 §5.1), managed by the fairing.
#[derive(Clone, Debug)]
pub(crate) struct Realm {
    pub(crate) name: String,
    /// Each resource's path and metadata URL, the longest path first: a request
    /// is to the first whose path is a prefix of its own (RFC 9728 §3.3).
    pub(crate) resources: Vec<(String, String)>,
    /// With DPoP on: the proof algorithms accepted, space-separated (RFC 9449
    /// §7.1 `algs`), and whether bearer tokens are refused everywhere.
    pub(crate) dpop_algs: Option<String>,
    pub(crate) dpop_required: bool,
}

impl Realm {
    /// The realm, metadata URL and DPoP settings of the application serving `req`
    /// (jwt-guard's defaults without the fairing).
    pub(super) fn of<'r>(req: &'r Request<'_>) -> &'r Realm {
        static DEFAULT: OnceLock<Realm> = OnceLock::new();
        req.rocket().state::<Realm>().unwrap_or_else(|| {
            DEFAULT.get_or_init(|| Realm {
                name: "jwt-guard".to_owned(),
                resources: Vec::new(),
                dpop_algs: None,
                dpop_required: false,
            })
        })
    }
}

impl Realm {
    /// The metadata URL of the resource a request to `path` is to: the one whose
    /// path is the longest prefix of it, segment by segment.
    fn metadata_for(&self, path: &str) -> Option<&str> {
        self.resources
            .iter()
            .find(|(own, _)| {
                path.strip_prefix(own.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .map(|(_, url)| url.as_str())
    }
}

impl AuthError {
    /// The `WWW-Authenticate` challenge for this failure, if it has one.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        self.challenge_for(realm, None)
    }

    /// The challenge, pointing to the protected resource's metadata
    /// (`resource_metadata`, RFC 9728 §5.1) when one is configured.
    pub fn challenge_for(&self, realm: &str, resource_metadata: Option<&str>) -> Option<String> {
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: the scheme the client authenticates with.
            return Some(format!("Basic realm=\"{}\"", quote(realm)));
        }
        let c = self.bare_challenge(realm)?;
        Some(self.with_parameters(c, resource_metadata))
    }

    /// Every challenge of this failure, first the one carrying its error: with
    /// DPoP on, a `DPoP` challenge naming the accepted algorithms beside the
    /// `Bearer` one (RFC 9449 §7.1), or alone where bearer tokens are refused.
    pub(super) fn challenges(&self, app: &Realm, path: &str) -> Vec<String> {
        if self.dpop && self.status != Status::Unauthorized {
            // A token endpoint's refusal (RFC 9449 §5): the JSON body says it.
            return Vec::new();
        }
        let metadata = app.metadata_for(path);
        // DPoP is named beside the failure's own challenge on 401s of our tokens
        // (a client failing `Basic` is told `Basic` alone).
        let dpop_401 = self.status == Status::Unauthorized && self.code != ErrorCode::InvalidClient;
        let Some(algs) = app.dpop_algs.as_deref().filter(|_| dpop_401) else {
            return self
                .challenge_for(&app.name, metadata)
                .into_iter()
                .collect();
        };
        let realm = quote(&app.name);
        let algs = format!("algs=\"{}\"", quote(algs));
        let bearer_too = !(self.dpop_only || app.dpop_required);
        let mut found = Vec::new();
        if self.dpop || !bearer_too {
            let mut c = format!("DPoP realm=\"{realm}\"");
            if self.code != ErrorCode::MissingToken {
                c.push_str(&format!(
                    ", error=\"{}\", error_description=\"{}\"",
                    self.code.as_str(),
                    quote(&self.description)
                ));
            }
            c.push_str(&format!(", {algs}"));
            found.push(self.with_parameters(c, metadata));
            if bearer_too {
                found.push(format!("Bearer realm=\"{realm}\""));
            }
        } else {
            found.extend(self.challenge_for(&app.name, metadata));
            found.push(format!("DPoP realm=\"{realm}\", {algs}"));
        }
        found
    }

    /// `c` with the parameters every challenge of this failure carries.
    fn with_parameters(&self, mut c: String, resource_metadata: Option<&str>) -> String {
        if let Some(scope) = &self.scope {
            c.push_str(&format!(", scope=\"{}\"", quote(scope)));
        }
        // RFC 9470 §3: what the new authentication must satisfy.
        if let Some(max_age) = self.max_age {
            c.push_str(&format!(", max_age=\"{max_age}\""));
        }
        if let Some(acr_values) = self.acr_values {
            c.push_str(&format!(", acr_values=\"{}\"", quote(acr_values)));
        }
        if let Some(url) = resource_metadata {
            c.push_str(&format!(", resource_metadata=\"{}\"", quote(url)));
        }
        c
    }

    /// The challenge's scheme, realm and RFC 6750 §3 error.
    fn bare_challenge(&self, realm: &str) -> Option<String> {
        let realm = quote(realm);
        match self.code {
            ErrorCode::MissingToken | ErrorCode::InvalidCredentials => {
                Some(format!("Bearer realm=\"{realm}\""))
            }
            ErrorCode::TemporarilyUnavailable
            | ErrorCode::InvalidClient
            | ErrorCode::TooManyRequests
            | ErrorCode::CrossSite
            | ErrorCode::DeviceLimit
            | ErrorCode::LinkGone
            | ErrorCode::InvalidLink
            | ErrorCode::NotFound
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::MethodNotAllowed
            | ErrorCode::ServerError
            | ErrorCode::HttpError => None,
            ErrorCode::InvalidRequest
            | ErrorCode::InvalidToken
            | ErrorCode::InsufficientScope
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce
            | ErrorCode::InsufficientUserAuthentication => Some(format!(
                "Bearer realm=\"{realm}\", error=\"{}\", error_description=\"{}\"",
                self.code.as_str(),
                quote(&self.description)
            )),
        }
    }
}

/// `text` as the inside of an RFC 9110 §5.6.4 quoted-string: `"` and `\` escaped
/// as quoted-pairs; what no quoted-string may hold (control characters, so no
/// header can be split, and non-ASCII) dropped.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len());
    for c in text.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_token_gets_a_bare_challenge() {
        assert_eq!(
            AuthError::missing_token().challenge("app").as_deref(),
            Some("Bearer realm=\"app\"")
        );
    }

    #[test]
    fn invalid_token_names_the_error() {
        let c = AuthError::invalid_token("token has expired").challenge("app");
        assert_eq!(
            c.as_deref(),
            Some(
                "Bearer realm=\"app\", error=\"invalid_token\", \
                 error_description=\"token has expired\""
            )
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope() {
        let c = AuthError::insufficient_scope("a scope is missing", Some("reports:read"))
            .challenge("app")
            .unwrap_or_default();
        assert!(c.contains("error=\"insufficient_scope\""), "{c}");
        assert!(c.ends_with(", scope=\"reports:read\""), "{c}");
    }

    #[test]
    fn quotes_and_control_characters_cannot_break_the_header() {
        let c = AuthError::invalid_token("bad \"x\"\r\nSet-Cookie: a=b\\")
            .challenge("re\"alm")
            .unwrap_or_default();
        assert!(!c.contains('\r') && !c.contains('\n'), "{c}");
        // Escaped, not stripped: the description says what it said.
        assert!(c.contains(r#"realm="re\"alm""#), "{c}");
        assert!(
            c.contains(r#"error_description="bad \"x\"Set-Cookie: a=b\\""#),
            "{c}"
        );
        // Three quoted-strings: six quotes that are not quoted-pairs.
        let (mut delimiters, mut escaped) = (0, false);
        for ch in c.chars() {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => delimiters += 1,
                _ => {}
            }
        }
        assert_eq!(delimiters, 6, "{c}");
    }
}
