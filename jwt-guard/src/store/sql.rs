//! Values as the database holds them: nullable columns, and seconds as `BIGINT`.

use sqlx::any::AnyRow;
use sqlx::Row;

/// Reads a nullable column.
pub(crate) fn opt<'r, T>(row: &'r AnyRow, column: &str) -> Result<Option<T>, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get::<Option<T>, _>(column)
}

/// Seconds as a database integer.
pub(crate) fn ts(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// A database integer as seconds.
pub(crate) fn secs(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
