//! jwt-guard's embedded migrations, tracked in a table of their own.

use super::handle::{Store, StoreError};
use super::pool::Backend;
use super::sql::ts;

/// How a migration's SQL runs.
enum Sql {
    /// Statements split at `;`, on both databases.
    Both(&'static str),
    /// One piece, run whole (a function body holds semicolons), on PostgreSQL
    /// alone; SQLite only records the version.
    PostgresWhole(&'static str),
}

const MIGRATIONS: &[(i64, Sql)] = &[
    (
        1,
        Sql::Both(include_str!(
            "../../migrations/0001_devices_tokens_revocations.sql"
        )),
    ),
    (
        2,
        Sql::Both(include_str!("../../migrations/0002_links.sql")),
    ),
    (
        3,
        Sql::Both(include_str!(
            "../../migrations/0003_revocation_sequence.sql"
        )),
    ),
    (
        4,
        Sql::Both(include_str!("../../migrations/0004_rotation.sql")),
    ),
    (
        5,
        Sql::Both(include_str!("../../migrations/0005_attempts.sql")),
    ),
    (
        6,
        Sql::Both(include_str!("../../migrations/0006_token_tree_order.sql")),
    ),
    (7, Sql::Both(include_str!("../../migrations/0007_dpop.sql"))),
    (
        8,
        Sql::PostgresWhole(include_str!(
            "../../migrations/0008_session_lock.postgres.sql"
        )),
    ),
    (
        9,
        Sql::Both(include_str!("../../migrations/0009_passkeys.sql")),
    ),
    (
        10,
        Sql::Both(include_str!(
            "../../migrations/0010_device_login_method.sql"
        )),
    ),
    (
        11,
        Sql::Both(include_str!("../../migrations/0011_signals.sql")),
    ),
];

impl Store {
    /// Applies jwt-guard's embedded migrations that have not run yet. Tracked in its
    /// own table (`jwt_guard_migrations`), so an application's own sqlx migrations in
    /// the same database do not collide. Safe to run from several instances at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Serialise concurrent launches against one database.
            sqlx::query("SELECT pg_advisory_xact_lock(7386172634)")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS jwt_guard_migrations (
                version BIGINT PRIMARY KEY,
                applied_at BIGINT NOT NULL
            )",
        )
        .execute(&mut *tx)
        .await?;
        for (version, sql) in MIGRATIONS {
            let applied: Option<i64> =
                sqlx::query_scalar("SELECT version FROM jwt_guard_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if applied.is_some() {
                continue;
            }
            let statements = match (sql, self.backend) {
                (Sql::Both(sql), _) => sql,
                (Sql::PostgresWhole(sql), Backend::Postgres) => {
                    sqlx::query(sql).execute(&mut *tx).await?;
                    ""
                }
                (Sql::PostgresWhole(_), Backend::Sqlite) => "",
            };
            for statement in statements
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let statement: String = statement
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                if statement.trim().is_empty() {
                    continue;
                }
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO jwt_guard_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(ts(self.now()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
