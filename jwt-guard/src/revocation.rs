//! The in-memory set of revocations consulted on every access-token request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use crate::claims::RegisteredClaims;

#[derive(Default)]
struct Revoked {
    /// Revoked token ids, with the time after which the token is dead anyway.
    tokens: HashMap<String, u64>,
    /// Revoked devices, with the time after which their tokens are dead anyway.
    devices: HashMap<String, u64>,
    /// Per subject: tokens issued before this time are revoked.
    not_before: HashMap<String, u64>,
}

/// Revoked tokens, devices and per-user "not before" times, held in memory so that
/// checking an access token needs no database call.
///
/// Entries carry the time after which the tokens they revoke would have expired
/// anyway; [`RevocationSet::prune`] drops those.
#[derive(Default)]
pub struct RevocationSet {
    inner: RwLock<Revoked>,
    /// Lets the common case (nothing revoked) skip the lock.
    any: AtomicBool,
}

impl std::fmt::Debug for RevocationSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (t, d, n) = self.counts();
        f.debug_struct("RevocationSet")
            .field("tokens", &t)
            .field("devices", &d)
            .field("subjects", &n)
            .finish()
    }
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the token with these claims is revoked.
    pub fn is_revoked(&self, claims: &RegisteredClaims) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let Ok(inner) = self.inner.read() else {
            // A poisoned lock means a writer panicked mid-update: fail closed.
            return true;
        };
        if inner.tokens.contains_key(&claims.jti) {
            return true;
        }
        if let Some(did) = &claims.did {
            if inner.devices.contains_key(did) {
                return true;
            }
        }
        if let Some(nbf) = inner.not_before.get(&claims.sub) {
            if claims.iat < *nbf {
                return true;
            }
        }
        false
    }

    fn write(&self, f: impl FnOnce(&mut Revoked)) {
        let mut inner = match self.inner.write() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut inner);
        let any =
            !(inner.tokens.is_empty() && inner.devices.is_empty() && inner.not_before.is_empty());
        self.any.store(any, Ordering::Release);
    }

    /// Revokes one token id; `until` is when that token would expire anyway.
    pub fn revoke_token(&self, jti: &str, until: u64) {
        self.write(|r| {
            r.tokens.insert(jti.to_owned(), until);
        });
    }

    /// Revokes every token of a device; `until` is when its last token would expire.
    pub fn revoke_device(&self, device_id: &str, until: u64) {
        self.write(|r| {
            r.devices.insert(device_id.to_owned(), until);
        });
    }

    /// Revokes every token of `subject` issued before `not_before`.
    pub fn revoke_subject_before(&self, subject: &str, not_before: u64) {
        self.write(|r| {
            let entry = r.not_before.entry(subject.to_owned()).or_insert(0);
            *entry = (*entry).max(not_before);
        });
    }

    /// Drops entries whose tokens have all expired by `now`. `max_token_lifetime`
    /// bounds how long a token issued before a "not before" time can live.
    pub fn prune(&self, now: u64, max_token_lifetime: u64) {
        self.write(|r| {
            r.tokens.retain(|_, until| *until > now);
            r.devices.retain(|_, until| *until > now);
            r.not_before
                .retain(|_, nbf| nbf.saturating_add(max_token_lifetime) > now);
        });
    }

    /// How many tokens, devices and subjects are held.
    pub fn counts(&self) -> (usize, usize, usize) {
        match self.inner.read() {
            Ok(r) => (r.tokens.len(), r.devices.len(), r.not_before.len()),
            Err(_) => (0, 0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::TokenKind;

    fn claims(jti: &str, did: Option<&str>, sub: &str, iat: u64) -> RegisteredClaims {
        RegisteredClaims {
            typ: TokenKind::Access,
            sub: sub.into(),
            exp: iat + 300,
            iat,
            nbf: None,
            jti: jti.into(),
            did: did.map(Into::into),
            orig_iat: None,
            iss: None,
            aud: None,
        }
    }

    #[test]
    fn each_kind_of_revocation_applies() {
        let set = RevocationSet::new();
        let c = claims("j1", Some("d1"), "alice", 100);
        assert!(!set.is_revoked(&c));
        set.revoke_token("j1", 400);
        assert!(set.is_revoked(&c));
        assert!(!set.is_revoked(&claims("j2", Some("d1"), "alice", 100)));
        set.revoke_device("d1", 400);
        assert!(set.is_revoked(&claims("j2", Some("d1"), "alice", 100)));
        set.revoke_subject_before("bob", 200);
        assert!(set.is_revoked(&claims("j3", None, "bob", 199)));
        assert!(!set.is_revoked(&claims("j4", None, "bob", 200)));
    }

    #[test]
    fn prune_drops_only_dead_entries() {
        let set = RevocationSet::new();
        set.revoke_token("old", 100);
        set.revoke_token("new", 1000);
        set.revoke_subject_before("s", 50);
        set.prune(500, 300);
        assert_eq!(set.counts(), (1, 0, 0));
    }
}
