//! How jwt-guard runs its statements: the pool ([`PoolExecutor`]) and its transactions
//! ([`Tx`]) as sqlx executors, so that two things hold for every statement
//! without each call site knowing: they survive a transaction-mode pooler, and
//! with `log_statements` the transaction statements sqlx itself does not log
//! (`BEGIN` on both backends, SQLite's `COMMIT`, a rollback) are logged beside
//! its own, so a count of the log counts them.
//!
//! A transaction-mode pooler (PgBouncer's `pool_mode = transaction`, or a
//! managed pooler that behaves like it) lends a server connection to a client
//! for one transaction at a time: whenever the server reports itself idle, the
//! next message may go to another server. sqlx runs a statement with arguments as two exchanges —
//! `Parse`/`Describe`/`Sync`, then `Bind`/`Execute`/`Sync` — and names the
//! statements it caches (`sqlx_s_1`, …) per client connection. Behind such a
//! pooler the second exchange can land on a server that never saw the first, and
//! two clients' names collide on one server (`prepared statement "sqlx_s_1"
//! already exists`).
//!
//! So when [`Pooler::Transaction`] is set, every statement jwt-guard runs goes
//! as one `Query` message of the simple protocol, its arguments written in as
//! typed literals ([`super::literal`]): nothing is prepared or named on the
//! server, and a statement is one exchange — the same statements and round trips
//! as a direct connection's cached ones, with no `BEGIN`/`COMMIT` around a
//! statement of its own (a transaction keeps its server connection for its
//! whole length anyway). Direct connections ([`Pooler::None`]) keep sqlx's cached
//! named statements.

use std::fmt;
use std::ops::{Deref, DerefMut};

use rocket::futures::{future, stream, FutureExt, StreamExt, TryStreamExt};
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::database::Database;
use sqlx::error::BoxDynError;
use sqlx::{Any, AnyPool, Either, Execute, Executor};

type BoxFuture<'a, T> = rocket::futures::future::BoxFuture<'a, T>;
type BoxStream<'a, T> = rocket::futures::stream::BoxStream<'a, T>;

/// What sits between the application and PostgreSQL
/// (`databases.jwt_guard.pooler`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Pooler {
    /// Nothing, or a pooler in session mode: connections are the database's own.
    /// Statements are prepared once per connection and cached (the default).
    #[default]
    None,
    /// A transaction-mode pooler (PgBouncer `pool_mode = transaction`): each
    /// statement is one message of the simple protocol with its arguments written
    /// in as typed literals — as many statements and round trips as a direct
    /// connection, nothing prepared on the server; PostgreSQL `LISTEN` needs a
    /// direct connection (`listen_url`).
    Transaction,
}

/// A pool as an executor: the pool itself when connections are direct; a
/// transaction with an unnamed statement per call behind a transaction-mode
/// pooler.
///
/// [`JwtPool::reads`](super::JwtPool::reads) and
/// [`JwtPool::writes`](super::JwtPool::writes) hand these out for an
/// application's own statements on jwt-guard's database.
#[derive(Clone)]
pub struct PoolExecutor {
    pool: AnyPool,
    pooler: Pooler,
    log: TxLog,
}

/// Which transaction statements jwt-guard logs itself (sqlx logs the others).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TxLog {
    /// `BEGIN` and a rollback (sqlx logs neither, on either backend).
    pub(crate) begin: bool,
    /// `COMMIT` (sqlx logs it on PostgreSQL, not on SQLite).
    pub(crate) commit: bool,
}

/// One line in sqlx's statement log (target `sqlx::query`, its format).
fn log_statement(sql: &str) {
    log::info!(
        target: "sqlx::query",
        "summary=\"{sql}\" db.statement=\"\" rows_affected=0 rows_returned=0 (logged by jwt-guard)"
    );
}

impl PoolExecutor {
    pub(crate) fn new(pool: AnyPool, pooler: Pooler, log: TxLog) -> Self {
        Self { pool, pooler, log }
    }

    /// The sqlx pool underneath.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction with `begin` (`None`: the backend's default).
    pub(crate) async fn begin_with(&self, begin: Option<&'static str>) -> Result<Tx, sqlx::Error> {
        let tx = match begin {
            Some(sql) => self.pool.begin_with(sql).await?,
            None => self.pool.begin().await?,
        };
        if self.log.begin {
            log_statement(begin.unwrap_or("BEGIN"));
        }
        Ok(Tx {
            conn: TxConn {
                tx,
                pooler: self.pooler,
            },
            log_commit: self.log.commit,
            rollback: RollbackLog(self.log.begin),
        })
    }
}

impl fmt::Debug for PoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolExecutor")
            .field("pooler", &self.pooler)
            .finish()
    }
}

/// The methods a pool and a transaction answer alike — written once: by the
/// executor underneath when connections are direct; behind a transaction-mode
/// pooler, a first row read from `fetch_many` (which runs the statement
/// unnamed), and no kept statement. `$inner` is the executor underneath, of
/// `$this`.
macro_rules! alike_on_both {
    ($lt:lifetime, |$this:ident| $inner:expr) => {
        fn fetch_optional<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
        where
            $lt: 'e,
            E: 'q + Execute<'q, Any>,
        {
            match self.pooler {
                Pooler::None => {
                    let $this = self;
                    ($inner).fetch_optional(query)
                }
                Pooler::Transaction => first_row(self.fetch_many(query)),
            }
        }

        fn prepare_with<'e, 'q: 'e>(
            self,
            sql: &'q str,
            parameters: &'e [AnyTypeInfo],
        ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
        where
            $lt: 'e,
        {
            if self.pooler == Pooler::Transaction {
                return no_kept_statements();
            }
            let $this = self;
            ($inner).prepare_with(sql, parameters)
        }

        fn describe<'e, 'q: 'e>(
            self,
            sql: &'q str,
        ) -> BoxFuture<'e, Result<sqlx::Describe<Any>, sqlx::Error>>
        where
            $lt: 'e,
        {
            let $this = self;
            ($inner).describe(sql)
        }
    };
}

impl<'p> Executor<'p> for &'p PoolExecutor {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.pooler {
            Pooler::None => (&self.pool).fetch_many(query),
            Pooler::Transaction => with_literals(&self.pool, query),
        }
    }

    alike_on_both!('p, |this| &this.pool);
}

/// A transaction of jwt-guard's: statements run in it through `&mut *tx` (a
/// [`TxConn`]), unnamed behind a transaction-mode pooler.
/// Dropped without [`Tx::commit`], it rolls back (sqlx queues the `ROLLBACK`).
pub(crate) struct Tx {
    conn: TxConn,
    /// Whether jwt-guard logs the `COMMIT` (see [`TxLog`]).
    log_commit: bool,
    rollback: RollbackLog,
}

/// Logs the `ROLLBACK` of a transaction dropped uncommitted (when armed).
struct RollbackLog(bool);

impl Drop for RollbackLog {
    fn drop(&mut self) {
        if self.0 {
            log_statement("ROLLBACK");
        }
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        let Tx {
            conn,
            log_commit,
            mut rollback,
        } = self;
        conn.tx.commit().await?;
        rollback.0 = false;
        if log_commit {
            log_statement("COMMIT");
        }
        Ok(())
    }
}

impl Deref for Tx {
    type Target = TxConn;

    fn deref(&self) -> &TxConn {
        &self.conn
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut TxConn {
        &mut self.conn
    }
}

/// The connection of a [`Tx`], as an executor.
pub(crate) struct TxConn {
    tx: sqlx::Transaction<'static, Any>,
    pooler: Pooler,
}

impl fmt::Debug for TxConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxConn")
            .field("pooler", &self.pooler)
            .finish_non_exhaustive()
    }
}

impl<'c> Executor<'c> for &'c mut TxConn {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.pooler {
            Pooler::None => (&mut *self.tx).fetch_many(query),
            Pooler::Transaction => with_literals(&mut *self.tx, query),
        }
    }

    alike_on_both!('c, |this| &mut *this.tx);
}

/// `query` run by `executor` behind a transaction-mode pooler: its arguments
/// written in as literals, sent as one simple-protocol message (the text is
/// owned here, so its results are read whole before they are handed on).
fn with_literals<'e, 'q: 'e, X, E>(
    executor: X,
    query: E,
) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
where
    X: Executor<'e, Database = Any> + 'e,
    E: 'q + Execute<'q, Any>,
{
    let sql = match Unnamed::new(query).and_then(Unnamed::with_literals) {
        Ok(sql) => sql,
        Err(e) => return stream::once(future::ready(Err(e))).boxed(),
    };
    stream::once(async move {
        let results: Vec<_> = executor
            .fetch_many(Unnamed::simple(&sql))
            .try_collect()
            .await?;
        Ok::<_, sqlx::Error>(stream::iter(results.into_iter().map(Ok)))
    })
    .try_flatten()
    .boxed()
}

/// A prepared statement is named, and a name outlives the transaction that
/// prepared it: behind a transaction-mode pooler it would later be used on
/// another server connection. Said at once rather than failing later, elsewhere.
fn no_kept_statements<'e, 'q: 'e>() -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>> {
    future::ready(Err(sqlx::Error::Configuration(
        "prepared statements cannot be kept behind a transaction-mode pooler \
         (`pooler = \"transaction\"`): run the query directly"
            .into(),
    )))
    .boxed()
}

/// The first row of `results` (behind a pooler, where a query's results are
/// read whole anyway).
fn first_row(
    mut results: BoxStream<'_, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>,
) -> BoxFuture<'_, Result<Option<AnyRow>, sqlx::Error>> {
    async move {
        while let Some(result) = results.try_next().await? {
            if let Either::Right(row) = result {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
    .boxed()
}

/// A query run as an unnamed statement: sqlx neither names nor caches it, so
/// nothing of it stays on the server past its transaction.
struct Unnamed<'q> {
    sql: &'q str,
    arguments: Option<AnyArguments<'q>>,
}

impl<'q> Unnamed<'q> {
    fn new<E: Execute<'q, Any>>(mut query: E) -> Result<Self, sqlx::Error> {
        Ok(Self {
            sql: query.sql(),
            arguments: query.take_arguments().map_err(sqlx::Error::Encode)?,
        })
    }

    /// `sql` as it is, with no arguments: sent as one `Query` message of the
    /// simple protocol.
    fn simple(sql: &'q str) -> Self {
        Self {
            sql,
            arguments: None,
        }
    }

    /// The statement's text with its arguments written in as typed literals.
    fn with_literals(self) -> Result<String, sqlx::Error> {
        match &self.arguments {
            None => Ok(self.sql.to_owned()),
            Some(arguments) => super::literal::inline(self.sql, arguments)
                .map_err(|e| sqlx::Error::Encode(Box::new(e))),
        }
    }
}

impl<'q> Execute<'q, Any> for Unnamed<'q> {
    fn sql(&self) -> &'q str {
        self.sql
    }

    fn statement(&self) -> Option<&<Any as Database>::Statement<'q>> {
        None
    }

    fn take_arguments(&mut self) -> Result<Option<AnyArguments<'q>>, BoxDynError> {
        Ok(self.arguments.take())
    }

    fn persistent(&self) -> bool {
        false
    }
}
