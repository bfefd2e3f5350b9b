//! A client's DPoP key (RFC 9449) in tests: proofs for any request, and the
//! wrong ones a test wants to see refused.

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use crate::dpop::access_token_hash;
use crate::secret::random_id;

/// A key pair a test client proves possession of.
///
/// ```
/// use jwt_guard::testing::DpopKey;
///
/// let key = DpopKey::generate_es256();
/// let proof = key.proof("GET", "https://api.example/me").access_token("eyJ…").sign();
/// assert_eq!(proof.split('.').count(), 3);
/// assert_eq!(key.thumbprint().len(), 43);
/// ```
pub struct DpopKey {
    algorithm: Algorithm,
    key: EncodingKey,
    jwk: Jwk,
    thumbprint: String,
}

impl DpopKey {
    /// The key in `pem` (PKCS#8 EC, RSA or Ed25519), signing with `algorithm`.
    /// Panics on a key that does not fit (a test's own mistake).
    pub fn from_pem(algorithm: Algorithm, pem: &[u8]) -> Self {
        let key = match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            _ => EncodingKey::from_rsa_pem(pem),
        }
        .unwrap_or_else(|e| panic!("jwt_guard::testing::DpopKey: not a {algorithm:?} key: {e}"));
        Self::from_key(algorithm, key)
    }

    /// A fresh P-256 key (what a browser's WebCrypto or a phone's keystore makes).
    pub fn generate_es256() -> Self {
        use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|pair| pair.to_pkcs8v1())
            .unwrap_or_else(|_| panic!("jwt_guard::testing::DpopKey: cannot generate a key"));
        Self::from_key(Algorithm::ES256, EncodingKey::from_ec_der(pair.as_ref()))
    }

    fn from_key(algorithm: Algorithm, key: EncodingKey) -> Self {
        let mut jwk = Jwk::from_encoding_key(&key, algorithm)
            .unwrap_or_else(|e| panic!("jwt_guard::testing::DpopKey: no public key: {e}"));
        // Only the public key's own members go into proofs.
        jwk.common = Default::default();
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .unwrap_or_else(|e| panic!("jwt_guard::testing::DpopKey: no thumbprint: {e}"));
        Self {
            algorithm,
            key,
            jwk,
            thumbprint,
        }
    }

    /// The RFC 7638 thumbprint of the public key: what bound tokens' `cnf.jkt`
    /// says.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A proof for `method` on `url` (query and fragment are ignored by the
    /// server), issued now with a fresh `jti`.
    pub fn proof(&self, method: &str, url: &str) -> ProofBuilder<'_> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(random_id()));
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(url));
        claims.insert("iat".into(), json!(now));
        ProofBuilder {
            key: self,
            claims,
            typ: "dpop+jwt".into(),
            jwk: serde_json::to_value(&self.jwk).unwrap_or(Value::Null),
        }
    }
}

/// A proof being written: set what the request needs, or spoil it on purpose.
pub struct ProofBuilder<'a> {
    key: &'a DpopKey,
    claims: Map<String, Value>,
    typ: String,
    jwk: Value,
}

impl ProofBuilder<'_> {
    /// Binds the proof to the access token sent with it (`ath`).
    pub fn access_token(mut self, token: &str) -> Self {
        self.claims
            .insert("ath".into(), json!(access_token_hash(token)));
        self
    }

    /// The server's nonce (`DPoP-Nonce`).
    pub fn nonce(mut self, nonce: &str) -> Self {
        self.claims.insert("nonce".into(), json!(nonce));
        self
    }

    /// Sets (or, with `Value::Null`, removes) a claim: `iat` in the past, another
    /// `jti`, a wrong `htm`…
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.claims.remove(name);
        } else {
            self.claims.insert(name.into(), value);
        }
        self
    }

    /// Another header `typ` than `dpop+jwt`.
    pub fn typ(mut self, typ: &str) -> Self {
        self.typ = typ.into();
        self
    }

    /// Another `jwk` in the header than the signing key's (another key's, or one
    /// with private members).
    pub fn header_jwk(mut self, jwk: Value) -> Self {
        self.jwk = jwk;
        self
    }

    /// The signed proof, for the `DPoP` header.
    pub fn sign(self) -> String {
        use base64::Engine as _;
        // Written by hand, so the server sees exactly the `jwk` set (even one
        // with members no public key has).
        let mut header = json!({
            "typ": self.typ,
            "alg": serde_json::to_value(self.key.algorithm).unwrap_or(Value::Null),
        });
        if !self.jwk.is_null() {
            header["jwk"] = self.jwk;
        }
        let part = |value: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(value).unwrap_or_default())
        };
        let input = format!("{}.{}", part(&header), part(&Value::Object(self.claims)));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.key.key, self.key.algorithm)
                .unwrap_or_else(|e| panic!("jwt_guard::testing::ProofBuilder: cannot sign: {e}"));
        format!("{input}.{signature}")
    }
}
