//! One outside issuer ([`OutsideIssuer`]): its cached keys, refreshed when stale or
//! on an unknown `kid` (rate-limited), and the tokens it signs verified as
//! strictly as the app's own; and all of them by name ([`TrustedIssuers`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::Validation;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::fetch::{fetch_keys, provider_client, FetchError};
use super::key_set::{family_of, KeySet};
use crate::claims::{Confirmation, RegisteredClaims, Token, TokenKind};
use crate::clock::Clock;
use crate::config::{TrustedIssuerConfig, MAX_TOKEN_BYTES};
use crate::revocation_set::RevocationSet;
use crate::verifier::{map_error, VerifyError};

/// The `iss` a token claims, read before its signature is checked.
#[derive(Deserialize)]
struct ClaimedIssuer {
    iss: Option<String>,
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
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    amr: Option<Vec<String>>,
    /// RFC 9449 §6.1: a token the provider bound to the client's DPoP key.
    #[serde(default)]
    cnf: Option<Confirmation>,
    #[serde(flatten)]
    claims: C,
}

/// Media types an outside access token may declare in `typ` (RFC 9068 and plain JWT).
/// RFC 9068's access-token type.
fn is_access_token_typ(typ: &str) -> bool {
    ["at+jwt", "application/at+jwt"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(typ))
}

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
                    "jwt-guard: keys of issuer `{}` not refreshed, keeping the cached ones: {}",
                    self.config.name,
                    crate::observe::Chain(&e)
                );
                false
            }
        }
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
        // RFC 9068 §4: access tokens say `at+jwt`; an issuer configured to require
        // it refuses everything else (an ID token sent to an API whose audience it
        // happens to carry, say).
        let access_typ = header.typ.as_deref().is_some_and(is_access_token_typ);
        if self.config.require_access_token_type && !access_typ {
            return Err(VerifyError::WrongKind {
                expected: TokenKind::Access,
            });
        }
        if header.typ.as_deref().is_some_and(|t| !acceptable_typ(t)) {
            return Err(VerifyError::Malformed);
        }
        // Another party's token (the app's own, say) is named as such before any
        // key is looked for; the signature below still decides for this issuer's.
        let claimed: Option<ClaimedIssuer> =
            jsonwebtoken::dangerous::insecure_decode_claims(token).ok();
        if claimed.is_some_and(|c| c.iss.as_deref() != Some(self.config.issuer.as_str())) {
            return Err(VerifyError::WrongIssuer);
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
            // The provider's own word on when the user authenticated, or none: a
            // `fresh` route refuses a token without `auth_time` rather than take
            // its `iat` (a refresh at the provider is no new login).
            orig_iat: claims.auth_time,
            iss: Some(claims.iss),
            aud: Some(self.config.audience.clone()),
            auth_time: claims.auth_time,
            acr: claims.acr,
            amr: claims.amr,
            cnf: claims.cnf,
        };
        if revocations.is_revoked(&registered) {
            return Err(VerifyError::Revoked);
        }
        Ok(Token {
            registered,
            claims: claims.claims,
        })
    }

    async fn fetch(&self) -> Result<(), FetchError> {
        let fetched = fetch_keys(&self.config, &self.http).await;
        crate::observe::jwks_fetched(
            &self.config.name,
            if fetched.is_ok() { "ok" } else { "error" },
        );
        let fresh = fetched?;
        if let Ok(mut current) = self.keys.write() {
            *current = Arc::new(fresh);
        }
        Ok(())
    }
}

/// The outside issuers of `trusted_issuers`, by name. Managed by the fairing.
#[derive(Debug, Default)]
pub struct TrustedIssuers {
    by_name: HashMap<String, Arc<OutsideIssuer>>,
}

impl TrustedIssuers {
    /// The issuers `configs` describe (nothing fetched yet).
    pub fn new(configs: &[TrustedIssuerConfig], clock: &Clock) -> Self {
        let http = provider_client();
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
                        "jwt-guard: starting without the keys of issuer `{}` (start_without_keys): {}",
                        issuer.config.name,
                        crate::observe::Chain(&e)
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
    fn access_token_types_of_rfc_9068_are_accepted() {
        assert!(acceptable_typ("at+jwt") && acceptable_typ("application/at+JWT"));
        assert!(acceptable_typ("JWT"));
        assert!(!acceptable_typ("refresh+jwt"));
    }
}
