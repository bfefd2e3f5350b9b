//! The `introspection_clients` table: who may ask `POST /oauth/introspect`
//! (RFC 7662 §2.1) with HTTP Basic client credentials.

use serde::Deserialize;

use super::error::{Problem, Problems};

/// One client (a resource server) allowed to introspect tokens. Its secret is kept
/// only as a SHA-256 digest: `printf %s "$SECRET" | sha256sum`. Give clients long
/// random secrets (the digest is a fast hash: it protects a stolen configuration
/// only as well as the secret's own entropy).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct IntrospectionClient {
    /// The client id sent as the Basic user name.
    pub client_id: String,
    /// The hex SHA-256 digest of its secret.
    pub secret_sha256: String,
}

impl IntrospectionClient {
    /// A client with this id and the digest of `secret` (for tests and tools).
    pub fn with_secret(client_id: &str, secret: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            secret_sha256: crate::secret::TokenDigest::of(secret.as_bytes())
                .as_str()
                .to_owned(),
        }
    }

    /// The table's rules: ids present and unique, digests 64 hex digits.
    pub(super) fn check_all(clients: &[IntrospectionClient], p: &mut Problems) {
        let mut seen = std::collections::HashSet::new();
        for client in clients {
            if client.client_id.trim().is_empty() || !seen.insert(client.client_id.as_str()) {
                p.add("client_id", Problem::NameNotUnique);
            }
            let hex = client.secret_sha256.len() == 64
                && client.secret_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex {
                p.add(
                    "secret_sha256",
                    Problem::Missing("the secret's SHA-256 as 64 hex digits"),
                );
            }
        }
    }
}
