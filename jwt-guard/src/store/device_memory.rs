//! The devices whose current permanent token this instance issued itself (at login
//! or at the last rotation), by that token's digest.
//!
//! A device refresh that presents such a token is authenticated from memory, so its
//! only round trip is the rotation — which checks the token against the database
//! again (current, device live, unexpired) and is therefore still the authority: a
//! token superseded or revoked elsewhere fails there and is then told apart (reuse,
//! revoked, expired) by the database look-up the memory skipped. What memory alone
//! must get right is the guard's answer before the handler runs, so every
//! revocation this instance applies also ends the memory of what it revokes
//! ([`DeviceMemory::ended`]): a device revocation leaves the in-memory set once
//! the device's access tokens have expired (minutes), while a device is
//! remembered until it expires (days), so recall cannot lean on the set alone.

use std::collections::HashMap;
use std::sync::RwLock;

use super::device_record::DeviceRecord;
use crate::revocation_set::{Revocation, RevocationSet};
use crate::secret::TokenDigest;

/// Most devices remembered at once (a few hundred bytes each); past it, the ones
/// nearest their end are dropped — a forgotten device is looked up in the database.
const CAPACITY: usize = 10_000;

struct Remembered {
    device: DeviceRecord,
    /// When this instance issued the token (a subject-wide revocation issued after
    /// it covers the device).
    issued_at: u64,
    /// Recalled only before this (the device's own expiry).
    until: u64,
}

#[derive(Default)]
struct Entries {
    /// By the digest of the device's current permanent token.
    by_digest: HashMap<String, Remembered>,
    /// The digest each remembered device is kept under, by device id: a device
    /// revocation finds its entry without a scan.
    by_device: HashMap<String, String>,
}

impl Entries {
    fn remove(&mut self, digest: &str) {
        if let Some(gone) = self.by_digest.remove(digest) {
            if self.by_device.get(&gone.device.id).map(String::as_str) == Some(digest) {
                self.by_device.remove(&gone.device.id);
            }
        }
    }

    fn retain(&mut self, keep: impl Fn(&Remembered) -> bool) {
        self.by_digest.retain(|_, e| keep(e));
        let by_digest = &self.by_digest;
        self.by_device
            .retain(|_, digest| by_digest.contains_key(digest));
    }
}

/// Devices by the digest of the current permanent token this instance issued.
#[derive(Default)]
pub(crate) struct DeviceMemory {
    entries: RwLock<Entries>,
}

impl DeviceMemory {
    /// An empty memory.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Remembers that `digest` is `device`'s current permanent token, issued at
    /// `now`, until the device expires — unless `revocations` already revokes
    /// it. The check is made under the memory's lock, and a revocation is applied
    /// to the set before it ends the memory ([`DeviceMemory::ended`], which takes
    /// the same lock), so a revocation racing this call is seen by one or the
    /// other.
    pub(crate) fn remember(
        &self,
        digest: &TokenDigest,
        device: DeviceRecord,
        now: u64,
        revocations: &RevocationSet,
    ) {
        let until = device.expires_at;
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if revocations.revokes_device(&device.id, &device.subject, now) {
            return;
        }
        if entries.by_digest.len() >= CAPACITY {
            entries.retain(|e| e.until > now);
        }
        if entries.by_digest.len() >= CAPACITY {
            // Still full of live entries: drop the tenth nearest its end.
            let mut ends: Vec<u64> = entries.by_digest.values().map(|e| e.until).collect();
            let cut = CAPACITY / 10;
            ends.select_nth_unstable(cut);
            let end = ends[cut];
            entries.retain(|e| e.until > end);
        }
        let digest = digest.as_str().to_owned();
        if let Some(previous) = entries.by_device.insert(device.id.clone(), digest.clone()) {
            entries.by_digest.remove(&previous);
        }
        entries.by_digest.insert(
            digest,
            Remembered {
                device,
                issued_at: now,
                until,
            },
        );
    }

    /// Forgets what `revocation` ends: the device it names, or every device of a
    /// subject remembered from a token issued before its `not_before`. Called for
    /// every revocation this instance applies (its own, announced, polled or
    /// loaded), after the set has it.
    pub(crate) fn ended(&self, revocation: &Revocation) {
        let mut entries = match self.entries.write() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        match revocation {
            Revocation::Device { device_id, .. } => {
                if let Some(digest) = entries.by_device.get(device_id).cloned() {
                    entries.remove(&digest);
                }
            }
            Revocation::Subject {
                subject,
                not_before,
                ..
            } => entries.retain(|e| &e.device.subject != subject || e.issued_at >= *not_before),
            Revocation::Token { .. } | Revocation::IssuerSubject { .. } => {}
        }
    }

    /// The device whose current token (as this instance last issued it) has
    /// `digest`, if remembered, unexpired at `now` and not revoked in
    /// `revocations`. An entry that fails either test is dropped.
    pub(crate) fn recall(
        &self,
        digest: &TokenDigest,
        now: u64,
        revocations: &RevocationSet,
    ) -> Option<DeviceRecord> {
        let alive = {
            let entries = self.entries.read().ok()?;
            let entry = entries.by_digest.get(digest.as_str())?;
            let d = &entry.device;
            let alive = entry.until > now
                && !revocations.revokes_device(&d.id, &d.subject, entry.issued_at);
            alive.then(|| d.clone())
        };
        if alive.is_none() {
            self.forget(digest);
        }
        alive
    }

    /// Drops `digest` (rotated, or found stale).
    pub(crate) fn forget(&self, digest: &TokenDigest) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(digest.as_str());
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().map(|e| e.by_digest.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation_set::Revocation;
    use crate::secret::PermanentToken;
    use crate::store::DeviceDescription;

    fn device(id: &str, expires_at: u64) -> DeviceRecord {
        DeviceRecord {
            id: id.to_owned(),
            subject: "alice".to_owned(),
            description: DeviceDescription::default(),
            created_at: 100,
            last_used: 100,
            expires_at,
            orig_iat: 100,
            dpop_jkt: None,
            login_method: None,
        }
    }

    #[test]
    fn recalled_until_the_device_expires() {
        let memory = DeviceMemory::new();
        let revocations = RevocationSet::new();
        let (a, b) = (PermanentToken::generate(), PermanentToken::generate());
        memory.remember(&a.digest(), device("d1", 100_000), 100, &revocations);
        memory.remember(&b.digest(), device("d2", 200), 100, &revocations);
        assert!(
            memory.recall(&a.digest(), 99_999, &revocations).is_some(),
            "days later, as long as the device lives"
        );
        assert!(memory.recall(&a.digest(), 100_000, &revocations).is_none());
        assert!(memory.recall(&b.digest(), 199, &revocations).is_some());
        assert!(memory.recall(&b.digest(), 200, &revocations).is_none());
        assert_eq!(memory.len(), 0, "dead entries are dropped when found");
        let other = PermanentToken::generate();
        assert!(memory.recall(&other.digest(), 100, &revocations).is_none());
    }

    #[test]
    fn a_revocation_ends_recall_after_it_has_left_the_set() {
        // The set drops a device revocation once the device's access tokens have
        // expired; what memory remembers of the device must have gone with it.
        let memory = DeviceMemory::new();
        let (a, b, c) = (
            PermanentToken::generate(),
            PermanentToken::generate(),
            PermanentToken::generate(),
        );
        let empty = RevocationSet::new();
        memory.remember(&a.digest(), device("d1", 100_000), 100, &empty);
        memory.remember(&b.digest(), device("d2", 100_000), 100, &empty);
        memory.remember(&c.digest(), device("d3", 100_000), 200, &empty);
        memory.ended(&Revocation::Device {
            device_id: "d1".to_owned(),
            until: 400,
        });
        assert!(memory.recall(&a.digest(), 50_000, &empty).is_none());
        assert!(memory.recall(&b.digest(), 50_000, &empty).is_some());
        // Every token of alice's issued before 150: d2's, not d3's (issued at 200).
        memory.ended(&Revocation::Subject {
            subject: "alice".to_owned(),
            not_before: 150,
            until: 400,
        });
        assert!(memory.recall(&b.digest(), 50_000, &empty).is_none());
        assert!(memory.recall(&c.digest(), 50_000, &empty).is_some());
        memory.ended(&Revocation::Token {
            jti: "d3".to_owned(),
            until: 400,
        });
        assert!(
            memory.recall(&c.digest(), 50_000, &empty).is_some(),
            "a token's revocation names no device"
        );
    }

    #[test]
    fn a_device_already_revoked_is_not_remembered() {
        let memory = DeviceMemory::new();
        let revocations = RevocationSet::new();
        revocations.apply(&Revocation::Device {
            device_id: "d1".to_owned(),
            until: 400,
        });
        let a = PermanentToken::generate();
        memory.remember(&a.digest(), device("d1", 100_000), 100, &revocations);
        assert_eq!(memory.len(), 0);
        // Rotated: the device's earlier token is forgotten with its new one kept.
        let (first, second) = (PermanentToken::generate(), PermanentToken::generate());
        memory.remember(&first.digest(), device("d2", 100_000), 100, &revocations);
        memory.remember(&second.digest(), device("d2", 100_000), 110, &revocations);
        assert_eq!(memory.len(), 1);
        memory.ended(&Revocation::Device {
            device_id: "d2".to_owned(),
            until: 400,
        });
        assert_eq!(memory.len(), 0);
    }

    #[test]
    fn a_device_or_subject_revocation_ends_recall() {
        let memory = DeviceMemory::new();
        let revocations = RevocationSet::new();
        let (a, b) = (PermanentToken::generate(), PermanentToken::generate());
        memory.remember(&a.digest(), device("d1", 1_000), 100, &revocations);
        memory.remember(&b.digest(), device("d2", 1_000), 100, &revocations);
        revocations.apply(&Revocation::Device {
            device_id: "d1".to_owned(),
            until: 400,
        });
        assert!(memory.recall(&a.digest(), 101, &revocations).is_none());
        assert!(memory.recall(&b.digest(), 101, &revocations).is_some());
        revocations.apply(&Revocation::Subject {
            subject: "alice".to_owned(),
            not_before: 101,
            until: 400,
        });
        assert!(memory.recall(&b.digest(), 101, &revocations).is_none());
    }

    #[test]
    fn a_full_memory_drops_what_ends_first() {
        let memory = DeviceMemory::new();
        let revocations = RevocationSet::new();
        let first = PermanentToken::generate();
        memory.remember(&first.digest(), device("first", 150), 100, &revocations);
        for i in 1..CAPACITY {
            let t = PermanentToken::generate();
            memory.remember(&t.digest(), device(&i.to_string(), 500), 100, &revocations);
        }
        let last = PermanentToken::generate();
        memory.remember(&last.digest(), device("last", 900), 100, &revocations);
        assert!(memory.len() <= CAPACITY);
        assert!(memory.recall(&first.digest(), 101, &revocations).is_none());
        assert!(memory.recall(&last.digest(), 101, &revocations).is_some());
    }
}
