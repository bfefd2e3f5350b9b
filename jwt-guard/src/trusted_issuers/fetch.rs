//! Fetching a provider's keys: a JWKS file, a JWKS URL, or the `jwks_uri` of its
//! OpenID discovery document; bounded in time and size.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use super::key_set::{usable_keys, KeySet};
use crate::config::TrustedIssuerConfig;

/// How long one fetch of a provider's keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest JWKS or discovery document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Longest time fetched keys are used before they are fetched again, whatever a
/// provider's `Cache-Control: max-age` says (a huge one must not overflow a clock).
pub(crate) const MAX_KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Redirects followed on the provider's own host.
const MAX_REDIRECTS: usize = 5;

/// Why an outside issuer's keys could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed (unreachable, timed out, TLS).
    #[error("cannot reach {url}")]
    Http {
        /// What was fetched.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The provider answered with an error status.
    #[error("{url} answered {status}")]
    Status {
        /// What was fetched.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The document is not what it should be.
    #[error("the document at {url} cannot be used")]
    Document {
        /// What was read.
        url: String,
        /// What is wrong with it.
        #[source]
        problem: DocumentProblem,
    },
    /// The JWKS file cannot be read.
    #[error("cannot read {path}")]
    File {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The JWKS holds no key usable with the configured algorithms.
    #[error("{0}: no usable key (keys need a `kid` and an asymmetric type matching `algorithms`)")]
    NoKeys(String),
}

/// What is wrong with a provider's document or URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentProblem {
    /// Not the JSON document expected there.
    #[error("not {expected}")]
    NotJson {
        /// What was expected: "an OpenID configuration", "a JWKS".
        expected: &'static str,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A discovery document of another issuer.
    #[error("it names issuer `{named}`, not the configured `{configured}`")]
    OtherIssuer {
        /// The issuer the document names.
        named: String,
        /// The configured issuer.
        configured: String,
    },
    /// A discovery document whose keys are on another origin (not followed).
    #[error("its jwks_uri `{0}` is on another origin; give it as `jwks_url` to trust it")]
    ForeignJwks(String),
    /// Not a URL.
    #[error("not a URL")]
    NotAUrl,
    /// Plain `http` to a host that is not loopback, without `allow_http`.
    #[error("plain http is refused for keys (set `allow_http = true` to accept it)")]
    PlainHttp,
    /// Neither `https` nor `http`.
    #[error("only https URLs are fetched")]
    NotHttps,
    /// Larger than a provider's document may be.
    #[error("larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
}

/// Fetches the keys `config` names (a JWKS file, URL or discovery document), and
/// until when they are fresh (the provider's `Cache-Control: max-age`, else
/// `refresh_interval`).
pub(super) async fn fetch_keys(
    config: &TrustedIssuerConfig,
    http: &reqwest::Client,
) -> Result<KeySet, FetchError> {
    let (set, max_age) = if let Some(source) = &config.jwks {
        if source.trim_start().starts_with('{') {
            (parse_jwks("the inline `jwks`", source.as_bytes())?, None)
        } else {
            let text = std::fs::read_to_string(source).map_err(|e| FetchError::File {
                path: source.clone(),
                source: e,
            })?;
            (parse_jwks(source, text.as_bytes())?, None)
        }
    } else {
        let url = match (&config.jwks_url, &config.discovery) {
            (Some(url), _) => url.clone(),
            (None, Some(discovery)) => jwks_uri(config, http, discovery).await?,
            (None, None) => return Err(FetchError::NoKeys(config.name.clone())),
        };
        provider_url(&url, config.allow_http)?;
        let (body, max_age) = get(http, &url).await?;
        (parse_jwks(&url, &body)?, max_age)
    };
    let keys = usable_keys(&set, &config.algorithms);
    if keys.is_empty() {
        return Err(FetchError::NoKeys(config.name.clone()));
    }
    let lifetime = max_age
        .unwrap_or_else(|| config.refresh_interval.into())
        .min(MAX_KEY_LIFETIME);
    let now = Instant::now();
    Ok(KeySet {
        keys,
        fresh_until: now.checked_add(lifetime).unwrap_or(now),
    })
}

/// The `jwks_uri` of the OpenID discovery document at `discovery`, which must
/// name `config`'s issuer.
async fn jwks_uri(
    config: &TrustedIssuerConfig,
    http: &reqwest::Client,
    discovery: &str,
) -> Result<String, FetchError> {
    // An SSF transmitter's configuration (SSF 1.0 §7.1) names its `issuer` and
    // `jwks_uri` as a discovery document does, and is read with the same rules.
    let ssf = discovery.contains("/.well-known/ssf-configuration");
    let url = if ssf || discovery.ends_with("/.well-known/openid-configuration") {
        discovery.to_owned()
    } else {
        format!(
            "{}/.well-known/openid-configuration",
            discovery.trim_end_matches('/')
        )
    };
    let discovery_url = provider_url(&url, config.allow_http)?;
    let (body, _) = get(http, &url).await?;
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: String,
    }
    let document: Discovery =
        serde_json::from_slice(&body).map_err(|source| FetchError::Document {
            url: url.clone(),
            problem: DocumentProblem::NotJson {
                expected: if ssf {
                    "an SSF configuration"
                } else {
                    "an OpenID configuration"
                },
                source,
            },
        })?;
    if document.issuer != config.issuer {
        return Err(FetchError::Document {
            url,
            problem: DocumentProblem::OtherIssuer {
                named: document.issuer,
                configured: config.issuer.clone(),
            },
        });
    }
    // The keys come from the provider itself: a discovery document naming a JWKS on
    // another origin (or over plain HTTP) is refused, not followed.
    let jwks = provider_url(&document.jwks_uri, config.allow_http)?;
    if jwks.origin() != discovery_url.origin() {
        return Err(FetchError::Document {
            url,
            problem: DocumentProblem::ForeignJwks(document.jwks_uri),
        });
    }
    Ok(document.jwks_uri)
}

/// `url` if keys may be fetched from it: `https`, or plain `http` to a loopback
/// host (tests, a sidecar) or when the issuer says `allow_http`.
pub(crate) fn provider_url(url: &str, allow_http: bool) -> Result<reqwest::Url, FetchError> {
    let bad = |problem| FetchError::Document {
        url: url.to_owned(),
        problem,
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad(DocumentProblem::NotAUrl))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if allow_http || is_loopback(&parsed) => Ok(parsed),
        "http" => Err(bad(DocumentProblem::PlainHttp)),
        _ => Err(bad(DocumentProblem::NotHttps)),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The client for providers' keys: redirects are followed only on the host they
/// start from, and at most [`MAX_REDIRECTS`] of them.
pub(crate) fn provider_client() -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt
            .previous()
            .first()
            .is_some_and(|first| first.host_str() == attempt.url().host_str());
        if attempt.previous().len() > MAX_REDIRECTS || !same_host {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .user_agent(concat!("jwt-guard/", env!("CARGO_PKG_VERSION")))
        .redirect(policy)
        .build()
        .unwrap_or_default()
}

/// GETs `url`; the body and the response's `Cache-Control: max-age`.
async fn get(
    client: &reqwest::Client,
    url: &str,
) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
    let http = |source| FetchError::Http {
        url: url.to_owned(),
        source,
    };
    let res = client
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(http)?;
    if !res.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status: res.status().as_u16(),
        });
    }
    let max_age = res
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    // Read as it arrives, and cut at the limit: an endless body costs nothing.
    let mut res = res;
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(FetchError::Document {
                url: url.to_owned(),
                problem: DocumentProblem::TooLarge,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, max_age))
}

/// `Cache-Control: max-age=N` as a duration (ignoring `no-cache`-like directives:
/// the rate limit still bounds fetches).
fn max_age(header: &str) -> Option<Duration> {
    header.split(',').find_map(|part| {
        let (name, value) = part.trim().split_once('=')?;
        (name.eq_ignore_ascii_case("max-age"))
            .then(|| value.trim().parse().ok().map(Duration::from_secs))
            .flatten()
    })
}

fn parse_jwks(source: &str, bytes: &[u8]) -> Result<JwkSet, FetchError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(FetchError::Document {
            url: source.to_owned(),
            problem: DocumentProblem::TooLarge,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| FetchError::Document {
        url: source.to_owned(),
        problem: DocumentProblem::NotJson {
            expected: "a JWKS",
            source: e,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_travel_over_https_or_to_this_machine() {
        assert!(provider_url("https://sso.example/jwks", false).is_ok());
        assert!(provider_url("http://127.0.0.1:9000/jwks", false).is_ok());
        assert!(provider_url("http://[::1]/jwks", false).is_ok());
        assert!(provider_url("http://localhost/jwks", false).is_ok());
        assert!(provider_url("http://sso.example/jwks", false).is_err());
        assert!(provider_url("http://sso.example/jwks", true).is_ok());
        assert!(provider_url("file:///etc/passwd", true).is_err());
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("MAX-AGE=5"), Some(Duration::from_secs(5)));
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
