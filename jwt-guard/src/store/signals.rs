//! Revocation from outside, stored: which outside login each session rests on,
//! and each signal received — its `jti` once per issuer across instances, and
//! what it ended, in one transaction with the ending.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::audit::AuditEvent;
use super::device_revocations::live_device_ids_in;
use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::sql::{opt, secs, ts};
use crate::revocation_set::Revocation;

/// One thing a signal ends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ending<'a> {
    /// The sessions resting on a login at `issuer` (its `iss`) of `subject`, or
    /// of the login session `sid`, or of both.
    Upstream {
        issuer: &'a str,
        subject: Option<&'a str>,
        sid: Option<&'a str>,
    },
    /// Tokens `issuer` issued to `subject` before now, accepted directly.
    Direct { issuer: &'a str, subject: &'a str },
    /// Every session of the app's own user.
    LocalSessions(&'a str),
    /// Everything of the app's own user: tokens, sessions, links.
    LocalEverything(&'a str),
}

/// A signal as received, for its row and audit entry.
#[derive(Clone, Debug)]
pub(crate) struct SignalReceipt<'a> {
    /// The issuer's `iss`.
    pub(crate) issuer: &'a str,
    /// The issuer's configured name.
    pub(crate) name: &'a str,
    pub(crate) jti: &'a str,
    /// Until when a replay of it could pass the age check.
    pub(crate) keep_until: u64,
    /// `backchannel_logout` or `ssf_push`.
    pub(crate) delivery: &'static str,
    /// The event (its URI, or a short name of it).
    pub(crate) event: &'a str,
    pub(crate) subject_digest: Option<&'a str>,
}

/// What storing a signal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignalStored {
    /// Applied: this many sessions ended.
    Applied { sessions_ended: u64 },
    /// Its `jti` was received before (here or on another instance): nothing done.
    Replayed,
}

/// One received signal, as `jwt-guard signals` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignalRecord {
    /// When it arrived (seconds since the epoch).
    pub received_at: u64,
    /// The issuer's `iss`.
    pub issuer: String,
    /// Its `jti`.
    pub jti: String,
    /// `backchannel_logout` or `ssf_push`.
    pub delivery: String,
    /// The event.
    pub event: String,
    /// A digest of the subject identifier (never the identifier).
    pub subject_digest: Option<String>,
    /// How many sessions it ended.
    pub sessions_ended: u64,
}

impl Store {
    /// Records that the session of device `device_id` rests on a login at
    /// `issuer` of `subject` (login session `sid`). Written before the device, so
    /// no session exists that a logout signal could miss.
    pub(crate) async fn link_upstream(
        &self,
        device_id: &str,
        issuer: &str,
        subject: &str,
        sid: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jwt_guard_upstream_sessions (device_id, issuer, subject, sid, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(device_id)
        .bind(issuer)
        .bind(subject)
        .bind(sid)
        .bind(ts(self.now()))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Stores a signal and ends what it ends, in one transaction: its row first
    /// (a `jti` received before makes it a replay, and nothing is done), then each
    /// ending, an audit row, and the revocations every instance applies. An
    /// outage leaves nothing written (the transmitter's retry finds it new).
    pub(crate) async fn apply_signal(
        &self,
        receipt: &SignalReceipt<'_>,
        endings: &[Ending<'_>],
    ) -> Result<SignalStored, StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO jwt_guard_signals
                 (issuer, jti, received_at, keep_until, delivery, event, subject_digest, sessions_ended)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
             ON CONFLICT (issuer, jti) DO NOTHING",
        )
        .bind(receipt.issuer)
        .bind(receipt.jti)
        .bind(ts(now))
        .bind(ts(receipt.keep_until))
        .bind(receipt.delivery)
        .bind(receipt.event)
        .bind(receipt.subject_digest)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(SignalStored::Replayed);
        }
        let mut revoked = Vec::new();
        let mut devices: Vec<String> = Vec::new();
        let mut local = None;
        for ending in endings {
            match *ending {
                Ending::Upstream {
                    issuer,
                    subject,
                    sid,
                } => {
                    devices.extend(upstream_devices(&mut tx, issuer, subject, sid).await?);
                }
                Ending::Direct { issuer, subject } => {
                    revoked.push(Revocation::IssuerSubject {
                        issuer: issuer.to_owned(),
                        subject: subject.to_owned(),
                        not_before: now.saturating_add(1),
                        until: now.saturating_add(self.settings.max_token_ttl),
                    });
                }
                Ending::LocalSessions(subject) | Ending::LocalEverything(subject) => {
                    devices.extend(live_device_ids_in(&mut tx, subject).await?);
                    self.revoke_links_of_in(&mut tx, subject, now).await?;
                    if matches!(ending, Ending::LocalEverything(_)) {
                        revoked.push(self.subject_revocation(subject));
                    }
                    local = Some(subject);
                }
            }
        }
        devices.sort_unstable();
        devices.dedup();
        for revocation in &revoked {
            self.insert_revocation_in(&mut tx, revocation, now).await?;
        }
        for device_id in &devices {
            revoked.push(self.revoke_device_in(&mut tx, device_id, now).await?);
        }
        let ended = devices.len() as u64;
        sqlx::query(
            "UPDATE jwt_guard_signals SET sessions_ended = $1 WHERE issuer = $2 AND jti = $3",
        )
        .bind(i64::try_from(ended).unwrap_or(i64::MAX))
        .bind(receipt.issuer)
        .bind(receipt.jti)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({
            "issuer": receipt.name,
            "delivery": receipt.delivery,
            "event": receipt.event,
            "subject_digest": receipt.subject_digest,
            "sessions_ended": ended,
        })
        .to_string();
        self.audit_in(&mut tx, AuditEvent::SignalReceived, local, None, &detail)
            .await?;
        self.commit_revoking(tx, &revoked).await?;
        Ok(SignalStored::Applied {
            sessions_ended: ended,
        })
    }

    /// The newest signals received, newest first.
    pub async fn signals(&self, limit: u32) -> Result<Vec<SignalRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT received_at, issuer, jti, delivery, event, subject_digest, sessions_ended
             FROM jwt_guard_signals ORDER BY received_at DESC, jti DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SignalRecord {
                    received_at: secs(row.try_get("received_at")?),
                    issuer: row.try_get("issuer")?,
                    jti: row.try_get("jti")?,
                    delivery: row.try_get("delivery")?,
                    event: row.try_get("event")?,
                    subject_digest: opt(row, "subject_digest")?,
                    sessions_ended: secs(row.try_get("sessions_ended")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError)
    }
}

/// The live devices whose sessions rest on a login at `issuer` matching
/// `subject` and `sid` (each when given; at least one is).
async fn upstream_devices(
    tx: &mut Tx,
    issuer: &str,
    subject: Option<&str>,
    sid: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    if subject.is_none() && sid.is_none() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "SELECT u.device_id FROM jwt_guard_upstream_sessions u
         JOIN jwt_guard_devices d ON d.id = u.device_id
         WHERE u.issuer = $1 AND ($2 IS NULL OR u.subject = $2) AND ($3 IS NULL OR u.sid = $3)
           AND d.revoked_at IS NULL",
    )
    .bind(issuer)
    .bind(subject)
    .bind(sid)
    .fetch_all(&mut **tx)
    .await
}
