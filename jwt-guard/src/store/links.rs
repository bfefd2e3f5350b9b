//! Expiring links: rows with an atomic use counter, revocation, and a log of every
//! attempt.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::executor::Tx;
use super::handle::{Store, StoreError};
use super::ids::{LinkId, Subject};
use super::pool::Backend;
use super::sql::{opt, secs, ts};
use crate::secret::random_id;

/// Why a link was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LinkDenial {
    /// Past its expiry (410).
    Expired,
    /// Every allowed use has been made (410).
    UsedUp,
    /// Revoked after it was sent (410).
    Revoked,
    /// Minted for another route (403).
    WrongTarget,
    /// Not a link token (an access or refresh token) (403).
    WrongKind,
    /// Altered, forged, unknown or malformed (403).
    Tampered,
    /// No `token` parameter (403).
    Missing,
}

impl LinkDenial {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkDenial::Expired => "expired",
            LinkDenial::UsedUp => "used_up",
            LinkDenial::Revoked => "revoked",
            LinkDenial::WrongTarget => "wrong_target",
            LinkDenial::WrongKind => "wrong_kind",
            LinkDenial::Tampered => "tampered",
            LinkDenial::Missing => "missing",
        }
    }

    /// `410 Gone` for links that existed but cannot be used any more; `403` else.
    pub fn is_gone(self) -> bool {
        matches!(
            self,
            LinkDenial::Expired | LinkDenial::UsedUp | LinkDenial::Revoked
        )
    }
}

/// A stored link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct LinkRecord {
    /// Link id (the token's `jti`).
    pub id: String,
    /// Recipient.
    pub subject: String,
    /// Target route name.
    pub target: String,
    /// Allowed uses; `None` for unlimited until expiry.
    pub max_uses: Option<u32>,
    /// Uses so far.
    pub use_count: u32,
    /// Minted at.
    pub created_at: u64,
    /// Expires at.
    pub expires_at: u64,
    /// Revoked at.
    pub revoked_at: Option<u64>,
}

/// A successful use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LinkConsumed {
    /// Which use this was (1 for the first).
    pub(crate) use_number: u32,
    /// The link's recipient.
    pub(crate) subject: String,
}

/// Why a link could not be used or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkUseError {
    /// The link exists (or claims to) but may not be used; nothing was counted.
    #[error("link refused: {}", .0.as_str())]
    Denied(LinkDenial),
    /// The database failed; nothing was counted.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LinkUseError {
    fn from(e: sqlx::Error) -> Self {
        LinkUseError::Store(StoreError(e))
    }
}

/// One logged attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct LinkUseRecord {
    /// When.
    pub at: u64,
    /// The route that received it.
    pub target: String,
    /// Client IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Response status sent.
    pub status: u16,
    /// `used`, or the denial reason.
    pub outcome: String,
    /// For successful uses: which use it was.
    pub use_number: Option<u32>,
}

/// Log row ids sort by the time they were written (microseconds), then at random,
/// so a link's log reads in order even within one second.
fn log_row_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("{micros:020}-{}", random_id())
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Counts one use of link `$1` at target `$2` at `$3`, if it can be used (live,
/// unrevoked, uses left, that target); returns the use's number and the subject.
/// The one rule of a link use, for both databases.
const CONSUME_LINK: &str = "UPDATE jwt_guard_links SET use_count = use_count + 1
     WHERE id = $1 AND target = $2 AND revoked_at IS NULL AND expires_at > $3
       AND (max_uses = 0 OR use_count < max_uses)
     RETURNING use_count, subject";

/// Counts one use of link `id` at `target` in `tx`; `None` when it cannot be used
/// (expired, used up, revoked, another target, unknown).
pub(crate) async fn consume_link_in<'e, E>(
    executor: E,
    id: LinkId<'_>,
    target: &str,
    now: u64,
) -> Result<Option<LinkConsumed>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let id = id.0;
    let row = sqlx::query(CONSUME_LINK)
        .bind(id)
        .bind(target)
        .bind(ts(now))
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(consumed).transpose()
}

/// The use [`CONSUME_LINK`] returned.
fn consumed(row: &AnyRow) -> Result<LinkConsumed, sqlx::Error> {
    Ok(LinkConsumed {
        use_number: to_u32(row.try_get("use_count")?),
        subject: row.try_get("subject")?,
    })
}

fn link_from_row(row: &AnyRow) -> Result<LinkRecord, sqlx::Error> {
    let max: i64 = row.try_get("max_uses")?;
    let revoked: Option<i64> = opt(row, "revoked_at")?;
    Ok(LinkRecord {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        target: row.try_get("target")?,
        max_uses: (max > 0).then(|| to_u32(max)),
        use_count: to_u32(row.try_get("use_count")?),
        created_at: secs(row.try_get("created_at")?),
        expires_at: secs(row.try_get("expires_at")?),
        revoked_at: revoked.map(secs),
    })
}

impl Store {
    /// Stores a newly minted link.
    pub async fn create_link(
        &self,
        id: LinkId<'_>,
        subject: Subject<'_>,
        target: &str,
        max_uses: Option<u32>,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let (id, subject) = (id.0, subject.0);
        sqlx::query(
            "INSERT INTO jwt_guard_links (id, subject, target, max_uses, use_count, created_at, expires_at)
             VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(id)
        .bind(subject)
        .bind(target)
        .bind(i64::from(max_uses.unwrap_or(0)))
        .bind(ts(self.now()))
        .bind(ts(expires_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Uses link `id` at `target` once, in one conditional statement: of any number
    /// of concurrent uses, at most `max_uses` succeed.
    pub(crate) async fn consume_link(
        &self,
        id: LinkId<'_>,
        target: &str,
    ) -> Result<LinkConsumed, LinkUseError> {
        match consume_link_in(&self.writer, id, target, self.now()).await? {
            Some(consumed) => Ok(consumed),
            None => Err(LinkUseError::Denied(self.link_denial(id, target).await?)),
        }
    }

    /// [`Store::consume_link`] with the attempt's log row: on PostgreSQL written in
    /// the same statement (one round trip), with `outcome` and the `status` the
    /// handler is expected to answer — [`Store::set_link_use_status`] corrects it
    /// when the answer differs — and its id returned; on SQLite not written (`None`:
    /// the caller logs the attempt after the response, as any other).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn consume_link_logged(
        &self,
        id: LinkId<'_>,
        target: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        outcome: &str,
        status: u16,
    ) -> Result<(LinkConsumed, Option<String>), LinkUseError> {
        if self.backend != Backend::Postgres {
            return self.consume_link(id, target).await.map(|c| (c, None));
        }
        let row_id = log_row_id();
        let sql = format!(
            "WITH used AS ({CONSUME_LINK}),
             logged AS (
                 INSERT INTO jwt_guard_link_uses
                 (id, link_id, target, at, ip, user_agent, status, outcome, use_number)
                 SELECT $4, $1, $2, $3, $5, $6, $7, $8, use_count FROM used
             )
             SELECT use_count, subject FROM used"
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .bind(target)
            .bind(ts(self.now()))
            .bind(&row_id)
            .bind(ip)
            .bind(user_agent)
            .bind(i64::from(status))
            .bind(outcome)
            .fetch_optional(&self.writer)
            .await?;
        match row {
            Some(row) => Ok((consumed(&row)?, Some(row_id))),
            None => Err(LinkUseError::Denied(self.link_denial(id, target).await?)),
        }
    }

    /// Sets the status of the link-use log row `row_id` (written before the
    /// handler answered, see [`Store::consume_link_logged`]).
    pub(crate) async fn set_link_use_status(
        &self,
        row_id: &str,
        status: u16,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE jwt_guard_link_uses SET status = $1 WHERE id = $2")
            .bind(i64::from(status))
            .bind(row_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Whether link `id` could be used at `target` now, without using it (for the
    /// confirmation page).
    pub async fn check_link(&self, id: LinkId<'_>, target: &str) -> Result<(), LinkUseError> {
        let link = self.link(id.0).await?;
        match link {
            Some(l)
                if l.target == target
                    && l.revoked_at.is_none()
                    && l.expires_at > self.now()
                    && l.max_uses.is_none_or(|m| l.use_count < m) =>
            {
                Ok(())
            }
            _ => Err(LinkUseError::Denied(self.link_denial(id, target).await?)),
        }
    }

    pub(crate) async fn link_denial(
        &self,
        id: LinkId<'_>,
        target: &str,
    ) -> Result<LinkDenial, StoreError> {
        let Some(link) = self.link(id.0).await? else {
            return Ok(LinkDenial::Tampered);
        };
        Ok(if link.target != target {
            LinkDenial::WrongTarget
        } else if link.revoked_at.is_some() {
            LinkDenial::Revoked
        } else if link.expires_at <= self.now() {
            LinkDenial::Expired
        } else {
            LinkDenial::UsedUp
        })
    }

    /// A link by id.
    pub async fn link(&self, id: &str) -> Result<Option<LinkRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, subject, target, max_uses, use_count, created_at, expires_at, revoked_at
             FROM jwt_guard_links WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| link_from_row(&r)).transpose()?)
    }

    /// The links minted for `subject`, newest first (at most `limit`).
    pub async fn links_of(&self, subject: &str, limit: u32) -> Result<Vec<LinkRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, subject, target, max_uses, use_count, created_at, expires_at, revoked_at
             FROM jwt_guard_links WHERE subject = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(subject)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(link_from_row).collect::<Result<_, _>>()?)
    }

    /// Revokes one link; returns whether it was live.
    pub async fn revoke_link(&self, id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE jwt_guard_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(self.now()))
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Revokes every live link of `subject`; returns how many.
    pub async fn revoke_links_of(&self, subject: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = self
            .revoke_links_of_in(&mut tx, subject, self.now())
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Revokes every live link of `subject` inside `tx` (logout everywhere, revoke a
    /// user): a magic-login link must not outlive the sessions it could start.
    pub(crate) async fn revoke_links_of_in(
        &self,
        tx: &mut Tx,
        subject: &str,
        now: u64,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE jwt_guard_links SET revoked_at = $1 WHERE subject = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(subject)
        .execute(&mut **tx)
        .await?
        .rows_affected())
    }

    /// Records one attempt to use a link (allowed or denied).
    #[allow(clippy::too_many_arguments)]
    pub async fn log_link_use(
        &self,
        link_id: Option<LinkId<'_>>,
        target: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        status: u16,
        outcome: &str,
        use_number: Option<u32>,
    ) -> Result<(), StoreError> {
        let link_id = link_id.map(|id| id.0);
        sqlx::query(
            "INSERT INTO jwt_guard_link_uses
             (id, link_id, target, at, ip, user_agent, status, outcome, use_number)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, 0))",
        )
        .bind(log_row_id())
        .bind(link_id)
        .bind(target)
        .bind(ts(self.now()))
        .bind(ip)
        .bind(user_agent)
        .bind(i64::from(status))
        .bind(outcome)
        .bind(i64::from(use_number.unwrap_or(0)))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The log of link `id`, oldest first.
    pub async fn link_uses(&self, id: &str) -> Result<Vec<LinkUseRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, target, ip, user_agent, status, outcome, use_number
             FROM jwt_guard_link_uses WHERE link_id = $1 ORDER BY at ASC, id ASC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let use_number: Option<i64> = opt(row, "use_number")?;
                Ok(LinkUseRecord {
                    at: secs(row.try_get("at")?),
                    target: row.try_get("target")?,
                    ip: opt(row, "ip")?,
                    user_agent: opt(row, "user_agent")?,
                    status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(0),
                    outcome: row.try_get("outcome")?,
                    use_number: use_number.map(to_u32),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError)
    }
}
