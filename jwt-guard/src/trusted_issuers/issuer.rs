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
        let (keys, index) = self.key_for(&header).await?;
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
        // A logout or account signal from this issuer revokes its earlier tokens
        // of the user (`signals`).
        let outside_revoked =
            || revocations.revokes_outside(&self.config.issuer, &registered.sub, registered.iat);
        if revocations.is_revoked(&registered) || outside_revoked() {
            return Err(VerifyError::Revoked);
        }
        Ok(Token {
            registered,
            claims: claims.claims,
        })
    }

    /// Whether any key is at hand.
    pub(crate) fn has_keys(&self) -> bool {
        !self.current().keys.is_empty()
    }

    /// Fetches the keys now unless a fetch started within
    /// `min_refetch_interval`; whether any key is then at hand.
    pub(crate) async fn load_now(&self) -> bool {
        self.refetch().await;
        self.has_keys()
    }

    /// The configuration it was made from.
    pub(crate) fn config(&self) -> &TrustedIssuerConfig {
        &self.config
    }

    /// The key a token with `header` names: of the algorithm's family, and its
    /// `kid` (the only key when the token names none). Stale keys are fetched
    /// again first; an unknown `kid` triggers one fetch (at most one per
    /// `min_refetch_interval`: perhaps the provider rotated). The algorithm must
    /// be a configured one.
    async fn key_for(
        &self,
        header: &jsonwebtoken::Header,
    ) -> Result<(Arc<KeySet>, usize), VerifyError> {
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
        if let Some(index) = pick(&keys) {
            return Ok((keys, index));
        }
        if !self.refetch().await {
            return Err(VerifyError::UnknownKey);
        }
        let keys = self.current();
        let index = pick(&keys).ok_or(VerifyError::UnknownKey)?;
        Ok((keys, index))
    }

    /// Decodes `token`, signed by one of this issuer's keys (the one its header
    /// names, found as [`OutsideIssuer::verify`] finds it), and checked as
    /// `validation` says — with the header's algorithm, which must be a
    /// configured one. For the other tokens an issuer sends: logout tokens and
    /// security events (`signals`).
    pub(crate) async fn decode_signed<T: DeserializeOwned>(
        &self,
        token: &str,
        header: &jsonwebtoken::Header,
        mut validation: Validation,
    ) -> Result<T, VerifyError> {
        let (keys, index) = self.key_for(header).await?;
        validation.algorithms = vec![header.alg];
        jsonwebtoken::decode::<T>(token, &keys.keys[index].key, &validation)
            .map(|data| data.claims)
            .map_err(|e| map_error(&e))
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

/// The URL of a transmitter's SSF configuration (SSF 1.0 §7.2): `metadata`
/// itself when it names one, else the well-known name inserted after the host
/// of the issuer URL it is.
fn ssf_configuration_url(metadata: &str) -> String {
    const WELL_KNOWN: &str = "/.well-known/ssf-configuration";
    if metadata.contains(WELL_KNOWN) {
        return metadata.to_owned();
    }
    match reqwest::Url::parse(metadata) {
        Ok(url) if url.path().trim_matches('/').is_empty() => {
            format!("{}{WELL_KNOWN}", metadata.trim_end_matches('/'))
        }
        Ok(url) => {
            let path = url.path().trim_end_matches('/').to_owned();
            let mut at = url;
            at.set_path(&format!("{WELL_KNOWN}{path}"));
            at.to_string()
        }
        Err(_) => metadata.to_owned(),
    }
}

/// The outside issuers of `trusted_issuers`, by name. Managed by the fairing.
#[derive(Debug, Default)]
pub struct TrustedIssuers {
    by_name: HashMap<String, Arc<OutsideIssuer>>,
    /// The keys of issuers whose security events are signed with a
    /// transmitter's own keys (`ssf.metadata`), by issuer name.
    transmitter_keys: HashMap<String, Arc<OutsideIssuer>>,
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
        let transmitter_keys = configs
            .iter()
            .filter_map(|c| {
                let metadata = c.ssf.as_ref()?.metadata.as_deref()?;
                let mut keys = c.clone();
                keys.discovery = Some(ssf_configuration_url(metadata));
                keys.jwks_url = None;
                keys.jwks = None;
                let issuer = OutsideIssuer::new(keys, http.clone(), clock.clone());
                Some((c.name.clone(), Arc::new(issuer)))
            })
            .collect();
        Self {
            by_name,
            transmitter_keys,
        }
    }

    /// What checks the signatures of security events from the issuer named
    /// `name`: its transmitter's keys when `ssf.metadata` names them, else its own.
    pub(crate) fn event_keys(&self, name: &str) -> Option<&Arc<OutsideIssuer>> {
        self.transmitter_keys
            .get(name)
            .or_else(|| self.by_name.get(name))
    }

    /// The issuer named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<OutsideIssuer>> {
        self.by_name.get(name)
    }

    /// Every issuer.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<OutsideIssuer>> {
        self.by_name.values()
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
    fn the_ssf_configuration_is_found_as_ssf_1_0_section_7_2_says() {
        let cases = [
            (
                "https://tr.example",
                "https://tr.example/.well-known/ssf-configuration",
            ),
            (
                "https://tr.example/issuer1",
                "https://tr.example/.well-known/ssf-configuration/issuer1",
            ),
            (
                "https://tr.example/.well-known/ssf-configuration",
                "https://tr.example/.well-known/ssf-configuration",
            ),
        ];
        for (given, url) in cases {
            assert_eq!(ssf_configuration_url(given), url);
        }
    }

    #[test]
    fn access_token_types_of_rfc_9068_are_accepted() {
        assert!(acceptable_typ("at+jwt") && acceptable_typ("application/at+JWT"));
        assert!(acceptable_typ("JWT"));
        assert!(!acceptable_typ("refresh+jwt"));
    }
}
