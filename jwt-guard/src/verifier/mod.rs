//! Token verification: strict RFC 8725 checks, then a cache for repeat requests.
//! Why a token is refused is `error`.

mod error;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{errors::ErrorKind, Validation};
use serde::de::DeserializeOwned;

use crate::cache::{CachedToken, VerifiedCache};
use crate::claims::{NoClaims, Token, TokenKind};
use crate::clock::Clock;
use crate::config::{JwtConfig, MAX_TOKEN_BYTES};
use crate::keys::KeyRing;
use crate::revocation_set::RevocationSet;
pub(crate) use error::map_error;
pub use error::VerifyError;
use error::{serde_detail, short_type_name};

/// Checks tokens against the [`KeyRing`] and the configuration.
///
/// Every decode: size limit before parsing; `kid` looked up exactly; the algorithm
/// taken from the key (a token naming another is refused); `crit` refused; `jku`,
/// `x5u`, `x5c` and `jwk` headers ignored; signature; `typ`; `exp` (required) and
/// `nbf` against [`Clock`] with the configured leeway; `iss`/`aud` when configured;
/// then the [`RevocationSet`].
pub struct Verifier {
    keys: Arc<KeyRing>,
    /// Per `kid`: the key and the validation rules bound to it.
    by_kid: HashMap<String, Arc<KidEntry>>,
    leeway: u64,
    clock: Clock,
    cache: VerifiedCache,
    /// Header texts already accepted, and the `kid` each selects.
    headers: RwLock<Vec<(Box<str>, Arc<KidEntry>)>>,
    revocations: Arc<RevocationSet>,
}

/// A verification key with the rules that go with it.
struct KidEntry {
    algorithm: jsonwebtoken::Algorithm,
    key: jsonwebtoken::DecodingKey,
    validation: Validation,
}

/// Most distinct accepted headers remembered (one per key and `typ` spelling).
const MAX_KNOWN_HEADERS: usize = 16;

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `keys` under `config`, consulting `revocations` (for
    /// tests and benchmarks; an application's verifier is its runtime's,
    /// [`JwtRuntime::verifier`](crate::runtime::JwtRuntime::verifier)).
    #[cfg(feature = "testing")]
    pub fn new(
        keys: Arc<KeyRing>,
        config: &JwtConfig,
        clock: Clock,
        revocations: Arc<RevocationSet>,
    ) -> Self {
        Self::build(keys, config, clock, revocations)
    }

    /// A verifier for `keys` under `config`, consulting `revocations`.
    pub(crate) fn build(
        keys: Arc<KeyRing>,
        config: &JwtConfig,
        clock: Clock,
        revocations: Arc<RevocationSet>,
    ) -> Self {
        let by_kid = keys
            .kids()
            .filter_map(|(kid, algorithm)| {
                let entry = keys.verification_key(Some(kid))?;
                let key = entry.key.clone();
                let mut v = Validation::new(algorithm);
                // Time checks are ours (one clock, one leeway, also on cache hits).
                v.validate_exp = false;
                v.validate_nbf = false;
                v.leeway = 0;
                // A configured iss/aud must be present, not merely right when present.
                // A key bound to an issuer of its own speaks for that issuer only.
                let mut required = vec!["exp"];
                if let Some(iss) = entry.issuer.as_ref().or(config.issuer.as_ref()) {
                    v.set_issuer(&[iss]);
                    required.push("iss");
                }
                match &config.audience {
                    Some(aud) => {
                        v.set_audience(&[aud]);
                        required.push("aud");
                    }
                    None => v.validate_aud = false,
                }
                v.set_required_spec_claims(&required);
                Some((
                    kid.to_owned(),
                    Arc::new(KidEntry {
                        algorithm,
                        key,
                        validation: v,
                    }),
                ))
            })
            .collect();
        Self {
            keys,
            by_kid,
            leeway: config.leeway.as_secs(),
            clock,
            cache: VerifiedCache::new(config.cache_capacity),
            headers: RwLock::new(Vec::new()),
            revocations,
        }
    }

    /// The clock used for every time check.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Forgets every remembered verification; the next request for each token
    /// checks its signature again.
    pub fn forget_verified(&self) {
        self.cache.clear();
    }

    /// The revocations consulted on every verify.
    pub fn revocations(&self) -> &Arc<RevocationSet> {
        &self.revocations
    }

    /// Verifies an access token, remembering it so that the same token costs a map
    /// look-up next time (expiry and revocation are still checked then).
    pub fn verify_access<C>(&self, token: &str) -> Result<Arc<Token<C>>, VerifyError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        match self.remembered(token) {
            Some(verdict) => verdict,
            None => self.verify_first_seen(token),
        }
    }

    /// The verdict on an access token verified before (its exact bytes, as claims
    /// `C`), its times and revocation checked again; `None` when it is not
    /// remembered.
    pub(crate) fn remembered<C>(&self, token: &str) -> Option<Result<Arc<Token<C>>, VerifyError>>
    where
        C: Send + Sync + 'static,
    {
        let hit = self.cache.get(token)?;
        let decoded = hit.token.downcast::<Token<C>>().ok()?;
        let checked = self
            .check_times(hit.exp, hit.nbf, hit.iat, self.clock.now())
            .and_then(|()| self.check_revocation(&decoded));
        Some(checked.map(|()| decoded))
    }

    /// [`Verifier::verify_access`] for a token not [`Verifier::remembered`] (an
    /// oversized one never is): checked whole, then remembered.
    pub(crate) fn verify_first_seen<C>(&self, token: &str) -> Result<Arc<Token<C>>, VerifyError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge);
        }
        let now = self.clock.now();
        let decoded: Token<C> = self.decode(token, TokenKind::Access, None)?;
        self.check_times(
            decoded.registered.exp,
            decoded.registered.nbf,
            decoded.registered.iat,
            now,
        )?;
        self.check_revocation(&decoded)?;
        let decoded = Arc::new(decoded);
        self.cache.insert(
            token,
            CachedToken {
                exp: decoded.registered.exp,
                nbf: decoded.registered.nbf,
                iat: decoded.registered.iat,
                token: decoded.clone(),
            },
            now,
        );
        Ok(decoded)
    }

    /// Verifies a token of `kind` without the cache (refresh and link tokens are
    /// used once). `audience` overrides the configured audience (links are bound to
    /// their target through `aud`).
    pub fn verify<C>(
        &self,
        token: &str,
        kind: TokenKind,
        audience: Option<&str>,
    ) -> Result<Token<C>, VerifyError>
    where
        C: DeserializeOwned,
    {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge);
        }
        let decoded: Token<C> = self.decode(token, kind, audience)?;
        self.check_times(
            decoded.registered.exp,
            decoded.registered.nbf,
            decoded.registered.iat,
            self.clock.now(),
        )?;
        self.check_revocation(&decoded)?;
        Ok(decoded)
    }

    fn decode<C: DeserializeOwned>(
        &self,
        token: &str,
        kind: TokenKind,
        audience: Option<&str>,
    ) -> Result<Token<C>, VerifyError> {
        let (entry, known) = self.key_for_header(token)?;
        if known && audience.is_none() {
            if let Some(decoded) = decode_known::<C>(token, &entry) {
                let decoded = decoded?;
                if decoded.registered.typ != kind {
                    return Err(VerifyError::WrongKind { expected: kind });
                }
                return Ok(decoded);
            }
        }
        let base = &entry.validation;
        let overridden;
        let validation = match audience {
            None => base,
            Some(aud) => {
                let mut v = base.clone();
                v.set_audience(&[aud]);
                v.validate_aud = true;
                v.required_spec_claims.insert("aud".to_owned());
                overridden = v;
                &overridden
            }
        };
        let data = match jsonwebtoken::decode::<Token<C>>(token, &entry.key, validation) {
            Ok(data) => data,
            Err(e) if matches!(e.kind(), ErrorKind::Json(_)) => {
                // Claims of another shape: say so precisely when it is a genuine token
                // of another kind (a refresh token lacks the app's claims).
                let other = jsonwebtoken::decode::<Token<NoClaims>>(token, &entry.key, validation);
                return Err(match other {
                    Ok(other) if other.claims.registered.typ != kind => {
                        VerifyError::WrongKind { expected: kind }
                    }
                    // Signed by us and of the right kind: only the app's claims do
                    // not fit. Say which, to whoever holds the token.
                    Ok(_) => VerifyError::ClaimsMismatch {
                        claims: short_type_name::<C>(),
                        detail: serde_detail(&e).into(),
                    },
                    Err(_) => VerifyError::Malformed,
                });
            }
            Err(e) => return Err(map_error(&e)),
        };
        if !known {
            self.remember_header(token, &entry);
        }
        if data.claims.registered.typ != kind {
            return Err(VerifyError::WrongKind { expected: kind });
        }
        Ok(data.claims)
    }

    /// Which key verifies a token with this header: the header's `kid`, checked for
    /// `crit` and for an algorithm matching the key. Tokens signed by one key share
    /// one header text, so accepted headers are remembered (a few dozen at most).
    /// Also says whether the header was already known (then nothing needs
    /// remembering: no write lock on the common path).
    fn key_for_header(&self, token: &str) -> Result<(Arc<KidEntry>, bool), VerifyError> {
        let segment = token.split('.').next().unwrap_or_default();
        if let Ok(known) = self.headers.read() {
            if let Some((_, entry)) = known.iter().find(|(text, _)| **text == *segment) {
                return Ok((entry.clone(), true));
            }
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.crit.is_some() {
            return Err(VerifyError::UnsupportedCritical);
        }
        let kid = header.kid.as_deref().unwrap_or(self.keys.signing_kid());
        let entry = self.by_kid.get(kid).ok_or(VerifyError::UnknownKey)?.clone();
        if header.alg != entry.algorithm {
            return Err(VerifyError::AlgorithmMismatch);
        }
        Ok((entry, false))
    }

    /// Remembers the header of `token`, whose signature has just verified: only
    /// headers of genuine tokens take one of the few places, so a flood of made-up
    /// headers cannot fill them before the real ones arrive.
    fn remember_header(&self, token: &str, entry: &Arc<KidEntry>) {
        let segment = token.split('.').next().unwrap_or_default();
        if let Ok(mut known) = self.headers.write() {
            if known.len() < MAX_KNOWN_HEADERS && !known.iter().any(|(t, _)| **t == *segment) {
                known.push((segment.into(), entry.clone()));
            }
        }
    }

    fn check_times(
        &self,
        exp: u64,
        nbf: Option<u64>,
        iat: u64,
        now: u64,
    ) -> Result<(), VerifyError> {
        if exp.saturating_add(self.leeway) <= now {
            return Err(VerifyError::Expired);
        }
        if iat > now.saturating_add(self.leeway) {
            return Err(VerifyError::IssuedInFuture);
        }
        if let Some(nbf) = nbf {
            if nbf > now.saturating_add(self.leeway) {
                return Err(VerifyError::NotYetValid);
            }
        }
        Ok(())
    }

    fn check_revocation<C>(&self, token: &Token<C>) -> Result<(), VerifyError> {
        if self.revocations.is_revoked(&token.registered) {
            return Err(VerifyError::Revoked);
        }
        Ok(())
    }
}

/// `jsonwebtoken::decode` for a token whose header text was accepted before (so
/// its `kid`, `alg` and `crit` were checked, and `entry` is its key): the same
/// checks with the header not parsed again (`decode` parses it twice) and the
/// claims parsed once (`decode` parses them a second time for its own checks, of
/// which only `iss` and `aud` apply here: times are checked by the verifier). The
/// signature is checked by `jsonwebtoken::crypto::verify`, as `decode` checks it.
///
/// `None` when the token is not three segments, its signature is not base64url
/// or its claims do not fit `C`: `decode` then runs and names the fault.
fn decode_known<C: DeserializeOwned>(
    token: &str,
    entry: &KidEntry,
) -> Option<Result<Token<C>, VerifyError>> {
    let (message, signature) = token.rsplit_once('.')?;
    let (_, payload) = message.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    // RFC 7515 §5.2 steps 6–8: the signature over the header and payload text.
    match jsonwebtoken::crypto::verify(signature, message.as_bytes(), &entry.key, entry.algorithm) {
        Ok(true) => {}
        Ok(false) => return Some(Err(VerifyError::BadSignature)),
        Err(_) => return None,
    }
    // The payload as `decode` reads it: base64url without padding, then JSON.
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Token<C> = serde_json::from_slice(&json).ok()?;
    // RFC 7519 §4.1.1 and §4.1.3: the `iss` and `aud` the key's validation
    // requires (each set only when configured, and then required).
    let accepted = |wanted: &Option<std::collections::HashSet<String>>, got: &Option<String>| {
        wanted
            .as_ref()
            .is_none_or(|wanted| got.as_ref().is_some_and(|got| wanted.contains(got)))
    };
    if !accepted(&entry.validation.iss, &claims.registered.iss) {
        return Some(Err(VerifyError::WrongIssuer));
    }
    if !accepted(&entry.validation.aud, &claims.registered.aud) {
        return Some(Err(VerifyError::WrongAudience));
    }
    Some(Ok(claims))
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;
    use crate::claims::StandardClaims;
    use crate::revocation_set::Revocation;
    use crate::signer::{Grant, Issuer};

    const SECRET: &str = "a verifier test secret of 32+ bytes";

    struct Fixture {
        verifier: Verifier,
        issuer: Issuer,
        clock: Clock,
    }

    fn fixture(config: JwtConfig, revoked: Vec<Revocation>) -> Fixture {
        let clock = Clock::offset();
        let keys = Arc::new(KeyRing::from_config(&config).unwrap_or_else(|e| panic!("{e}")));
        let revocations = Arc::new(revoked.into_iter().collect());
        Fixture {
            verifier: Verifier::build(keys.clone(), &config, clock.clone(), revocations),
            issuer: Issuer::new(keys, &config, clock.clone()),
            clock,
        }
    }

    #[test]
    fn only_headers_of_genuine_tokens_are_remembered() {
        let f = fixture(JwtConfig::hmac(SECRET), Vec::new());
        let genuine = access(&f, "ann");
        let (_, rest) = genuine.split_once('.').unwrap_or_default();
        // Headers that pass every header check, each on a token with a bad signature.
        for n in 0..(2 * MAX_KNOWN_HEADERS) {
            let header = URL_SAFE_NO_PAD.encode(format!(
                r#"{{"alg":"HS256","typ":"JWT","kid":"{}","x":{n}}}"#,
                f.verifier.keys.signing_kid()
            ));
            let forged = format!("{header}.{rest}");
            assert_eq!(
                f.verifier.verify_access::<StandardClaims>(&forged).err(),
                Some(VerifyError::BadSignature)
            );
        }
        let remembered = |v: &Verifier| v.headers.read().map(|h| h.len()).unwrap_or(usize::MAX);
        assert_eq!(remembered(&f.verifier), 0);
        assert!(f.verifier.verify_access::<StandardClaims>(&genuine).is_ok());
        assert_eq!(remembered(&f.verifier), 1);
    }

    /// A grant for `subject` without a device (what refresh tokens are minted from
    /// in these tests).
    fn deviceless(subject: &str) -> Grant<'_> {
        Grant {
            subject,
            device_id: None,
            orig_iat: 0,
            acr: None,
            amr: &[],
            dpop_jkt: None,
        }
    }

    fn access(f: &Fixture, subject: &str) -> String {
        let grant = Grant {
            subject,
            device_id: Some("d1"),
            orig_iat: f.clock.now(),
            acr: None,
            amr: &[],
            dpop_jkt: None,
        };
        let claims = StandardClaims::default();
        f.issuer
            .access(&grant, &claims)
            .map(|t| t.token)
            .unwrap_or_default()
    }

    #[test]
    fn a_fresh_access_token_verifies_and_a_cached_one_is_still_time_checked() {
        let f = fixture(JwtConfig::hmac(SECRET), vec![]);
        let token = access(&f, "ann");
        let first = f.verifier.verify_access::<StandardClaims>(&token);
        assert_eq!(
            first.map(|t| t.registered.sub.clone()).ok().as_deref(),
            Some("ann")
        );
        assert!(f.verifier.verify_access::<StandardClaims>(&token).is_ok());
        f.clock.advance(3600);
        assert_eq!(
            f.verifier.verify_access::<StandardClaims>(&token).err(),
            Some(VerifyError::Expired)
        );
    }

    #[test]
    fn a_remembered_token_is_refused_once_revoked() {
        let f = fixture(JwtConfig::hmac(SECRET), vec![]);
        let token = access(&f, "ann");
        assert!(f.verifier.verify_access::<StandardClaims>(&token).is_ok());
        assert!(f.verifier.cache.get(&token).is_some(), "remembered");
        // Another claims type reads the same token.
        let other = f.verifier.verify_access::<NoClaims>(&token);
        assert_eq!(
            other.map(|t| t.registered.sub.clone()).ok().as_deref(),
            Some("ann")
        );
        f.verifier.revocations().apply(&Revocation::Subject {
            subject: "ann".into(),
            not_before: f.clock.now() + 1,
            until: u64::MAX,
        });
        assert_eq!(
            f.verifier.verify_access::<StandardClaims>(&token).err(),
            Some(VerifyError::Revoked)
        );
    }

    /// Claims an app might need that the tokens above do not carry.
    #[derive(Debug, serde::Deserialize)]
    struct NeedsTenant {
        #[allow(dead_code)]
        tenant: String,
    }

    #[test]
    fn a_known_header_gives_the_verdicts_of_a_full_decode() {
        let mut config = JwtConfig::hmac(SECRET);
        config.issuer = Some("https://issuer.example".into());
        config.audience = Some("api".into());
        let f = fixture(config.clone(), vec![]);
        let genuine = access(&f, "ann");
        let parts: Vec<&str> = genuine.split('.').collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default())
            .unwrap_or_default();
        let grant = deviceless("ann");
        let only = |issuer: Option<&str>, audience: Option<&str>| {
            let mut config = JwtConfig::hmac(SECRET);
            config.issuer = issuer.map(str::to_owned);
            config.audience = audience.map(str::to_owned);
            fixture(config, vec![])
        };
        let with = |claims: &str| {
            format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode(claims),
                parts[2]
            )
        };
        let candidates = [
            (
                "changed payload",
                with(&payload.replace("\"ann\"", "\"eve\"")),
            ),
            ("payload not JSON", with("{")),
            (
                "signature not base64url",
                format!("{}.{}.!!", parts[0], parts[1]),
            ),
            ("four segments", format!("{genuine}.{}", parts[2])),
            // (Either missing: `decode` names whichever it checks first.)
            (
                "no aud",
                access(&only(Some("https://issuer.example"), None), "ann"),
            ),
            ("no iss", access(&only(None, Some("api")), "ann")),
            (
                "another iss",
                access(&only(Some("https://else.example"), Some("api")), "ann"),
            ),
            (
                "refresh token",
                f.issuer
                    .refresh(&grant)
                    .map(|t| t.token)
                    .unwrap_or_default(),
            ),
        ];
        // `f` has accepted both headers now (the short path); a new verifier has not.
        assert!(f.verifier.verify_access::<StandardClaims>(&genuine).is_ok());
        let refresh = f
            .issuer
            .refresh(&grant)
            .map(|t| t.token)
            .unwrap_or_default();
        assert!(f
            .verifier
            .verify_access::<StandardClaims>(&refresh)
            .is_err());
        let known = f
            .verifier
            .headers
            .read()
            .map(|h| h.len())
            .unwrap_or_default();
        assert_eq!(known, 2, "an access and a refresh header");
        for (what, token) in &candidates {
            let header = token.split('.').next().unwrap_or_default();
            let short_path = f
                .verifier
                .headers
                .read()
                .map(|known| known.iter().any(|(text, _)| **text == *header));
            assert!(short_path.unwrap_or(false), "{what}: a known header");
            let fresh = fixture(config.clone(), vec![]);
            let short = f.verifier.verify_access::<StandardClaims>(token).err();
            let full = fresh.verifier.verify_access::<StandardClaims>(token).err();
            assert!(short.is_some(), "{what}: accepted");
            assert_eq!(short, full, "{what}");
        }
        // A genuine token whose claims do not fit the route's type is named as such.
        let fresh = fixture(config, vec![]);
        let short = f.verifier.verify_access::<NeedsTenant>(&access(&f, "bob"));
        let full = fresh
            .verifier
            .verify_access::<NeedsTenant>(&access(&f, "bob"));
        assert!(
            matches!(short, Err(VerifyError::ClaimsMismatch { .. })),
            "{short:?}"
        );
        assert_eq!(short.err(), full.err());
    }

    #[test]
    fn other_kinds_are_refused_where_an_access_token_is_required() {
        let f = fixture(JwtConfig::hmac(SECRET), vec![]);
        let grant = deviceless("ann");
        let refresh = f
            .issuer
            .refresh(&grant)
            .map(|t| t.token)
            .unwrap_or_default();
        assert_eq!(
            f.verifier.verify_access::<StandardClaims>(&refresh).err(),
            Some(VerifyError::WrongKind {
                expected: TokenKind::Access
            })
        );
    }

    #[test]
    fn a_changed_payload_or_header_is_refused() {
        let f = fixture(JwtConfig::hmac(SECRET), vec![]);
        let token = access(&f, "ann");
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default())
                .unwrap_or_default()
                .replace("\"ann\"", "\"eve\""),
        );
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(
            f.verifier.verify_access::<StandardClaims>(&forged).err(),
            Some(VerifyError::BadSignature)
        );
        let header =
            |json: &str| format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(json), parts[1], parts[2]);
        let kid = f.verifier.keys.signing_kid().to_owned();
        assert_eq!(
            f.verifier
                .verify_access::<StandardClaims>(&header(&format!(
                    r#"{{"alg":"HS512","kid":"{kid}"}}"#
                )))
                .err(),
            Some(VerifyError::AlgorithmMismatch)
        );
        assert_eq!(
            f.verifier
                .verify_access::<StandardClaims>(&header(r#"{"alg":"HS256","kid":"nope"}"#))
                .err(),
            Some(VerifyError::UnknownKey)
        );
        assert_eq!(
            f.verifier
                .verify_access::<StandardClaims>(&header(&format!(
                    r#"{{"alg":"HS256","kid":"{kid}","crit":["exp"]}}"#
                )))
                .err(),
            Some(VerifyError::UnsupportedCritical)
        );
        assert_eq!(
            f.verifier
                .verify_access::<StandardClaims>(&"a".repeat(MAX_TOKEN_BYTES + 1))
                .err(),
            Some(VerifyError::TooLarge)
        );
        assert_eq!(
            f.verifier
                .verify_access::<StandardClaims>("not a jwt")
                .err(),
            Some(VerifyError::Malformed)
        );
    }

    #[test]
    fn revoked_subjects_devices_and_ids_are_refused() {
        let f = fixture(
            JwtConfig::hmac(SECRET),
            vec![Revocation::Subject {
                subject: "eve".into(),
                not_before: u64::MAX / 2,
                until: u64::MAX,
            }],
        );
        assert_eq!(
            f.verifier
                .verify_access::<StandardClaims>(&access(&f, "eve"))
                .err(),
            Some(VerifyError::Revoked)
        );
        assert!(f
            .verifier
            .verify_access::<StandardClaims>(&access(&f, "ann"))
            .is_ok());
    }

    #[test]
    fn a_configured_issuer_and_audience_are_required() {
        let mut config = JwtConfig::hmac(SECRET);
        config.issuer = Some("https://issuer.example".into());
        config.audience = Some("api".into());
        let f = fixture(config, vec![]);
        assert!(f
            .verifier
            .verify_access::<StandardClaims>(&access(&f, "ann"))
            .is_ok());
        // The same key without iss/aud in its tokens: refused (jsonwebtoken checks
        // its required claims in no fixed order, so either may be named).
        let bare = fixture(JwtConfig::hmac(SECRET), vec![]);
        let refused = f
            .verifier
            .verify_access::<StandardClaims>(&access(&bare, "ann"))
            .err();
        assert!(
            matches!(
                refused,
                Some(VerifyError::WrongIssuer | VerifyError::WrongAudience)
            ),
            "{refused:?}"
        );
    }
}
