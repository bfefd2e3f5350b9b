//! Opaque secrets handed to clients: only their digest is ever stored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

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
    pub fn from_stored(hex: String) -> Self {
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
    fn distinct_tokens() {
        assert_ne!(
            PermanentToken::generate().expose(),
            PermanentToken::generate().expose()
        );
    }
}
