//! Opaque secrets handed to clients: only their digest is ever stored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// 128 random bits from the OS, base64url: the id of a token, device, link or row.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `text` can be an id jwt-guard made (a device, token or link id): short,
/// non-empty, URL-safe. Anything else is refused before it reaches the database.
pub(crate) fn is_opaque_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Secret text from configuration (an HMAC secret, an inline PEM key): zeroed when
/// dropped, and printed as `<redacted>` by `Debug`, so a config dump or a log line
/// never carries key material.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The secret itself, for the key loader.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl<'de> serde::Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// The prefix that makes a permanent token recognisable (in logs, secret scanners).
pub const PERMANENT_TOKEN_PREFIX: &str = "jgp_";

/// A raw permanent token: 256 bits from the OS CSPRNG behind a recognisable prefix.
///
/// It cannot be serialized, prints as `PermanentToken(<redacted>)`, and its memory
/// is zeroed when dropped. Store only [`PermanentToken::digest`].
pub struct PermanentToken(Zeroizing<String>);

impl PermanentToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        let mut text = String::with_capacity(PERMANENT_TOKEN_PREFIX.len() + 43);
        text.push_str(PERMANENT_TOKEN_PREFIX);
        text.push_str(&URL_SAFE_NO_PAD.encode(bytes.as_ref()));
        Self(Zeroizing::new(text))
    }

    /// Reads a token a client sent; `None` when it cannot be one of ours (wrong
    /// prefix, length or alphabet), so junk never reaches the database.
    pub fn parse(text: &str) -> Option<Self> {
        let body = text.strip_prefix(PERMANENT_TOKEN_PREFIX)?;
        let well_formed = body.len() == 43
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(Zeroizing::new(text.to_owned())))
    }

    /// The SHA-256 digest (hex), the only form that is stored.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(self.0.as_bytes())
    }

    /// The token text, to hand to the client once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PermanentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PermanentToken(<redacted>)")
    }
}

/// A SHA-256 digest of a secret, hex-encoded; compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenDigest(String);

impl TokenDigest {
    /// The digest of `secret`.
    pub fn of(secret: &[u8]) -> Self {
        let digest = Sha256::digest(secret);
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Wraps a stored hex digest.
    pub(crate) fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &TokenDigest) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({}…)", &self.0[..8.min(self.0.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_redact() {
        let t = PermanentToken::generate();
        assert!(t.expose().starts_with(PERMANENT_TOKEN_PREFIX));
        assert_eq!(t.expose().len(), 4 + 43);
        let parsed = PermanentToken::parse(t.expose()).expect("own token parses");
        assert!(parsed.digest().matches(&t.digest()));
        assert_eq!(format!("{t:?}"), "PermanentToken(<redacted>)");
        assert!(!format!("{:?}", t.digest()).contains(t.expose()));
    }

    #[test]
    fn junk_is_not_a_token() {
        for junk in [
            "",
            "jgp_",
            "jgp_short",
            "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(PermanentToken::parse(junk).is_none(), "{junk}");
        }
        let bad_alphabet = format!("jgp_{}", "*".repeat(43));
        assert!(PermanentToken::parse(&bad_alphabet).is_none());
    }

    #[test]
    fn own_ids_are_opaque_ids_and_junk_is_not() {
        assert!(is_opaque_id(&random_id()));
        for junk in ["", "a b", "../x", "x'--", &"a".repeat(65), "ä"] {
            assert!(!is_opaque_id(junk), "{junk}");
        }
    }

    #[test]
    fn secret_text_redacts_itself() {
        let secret = SecretText::new("hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(secret.expose(), "hunter2-hunter2");
    }

    #[test]
    fn distinct_tokens() {
        assert_ne!(
            PermanentToken::generate().expose(),
            PermanentToken::generate().expose()
        );
    }
}
