//! Devices: one row per login, holding the digest of its permanent token.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::AuditEvent;
use super::links::{consume_link_in, LinkConsumed, LinkDenial};
use super::{opt, secs, ts, Backend, Store, StoreError};
use crate::claims::RegisteredClaims;
use crate::config::CapPolicy;
use crate::revocation::Revocation;
use crate::secret::{random_id, PermanentToken, TokenDigest};

/// Longest device name kept (from `X-Device-Model` or the user agent).
pub const DEVICE_NAME_MAX: usize = 100;

/// Where a login comes from.
#[derive(Clone, Debug, Default)]
pub struct NewDevice {
    /// The subject logging in.
    pub subject: String,
    /// Display name (`X-Device-Model`, or browser and OS).
    pub name: String,
    /// The raw `User-Agent`, truncated.
    pub user_agent: Option<String>,
    /// Parsed browser name.
    pub browser: Option<String>,
    /// Parsed operating system.
    pub os: Option<String>,
    /// Parsed device kind (`pc`, `smartphone`, `crawler`, …).
    pub kind: Option<String>,
    /// Client IP (Rocket's `ip_header` respected).
    pub ip: Option<String>,
}

/// A stored device, as listed to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Device id.
    pub id: String,
    /// Owner.
    pub subject: String,
    /// Display name.
    pub name: String,
    /// Parsed browser.
    pub browser: Option<String>,
    /// Parsed operating system.
    pub os: Option<String>,
    /// Parsed device kind.
    pub kind: Option<String>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// Login time.
    pub created_at: u64,
    /// Last use of its permanent or refresh token (at the configured accuracy).
    pub last_used: u64,
    /// When it expires unless used again.
    pub expires_at: u64,
    /// Original login time of the family.
    pub orig_iat: u64,
}

const DEVICE_COLUMNS: &str =
    "id, subject, name, browser, os, device_kind, ip, created_at, last_used, expires_at, orig_iat";

fn device_from_row(row: &AnyRow) -> Result<DeviceRecord, sqlx::Error> {
    Ok(DeviceRecord {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        name: row.try_get("name")?,
        browser: opt(row, "browser")?,
        os: opt(row, "os")?,
        kind: opt(row, "device_kind")?,
        ip: opt(row, "ip")?,
        created_at: secs(row.try_get("created_at")?),
        last_used: secs(row.try_get("last_used")?),
        expires_at: secs(row.try_get("expires_at")?),
        orig_iat: secs(row.try_get("orig_iat")?),
    })
}

/// Why a login could not create a device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateDeviceError {
    /// The subject is at `max_devices` and the policy is to reject.
    #[error("the subject already has the most devices allowed")]
    CapReached,
    /// The login link could not be used (nothing was stored).
    #[error("the login link cannot be used: {}", .0.as_str())]
    Link(LinkDenial),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a new session stores with its device, in the same transaction.
pub(crate) struct SessionRows<'a> {
    /// The new device's id (the tokens were signed for it).
    pub(crate) device_id: String,
    /// Its first tokens, each with the token it was issued from.
    pub(crate) tokens: Vec<(&'a RegisteredClaims, Option<&'a str>)>,
    /// The login link the session comes from: (link id, target), used in the same
    /// transaction.
    pub(crate) link: Option<(&'a str, &'a str)>,
    /// The attempt counter a password login clears (its account is reset).
    pub(crate) clear_attempts: Option<&'a str>,
    /// The `login_succeeded` audit detail of a password login.
    pub(crate) audit_login: Option<&'a str>,
}

impl From<sqlx::Error> for CreateDeviceError {
    fn from(e: sqlx::Error) -> Self {
        CreateDeviceError::Store(StoreError(e))
    }
}

/// Why a device's permanent token could not be rotated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PermanentRotateError {
    /// The token was superseded meanwhile (a concurrent or repeated use): reuse.
    /// The device has been revoked.
    #[error("the permanent token was already used; its device has been revoked")]
    Reused,
    /// The database failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PermanentRotateError {
    fn from(e: sqlx::Error) -> Self {
        PermanentRotateError::Store(StoreError(e))
    }
}

/// What a permanent token resolved to.
#[derive(Debug)]
pub(crate) enum PermanentLookup {
    /// An active device.
    Active(DeviceRecord),
    /// No device has this token (or it was revoked).
    Unknown,
    /// A superseded token of an active device: reuse. The device has been revoked.
    Reused,
    /// The device had expired; it has now been removed.
    Expired,
}

impl Store {
    /// Creates a device for a login and its permanent token, enforcing the
    /// per-subject cap in the same transaction.
    pub async fn create_device(
        &self,
        new: NewDevice,
        orig_iat: u64,
    ) -> Result<(DeviceRecord, PermanentToken), CreateDeviceError> {
        let start = SessionRows {
            device_id: random_id(),
            tokens: Vec::new(),
            link: None,
            clear_attempts: None,
            audit_login: None,
        };
        let (device, token, _) = self.open_session(new, orig_iat, start).await?;
        Ok((device, token))
    }

    /// Opens a session in one transaction: uses the login link (if any), enforces
    /// the device cap, creates the device and its permanent token, records its first
    /// tokens and audits the login. Either all of it is stored or none: a session
    /// cut short by an outage leaves no device without tokens and no link used up
    /// for nothing.
    pub(crate) async fn open_session(
        &self,
        new: NewDevice,
        orig_iat: u64,
        start: SessionRows<'_>,
    ) -> Result<(DeviceRecord, PermanentToken, Option<LinkConsumed>), CreateDeviceError> {
        let now = self.now();
        let token = PermanentToken::generate();
        let id = start.device_id;
        let expires_at = self.sliding_expiry(now, orig_iat);
        let mut evicted = Vec::new();
        let mut revoked = Vec::new();

        let mut tx = self.begin_write().await?;
        let consumed = match start.link {
            Some((link_id, target)) => {
                match consume_link_in(&mut *tx, link_id, target, now).await? {
                    Some(consumed) => Some(consumed),
                    None => {
                        drop(tx);
                        let denial = self.link_denial(link_id, target).await?;
                        return Err(CreateDeviceError::Link(denial));
                    }
                }
            }
            None => None,
        };
        if self.backend == Backend::Postgres {
            // Two logins of one subject must not both pass the cap check.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(&new.subject)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(cap) = self.settings.max_devices {
            let active: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM jwt_guard_devices
                 WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2
                 ORDER BY last_used ASC, created_at ASC",
            )
            .bind(&new.subject)
            .bind(ts(now))
            .fetch_all(&mut *tx)
            .await?;
            let cap = cap as usize;
            if active.len() >= cap {
                match self.settings.cap_policy {
                    CapPolicy::Reject => return Err(CreateDeviceError::CapReached),
                    CapPolicy::EvictOldest => {
                        let excess = active.len() + 1 - cap;
                        for device_id in active.into_iter().take(excess) {
                            revoked.push(self.revoke_device_in(&mut tx, &device_id, now).await?);
                            evicted.push(device_id);
                        }
                    }
                }
            }
        }
        sqlx::query(
            "INSERT INTO jwt_guard_devices
             (id, subject, name, user_agent, browser, os, device_kind, ip,
              permanent_digest, created_at, last_used, expires_at, orig_iat)
             VALUES ($1, $2, $3, $4, $5, $6,
                     $7, $8, $9, $10, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&new.subject)
        .bind(&new.name)
        .bind(new.user_agent.as_deref())
        .bind(new.browser.as_deref())
        .bind(new.os.as_deref())
        .bind(new.kind.as_deref())
        .bind(new.ip.as_deref())
        .bind(token.digest().as_str())
        .bind(ts(now))
        .bind(ts(expires_at))
        .bind(ts(orig_iat))
        .execute(&mut *tx)
        .await?;
        super::tokens::insert_tokens(&mut *tx, &id, &start.tokens).await?;
        if let Some(key) = start.clear_attempts {
            super::throttle::clear_attempts(&mut *tx, key).await?;
        }
        if let Some(detail) = start.audit_login {
            self.audit_in(
                &mut tx,
                AuditEvent::LoginSucceeded,
                Some(&new.subject),
                Some(&id),
                detail,
            )
            .await?;
        }
        for device_id in &evicted {
            self.audit_in(
                &mut tx,
                AuditEvent::DeviceEvicted,
                Some(&new.subject),
                Some(device_id),
                "device cap reached",
            )
            .await?;
        }
        self.commit_revoking(tx, &revoked).await?;
        let record = DeviceRecord {
            id,
            subject: new.subject,
            name: new.name,
            browser: new.browser,
            os: new.os,
            kind: new.kind,
            ip: new.ip,
            created_at: now,
            last_used: now,
            expires_at,
            orig_iat,
        };
        Ok((record, token, consumed))
    }

    /// Where a device's expiry lands when it is used at `now`: `permanent_ttl`
    /// later, but never past `permanent_max_lifetime` after its login.
    fn sliding_expiry(&self, now: u64, orig_iat: u64) -> u64 {
        now.saturating_add(self.settings.permanent_ttl)
            .min(orig_iat.saturating_add(self.settings.permanent_lifetime))
    }

    /// The active device holding `token`. Reads only: the token rotates (and the
    /// expiry slides) when the device is issued an access token. A superseded token
    /// presented again is reuse: the device is revoked. An expired device is removed.
    pub(crate) async fn device_for_permanent(
        &self,
        token: &PermanentToken,
    ) -> Result<PermanentLookup, StoreError> {
        let now = self.now();
        let digest = token.digest();
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS}, permanent_digest FROM jwt_guard_devices
             WHERE permanent_digest = $1 AND revoked_at IS NULL"
        ))
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return self.superseded_permanent(&digest).await;
        };
        let stored_matches = opt::<String>(&row, "permanent_digest")?
            .map(TokenDigest::from_stored)
            .is_some_and(|d| d.matches(&digest));
        if !stored_matches {
            return Ok(PermanentLookup::Unknown);
        }
        let device = device_from_row(&row)?;
        if device.expires_at <= now {
            self.remove_device(&device.id, "permanent token expired")
                .await?;
            return Ok(PermanentLookup::Expired);
        }
        Ok(PermanentLookup::Active(device))
    }

    /// A token that is no device's current one: unknown, or a superseded token of a
    /// device that is still active (reuse, which revokes the device).
    async fn superseded_permanent(
        &self,
        digest: &TokenDigest,
    ) -> Result<PermanentLookup, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM jwt_guard_superseded_permanent p
             JOIN jwt_guard_devices d ON d.id = p.device_id
             WHERE p.digest = $1 AND d.revoked_at IS NULL"
        ))
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(PermanentLookup::Unknown);
        };
        self.permanent_reused(&device_from_row(&row)?).await?;
        Ok(PermanentLookup::Reused)
    }

    /// A superseded permanent token came back: someone holds a copy. Revokes the
    /// device and records why.
    async fn permanent_reused(&self, device: &DeviceRecord) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let revocation = self.revoke_device_in(&mut tx, &device.id, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::PermanentReuse,
            Some(&device.subject),
            Some(&device.id),
            "superseded permanent token presented again",
        )
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Ok(())
    }

    /// Rotates the permanent token `presented` of `device` and records the access
    /// token issued with it, in one transaction: the device gets a new permanent
    /// token, its expiry slides, and the presented one becomes superseded (shown
    /// again, it revokes the device). Of concurrent calls with one token exactly one
    /// succeeds; the others are reuse.
    pub(crate) async fn rotate_permanent(
        &self,
        device: &DeviceRecord,
        presented: &TokenDigest,
        access: &RegisteredClaims,
    ) -> Result<(PermanentToken, u64), PermanentRotateError> {
        let now = self.now();
        let next = PermanentToken::generate();
        let expires_at = self.sliding_expiry(now, device.orig_iat);
        let mut tx = self.begin_write().await?;
        let rotated: Option<String> = sqlx::query_scalar(
            "UPDATE jwt_guard_devices
             SET permanent_digest = $1, last_used = $3, expires_at = $4
             WHERE id = $5 AND permanent_digest = $2 AND revoked_at IS NULL AND expires_at > $3
             RETURNING id",
        )
        .bind(next.digest().as_str())
        .bind(presented.as_str())
        .bind(ts(now))
        .bind(ts(expires_at))
        .bind(&device.id)
        .fetch_optional(&mut *tx)
        .await?;
        if rotated.is_none() {
            drop(tx);
            self.permanent_reused(device).await?;
            return Err(PermanentRotateError::Reused);
        }
        sqlx::query(
            "INSERT INTO jwt_guard_superseded_permanent (digest, device_id, superseded_at)
             VALUES ($1, $2, $3)",
        )
        .bind(presented.as_str())
        .bind(&device.id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        super::tokens::insert_tokens(&mut *tx, &device.id, &[(access, None)]).await?;
        tx.commit().await?;
        Ok((next, expires_at))
    }

    /// Moves a device's `last_used` to `now` and its expiry a window later (capped
    /// by its absolute lifetime), unless it was written within the accuracy window:
    /// conditional, so of several concurrent requests only one writes.
    pub(crate) async fn slide_expiry_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        device_id: &str,
        now: u64,
    ) -> Result<(), sqlx::Error> {
        let accuracy = self.settings.permanent_accuracy;
        sqlx::query(
            "UPDATE jwt_guard_devices SET last_used = $1,
                    expires_at = CASE WHEN $2 < orig_iat + $5 THEN $2 ELSE orig_iat + $5 END
             WHERE id = $3 AND last_used <= $4 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(ts(now.saturating_add(self.settings.permanent_ttl)))
        .bind(device_id)
        .bind(ts(now.saturating_sub(accuracy)))
        .bind(ts(self.settings.permanent_lifetime))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A device by id, if it is active.
    pub async fn device(&self, device_id: &str) -> Result<Option<DeviceRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM jwt_guard_devices
             WHERE id = $1 AND revoked_at IS NULL"
        ))
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| device_from_row(&r)).transpose()?)
    }

    /// The subject's active devices, oldest first.
    pub async fn devices_of(&self, subject: &str) -> Result<Vec<DeviceRecord>, StoreError> {
        Ok(self.devices_page(subject, 0, u32::MAX).await?.0)
    }

    /// One page of the subject's active devices, oldest first, and how many there
    /// are in all.
    pub async fn devices_page(
        &self,
        subject: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<DeviceRecord>, u64), StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS}, COUNT(*) OVER () AS total FROM jwt_guard_devices
             WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2
             ORDER BY created_at ASC, id ASC LIMIT $3 OFFSET $4"
        ))
        .bind(subject)
        .bind(ts(self.now()))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        let total = match rows.first() {
            Some(row) => secs(row.try_get("total")?),
            // Past the end (or none at all): count separately.
            None if offset > 0 => secs(
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM jwt_guard_devices
                     WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(subject)
                .bind(ts(self.now()))
                .fetch_one(&self.pool)
                .await?,
            ),
            None => 0,
        };
        let devices = rows.iter().map(device_from_row).collect::<Result<_, _>>()?;
        Ok((devices, total))
    }

    /// Revokes a device and its whole token family, if `subject` owns it. Returns
    /// whether a device was revoked (`false`: unknown, not theirs, or already gone).
    pub async fn revoke_device_of(
        &self,
        subject: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.revoke_device_owned_by(Some(subject), device_id, reason)
            .await
    }

    /// Revokes a device and its whole token family, whoever owns it (an operator's
    /// tool). Returns whether a device was revoked.
    pub async fn revoke_device(&self, device_id: &str, reason: &str) -> Result<bool, StoreError> {
        self.revoke_device_owned_by(None, device_id, reason).await
    }

    async fn revoke_device_owned_by(
        &self,
        subject: Option<&str>,
        device_id: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        // The revoking statement checks the owner too.
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query_scalar(
            "UPDATE jwt_guard_devices SET revoked_at = $1, permanent_digest = NULL
             WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR subject = $3)
             RETURNING subject",
        )
        .bind(ts(now))
        .bind(device_id)
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(owner) = owner else {
            return Ok(false);
        };
        let revoked = self.revoke_family_in(&mut tx, device_id, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::DeviceRevoked,
            Some(&owner),
            Some(device_id),
            reason,
        )
        .await?;
        self.commit_revoking(tx, &[revoked]).await?;
        Ok(true)
    }

    /// Revokes every active device of `subject`, except `keep` if given, and every
    /// outstanding link of `subject` (a magic-login link would start a new session).
    /// Returns how many devices were revoked.
    pub async fn revoke_all_devices(
        &self,
        subject: &str,
        keep: Option<&str>,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM jwt_guard_devices WHERE subject = $1 AND revoked_at IS NULL",
        )
        .bind(subject)
        .fetch_all(&mut *tx)
        .await?;
        let ids: Vec<String> = ids
            .into_iter()
            .filter(|id| Some(id.as_str()) != keep)
            .collect();
        let mut revoked = Vec::with_capacity(ids.len());
        for id in &ids {
            revoked.push(self.revoke_device_in(&mut tx, id, now).await?);
        }
        self.revoke_links_of_in(&mut tx, subject, now).await?;
        let detail = if keep.is_some() {
            "logout everywhere else"
        } else {
            "logout everywhere"
        };
        self.audit_in(&mut tx, AuditEvent::LogoutAll, Some(subject), keep, detail)
            .await?;
        self.commit_revoking(tx, &revoked).await?;
        Ok(ids.len())
    }

    /// Revokes a device's family (reuse detected, logout): device, tokens, and a
    /// revocation row other instances pick up. Returns the revocation, to apply once
    /// `tx` commits.
    pub(crate) async fn revoke_device_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        device_id: &str,
        now: u64,
    ) -> Result<Revocation, sqlx::Error> {
        sqlx::query(
            "UPDATE jwt_guard_devices SET revoked_at = $1, permanent_digest = NULL
             WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
        self.revoke_family_in(tx, device_id, now).await
    }

    /// The tokens of a device already marked revoked, and the revocation row other
    /// instances pick up. Returns the revocation, to apply once `tx` commits.
    async fn revoke_family_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        device_id: &str,
        now: u64,
    ) -> Result<Revocation, sqlx::Error> {
        sqlx::query(
            "UPDATE jwt_guard_tokens SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
        let revocation = self.device_revocation(device_id, now);
        self.insert_revocation_in(tx, &revocation, now).await?;
        Ok(revocation)
    }

    /// Removes an expired device and its tokens; its access tokens are revoked.
    pub(crate) async fn remove_device(
        &self,
        device_id: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let subject: Option<String> =
            sqlx::query_scalar("SELECT subject FROM jwt_guard_devices WHERE id = $1")
                .bind(device_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM jwt_guard_tokens WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jwt_guard_devices WHERE id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jwt_guard_superseded_permanent WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        let revocation = self.device_revocation(device_id, now);
        self.insert_revocation_in(&mut tx, &revocation, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::DeviceExpired,
            subject.as_deref(),
            Some(device_id),
            reason,
        )
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Ok(())
    }
}
