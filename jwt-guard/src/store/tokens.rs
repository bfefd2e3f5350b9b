//! The registry of issued tokens: their rows (never the tokens), the device →
//! refresh → access tree, and force-expiry of any subtree. Rotation is `rotation`.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::AuditEvent;
use super::handle::{Store, StoreError};
use super::ids::{Jti, Subject};
use super::sql::{opt, secs, ts};
use crate::claims::{RegisteredClaims, TokenKind};
use crate::revocation_set::Revocation;

/// One issued token in a device's tree. The tree is a flat list in pre-order (a
/// token, then everything issued from it); `parent` and `depth` give its shape, so
/// no deep nesting is ever built, serialised or dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct TokenNode {
    /// Token id.
    pub jti: String,
    /// The token it was issued from (`None` for a root).
    pub parent: Option<String>,
    /// Distance from its root (0 for a root).
    pub depth: u32,
    /// `refresh` or `access`.
    pub kind: TokenKind,
    /// Issue time.
    pub issued_at: u64,
    /// Expiry.
    pub expires_at: u64,
    /// For refresh tokens: when it was rotated.
    pub used_at: Option<u64>,
    /// When it was revoked.
    pub revoked_at: Option<u64>,
}

/// One page of a device's token tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct TokenPage {
    /// The tokens of this page, in pre-order.
    pub tokens: Vec<TokenNode>,
    /// How many tokens the tree holds in all.
    pub total: usize,
    /// The `offset` of the next page, if there is one.
    pub next_offset: Option<usize>,
}

/// Most tokens one page of a tree holds.
pub const MAX_TREE_PAGE: usize = 500;

/// The one `INSERT` of the token registry: any number of tokens of one device, each
/// with the token it was issued from, in one statement (for the pool or a
/// transaction).
///
/// Each row also gets its place in the tree (`depth`, `root_jti`, `root_at`): a
/// parent in the same batch is counted here; a parent already stored lends its
/// own place through a subquery (an unknown or archived one makes the token a
/// root).
pub(super) async fn insert_tokens<'e, E>(
    executor: E,
    device_id: &str,
    tokens: &[(&RegisteredClaims, Option<&str>)],
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if tokens.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {TOKEN_ROW_COLUMNS} VALUES {}",
        token_rows(tokens.len(), 0)
    );
    bind_token_rows(sqlx::query(&sql), device_id, tokens)
        .execute(executor)
        .await?;
    Ok(())
}

/// The registry's table and the columns a token row fills.
pub(super) const TOKEN_ROW_COLUMNS: &str = "jwt_guard_tokens
         (jti, device_id, parent_jti, kind, subject, issued_at, expires_at, depth, root_jti, root_at)";

/// The `VALUES` rows of `count` tokens, their parameters numbered from
/// `offset + 1` (what [`bind_token_rows`] binds).
pub(super) fn token_rows(count: usize, offset: usize) -> String {
    const PARAMS: usize = 11;
    let rows: Vec<String> = (0..count)
        .map(|i| {
            let p = |k: usize| format!("${}", offset + i * PARAMS + k);
            let stored = |column: &str| {
                format!(
                    "(SELECT {column} FROM jwt_guard_tokens WHERE jti = {})",
                    p(8)
                )
            };
            format!(
                "({}, {}, {}, {}, {}, {}, {}, COALESCE({}, -1) + 1 + {}, COALESCE({}, {}), COALESCE({}, {}))",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                stored("depth"),
                p(9),
                stored("COALESCE(root_jti, jti)"),
                p(10),
                stored("COALESCE(root_at, issued_at)"),
                p(11),
            )
        })
        .collect();
    rows.join(", ")
}

/// Binds the parameters of [`token_rows`] after those already bound to `query`.
pub(super) fn bind_token_rows<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    device_id: &'q str,
    tokens: &[(&'q RegisteredClaims, Option<&'q str>)],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for (claims, parent) in tokens {
        // Up through parents in this batch to the topmost: its parent (if any) is
        // a stored token.
        let mut top = *claims;
        let mut above = *parent;
        let mut hops: i64 = 0;
        while let Some(in_batch) = above.and_then(|p| tokens.iter().find(|(c, _)| c.jti == p)) {
            top = in_batch.0;
            above = in_batch.1;
            hops += 1;
            if hops > i64::try_from(tokens.len()).unwrap_or(i64::MAX) {
                break; // a cycle cannot be issued; never loop on one
            }
        }
        query = query
            .bind(&claims.jti)
            .bind(device_id)
            .bind(*parent)
            .bind(claims.typ.as_str())
            .bind(&claims.sub)
            .bind(ts(claims.iat))
            .bind(ts(claims.exp))
            .bind(above)
            .bind(hops)
            .bind(&top.jti)
            .bind(ts(top.iat));
    }
    query
}

impl Store {
    /// One page of the tree of tokens issued to a device: refresh tokens (each the
    /// child of the one it replaced) and the access tokens issued with each, in
    /// pre-order — each refresh token, then the access tokens issued with it, then
    /// its successor. `limit` is capped at [`MAX_TREE_PAGE`].
    ///
    /// Paged by the database: one ordered, limited statement returns the page's
    /// rows only (and the total), so a device with years of rotations costs the app
    /// one page of memory. Each token's depth and root were written when it was
    /// issued; a refresh token has at most one successor (rotation is exact), so
    /// every tree is a chain with leaves, and its pre-order is the order of (root,
    /// step along the chain, refresh before access, id). Depths count from the
    /// login even after its first tokens were archived.
    pub async fn token_tree(
        &self,
        device_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<TokenPage, StoreError> {
        let limit = limit.clamp(1, MAX_TREE_PAGE);
        let rows = sqlx::query(
            "SELECT jti, parent_jti, kind, issued_at, expires_at, used_at, revoked_at, depth,
                    COUNT(*) OVER () AS total
             FROM jwt_guard_tokens
             WHERE device_id = $1
             ORDER BY COALESCE(root_at, issued_at), COALESCE(root_jti, jti),
                      CASE WHEN kind = 'refresh' THEN depth ELSE depth - 1 END,
                      CASE WHEN kind = 'refresh' THEN 0 ELSE 1 END,
                      jti
             LIMIT $2 OFFSET $3",
        )
        .bind(device_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut tokens = Vec::with_capacity(rows.len());
        let mut total = None;
        for row in &rows {
            let mut node = node_from_row(row)?;
            node.depth = u32::try_from(row.try_get::<i64, _>("depth")?).unwrap_or(u32::MAX);
            total = Some(row.try_get::<i64, _>("total")?);
            tokens.push(node);
        }
        // Past the last page the walk returns no row to carry the total.
        let total = match total {
            Some(total) => usize::try_from(total).unwrap_or(usize::MAX),
            None => {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM jwt_guard_tokens WHERE device_id = $1",
                )
                .bind(device_id)
                .fetch_one(&self.pool)
                .await?;
                usize::try_from(count).unwrap_or(usize::MAX)
            }
        };
        let end = offset.saturating_add(tokens.len());
        Ok(TokenPage {
            tokens,
            total,
            next_offset: (end < total).then_some(end),
        })
    }

    /// Whether refresh token `jti` is its device's current one: recorded, never
    /// rotated, never revoked. Reads only (what introspection asks).
    pub async fn refresh_is_current(&self, jti: &str) -> Result<bool, StoreError> {
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM jwt_guard_tokens
             WHERE jti = $1 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?;
        Ok(live.is_some())
    }

    /// Whose token `jti` is, if the registry has it.
    pub async fn token_subject(&self, jti: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT subject FROM jwt_guard_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Revokes token `jti` and everything issued from it (its access tokens, its
    /// successors and theirs). Returns the revoked ids; empty if `subject` does not
    /// own the token.
    pub async fn force_expire(
        &self,
        subject: Subject<'_>,
        jti: Jti<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let (subject, jti) = (subject.0, jti.0);
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "WITH RECURSIVE subtree(jti) AS (
                 SELECT jti FROM jwt_guard_tokens WHERE jti = $1 AND subject = $2
                 UNION
                 SELECT t.jti FROM jwt_guard_tokens t JOIN subtree s ON t.parent_jti = s.jti
             )
             SELECT t.jti, t.expires_at FROM jwt_guard_tokens t JOIN subtree s ON t.jti = s.jti",
        )
        .bind(jti)
        .bind(subject)
        .fetch_all(&mut *tx)
        .await?;
        let mut revoked = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("jti")?;
            let expires_at = secs(row.try_get("expires_at")?);
            sqlx::query(
                "UPDATE jwt_guard_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL",
            )
            .bind(ts(now))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            let revocation = Revocation::Token {
                jti: id,
                until: expires_at,
            };
            self.insert_revocation_in(&mut tx, &revocation, now).await?;
            revoked.push(revocation);
        }
        if !revoked.is_empty() {
            self.audit_in(
                &mut tx,
                AuditEvent::TokenRevoked,
                Some(subject),
                None,
                &format!("force-expired {jti} and {} descendants", revoked.len() - 1),
            )
            .await?;
        }
        self.commit_revoking(tx, &revoked).await?;
        Ok(revoked
            .iter()
            .map(|revocation| revocation.value().into_owned())
            .collect())
    }
}

fn node_from_row(row: &AnyRow) -> Result<TokenNode, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let kind = match kind.as_str() {
        "refresh" => TokenKind::Refresh,
        "link" => TokenKind::Link,
        _ => TokenKind::Access,
    };
    let used_at: Option<i64> = opt(row, "used_at")?;
    let revoked_at: Option<i64> = opt(row, "revoked_at")?;
    Ok(TokenNode {
        jti: row.try_get("jti")?,
        parent: opt(row, "parent_jti")?,
        depth: 0,
        kind,
        issued_at: secs(row.try_get("issued_at")?),
        expires_at: secs(row.try_get("expires_at")?),
        used_at: used_at.map(secs),
        revoked_at: revoked_at.map(secs),
    })
}
