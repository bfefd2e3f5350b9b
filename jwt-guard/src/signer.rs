//! Minting access and refresh tokens.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::claims::{Confirmation, NoClaims, RegisteredClaims, Token, TokenKind};
use crate::clock::Clock;
use crate::config::JwtConfig;
use crate::keys::KeyRing;
use crate::secret::random_id;

/// A token could not be issued: a key fault (never caused by request input), or
/// a lifetime asked of [`Issuer::access_for`] that no revocation would cover.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct IssueError(IssueFault);

#[derive(Debug, thiserror::Error)]
enum IssueFault {
    #[error("cannot sign token")]
    Sign(#[source] jsonwebtoken::errors::Error),
    #[error(
        "a token of {ttl} s is longer than {what} ({max} s): a revocation of it would end \
         before it does"
    )]
    TooLong {
        ttl: u64,
        max: u64,
        what: &'static str,
    },
}

/// A freshly signed token and the claims it carries.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The compact JWS.
    pub token: String,
    /// Its registered claims (`jti`, `exp`, …), for bookkeeping.
    pub claims: RegisteredClaims,
}

impl IssuedToken {
    /// The signed part of the token (`header.claims`, without the signature): what
    /// the store keeps of a successor, for a retry within the reuse grace to be
    /// checked against. Worthless without the key.
    pub fn signing_input(&self) -> &str {
        self.token
            .rsplit_once('.')
            .map_or(self.token.as_str(), |(input, _)| input)
    }
}

/// What the token endpoints return.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[non_exhaustive]
pub struct TokenPair {
    /// The access token.
    pub access: String,
    /// The refresh token. `None` when it was set as an `HttpOnly` cookie instead
    /// (cookie mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// The `Authorization` scheme to send the access token with.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A base64url JSON part of a compact JWS, decoded.
pub(crate) fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Who a login is for, and from which login a token descends.
#[derive(Clone, Debug)]
pub struct Grant<'a> {
    /// The subject (user id).
    pub subject: &'a str,
    /// The device (login) the tokens belong to, if devices are in use.
    pub device_id: Option<&'a str>,
    /// When the user originally logged in; bounds refreshing (`refresh_window`),
    /// and is the tokens' `auth_time`.
    pub orig_iat: u64,
    /// The authentication context class of that login (`acr`), if any.
    pub acr: Option<&'a str>,
    /// How the user authenticated at that login (`amr`, RFC 8176), e.g. `["pwd"]`.
    pub amr: &'a [String],
    /// The thumbprint of the DPoP key the session is bound to (RFC 9449): written
    /// as `cnf.jkt` into its access and refresh tokens.
    pub dpop_jkt: Option<&'a str>,
}

/// Signs tokens with the [`KeyRing`]'s signing key.
///
/// Take it in a handler as `&State<Issuer>`.
#[derive(Clone)]
pub struct Issuer {
    keys: Arc<KeyRing>,
    clock: Clock,
    access_ttl: u64,
    refresh_ttl: u64,
    /// Longest `ttl` of [`Issuer::access_for`] naming no device.
    max_minted_ttl: u64,
    issuer: Option<String>,
    audience: Option<String>,
    token_type: String,
    /// The header `typ` of access tokens (`at+jwt` by default, RFC 9068 §2.1).
    access_typ: String,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("kid", &self.keys.signing_kid())
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer for `keys` under `config`.
    pub fn new(keys: Arc<KeyRing>, config: &JwtConfig, clock: Clock) -> Self {
        Self {
            keys,
            clock,
            access_ttl: config.access_ttl.as_secs(),
            refresh_ttl: config.refresh_ttl.as_secs(),
            max_minted_ttl: config.max_minted_lifetime().as_secs(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_typ: config.access_token_typ.clone(),
            token_type: config
                .header_prefixes
                .first()
                .cloned()
                .unwrap_or_else(|| "Bearer".into()),
        }
    }

    /// The clock tokens are dated by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The `kid` tokens are signed under.
    pub fn signing_kid(&self) -> &str {
        self.keys.signing_kid()
    }

    /// Access-token lifetime in seconds.
    pub fn access_ttl(&self) -> u64 {
        self.access_ttl
    }

    /// Refresh-token lifetime in seconds.
    pub fn refresh_ttl(&self) -> u64 {
        self.refresh_ttl
    }

    pub(crate) fn registered(
        &self,
        kind: TokenKind,
        grant: &Grant<'_>,
        ttl: u64,
    ) -> RegisteredClaims {
        self.reissued(kind, grant, ttl, random_id(), self.clock.now())
    }

    /// The registered claims of a `kind` token of `grant` with the id `jti`,
    /// issued at `iat`: what a new token gets, and what a successor re-signed
    /// within the reuse grace is rebuilt from.
    pub(crate) fn reissued(
        &self,
        kind: TokenKind,
        grant: &Grant<'_>,
        ttl: u64,
        jti: String,
        iat: u64,
    ) -> RegisteredClaims {
        RegisteredClaims {
            typ: kind,
            sub: grant.subject.to_owned(),
            exp: iat.saturating_add(ttl),
            iat,
            nbf: Some(iat),
            jti,
            did: grant.device_id.map(str::to_owned),
            orig_iat: Some(grant.orig_iat),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            auth_time: Some(grant.orig_iat),
            acr: grant.acr.map(str::to_owned),
            amr: (!grant.amr.is_empty()).then(|| grant.amr.to_vec()),
            // RFC 9449 §6: a bound session's access and refresh tokens name its key.
            cnf: grant.dpop_jkt.map(|jkt| Confirmation {
                jkt: Some(jkt.to_owned()),
            }),
        }
    }

    /// Signs `registered` + `claims` with the signing key.
    pub fn sign<C: Serialize>(
        &self,
        registered: RegisteredClaims,
        claims: &C,
    ) -> Result<IssuedToken, IssueError> {
        let header = self.header_for(registered.typ);
        let token = Token { registered, claims };
        let jws = jsonwebtoken::encode(&header, &token, self.keys.encoding_key())
            .map_err(|e| IssueError(IssueFault::Sign(e)))?;
        Ok(IssuedToken {
            token: jws,
            claims: token.registered,
        })
    }

    /// The header this issuer signs a `kind` token with: the signing key's `alg`
    /// and `kid`; RFC 9068 §2.1 / RFC 8725 §3.11: access tokens say what they are
    /// in the header too, for services that check it; the others stay plain
    /// `JWT`.
    pub(crate) fn header_for(&self, kind: TokenKind) -> jsonwebtoken::Header {
        let mut header = jsonwebtoken::Header::new(self.keys.signing_algorithm());
        header.kid = Some(self.keys.signing_kid().to_owned());
        if kind == TokenKind::Access {
            header.typ = Some(self.access_typ.clone());
        }
        header
    }

    /// An access token carrying `claims`, valid for `ttl` seconds instead of
    /// `access_ttl` (an operator's tool minting a token by hand).
    ///
    /// Refused past what revocations cover: `max_minted_ttl` for a token that
    /// names no device (a revocation of its subject lasts that long), and
    /// `access_ttl` for one that names a device (a device's revocation lasts as
    /// long as its access tokens).
    pub fn access_for<C: Serialize>(
        &self,
        grant: &Grant<'_>,
        claims: &C,
        ttl: u64,
    ) -> Result<IssuedToken, IssueError> {
        let (max, what) = match grant.device_id {
            Some(_) => (
                self.access_ttl,
                "access_ttl, for a token that names a device",
            ),
            None => (self.max_minted_ttl, "max_minted_ttl"),
        };
        if ttl > max {
            return Err(IssueError(IssueFault::TooLong { ttl, max, what }));
        }
        self.sign(self.registered(TokenKind::Access, grant, ttl), claims)
    }

    /// An access token carrying `claims`.
    pub fn access<C: Serialize>(
        &self,
        grant: &Grant<'_>,
        claims: &C,
    ) -> Result<IssuedToken, IssueError> {
        self.sign(
            self.registered(TokenKind::Access, grant, self.access_ttl),
            claims,
        )
    }

    /// A refresh token.
    pub fn refresh(&self, grant: &Grant<'_>) -> Result<IssuedToken, IssueError> {
        self.sign(
            self.registered(TokenKind::Refresh, grant, self.refresh_ttl),
            &NoClaims {},
        )
    }

    /// A link token: `typ` link, `aud` = `target`, `jti` = the link id.
    pub fn link(
        &self,
        subject: &str,
        target: &str,
        link_id: &str,
        ttl: u64,
    ) -> Result<IssuedToken, IssueError> {
        let now = self.clock.now();
        let registered = RegisteredClaims {
            typ: TokenKind::Link,
            sub: subject.to_owned(),
            exp: now.saturating_add(ttl),
            iat: now,
            nbf: Some(now),
            jti: link_id.to_owned(),
            did: None,
            orig_iat: None,
            iss: self.issuer.clone(),
            aud: Some(target.to_owned()),
            auth_time: None,
            acr: None,
            amr: None,
            cnf: None,
        };
        self.sign(registered, &NoClaims {})
    }

    /// An access and a refresh token for the same grant.
    pub fn pair<C: Serialize>(
        &self,
        grant: &Grant<'_>,
        claims: &C,
    ) -> Result<(IssuedToken, IssuedToken), IssueError> {
        Ok((self.access(grant, claims)?, self.refresh(grant)?))
    }

    /// The response body for a pair.
    pub fn pair_body(&self, access: &IssuedToken, refresh: &IssuedToken) -> TokenPair {
        TokenPair {
            refresh: Some(refresh.token.clone()),
            ..self.access_body(access)
        }
    }

    /// The answer for an access token alone (no refresh token).
    pub fn access_body(&self, access: &IssuedToken) -> TokenPair {
        TokenPair {
            access: access.token.clone(),
            refresh: None,
            // RFC 9449 §5: a bound token is sent with the `DPoP` scheme.
            token_type: if access.claims.cnf.is_some() {
                "DPoP".to_owned()
            } else {
                self.token_type.clone()
            },
            expires_in: access.claims.exp.saturating_sub(access.claims.iat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::NoClaims;

    fn grant(device_id: Option<&str>) -> Grant<'_> {
        Grant {
            subject: "alice",
            device_id,
            orig_iat: 100,
            acr: None,
            amr: &[],
            dpop_jkt: None,
        }
    }

    #[test]
    fn a_token_no_revocation_would_cover_is_not_issued() {
        let mut config = JwtConfig::hmac("a signer test secret of 32+ bytes!!");
        config.max_minted_ttl = Some(crate::config::HumanDuration::from_secs(3_600));
        let keys = Arc::new(KeyRing::from_config(&config).unwrap_or_else(|e| panic!("{e}")));
        let issuer = Issuer::new(keys, &config, Clock::system());
        let access = config.access_ttl.as_secs();
        assert!(issuer.access_for(&grant(None), &NoClaims {}, 3_600).is_ok());
        let err = issuer
            .access_for(&grant(None), &NoClaims {}, 3_601)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("max_minted_ttl (3600 s)")),
            "{err:?}"
        );
        // A device's revocation lasts as long as its access tokens.
        assert!(issuer
            .access_for(&grant(Some("d1")), &NoClaims {}, access)
            .is_ok());
        let err = issuer
            .access_for(&grant(Some("d1")), &NoClaims {}, access + 1)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("access_ttl")),
            "{err:?}"
        );
    }
}
