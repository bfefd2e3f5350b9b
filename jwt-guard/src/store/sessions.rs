//! Opening a session: one transaction over links, devices, tokens, attempt
//! counters, the audit log and revocations — or, on PostgreSQL below the device
//! cap and without a login link, one statement.

use sqlx::Row;

use super::audit::AuditEvent;
use super::devices::{DeviceRecord, NewDevice};
use super::handle::{Store, StoreError};
use super::ids::LinkId;
use super::links::{consume_link_in, LinkConsumed, LinkDenial};
use super::pool::Backend;
use super::sql::ts;
use super::tokens::{bind_token_rows, token_rows, TOKEN_ROW_COLUMNS};
use crate::claims::RegisteredClaims;
use crate::config::CapPolicy;
use crate::secret::{random_id, PermanentToken};

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

impl From<sqlx::Error> for CreateDeviceError {
    fn from(e: sqlx::Error) -> Self {
        CreateDeviceError::Store(StoreError(e))
    }
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
    /// The DPoP key the device is bound to (RFC 9449), if the client sent a proof.
    pub(crate) dpop_jkt: Option<&'a str>,
}

/// A new device's row: [`DEVICE_COLUMNS`], valued by [`DEVICE_VALUES`] (`$1`–`$13`,
/// which [`DeviceRow::bind`] binds).
const DEVICE_COLUMNS: &str = "jwt_guard_devices
     (id, subject, name, user_agent, browser, os, device_kind, ip,
      permanent_digest, created_at, last_used, expires_at, orig_iat, dpop_jkt)";
const DEVICE_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13";

/// What a new device's row holds.
struct DeviceRow<'a> {
    id: &'a str,
    new: &'a NewDevice,
    digest: &'a str,
    now: u64,
    expires_at: u64,
    orig_iat: u64,
    dpop_jkt: Option<&'a str>,
}

impl<'a> DeviceRow<'a> {
    /// Binds [`DEVICE_VALUES`]' `$1`–`$13`.
    fn bind(
        &self,
        query: sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments<'a>>,
    ) -> sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments<'a>> {
        let description = &self.new.description;
        query
            .bind(self.id)
            .bind(&self.new.subject)
            .bind(&description.name)
            .bind(self.new.user_agent.as_deref())
            .bind(description.browser.as_deref())
            .bind(description.os.as_deref())
            .bind(description.kind.as_deref())
            .bind(description.ip.as_deref())
            .bind(self.digest)
            .bind(ts(self.now))
            .bind(ts(self.expires_at))
            .bind(ts(self.orig_iat))
            .bind(self.dpop_jkt)
    }
}

/// The device a session opened at `now`, as stored.
fn opened(
    id: String,
    new: NewDevice,
    now: u64,
    expires_at: u64,
    orig_iat: u64,
    dpop_jkt: Option<&str>,
) -> DeviceRecord {
    DeviceRecord {
        id,
        subject: new.subject,
        description: new.description,
        created_at: now,
        last_used: now,
        expires_at,
        orig_iat,
        dpop_jkt: dpop_jkt.map(str::to_owned),
    }
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
            dpop_jkt: None,
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
        let expires_at = self.sliding_expiry(now, orig_iat);
        // PostgreSQL, no login link, below the cap: one statement. A login link
        // to use or a cap to act on takes the transaction below.
        if self.backend == Backend::Postgres
            && start.link.is_none()
            && self
                .open_session_at_once(&new, &start, &token, now, expires_at, orig_iat)
                .await?
        {
            let record = opened(
                start.device_id,
                new,
                now,
                expires_at,
                orig_iat,
                start.dpop_jkt,
            );
            return Ok((record, token, None));
        }
        let id = start.device_id;
        let mut evicted = Vec::new();
        let mut revoked = Vec::new();

        let mut tx = self.begin_write().await?;
        let consumed = match start.link {
            Some((link_id, target)) => {
                match consume_link_in(&mut *tx, LinkId(link_id), target, now).await? {
                    Some(consumed) => Some(consumed),
                    None => {
                        drop(tx);
                        let denial = self.link_denial(LinkId(link_id), target).await?;
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
        let digest = token.digest();
        let row = DeviceRow {
            id: &id,
            new: &new,
            digest: digest.as_str(),
            now,
            expires_at,
            orig_iat,
            dpop_jkt: start.dpop_jkt,
        };
        let sql = format!("INSERT INTO {DEVICE_COLUMNS} VALUES ({DEVICE_VALUES})");
        row.bind(sqlx::query(&sql)).execute(&mut *tx).await?;
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
        let record = opened(id, new, now, expires_at, orig_iat, start.dpop_jkt);
        Ok((record, token, consumed))
    }

    /// [`Store::open_session`] in one PostgreSQL statement (no `BEGIN`/`COMMIT`:
    /// a statement is atomic): the cap check under the subject's lock
    /// (`jwt_guard_lock_live_devices`, migration 8, which counts after the lock
    /// with a snapshot of its own), then — only below the cap — the device, its
    /// first tokens, the cleared attempt counter and the audit row. `false`: at the
    /// cap, nothing written.
    async fn open_session_at_once(
        &self,
        new: &NewDevice,
        start: &SessionRows<'_>,
        token: &PermanentToken,
        now: u64,
        expires_at: u64,
        orig_iat: u64,
    ) -> Result<bool, sqlx::Error> {
        let sql = format!(
            "WITH live AS (SELECT jwt_guard_lock_live_devices($2, $10) AS n),
             device AS (
                 INSERT INTO {DEVICE_COLUMNS}
                 SELECT {DEVICE_VALUES}
                 FROM live WHERE $14::BIGINT IS NULL OR live.n < $14
                 RETURNING id
             ),
             {tokens}
             cleared AS (
                 DELETE FROM jwt_guard_attempts
                 WHERE key = $15 AND EXISTS (SELECT 1 FROM device)
             ),
             audited AS (
                 INSERT INTO jwt_guard_audit (id, at, event, subject, device_id, detail)
                 SELECT $16, $10, $17, $2, $1, $18
                 WHERE $18::TEXT IS NOT NULL AND EXISTS (SELECT 1 FROM device)
             )
             SELECT COUNT(*) FROM device",
            tokens = if start.tokens.is_empty() {
                String::new()
            } else {
                format!(
                    "tokens AS (
                         INSERT INTO {TOKEN_ROW_COLUMNS}
                         SELECT * FROM (VALUES {}) AS first_tokens
                         WHERE EXISTS (SELECT 1 FROM device)
                     ),",
                    token_rows(start.tokens.len(), 18)
                )
            },
        );
        let digest = token.digest();
        let row = DeviceRow {
            id: &start.device_id,
            new,
            digest: digest.as_str(),
            now,
            expires_at,
            orig_iat,
            dpop_jkt: start.dpop_jkt,
        };
        let query = row
            .bind(sqlx::query(&sql))
            .bind(self.settings.max_devices.map(i64::from))
            .bind(start.clear_attempts)
            .bind(random_id())
            .bind(AuditEvent::LoginSucceeded.as_str())
            .bind(start.audit_login);
        let row = bind_token_rows(query, &start.device_id, &start.tokens)
            .fetch_one(&self.writer)
            .await?;
        let created: i64 = row.try_get(0)?;
        Ok(created == 1)
    }
}
