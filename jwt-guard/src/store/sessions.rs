//! Opening a session: one transaction over links, devices, tokens, attempt
//! counters, the audit log and revocations — or, on PostgreSQL below the device
//! cap and without a login link, one statement.

use sqlx::Row;

use super::audit::AuditEvent;
use super::device_record::{DeviceRecord, NewDevice};
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
    /// How the session was signed in, listed with the device.
    pub(crate) login_method: Option<&'a str>,
}

/// A new device's row: [`NEW_DEVICE_COLUMNS`], valued by [`DEVICE_VALUES`] (`$1`–`$14`,
/// which [`bind_device`] binds).
const NEW_DEVICE_COLUMNS: &str = "jwt_guard_devices
     (id, subject, name, user_agent, browser, os, device_kind, ip,
      permanent_digest, created_at, last_used, expires_at, orig_iat, dpop_jkt, login_method)";
const DEVICE_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14";

/// Binds [`DEVICE_VALUES`]' `$1`–`$14` for `device`, which stores `user_agent`
/// and its permanent token's `digest` beside what it lists.
fn bind_device<'a>(
    query: sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments<'a>>,
    device: &'a DeviceRecord,
    user_agent: Option<&'a str>,
    digest: &'a str,
) -> sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments<'a>> {
    let description = &device.description;
    query
        .bind(&device.id)
        .bind(&device.subject)
        .bind(&description.name)
        .bind(user_agent)
        .bind(description.browser.as_deref())
        .bind(description.os.as_deref())
        .bind(description.kind.as_deref())
        .bind(description.ip.as_deref())
        .bind(digest)
        .bind(ts(device.created_at))
        .bind(ts(device.expires_at))
        .bind(ts(device.orig_iat))
        .bind(device.dpop_jkt.as_deref())
        .bind(device.login_method.as_deref())
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
            login_method: None,
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
        let digest = token.digest();
        let NewDevice {
            subject,
            description,
            user_agent,
        } = new;
        let device = DeviceRecord {
            id: start.device_id.clone(),
            subject,
            description,
            created_at: now,
            last_used: now,
            expires_at: self.sliding_expiry(now, orig_iat),
            orig_iat,
            dpop_jkt: start.dpop_jkt.map(str::to_owned),
            login_method: start.login_method.map(str::to_owned),
        };
        let user_agent = user_agent.as_deref();
        // PostgreSQL, no login link, below the cap: one statement. A login link
        // to use or a cap to act on takes the transaction below.
        if self.backend == Backend::Postgres
            && start.link.is_none()
            && self
                .open_session_at_once(&device, user_agent, digest.as_str(), &start)
                .await?
        {
            self.devices_issued
                .remember(&digest, device.clone(), now, &self.revocations);
            return Ok((device, token, None));
        }
        let id = &device.id;
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
                .bind(&device.subject)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(cap) = self.settings.max_devices {
            let active: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM jwt_guard_devices
                 WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2
                 ORDER BY last_used ASC, created_at ASC",
            )
            .bind(&device.subject)
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
        let sql = format!("INSERT INTO {NEW_DEVICE_COLUMNS} VALUES ({DEVICE_VALUES})");
        bind_device(sqlx::query(&sql), &device, user_agent, digest.as_str())
            .execute(&mut *tx)
            .await?;
        super::tokens::insert_tokens(&mut *tx, id, &start.tokens).await?;
        if let Some(key) = start.clear_attempts {
            super::throttle::clear_attempts(&mut *tx, key).await?;
        }
        if let Some(detail) = start.audit_login {
            self.audit_in(
                &mut tx,
                AuditEvent::LoginSucceeded,
                Some(&device.subject),
                Some(id),
                detail,
            )
            .await?;
        }
        for device_id in &evicted {
            self.audit_in(
                &mut tx,
                AuditEvent::DeviceEvicted,
                Some(&device.subject),
                Some(device_id),
                "device cap reached",
            )
            .await?;
        }
        self.commit_revoking(tx, &revoked).await?;
        self.devices_issued
            .remember(&digest, device.clone(), now, &self.revocations);
        Ok((device, token, consumed))
    }

    /// [`Store::open_session`] in one PostgreSQL statement (no `BEGIN`/`COMMIT`:
    /// a statement is atomic): the cap check under the subject's lock
    /// (`jwt_guard_lock_live_devices`, migration 8, which counts after the lock
    /// with a snapshot of its own), then — only below the cap — the device, its
    /// first tokens, the cleared attempt counter and the audit row. `false`: at the
    /// cap, nothing written.
    async fn open_session_at_once(
        &self,
        device: &DeviceRecord,
        user_agent: Option<&str>,
        digest: &str,
        start: &SessionRows<'_>,
    ) -> Result<bool, sqlx::Error> {
        let sql = format!(
            "WITH live AS (SELECT jwt_guard_lock_live_devices($2, $10) AS n),
             device AS (
                 INSERT INTO {NEW_DEVICE_COLUMNS}
                 SELECT {DEVICE_VALUES}
                 FROM live WHERE $15::BIGINT IS NULL OR live.n < $15
                 RETURNING id
             ),
             {tokens}
             cleared AS (
                 DELETE FROM jwt_guard_attempts
                 WHERE key = $16 AND EXISTS (SELECT 1 FROM device)
             ),
             audited AS (
                 INSERT INTO jwt_guard_audit (id, at, event, subject, device_id, detail)
                 SELECT $17, $10, $18, $2, $1, $19
                 WHERE $19::TEXT IS NOT NULL AND EXISTS (SELECT 1 FROM device)
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
                    token_rows(start.tokens.len(), 19)
                )
            },
        );
        let query = bind_device(sqlx::query(&sql), device, user_agent, digest)
            .bind(self.settings.max_devices.map(i64::from))
            .bind(start.clear_attempts)
            .bind(random_id())
            .bind(AuditEvent::LoginSucceeded.as_str())
            .bind(start.audit_login);
        let row = bind_token_rows(query, &device.id, &start.tokens)
            .fetch_one(&self.writer)
            .await?;
        let created: i64 = row.try_get(0)?;
        Ok(created == 1)
    }
}
