//! Revocation rows: written with every revocation (one function), loaded at launch,
//! announced on PostgreSQL, and polled so that every instance sharing the database
//! enforces them within a bound.

use rocket::futures::TryStreamExt as _;
use sqlx::Row;

use super::audit::AuditEvent;
use super::executor::Tx;
use super::handle::{PendingLogout, Store, StoreError};
use super::ids::{DeviceId, Subject};
use super::pool::Backend;
use super::sql::{secs, ts};
use crate::revocation_set::Revocation;

/// Rows applied to the revocation set at a time while it loads at launch.
const LOAD_PAGE: usize = 1024;

/// The PostgreSQL channel revocations are announced on; the payload is a
/// [`Revocation`] as JSON.
pub(crate) const REVOCATION_CHANNEL: &str = "jwt_guard_revocations";

impl Store {
    /// Writes `revocation` in `tx`. The one place a revocation row is written; commit
    /// with [`Store::commit_revoking`], which stamps (and on PostgreSQL announces) it.
    pub(crate) async fn insert_revocation_in(
        &self,
        tx: &mut Tx,
        revocation: &Revocation,
        now: u64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO jwt_guard_revocations (kind, value, not_before, until, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, value) DO UPDATE SET
                 not_before = CASE WHEN excluded.not_before > jwt_guard_revocations.not_before
                                   THEN excluded.not_before ELSE jwt_guard_revocations.not_before END,
                 until = CASE WHEN excluded.until > jwt_guard_revocations.until
                              THEN excluded.until ELSE jwt_guard_revocations.until END,
                 created_at = excluded.created_at",
        )
        .bind(revocation.kind())
        .bind(revocation.value().into_owned())
        .bind(ts(revocation.not_before()))
        .bind(ts(revocation.until()))
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Stamps `revocations` (written in `tx`) with the next sequence number, commits,
    /// then applies them to this instance's memory: nothing is revoked in memory that
    /// is not in the database. The counter is taken last, just before the commit, so
    /// no transaction waits for another lock while holding it, and its values follow
    /// the order of the commits (what [`Store::poll_revocations`] relies on).
    pub(crate) async fn commit_revoking(
        &self,
        mut tx: Tx,
        revocations: &[Revocation],
    ) -> Result<(), sqlx::Error> {
        for revocation in revocations {
            crate::observe::revoked(revocation.kind());
        }
        if !revocations.is_empty() {
            let seq: i64 = sqlx::query_scalar(
                "UPDATE jwt_guard_counters SET value = value + 1
                 WHERE name = 'revocation_seq' RETURNING value",
            )
            .fetch_one(&mut *tx)
            .await?;
            for revocation in revocations {
                if self.backend == Backend::Postgres {
                    // Stamped and announced in one statement; the notification is
                    // delivered at commit to every instance listening.
                    let payload = serde_json::to_string(&Announcement {
                        revocation: revocation.clone(),
                        committed_ms: Some(crate::observe::wall_ms()),
                    })
                    .unwrap_or_default();
                    sqlx::query(
                        "WITH stamped AS (
                             UPDATE jwt_guard_revocations SET seq = $1
                             WHERE kind = $2 AND value = $3 RETURNING kind
                         )
                         SELECT pg_notify($4, $5) FROM stamped",
                    )
                    .bind(seq)
                    .bind(revocation.kind())
                    .bind(revocation.value().into_owned())
                    .bind(REVOCATION_CHANNEL)
                    .bind(payload)
                    .execute(&mut *tx)
                    .await?;
                } else {
                    sqlx::query(
                        "UPDATE jwt_guard_revocations SET seq = $1 WHERE kind = $2 AND value = $3",
                    )
                    .bind(seq)
                    .bind(revocation.kind())
                    .bind(revocation.value().into_owned())
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        for revocation in revocations {
            self.apply_revocation(revocation);
        }
        Ok(())
    }

    /// Puts a committed (or, during an outage, pending) revocation in force
    /// here: in the set every check reads, then in what this instance remembers
    /// of its devices — in that order, which [`DeviceMemory::remember`] relies on.
    ///
    /// [`DeviceMemory::remember`]: super::device_memory::DeviceMemory::remember
    pub(crate) fn apply_revocation(&self, revocation: &Revocation) {
        self.revocations.apply(revocation);
        self.devices_issued.ended(revocation);
    }

    /// A device revocation lasting as long as the device's access tokens could
    /// (see [`JwtConfig::device_token_lifetime`]): its refresh and permanent
    /// tokens are revoked in the database in the same transaction, and each of
    /// their uses asks the database.
    ///
    /// [`JwtConfig::device_token_lifetime`]: crate::config::JwtConfig::device_token_lifetime
    pub(crate) fn device_revocation(&self, device_id: &str, now: u64) -> Revocation {
        Revocation::Device {
            device_id: device_id.to_owned(),
            until: now.saturating_add(self.settings.device_token_ttl),
        }
    }

    /// Every token of `subject` issued up to now — this second included, since
    /// `iat` counts whole seconds and a token minted a moment before the revocation
    /// must not outlive it (a login in the very same second after it is refused
    /// too: it logs in again a second later) — for as long as any could live.
    pub(crate) fn subject_revocation(&self, subject: &str) -> Revocation {
        let now = self.now();
        Revocation::Subject {
            subject: subject.to_owned(),
            not_before: now.saturating_add(1),
            until: now.saturating_add(self.settings.max_token_ttl),
        }
    }

    /// A logout that could not reach the database: applied to this instance's
    /// memory at once (the caller answers 503), and written by
    /// [`Store::flush_pending_logouts`] as soon as the database answers again — the
    /// one exception to "database first", and it heals itself.
    pub(crate) fn log_out_while_unreachable(&self, logout: PendingLogout) {
        let now = self.now();
        let revocation = match &logout {
            // Until it is written, nothing in the database refuses the device's
            // refresh tokens: memory holds it as long as any token can live.
            PendingLogout::Device { device_id, .. } => Revocation::Device {
                device_id: device_id.clone(),
                until: now.saturating_add(self.settings.max_token_ttl),
            },
            PendingLogout::Everywhere { subject } => self.subject_revocation(subject),
        };
        self.apply_revocation(&revocation);
        match self.pending.lock() {
            Ok(mut pending) => pending.push(logout),
            Err(poisoned) => poisoned.into_inner().push(logout),
        }
    }

    /// Writes the logouts that were answered 503 during an outage. Called after
    /// every successful poll; what still fails stays pending.
    pub(crate) async fn flush_pending_logouts(&self) {
        let pending = match self.pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for logout in pending {
            let written = match &logout {
                PendingLogout::Device { subject, device_id } => self
                    .revoke_device_of(
                        Subject(subject),
                        DeviceId(device_id),
                        "logged out during an outage",
                    )
                    .await
                    .map(|_| ()),
                PendingLogout::Everywhere { subject } => self
                    .revoke_all_devices(Subject(subject), None)
                    .await
                    .map(|_| ()),
            };
            if written.is_err() {
                if let Ok(mut pending) = self.pending.lock() {
                    pending.push(logout);
                }
            }
        }
    }

    /// A `LISTEN` connection on the revocation channel (PostgreSQL only).
    pub(crate) async fn listen(&self) -> Option<Result<RevocationListener, StoreError>> {
        if self.backend != Backend::Postgres {
            return None;
        }
        match &self.listen_url {
            Some(url) => Some(RevocationListener::connect(url).await),
            None => {
                rocket::info!(
                    "jwt-guard: behind a transaction-mode pooler with no `listen_url`: \
                     revocations arrive by polling alone"
                );
                None
            }
        }
    }

    /// Revokes everything of `subject`: every token issued before now (tokens carry
    /// whole seconds: one issued in this same second survives), every device (so
    /// every permanent token), and every outstanding link — in one transaction.
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), StoreError> {
        let now = self.now();
        let mut revoked = vec![self.subject_revocation(subject)];
        let mut tx = self.begin_write().await?;
        self.insert_revocation_in(&mut tx, &revoked[0], now).await?;
        let devices = super::device_revocations::live_device_ids_in(&mut tx, subject).await?;
        for device_id in &devices {
            revoked.push(self.revoke_device_in(&mut tx, device_id, now).await?);
        }
        self.revoke_links_of_in(&mut tx, subject, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::SubjectRevoked,
            Some(subject),
            None,
            "every token, device and link revoked",
        )
        .await?;
        self.commit_revoking(tx, &revoked).await?;
        Ok(())
    }

    /// Revokes one token id until `until` (when it would have expired anyway).
    pub async fn revoke_jti(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        let now = self.now();
        let revocation = Revocation::Token {
            jti: jti.to_owned(),
            until,
        };
        let mut tx = self.begin_write().await?;
        self.insert_revocation_in(&mut tx, &revocation, now).await?;
        sqlx::query(
            "UPDATE jwt_guard_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(jti)
        .execute(&mut *tx)
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Ok(())
    }

    /// Loads every live revocation into the in-memory set (at launch), a page of
    /// rows at a time. Returns the
    /// cursor to poll from.
    pub async fn load_revocations(&self) -> Result<RevocationCursor, StoreError> {
        let now = self.now();
        // Read the counter first: anything committed after it has a larger number and
        // is read again by the next poll (applying twice changes nothing).
        let cursor: i64 = sqlx::query_scalar(
            "SELECT value FROM jwt_guard_counters WHERE name = 'revocation_seq'",
        )
        .fetch_one(&self.pool)
        .await?;
        // Streamed in pages: a million live revocations never sit in memory twice
        // (as rows and as the set), which `fetch_all` did.
        let mut rows = sqlx::query(
            "SELECT kind, value, not_before, until FROM jwt_guard_revocations WHERE until > $1",
        )
        .bind(ts(now))
        .fetch(&self.pool);
        let mut page = Vec::with_capacity(LOAD_PAGE);
        while let Some(row) = rows.try_next().await? {
            page.push(row);
            if page.len() == LOAD_PAGE {
                self.apply_rows(&page)?;
                page.clear();
            }
        }
        self.apply_rows(&page)?;
        self.revocations.prune(now);
        self.revocations.mark_current();
        Ok(RevocationCursor(cursor))
    }

    /// Applies the revocations committed after `cursor` (by any instance) and
    /// returns the new cursor. Compares sequence numbers, never clocks.
    pub async fn poll_revocations(
        &self,
        cursor: RevocationCursor,
    ) -> Result<RevocationCursor, StoreError> {
        let now = self.now();
        let rows = sqlx::query(
            "SELECT kind, value, not_before, until, seq, created_at FROM jwt_guard_revocations
             WHERE seq > $1 ORDER BY seq ASC",
        )
        .bind(cursor.0)
        .fetch_all(&self.pool)
        .await?;
        self.apply_rows(&rows)?;
        let mut next = cursor.0;
        for row in &rows {
            next = next.max(row.try_get::<i64, _>("seq")?);
        }
        self.revocations.prune(now);
        self.revocations.mark_current();
        Ok(RevocationCursor(next))
    }

    fn apply_rows(&self, rows: &[sqlx::any::AnyRow]) -> Result<(), sqlx::Error> {
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let revocation = Revocation::from_row(
                &kind,
                row.try_get("value")?,
                secs(row.try_get("not_before")?),
                secs(row.try_get("until")?),
            );
            if let Some(revocation) = revocation {
                // Not yet in force here: it arrives by this poll (a revocation of
                // this instance's own, or one announced, already is).
                if !self.revocations.covers(&revocation) {
                    let created: Option<i64> = row.try_get("created_at").ok();
                    if let Some(created) = created {
                        crate::observe::revocation_arrived(secs(created).saturating_mul(1000));
                    }
                }
                self.apply_revocation(&revocation);
            }
        }
        Ok(())
    }
}

/// A revocation as `NOTIFY` announces it: with the wall-clock time of its commit,
/// so that the instance it reaches can time its propagation.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Announcement {
    pub(crate) revocation: Revocation,
    #[serde(default)]
    pub(crate) committed_ms: Option<u64>,
}

/// Where a poll of the revocation table resumes: the last sequence number read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RevocationCursor(i64);

/// Revocations announced by other instances (PostgreSQL `LISTEN`).
pub(crate) struct RevocationListener {
    #[cfg(feature = "postgres")]
    listener: sqlx::postgres::PgListener,
}

impl RevocationListener {
    #[cfg(feature = "postgres")]
    async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(REVOCATION_CHANNEL).await?;
        Ok(Self { listener })
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect(_url: &str) -> Result<Self, StoreError> {
        Err(StoreError(sqlx::Error::Configuration(
            "LISTEN needs jwt-guard's `postgres` feature".into(),
        )))
    }

    /// The next announced revocation (`None` for a payload this version cannot
    /// read). The listener reconnects by itself after an error.
    pub(crate) async fn recv(&mut self) -> Result<Option<Announcement>, StoreError> {
        #[cfg(feature = "postgres")]
        {
            let notification = self.listener.recv().await?;
            let payload = notification.payload();
            // An earlier version announced the bare revocation.
            Ok(serde_json::from_str::<Announcement>(payload)
                .ok()
                .or_else(|| {
                    serde_json::from_str::<Revocation>(payload)
                        .ok()
                        .map(|revocation| Announcement {
                            revocation,
                            committed_ms: None,
                        })
                }))
        }
        #[cfg(not(feature = "postgres"))]
        std::future::pending().await
    }
}
