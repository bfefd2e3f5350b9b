//! The registry of issued tokens: rotation of refresh tokens with reuse detection,
//! the device → refresh → access tree, and force-expiry of any subtree.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::AuditEvent;
use super::{nullable, opt, secs, ts, Backend, Store, StoreError};
use crate::claims::{RegisteredClaims, TokenKind};
use crate::revocation::Revocation;

/// One issued token in a device's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenNode {
    /// Token id.
    pub jti: String,
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
    /// Tokens issued from this one: access tokens, and the refresh token that
    /// replaced it.
    pub children: Vec<TokenNode>,
}

/// Why a refresh token could not be rotated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotateError {
    /// Unknown, revoked, or its device is gone: refused, nothing else happens.
    #[error("the refresh token is not valid")]
    Invalid,
    /// Already rotated: reuse. The whole device has been revoked.
    #[error("the refresh token was already used; its device has been revoked")]
    Reused,
    /// The database failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RotateError {
    fn from(e: sqlx::Error) -> Self {
        RotateError::Store(StoreError(e))
    }
}

/// The one `INSERT` of the token registry, for the pool or a transaction.
fn insert_token<'q>(
    claims: &'q RegisteredClaims,
    device_id: &'q str,
    parent: Option<&'q str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO jwt_guard_tokens
         (jti, device_id, parent_jti, kind, subject, issued_at, expires_at)
         VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6, $7)",
    )
    .bind(&claims.jti)
    .bind(device_id)
    .bind(nullable(parent))
    .bind(claims.typ.as_str())
    .bind(&claims.sub)
    .bind(ts(claims.iat))
    .bind(ts(claims.exp))
}

impl Store {
    /// Records an issued token (its id and times, never the token) under `device_id`,
    /// child of `parent` (the refresh token it came from, if any).
    pub async fn record_issued(
        &self,
        claims: &RegisteredClaims,
        device_id: &str,
        parent: Option<&str>,
    ) -> Result<(), StoreError> {
        insert_token(claims, device_id, parent)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_token_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        claims: &RegisteredClaims,
        device_id: &str,
        parent: &str,
    ) -> Result<(), sqlx::Error> {
        insert_token(claims, device_id, Some(parent))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Consumes refresh token `old` and records its successors `refresh` and
    /// `access`, in one conditional statement inside one transaction: of any number
    /// of concurrent calls with the same token, exactly one succeeds.
    ///
    /// A token that was already rotated is reuse: the device and every token of it
    /// are revoked and [`RotateError::Reused`] returned — unless the reuse grace
    /// period is set, the rotation happened within it and the successor is still
    /// unused, in which case the successor is replaced instead (a client retry).
    pub async fn rotate_refresh(
        &self,
        old: &RegisteredClaims,
        refresh: &RegisteredClaims,
        access: &RegisteredClaims,
    ) -> Result<(), RotateError> {
        let now = self.now();
        let device_id = old.did.as_deref().ok_or(RotateError::Invalid)?;

        let mut tx = self.pool.begin().await?;
        let consumed: Option<String> = sqlx::query_scalar(
            "UPDATE jwt_guard_tokens SET used_at = $1, replaced_by = $2
             WHERE jti = $3 AND kind = 'refresh' AND device_id = $4
               AND used_at IS NULL AND revoked_at IS NULL
             RETURNING jti",
        )
        .bind(ts(now))
        .bind(&refresh.jti)
        .bind(&old.jti)
        .bind(device_id)
        .fetch_optional(&mut *tx)
        .await?;

        if consumed.is_none() {
            drop(tx);
            return self.rotate_used(old, refresh, access, device_id, now).await;
        }
        if !self.device_active_in(&mut tx, device_id, now).await? {
            return Err(RotateError::Invalid);
        }
        self.insert_token_in(&mut tx, refresh, device_id, &old.jti)
            .await?;
        self.insert_token_in(&mut tx, access, device_id, &refresh.jti)
            .await?;
        tx.commit().await?;
        self.slide_expiry(device_id, now).await?;
        Ok(())
    }

    async fn device_active_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        device_id: &str,
        now: u64,
    ) -> Result<bool, sqlx::Error> {
        let active: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jwt_guard_devices
             WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(device_id)
        .bind(ts(now))
        .fetch_optional(&mut **tx)
        .await?;
        Ok(active.is_some())
    }

    /// The presented refresh token was not consumable: decide between an unknown
    /// token, a retry within the grace period, and reuse.
    async fn rotate_used(
        &self,
        old: &RegisteredClaims,
        refresh: &RegisteredClaims,
        access: &RegisteredClaims,
        device_id: &str,
        now: u64,
    ) -> Result<(), RotateError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT jti FROM jwt_guard_tokens WHERE jti = $1 FOR UPDATE")
                .bind(&old.jti)
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query(
            "SELECT used_at, replaced_by, revoked_at FROM jwt_guard_tokens
             WHERE jti = $1 AND kind = 'refresh' AND device_id = $2",
        )
        .bind(&old.jti)
        .bind(device_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(RotateError::Invalid);
        };
        let used_at: Option<i64> = opt(&row, "used_at")?;
        let replaced_by: Option<String> = opt(&row, "replaced_by")?;
        let revoked_at: Option<i64> = opt(&row, "revoked_at")?;
        if revoked_at.is_some() {
            return Err(RotateError::Invalid);
        }
        let Some(used_at) = used_at.map(secs) else {
            return Err(RotateError::Invalid);
        };

        let grace = self.settings.reuse_grace;
        if grace > 0 && now.saturating_sub(used_at) <= grace {
            if let Some(successor) = replaced_by.as_deref() {
                // A retry: retire the unused successor and issue a fresh one.
                let retired = sqlx::query(
                    "UPDATE jwt_guard_tokens SET revoked_at = $1
                     WHERE jti = $2 AND used_at IS NULL AND revoked_at IS NULL",
                )
                .bind(ts(now))
                .bind(successor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if retired == 1 && self.device_active_in(&mut tx, device_id, now).await? {
                    sqlx::query("UPDATE jwt_guard_tokens SET replaced_by = $1 WHERE jti = $2")
                        .bind(&refresh.jti)
                        .bind(&old.jti)
                        .execute(&mut *tx)
                        .await?;
                    self.insert_token_in(&mut tx, refresh, device_id, &old.jti)
                        .await?;
                    self.insert_token_in(&mut tx, access, device_id, &refresh.jti)
                        .await?;
                    let revocation = Revocation::Token {
                        jti: successor.to_owned(),
                        until: now.saturating_add(self.settings.max_token_ttl),
                    };
                    self.insert_revocation_in(&mut tx, &revocation, now).await?;
                    self.commit_revoking(tx, &[revocation]).await?;
                    return Ok(());
                }
            }
        }

        // Reuse: the family is compromised.
        let revocation = self.revoke_device_in(&mut tx, device_id, now).await?;
        self.audit_in(
            &mut tx,
            AuditEvent::RefreshReuse,
            Some(&old.sub),
            Some(device_id),
            &format!("refresh token {} presented again after rotation", old.jti),
        )
        .await?;
        self.commit_revoking(tx, &[revocation]).await?;
        Err(RotateError::Reused)
    }

    /// The tree of tokens issued to a device: refresh tokens (each the child of the
    /// one it replaced) and the access tokens issued with each.
    pub async fn token_tree(&self, device_id: &str) -> Result<Vec<TokenNode>, StoreError> {
        let rows = sqlx::query(
            "SELECT jti, parent_jti, kind, issued_at, expires_at, used_at, revoked_at
             FROM jwt_guard_tokens WHERE device_id = $1 ORDER BY issued_at ASC, jti ASC",
        )
        .bind(device_id)
        .fetch_all(&self.pool)
        .await?;
        let mut flat: Vec<(Option<String>, TokenNode)> = Vec::with_capacity(rows.len());
        for row in &rows {
            flat.push(node_from_row(row)?);
        }
        Ok(build_tree(None, &mut flat))
    }

    /// Revokes token `jti` and everything issued from it (its access tokens, its
    /// successors and theirs). Returns the revoked ids; empty if `subject` does not
    /// own the token.
    pub async fn force_expire(&self, subject: &str, jti: &str) -> Result<Vec<String>, StoreError> {
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
            .map(|revocation| revocation.value().to_owned())
            .collect())
    }
}

fn node_from_row(row: &AnyRow) -> Result<(Option<String>, TokenNode), sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let kind = match kind.as_str() {
        "refresh" => TokenKind::Refresh,
        "link" => TokenKind::Link,
        _ => TokenKind::Access,
    };
    let used_at: Option<i64> = opt(row, "used_at")?;
    let revoked_at: Option<i64> = opt(row, "revoked_at")?;
    Ok((
        opt(row, "parent_jti")?,
        TokenNode {
            jti: row.try_get("jti")?,
            kind,
            issued_at: secs(row.try_get("issued_at")?),
            expires_at: secs(row.try_get("expires_at")?),
            used_at: used_at.map(secs),
            revoked_at: revoked_at.map(secs),
            children: Vec::new(),
        },
    ))
}

/// Nests `flat` under `parent`, preserving issue order.
fn build_tree(parent: Option<&str>, flat: &mut Vec<(Option<String>, TokenNode)>) -> Vec<TokenNode> {
    let known: std::collections::HashSet<String> =
        flat.iter().map(|(_, n)| n.jti.clone()).collect();
    let mut children: std::collections::HashMap<Option<String>, Vec<TokenNode>> =
        std::collections::HashMap::new();
    for (p, node) in flat.drain(..) {
        // A parent that was archived makes its child a root.
        let p = p.filter(|p| known.contains(p));
        children.entry(p).or_default().push(node);
    }
    fn attach(
        key: Option<String>,
        children: &mut std::collections::HashMap<Option<String>, Vec<TokenNode>>,
    ) -> Vec<TokenNode> {
        let mut nodes = children.remove(&key).unwrap_or_default();
        for node in &mut nodes {
            node.children = attach(Some(node.jti.clone()), children);
        }
        nodes
    }
    attach(parent.map(str::to_owned), &mut children)
}
