//! Tokens from outside identity providers (resource-server mode): issuers named in
//! `trusted_issuers`, their keys fetched from a JWKS (a URL, an OpenID Connect
//! discovery document, or a file), cached, refreshed on the provider's
//! `Cache-Control: max-age` and on an unknown `kid` (rate-limited), and the tokens
//! they sign verified as strictly as the app's own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::claims::{RegisteredClaims, Token, TokenKind};
use crate::clock::Clock;
use crate::config::{TrustedIssuerConfig, MAX_TOKEN_BYTES};
use crate::revocation::RevocationSet;
use crate::verifier::{map_error, VerifyError};

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

/// One verification key of a provider.
struct OutsideKey {
    kid: Option<String>,
    /// The key's own `alg`, if its JWK names one.
    alg: Option<Algorithm>,
    family: KeyFamily,
    key: DecodingKey,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyFamily {
    Rsa,
    Ec,
    Okp,
}

fn family_of(alg: Algorithm) -> Option<KeyFamily> {
    use Algorithm::*;
    match alg {
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => Some(KeyFamily::Rsa),
        ES256 | ES384 => Some(KeyFamily::Ec),
        EdDSA => Some(KeyFamily::Okp),
        _ => None,
    }
}

/// The keys of one fetch, and until when they are fresh.
struct KeySet {
    keys: Vec<OutsideKey>,
    fresh_until: Instant,
}

/// One trusted outside issuer.
pub struct OutsideIssuer {
    config: TrustedIssuerConfig,
    keys: RwLock<Arc<KeySet>>,
    /// When a fetch last started: at most one per `min_refetch_interval`.
    last_fetch: Mutex<Option<Instant>>,
    http: reqwest::Client,
    clock: Clock,
}

impl std::fmt::Debug for OutsideIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutsideIssuer")
            .field("name", &self.config.name)
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

/// What a token from outside carries besides the application's claims.
#[derive(Deserialize)]
struct OutsideToken<C> {
    iss: String,
    sub: String,
    exp: u64,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    auth_time: Option<u64>,
    #[serde(flatten)]
    claims: C,
}

/// Media types an outside access token may declare in `typ` (RFC 9068 and plain JWT).
fn acceptable_typ(typ: &str) -> bool {
    ["JWT", "at+jwt", "application/at+jwt"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(typ))
}

impl OutsideIssuer {
    fn new(config: TrustedIssuerConfig, http: reqwest::Client, clock: Clock) -> Self {
        let empty = KeySet {
            keys: Vec::new(),
            fresh_until: Instant::now(),
        };
        Self {
            config,
            keys: RwLock::new(Arc::new(empty)),
            last_fetch: Mutex::new(None),
            http,
            clock,
        }
    }

    /// The name routes use (`#[use_jwt(issuer = "…")]`).
    pub fn name(&self) -> &str {
        &self.config.name
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Fetches the keys now (at launch), regardless of the rate limit.
    pub(crate) async fn load(&self) -> Result<(), FetchError> {
        if let Ok(mut last) = self.last_fetch.lock() {
            *last = Some(Instant::now());
        }
        self.fetch().await
    }

    /// Fetches the keys unless a fetch started within `min_refetch_interval`: random
    /// `kid`s cannot make us hammer the provider. A failed fetch keeps the keys we
    /// have.
    async fn refetch(&self) -> bool {
        let interval: Duration = self.config.min_refetch_interval.into();
        let allowed = match self.last_fetch.lock() {
            Ok(mut last) => {
                let due = last.is_none_or(|t| t.elapsed() >= interval);
                if due {
                    *last = Some(Instant::now());
                }
                due
            }
            Err(_) => false,
        };
        if !allowed {
            return false;
        }
        match self.fetch().await {
            Ok(()) => true,
            Err(e) => {
                rocket::warn!(
                    "jwt-guard: keys of issuer `{}` not refreshed, keeping the cached ones: {e}",
                    self.config.name
                );
                false
            }
        }
    }

    async fn fetch(&self) -> Result<(), FetchError> {
        let (set, max_age) = if let Some(path) = &self.config.jwks {
            let text = std::fs::read_to_string(path).map_err(|source| FetchError::File {
                path: path.clone(),
                source,
            })?;
            (parse_jwks(path, text.as_bytes())?, None)
        } else {
            let url = match (&self.config.jwks_url, &self.config.discovery) {
                (Some(url), _) => url.clone(),
                (None, Some(discovery)) => self.jwks_uri(discovery).await?,
                (None, None) => return Err(FetchError::NoKeys(self.config.name.clone())),
            };
            let (body, max_age) = self.get(&url).await?;
            (parse_jwks(&url, &body)?, max_age)
        };
        let keys = usable_keys(&set, &self.config.algorithms);
        if keys.is_empty() {
            return Err(FetchError::NoKeys(self.config.name.clone()));
        }
        let lifetime = max_age.unwrap_or_else(|| self.config.refresh_interval.into());
        let fresh = KeySet {
            keys,
            fresh_until: Instant::now() + lifetime,
        };
        if let Ok(mut current) = self.keys.write() {
            *current = Arc::new(fresh);
        }
        Ok(())
    }

    async fn jwks_uri(&self, discovery: &str) -> Result<String, FetchError> {
        let url = if discovery.ends_with("/.well-known/openid-configuration") {
            discovery.to_owned()
        } else {
            format!(
                "{}/.well-known/openid-configuration",
                discovery.trim_end_matches('/')
            )
        };
        let (body, _) = self.get(&url).await?;
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let document: Discovery =
            serde_json::from_slice(&body).map_err(|e| FetchError::Document {
                url: url.clone(),
                why: format!("not an OpenID configuration: {e}"),
            })?;
        if document.issuer != self.config.issuer {
            return Err(FetchError::Document {
                url,
                why: format!(
                    "names issuer `{}`, not the configured `{}`",
                    document.issuer, self.config.issuer
                ),
            });
        }
        Ok(document.jwks_uri)
    }

    /// GETs `url`; the body and the response's `Cache-Control: max-age`.
    async fn get(&self, url: &str) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
        let http = |source| FetchError::Http {
            url: url.to_owned(),
            source,
        };
        let res = self
            .http
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

    /// Verifies a token this issuer signed: `iss` and `aud` exact, `exp` required,
    /// `nbf` and a future `iat` refused, the algorithm taken from the configuration
    /// and the key (never HMAC, never `none`), `typ` JWT or `at+jwt` (RFC 9068), and
    /// the app's revocations applied to its `jti` and subject.
    pub async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        revocations: &RevocationSet,
    ) -> Result<Token<C>, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.crit.is_some() {
            return Err(VerifyError::UnsupportedCritical);
        }
        if header.typ.as_deref().is_some_and(|t| !acceptable_typ(t)) {
            return Err(VerifyError::Malformed);
        }
        if !self.config.algorithms.contains(&header.alg) {
            return Err(VerifyError::AlgorithmMismatch);
        }
        let family = family_of(header.alg).ok_or(VerifyError::AlgorithmMismatch)?;
        let mut keys = self.current();
        if keys.fresh_until <= Instant::now() && self.refetch().await {
            keys = self.current();
        }
        let pick = |keys: &KeySet| -> Option<usize> {
            keys.keys.iter().position(|k| {
                k.family == family
                    && k.alg.is_none_or(|a| a == header.alg)
                    && match (&header.kid, &k.kid) {
                        (Some(wanted), Some(kid)) => wanted == kid,
                        (None, _) => keys.keys.len() == 1,
                        (Some(_), None) => false,
                    }
            })
        };
        let index = match pick(&keys) {
            Some(i) => i,
            None => {
                // An unknown key: perhaps the provider rotated. Ask again (at most
                // once per interval), then decide.
                if !self.refetch().await {
                    return Err(VerifyError::UnknownKey);
                }
                keys = self.current();
                pick(&keys).ok_or(VerifyError::UnknownKey)?
            }
        };
        let key = &keys.keys[index];
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<OutsideToken<C>>(token, &key.key, &validation)
            .map_err(|e| map_error(&e))?;
        let claims = data.claims;
        let now = self.clock.now();
        let leeway = self.config.leeway.as_secs();
        if claims
            .iat
            .is_some_and(|iat| iat > now.saturating_add(leeway))
        {
            return Err(VerifyError::IssuedInFuture);
        }
        let iat = claims.iat.unwrap_or(0);
        let registered = RegisteredClaims {
            typ: TokenKind::Access,
            sub: claims.sub,
            exp: claims.exp,
            iat,
            nbf: claims.nbf,
            jti: claims.jti.unwrap_or_default(),
            did: None,
            orig_iat: Some(claims.auth_time.unwrap_or(iat)),
            iss: Some(claims.iss),
            aud: Some(self.config.audience.clone()),
        };
        if revocations.is_revoked(&registered) {
            return Err(VerifyError::Revoked);
        }
        Ok(Token {
            registered,
            claims: claims.claims,
        })
    }
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

/// The keys of `set` that can verify one of `algorithms`: asymmetric only (a
/// symmetric `oct` key in a public JWKS is refused, so no token is ever checked as
/// HMAC with a public key).
fn usable_keys(set: &JwkSet, algorithms: &[Algorithm]) -> Vec<OutsideKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let family = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
                AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
                AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Okp,
                _ => return None,
            };
            let alg = jwk_algorithm(jwk);
            let fits = algorithms
                .iter()
                .any(|a| family_of(*a) == Some(family) && alg.is_none_or(|k| k == *a));
            if !fits {
                return None;
            }
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some(OutsideKey {
                kid: jwk.common.key_id.clone(),
                alg,
                family,
                key,
            })
        })
        .collect()
}

fn jwk_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let name = jwk.common.key_algorithm.as_ref()?.to_string();
    name.parse().ok()
}

/// The outside issuers of `trusted_issuers`, by name. Managed by the fairing.
#[derive(Debug, Default)]
pub struct TrustedIssuers {
    by_name: HashMap<String, Arc<OutsideIssuer>>,
}

impl TrustedIssuers {
    /// The issuers `configs` describe (nothing fetched yet).
    pub fn new(configs: &[TrustedIssuerConfig], clock: &Clock) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("jwt-guard/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let by_name = configs
            .iter()
            .map(|c| {
                let issuer = OutsideIssuer::new(c.clone(), http.clone(), clock.clone());
                (c.name.clone(), Arc::new(issuer))
            })
            .collect();
        Self { by_name }
    }

    /// The issuer named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<OutsideIssuer>> {
        self.by_name.get(name)
    }

    /// The configured names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Fetches every issuer's keys (at launch). An issuer whose keys cannot be had
    /// stops launch unless it is configured with `start_without_keys`.
    pub(crate) async fn load_all(&self) -> Result<(), (String, FetchError)> {
        for issuer in self.by_name.values() {
            if let Err(e) = issuer.load().await {
                if issuer.config.start_without_keys {
                    rocket::warn!(
                        "jwt-guard: starting without the keys of issuer `{}` (start_without_keys): {e}",
                        issuer.config.name
                    );
                } else {
                    return Err((issuer.config.name.clone(), e));
                }
            }
        }
        Ok(())
    }
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

    #[test]
    fn symmetric_keys_in_a_jwks_are_never_used() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({
            "keys": [{ "kty": "oct", "kid": "h", "k": "c2VjcmV0", "alg": "HS256" }]
        }))
        .unwrap();
        assert!(usable_keys(&set, &[Algorithm::RS256, Algorithm::HS256]).is_empty());
    }

    #[test]
    fn access_token_types_of_rfc_9068_are_accepted() {
        assert!(acceptable_typ("at+jwt") && acceptable_typ("application/at+JWT"));
        assert!(acceptable_typ("JWT"));
        assert!(!acceptable_typ("refresh+jwt"));
    }
}
