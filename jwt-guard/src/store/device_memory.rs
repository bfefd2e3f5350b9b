//! The devices whose current permanent token this instance issued itself (at login
//! or at the last rotation), by that token's digest.
//!
//! A device refresh that presents such a token is authenticated from memory, so its
//! only round trip is the rotation — which checks the token against the database
//! again (current, device live, unexpired) and is therefore still the authority: a
//! token superseded or revoked elsewhere fails there and is then told apart (reuse,
//! revoked, expired) by the database look-up the memory skipped. What memory alone
//! must get right is the guard's answer before the handler runs, so a remembered
//! device is only recalled while this instance's revocations would still show a
//! revocation of it (see [`DeviceMemory::remember`]), and never once they do.

use std::collections::HashMap;
use std::sync::RwLock;

use super::device_record::DeviceRecord;
use crate::revocation_set::RevocationSet;
use crate::secret::TokenDigest;

/// Most devices remembered at once (a few hundred bytes each); past it, the ones
/// nearest their end are dropped — a forgotten device is looked up in the database.
const CAPACITY: usize = 10_000;

struct Remembered {
    device: DeviceRecord,
    /// When this instance issued the token (a subject-wide revocation issued after
    /// it covers the device).
    issued_at: u64,
    /// Recalled only before this.
    until: u64,
}

/// Devices by the digest of the current permanent token this instance issued.
pub(crate) struct DeviceMemory {
    entries: RwLock<HashMap<String, Remembered>>,
    /// Seconds a revocation stays in the in-memory set at least (the longest
    /// token lifetime): no device is recalled for longer after it was issued.
    revocations_kept: u64,
}

impl DeviceMemory {
    /// An empty memory beside revocations kept `revocations_kept` seconds.
    pub(crate) fn new(revocations_kept: u64) -> Self {
        Self {
            entries: RwLock::default(),
            revocations_kept,
        }
    }

    /// Remembers that `digest` is `device`'s current permanent token, issued at
    /// `now`. It is recalled for at most `revocations_kept` seconds: every
    /// revocation of the device made after `now` stays in the in-memory set at
    /// least that long (its `until` is its own time plus the longest token
    /// lifetime), so memory never outlives the record that would refuse it.
    pub(crate) fn remember(&self, digest: &TokenDigest, device: DeviceRecord, now: u64) {
        let until = device
            .expires_at
            .min(now.saturating_add(self.revocations_kept));
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| e.until > now);
        }
        if entries.len() >= CAPACITY {
            // Still full of live entries: drop the tenth nearest its end.
            let mut ends: Vec<u64> = entries.values().map(|e| e.until).collect();
            let cut = CAPACITY / 10;
            ends.select_nth_unstable(cut);
            let end = ends[cut];
            entries.retain(|_, e| e.until > end);
        }
        entries.insert(
            digest.as_str().to_owned(),
            Remembered {
                device,
                issued_at: now,
                until,
            },
        );
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
            let entry = entries.get(digest.as_str())?;
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
        self.entries.read().map(|e| e.len()).unwrap_or(0)
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
    fn recalled_until_expiry_or_the_end_of_the_revocation_window() {
        let memory = DeviceMemory::new(300);
        let revocations = RevocationSet::new();
        let (a, b) = (PermanentToken::generate(), PermanentToken::generate());
        memory.remember(&a.digest(), device("d1", 1_000), 100);
        memory.remember(&b.digest(), device("d2", 200), 100);
        assert!(memory.recall(&a.digest(), 399, &revocations).is_some());
        assert!(
            memory.recall(&a.digest(), 400, &revocations).is_none(),
            "past the window in which a revocation of it is still in memory"
        );
        assert!(memory.recall(&b.digest(), 199, &revocations).is_some());
        assert!(memory.recall(&b.digest(), 200, &revocations).is_none());
        assert_eq!(memory.len(), 0, "dead entries are dropped when found");
        let other = PermanentToken::generate();
        assert!(memory.recall(&other.digest(), 100, &revocations).is_none());
    }

    #[test]
    fn a_device_or_subject_revocation_ends_recall() {
        let memory = DeviceMemory::new(300);
        let revocations = RevocationSet::new();
        let (a, b) = (PermanentToken::generate(), PermanentToken::generate());
        memory.remember(&a.digest(), device("d1", 1_000), 100);
        memory.remember(&b.digest(), device("d2", 1_000), 100);
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
        let memory = DeviceMemory::new(1_000);
        let revocations = RevocationSet::new();
        let first = PermanentToken::generate();
        memory.remember(&first.digest(), device("first", 150), 100);
        for i in 1..CAPACITY {
            let t = PermanentToken::generate();
            memory.remember(&t.digest(), device(&i.to_string(), 500), 100);
        }
        let last = PermanentToken::generate();
        memory.remember(&last.digest(), device("last", 900), 100);
        assert!(memory.len() <= CAPACITY);
        assert!(memory.recall(&first.digest(), 101, &revocations).is_none());
        assert!(memory.recall(&last.digest(), 101, &revocations).is_some());
    }
}
