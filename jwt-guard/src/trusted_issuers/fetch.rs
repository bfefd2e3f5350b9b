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

/// Why an outside issuer's keys could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed (unreachable, timed out, TLS).
    #[error("cannot reach {url}: {source}")]
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
    #[error("{url}: {why}")]
    Document {
        /// What was read.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The JWKS file cannot be read.
    #[error("cannot read {path}: {source}")]
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
        let (body, max_age) = get(http, &url).await?;
        (parse_jwks(&url, &body)?, max_age)
    };
    let keys = usable_keys(&set, &config.algorithms);
    if keys.is_empty() {
        return Err(FetchError::NoKeys(config.name.clone()));
    }
    let lifetime = max_age.unwrap_or_else(|| config.refresh_interval.into());
    Ok(KeySet {
        keys,
        fresh_until: Instant::now() + lifetime,
    })
}

/// The `jwks_uri` of the OpenID discovery document at `discovery`, which must
/// name `config`'s issuer.
async fn jwks_uri(
    config: &TrustedIssuerConfig,
    http: &reqwest::Client,
    discovery: &str,
) -> Result<String, FetchError> {
    let url = if discovery.ends_with("/.well-known/openid-configuration") {
        discovery.to_owned()
    } else {
        format!(
            "{}/.well-known/openid-configuration",
            discovery.trim_end_matches('/')
        )
    };
    let (body, _) = get(http, &url).await?;
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: String,
    }
    let document: Discovery = serde_json::from_slice(&body).map_err(|e| FetchError::Document {
        url: url.clone(),
        why: format!("not an OpenID configuration: {e}"),
    })?;
    if document.issuer != config.issuer {
        return Err(FetchError::Document {
            url,
            why: format!(
                "names issuer `{}`, not the configured `{}`",
                document.issuer, config.issuer
            ),
        });
    }
    Ok(document.jwks_uri)
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
    let body = res.bytes().await.map_err(http)?;
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(FetchError::Document {
            url: url.to_owned(),
            why: format!("larger than {MAX_DOCUMENT_BYTES} bytes"),
        });
    }
    Ok((body.to_vec(), max_age))
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
            why: format!("larger than {MAX_DOCUMENT_BYTES} bytes"),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| FetchError::Document {
        url: source.to_owned(),
        why: format!("not a JWKS: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
