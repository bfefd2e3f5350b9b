//! The `resource` table: this API as an OAuth protected resource (RFC 9728).

use serde::Deserialize;

use super::error::{Problem, Problems};

/// This API as an OAuth 2.0 protected resource: what `/.well-known/oauth-protected-
/// resource` tells clients (RFC 9728 §2), and what every `Bearer` challenge points
/// to (`resource_metadata`, RFC 9728 §5.1). Off unless `resource` is set.
///
/// ```toml
/// [default.jwt.resource]
/// resource = "https://api.example/mcp"
/// resource_name = "Example MCP server"
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ResourceConfig {
    /// The resource identifier (RFC 9728 §1.2): an `https` URL without a fragment
    /// (plain `http` for a loopback host, for development). Written here, never
    /// taken from a request's `Host` header; the metadata repeats it byte for byte,
    /// and launch refuses it unless an audience this app accepts (`jwt.audience`
    /// or a trusted issuer's `audience`) is exactly it.
    pub resource: Option<String>,
    /// Issuers of tokens for this resource. Default: the trusted issuers' `issuer`s
    /// (and `jwt.issuer`, when the app's own tokens name one).
    pub authorization_servers: Option<Vec<String>>,
    /// Scopes clients may ask for. Default: every scope a route of this app
    /// requires (from the route manifest).
    pub scopes_supported: Option<Vec<String>>,
    /// A name for people (`resource_name`).
    pub resource_name: Option<String>,
    /// A page about this API for developers (`resource_documentation`).
    pub resource_documentation: Option<String>,
}

impl ResourceConfig {
    /// The `resource` table's rules (RFC 9728 §1.2: `https`, no fragment).
    pub(super) fn check(&self, p: &mut Problems) {
        if let Some(resource) = &self.resource {
            if !is_resource_identifier(resource) {
                p.add("resource", Problem::NotAResource(resource.clone()));
            }
        }
        if let Some(doc) = &self.resource_documentation {
            if !(doc.starts_with("https://") || doc.starts_with("http://")) {
                p.add("resource_documentation", Problem::NotAResource(doc.clone()));
            }
        }
    }

    /// Where the metadata of `resource` lives (RFC 9728 §3.1): the well-known
    /// suffix inserted between the host and the path —
    /// `https://api.example/mcp` → `https://api.example/.well-known/oauth-protected-resource/mcp`.
    pub fn metadata_url(&self) -> Option<String> {
        let resource = self.resource.as_deref()?;
        let (origin, path) = split_origin(resource)?;
        let path = path.trim_end_matches('/');
        Some(format!("{origin}{WELL_KNOWN}{path}"))
    }

    /// The path of the resource identifier, without a trailing `/` (empty for
    /// the app as a whole, `https://api.example`).
    pub fn path(&self) -> Option<&str> {
        let resource = self.resource.as_deref()?;
        let (_, path) = split_origin(resource)?;
        Some(path.trim_end_matches('/'))
    }

    /// Whether a request to `path` is to this resource: its identifier's path is
    /// a prefix of `path`, segment by segment (`/mcp` covers `/mcp` and
    /// `/mcp/x`, not `/mcpx`).
    pub fn covers(&self, path: &str) -> bool {
        self.path().is_some_and(|own| {
            path.strip_prefix(own)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The path at which this app serves the metadata: the path of
    /// [`ResourceConfig::metadata_url`].
    pub fn metadata_path(&self) -> Option<String> {
        let resource = self.resource.as_deref()?;
        let (_, path) = split_origin(resource)?;
        Some(format!("{WELL_KNOWN}{}", path.trim_end_matches('/')))
    }
}

/// The RFC 9728 §3 well-known URI suffix.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// `scheme://authority` and the rest (path and query) of an absolute URL.
fn split_origin(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let origin_len = scheme.len() + 3 + end;
    Some((&url[..origin_len], &url[origin_len..]))
}

/// An RFC 9728 resource identifier: `https` (or `http` to a loopback host), a
/// host, no fragment, no user information, no whitespace.
fn is_resource_identifier(text: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(text) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    scheme_ok
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !text.contains(char::is_whitespace)
        && !text.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(r: &str) -> ResourceConfig {
        ResourceConfig {
            resource: Some(r.to_owned()),
            ..ResourceConfig::default()
        }
    }

    #[test]
    fn the_metadata_url_inserts_the_well_known_suffix_before_the_path() {
        assert_eq!(
            resource("https://api.example/mcp")
                .metadata_url()
                .as_deref(),
            Some("https://api.example/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            resource("https://api.example").metadata_url().as_deref(),
            Some("https://api.example/.well-known/oauth-protected-resource")
        );
        assert_eq!(
            resource("http://127.0.0.1:8000/mcp/")
                .metadata_path()
                .as_deref(),
            Some("/.well-known/oauth-protected-resource/mcp")
        );
    }

    #[test]
    fn a_resource_covers_the_paths_below_its_own() {
        let mcp = resource("https://api.example/mcp");
        assert!(mcp.covers("/mcp") && mcp.covers("/mcp/tools"));
        assert!(!mcp.covers("/mcpx") && !mcp.covers("/me") && !mcp.covers("/"));
        let app = resource("https://api.example");
        assert!(app.covers("/me") && app.covers("/mcp") && app.covers("/"));
        assert!(resource("https://api.example/").covers("/me"));
    }

    #[test]
    fn identifiers_are_https_urls_without_fragments() {
        for good in [
            "https://api.example/mcp",
            "https://api.example",
            "http://127.0.0.1:8000/mcp",
            "http://localhost:8000",
        ] {
            assert!(is_resource_identifier(good), "{good}");
        }
        for bad in [
            "http://api.example/mcp",
            "https://api.example/mcp#frag",
            "api.example/mcp",
            "https://user:pw@api.example/",
            "https://api.example/a b",
            "",
        ] {
            assert!(!is_resource_identifier(bad), "{bad}");
        }
    }
}
