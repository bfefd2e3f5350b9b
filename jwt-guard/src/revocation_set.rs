//! The in-memory set of revocations consulted on every access-token request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::claims::RegisteredClaims;

/// One revocation: of a token id, of a device's whole family, or of every token of
/// a subject issued before a time. Written as a database row (and, on PostgreSQL,
/// announced with this as the `NOTIFY` payload), then applied to every instance's
/// [`RevocationSet`].
///
/// `until` is when everything it revokes has expired anyway; after that it is
/// dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Revocation {
    /// One token id.
    Token {
        /// The `jti`.
        jti: String,
        /// When that token expires anyway.
        until: u64,
    },
    /// Every token of one device (login).
    Device {
        /// The device id (`did`).
        device_id: String,
        /// When its last token expires anyway.
        until: u64,
    },
    /// Every token of `subject` issued before `not_before`.
    Subject {
        /// The subject (`sub`).
        subject: String,
        /// Tokens with an earlier `iat` are revoked.
        not_before: u64,
        /// When the last such token expires anyway.
        until: u64,
    },
    /// Every token an outside issuer issued to `subject` before `not_before`,
    /// accepted directly (`#[use_jwt(issuer = …)]`): what a logout or account
    /// signal from that issuer revokes. Kept apart from [`Revocation::Subject`]:
    /// the issuer's `sub` names its user, not necessarily the app's.
    IssuerSubject {
        /// The issuer's `iss`.
        issuer: String,
        /// The `sub` it gave the user.
        subject: String,
        /// Tokens with an earlier `iat` are revoked.
        not_before: u64,
        /// When the last such token expires anyway.
        until: u64,
    },
}

/// The `value` column of an [`Revocation::IssuerSubject`] row: issuer and
/// subject as a JSON array, so no character of either can blur the two.
fn issuer_subject_value(issuer: &str, subject: &str) -> String {
    serde_json::json!([issuer, subject]).to_string()
}

impl Revocation {
    /// The row's `kind` column.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Revocation::Token { .. } => "jti",
            Revocation::Device { .. } => "device",
            Revocation::Subject { .. } => "subject",
            Revocation::IssuerSubject { .. } => "issuer_subject",
        }
    }

    /// The row's `value` column: the token id, device id or subject (an outside
    /// subject with its issuer, as a JSON array).
    pub(crate) fn value(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Revocation::Token { jti, .. } => jti.into(),
            Revocation::Device { device_id, .. } => device_id.into(),
            Revocation::Subject { subject, .. } => subject.into(),
            Revocation::IssuerSubject {
                issuer, subject, ..
            } => issuer_subject_value(issuer, subject).into(),
        }
    }

    /// The row's `not_before` column (0 unless a subject revocation).
    pub(crate) fn not_before(&self) -> u64 {
        match self {
            Revocation::Subject { not_before, .. }
            | Revocation::IssuerSubject { not_before, .. } => *not_before,
            _ => 0,
        }
    }

    /// When everything it revokes has expired anyway.
    pub fn until(&self) -> u64 {
        match self {
            Revocation::Token { until, .. }
            | Revocation::Device { until, .. }
            | Revocation::Subject { until, .. }
            | Revocation::IssuerSubject { until, .. } => *until,
        }
    }

    /// Reads a stored row back; `None` for a kind this version does not know.
    pub(crate) fn from_row(kind: &str, value: String, not_before: u64, until: u64) -> Option<Self> {
        match kind {
            "jti" => Some(Revocation::Token { jti: value, until }),
            "device" => Some(Revocation::Device {
                device_id: value,
                until,
            }),
            "subject" => Some(Revocation::Subject {
                subject: value,
                not_before,
                until,
            }),
            "issuer_subject" => {
                let (issuer, subject) = serde_json::from_str::<(String, String)>(&value).ok()?;
                Some(Revocation::IssuerSubject {
                    issuer,
                    subject,
                    not_before,
                    until,
                })
            }
            _ => None,
        }
    }
}

/// Ids (of tokens, of devices) with the time after which their tokens are dead
/// anyway. jwt-guard's own ids are 16 random bytes written as 22 base64url
/// characters: those are kept as the 16 bytes, in place — a `String` key costs a
/// pointer, a length and a capacity plus a block on the heap — and any other id
/// (an app's own `jti`) as text. Canonical base64url spells each byte string one
/// way only, so an id lands in the same map however it arrives.
#[derive(Default)]
struct IdMap {
    compact: HashMap<[u8; 16], u64>,
    text: HashMap<Box<str>, u64>,
}

/// The 16 bytes a canonical 22-character base64url id stands for.
fn compact(id: &str) -> Option<[u8; 16]> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    // The engine refuses non-canonical trailing bits: one spelling per value.
    let decoded = (id.len() == 22).then(|| URL_SAFE_NO_PAD.decode_slice(id, &mut bytes));
    matches!(decoded, Some(Ok(16))).then_some(bytes)
}

impl IdMap {
    fn get(&self, id: &str) -> Option<u64> {
        match compact(id) {
            Some(bytes) => self.compact.get(&bytes).copied(),
            None => self.text.get(id).copied(),
        }
    }

    /// Records `id` as revoked until at least `until`.
    fn widen(&mut self, id: &str, until: u64) {
        let slot = match compact(id) {
            Some(bytes) => self.compact.entry(bytes).or_insert(0),
            None => self.text.entry(id.into()).or_insert(0),
        };
        *slot = (*slot).max(until);
    }

    /// Keeps the ids whose tokens are still alive after `now`.
    fn retain_live(&mut self, now: u64) {
        self.compact.retain(|_, until| *until > now);
        self.text.retain(|_, until| *until > now);
    }

    fn len(&self) -> usize {
        self.compact.len() + self.text.len()
    }

    fn is_empty(&self) -> bool {
        self.compact.is_empty() && self.text.is_empty()
    }
}

#[derive(Default)]
struct Revoked {
    /// Revoked token ids, with the time after which the token is dead anyway.
    tokens: IdMap,
    /// Revoked devices, with the time after which their tokens are dead anyway.
    devices: IdMap,
    /// Per subject: tokens issued before `.0` are revoked, until `.1`.
    not_before: HashMap<String, (u64, u64)>,
    /// The same per outside issuer (`iss`), then per its subject.
    outside_not_before: HashMap<String, HashMap<String, (u64, u64)>>,
}

impl Revoked {
    fn is_empty(&self) -> bool {
        self.tokens.is_empty()
            && self.devices.is_empty()
            && self.not_before.is_empty()
            && self.outside_not_before.is_empty()
    }
}

/// Revoked tokens, devices and per-user "not before" times, held in memory so that
/// checking an access token needs no database call.
///
/// Only the store changes it, after the revocation is committed to the database:
/// nothing is revoked in one process's memory alone.
pub struct RevocationSet {
    inner: RwLock<Revoked>,
    /// Lets the common case (nothing revoked) skip the lock.
    any: AtomicBool,
    /// Real (monotonic) time, never the token clock: staleness is about how long
    /// ago the database answered, and a test clock or a skewed wall clock must not
    /// change it.
    epoch: Instant,
    /// Milliseconds after `epoch` when the set last matched the database, plus one
    /// (0: never).
    current_at: AtomicU64,
}

impl Default for RevocationSet {
    fn default() -> Self {
        Self {
            inner: RwLock::default(),
            any: AtomicBool::new(false),
            epoch: Instant::now(),
            current_at: AtomicU64::new(0),
        }
    }
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
        if inner.tokens.get(&claims.jti).is_some() {
            return true;
        }
        if let Some(did) = &claims.did {
            if inner.devices.get(did).is_some() {
                return true;
            }
        }
        if let Some((nbf, _)) = inner.not_before.get(&claims.sub) {
            if claims.iat < *nbf {
                return true;
            }
        }
        false
    }

    /// Whether a token outside issuer `issuer` issued to `subject` at `iat` is
    /// revoked by a signal from that issuer ([`Revocation::IssuerSubject`]).
    pub(crate) fn revokes_outside(&self, issuer: &str, subject: &str, iat: u64) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let Ok(inner) = self.inner.read() else {
            return true;
        };
        inner
            .outside_not_before
            .get(issuer)
            .and_then(|subjects| subjects.get(subject))
            .is_some_and(|(nbf, _)| iat < *nbf)
    }

    /// Whether device `device_id` of `subject` is revoked for a credential issued
    /// at `issued_at`: the device's family, or every token of the subject issued
    /// up to a later time.
    pub(crate) fn revokes_device(&self, device_id: &str, subject: &str, issued_at: u64) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let Ok(inner) = self.inner.read() else {
            return true;
        };
        inner.devices.get(device_id).is_some()
            || inner
                .not_before
                .get(subject)
                .is_some_and(|(nbf, _)| issued_at < *nbf)
    }

    /// Whether `revocation` is already in force here (applied at its commit, or
    /// announced before a poll reads it again).
    pub(crate) fn covers(&self, revocation: &Revocation) -> bool {
        let Ok(inner) = self.inner.read() else {
            return false;
        };
        match revocation {
            Revocation::Token { jti, until } => inner.tokens.get(jti).is_some_and(|u| u >= *until),
            Revocation::Device { device_id, until } => {
                inner.devices.get(device_id).is_some_and(|u| u >= *until)
            }
            Revocation::Subject {
                subject,
                not_before,
                until,
            } => inner
                .not_before
                .get(subject)
                .is_some_and(|(n, u)| n >= not_before && u >= until),
            Revocation::IssuerSubject {
                issuer,
                subject,
                not_before,
                until,
            } => inner
                .outside_not_before
                .get(issuer)
                .and_then(|subjects| subjects.get(subject))
                .is_some_and(|(n, u)| n >= not_before && u >= until),
        }
    }

    fn write(&self, f: impl FnOnce(&mut Revoked)) {
        let mut inner = match self.inner.write() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut inner);
        self.any.store(!inner.is_empty(), Ordering::Release);
    }

    /// Applies a committed revocation. Applying one twice changes nothing.
    pub(crate) fn apply(&self, revocation: &Revocation) {
        let widen = |slot: &mut u64, value: u64| *slot = (*slot).max(value);
        self.write(|r| match revocation {
            Revocation::Token { jti, until } => {
                r.tokens.widen(jti, *until);
            }
            Revocation::Device { device_id, until } => {
                r.devices.widen(device_id, *until);
            }
            Revocation::Subject {
                subject,
                not_before,
                until,
            } => {
                let entry = r.not_before.entry(subject.clone()).or_insert((0, 0));
                widen(&mut entry.0, *not_before);
                widen(&mut entry.1, *until);
            }
            Revocation::IssuerSubject {
                issuer,
                subject,
                not_before,
                until,
            } => {
                let subjects = r.outside_not_before.entry(issuer.clone()).or_default();
                let entry = subjects.entry(subject.clone()).or_insert((0, 0));
                widen(&mut entry.0, *not_before);
                widen(&mut entry.1, *until);
            }
        });
    }

    /// Drops entries whose tokens have all expired by `now`.
    pub(crate) fn prune(&self, now: u64) {
        self.write(|r| {
            r.tokens.retain_live(now);
            r.devices.retain_live(now);
            r.not_before.retain(|_, (_, until)| *until > now);
            r.outside_not_before.retain(|_, subjects| {
                subjects.retain(|_, (_, until)| *until > now);
                !subjects.is_empty()
            });
        });
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records that the set matches the database now (a load or poll succeeded).
    pub(crate) fn mark_current(&self) {
        let now = self.elapsed_ms().saturating_add(1);
        self.current_at.fetch_max(now, Ordering::AcqRel);
    }

    /// How long ago the set last matched the database (`None` before the first
    /// load).
    pub fn staleness(&self) -> Option<Duration> {
        match self.current_at.load(Ordering::Acquire) {
            0 => None,
            at => Some(Duration::from_millis(
                self.elapsed_ms().saturating_add(1).saturating_sub(at),
            )),
        }
    }

    /// How many tokens, devices and subjects (the app's and outside issuers')
    /// are held.
    pub fn counts(&self) -> (usize, usize, usize) {
        match self.inner.read() {
            Ok(r) => {
                let outside: usize = r.outside_not_before.values().map(HashMap::len).sum();
                (
                    r.tokens.len(),
                    r.devices.len(),
                    r.not_before.len() + outside,
                )
            }
            Err(_) => (0, 0, 0),
        }
    }
}

/// A set holding `revocations` (for a verifier of its own, a benchmark or a test;
/// the running app's set changes only through the store).
impl FromIterator<Revocation> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = Revocation>>(revocations: I) -> Self {
        let set = RevocationSet::new();
        for revocation in revocations {
            set.apply(&revocation);
        }
        set
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
            auth_time: None,
            acr: None,
            amr: None,
            cnf: None,
        }
    }

    /// jwt-guard's own ids are kept as their 16 bytes, any other id as text; each
    /// is found only as itself, and both expire alike.
    #[test]
    fn own_ids_are_kept_compact_and_others_as_text() {
        let own = crate::secret::random_id();
        let other = "an-app's-own-jti";
        // 22 characters, but not canonical base64url (trailing bits set): text.
        let odd = "AAAAAAAAAAAAAAAAAAAAAB";
        assert!(compact(&own).is_some());
        assert!(compact(other).is_none() && compact(odd).is_none());
        let set = RevocationSet::new();
        for (jti, until) in [(own.as_str(), 400), (other, 500), (odd, 600)] {
            set.apply(&Revocation::Token {
                jti: jti.into(),
                until,
            });
        }
        for jti in [own.as_str(), other, odd] {
            assert!(set.is_revoked(&claims(jti, None, "alice", 100)), "{jti}");
        }
        let twin = "AAAAAAAAAAAAAAAAAAAAAA"; // `odd`'s canonical neighbour
        assert!(!set.is_revoked(&claims(twin, None, "alice", 100)));
        assert!(!set.is_revoked(&claims(&crate::secret::random_id(), None, "alice", 100)));
        assert_eq!(set.counts().0, 3);
        set.prune(450);
        assert!(!set.is_revoked(&claims(&own, None, "alice", 100)));
        assert!(set.is_revoked(&claims(other, None, "alice", 100)));
        assert_eq!(set.counts().0, 2);
    }

    #[test]
    fn each_kind_of_revocation_applies() {
        let set = RevocationSet::new();
        let c = claims("j1", Some("d1"), "alice", 100);
        assert!(!set.is_revoked(&c));
        set.apply(&Revocation::Token {
            jti: "j1".into(),
            until: 400,
        });
        assert!(set.is_revoked(&c));
        assert!(!set.is_revoked(&claims("j2", Some("d1"), "alice", 100)));
        set.apply(&Revocation::Device {
            device_id: "d1".into(),
            until: 400,
        });
        assert!(set.is_revoked(&claims("j2", Some("d1"), "alice", 100)));
        set.apply(&Revocation::Subject {
            subject: "bob".into(),
            not_before: 200,
            until: 500,
        });
        assert!(set.is_revoked(&claims("j3", None, "bob", 199)));
        assert!(!set.is_revoked(&claims("j4", None, "bob", 200)));
    }

    /// An outside issuer's subject is revoked for that issuer only, and never
    /// mistaken for the app's own user of the same name.
    #[test]
    fn an_outside_subject_is_revoked_per_issuer() {
        let set = RevocationSet::new();
        set.apply(&Revocation::IssuerSubject {
            issuer: "https://idp.example".into(),
            subject: "ann".into(),
            not_before: 200,
            until: 500,
        });
        assert!(set.revokes_outside("https://idp.example", "ann", 199));
        assert!(!set.revokes_outside("https://idp.example", "ann", 200));
        assert!(!set.revokes_outside("https://other.example", "ann", 100));
        assert!(!set.revokes_outside("https://idp.example", "bob", 100));
        assert!(!set.is_revoked(&claims("j", None, "ann", 100)));
        assert_eq!(set.counts(), (0, 0, 1));
        set.prune(500);
        assert!(!set.revokes_outside("https://idp.example", "ann", 100));
        assert_eq!(set.counts(), (0, 0, 0));
    }

    #[test]
    fn prune_drops_only_dead_entries() {
        let set = RevocationSet::new();
        for (jti, until) in [("old", 100), ("new", 1000)] {
            set.apply(&Revocation::Token {
                jti: jti.into(),
                until,
            });
        }
        set.apply(&Revocation::Subject {
            subject: "s".into(),
            not_before: 50,
            until: 350,
        });
        set.prune(500);
        assert_eq!(set.counts(), (1, 0, 0));
    }

    #[test]
    fn a_revocation_round_trips_as_a_row_and_a_notice() {
        let r = Revocation::Subject {
            subject: "ann".into(),
            not_before: 10,
            until: 99,
        };
        let row = Revocation::from_row(r.kind(), r.value().into_owned(), r.not_before(), r.until());
        assert_eq!(row.as_ref(), Some(&r));
        let outside = Revocation::IssuerSubject {
            issuer: "https://idp.example/\"a".into(),
            subject: "ann".into(),
            not_before: 10,
            until: 99,
        };
        let row = Revocation::from_row(
            outside.kind(),
            outside.value().into_owned(),
            outside.not_before(),
            outside.until(),
        );
        assert_eq!(row.as_ref(), Some(&outside));
        let payload = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Revocation>(&payload).ok(), Some(r));
        assert!(Revocation::from_row("other", "x".into(), 0, 1).is_none());
    }
}
