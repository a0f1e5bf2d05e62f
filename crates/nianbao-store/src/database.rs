//! The connection to one database, shared by every table of the store. On SQLite a file is a
//! multi-user store only if it is used carefully: every connection runs in WAL mode with a
//! busy timeout, reads go through a pool of read connections (readers never block a writer
//! in WAL), and all writes of this process go through ONE writer connection, queued in the
//! process. A write transaction starts with `BEGIN IMMEDIATE`, so it takes the file's write
//! lock up front (waiting up to the busy timeout for other processes) and can never fail
//! half-way with "database is locked". A write that cannot get its turn within the bound
//! fails with [`StoreError::Busy`], having changed nothing.
//!
//! On PostgreSQL one pool serves reads and writes and transactions start with a plain
//! `BEGIN`, as before.

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};

use crate::raw_sqlite::RawSqlite;
use crate::{Backend, StoreError};

/// How long a write waits for its turn (in the process, then for other processes) before it
/// gives up with [`StoreError::Busy`], unless [`OpenOptions::busy_timeout`] says otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Read connections kept open on a SQLite file.
const SQLITE_READERS: u32 = 4;
/// Connections kept open to a PostgreSQL server (reads and writes).
const POSTGRES_CONNECTIONS: u32 = 8;

/// Settings for opening a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// The bound on how long a write waits for the lock before it fails with
    /// [`StoreError::Busy`].
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// A write transaction: commit it, or drop it to roll back.
pub type WriteTx = Transaction<'static, Any>;

/// One database: a pool of readers and a writer (the same pool on PostgreSQL).
#[derive(Debug, Clone)]
pub struct Database {
    backend: Backend,
    readers: AnyPool,
    writer: AnyPool,
    /// On PostgreSQL, a small pool of connections of PostgreSQL's own type beside the `Any`
    /// pool (whose connections cannot become one), for work that needs it: COPY. It
    /// connects when first used.
    postgres: Option<sqlx::PgPool>,
    /// Where it was opened, for [`Database::bulk`].
    url: Url,
    busy_timeout: Duration,
}

/// A database URL, kept but never printed (a PostgreSQL URL may hold a password).
#[derive(Clone)]
struct Url(String);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Url(…)")
    }
}

/// A connection outside the pools, for reads of many rows: on SQLite one driven through
/// SQLite's C interface (see [`RawSqlite`]), on PostgreSQL one of sqlx's own PostgreSQL driver
/// (sqlx's `Any` driver converts every value of every row once more, which over millions of
/// facts costs more than the database's reading them).
pub(crate) enum Bulk {
    Sqlite(RawSqlite),
    Postgres(sqlx::PgConnection),
}

/// Starts a read transaction on a PostgreSQL bulk connection: every query after it sees one
/// state of the database.
pub(crate) async fn begin_postgres_read(conn: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    // Through the executor's own (boxed) future: a future generic over the executor would
    // keep the callers' futures from being `Send`.
    Executor::execute(
        &mut *conn,
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    )
    .await?;
    // Reads here look schools' rows up by school_id. Before the tables are analysed (a store
    // just filled, before autovacuum got to it) the planner may think a school holds half
    // the fact table and scan all of it, once per school; the key's index is always the way
    // here. Scans priced out that way make the plan look costly enough to be compiled
    // (JIT), which takes longer than the read it would speed up.
    Executor::execute(&mut *conn, "SET LOCAL enable_seqscan = off").await?;
    Executor::execute(&mut *conn, "SET LOCAL jit = off").await?;
    Ok(())
}

/// Ends the read transaction of [`begin_postgres_read`] and closes the connection.
pub(crate) async fn end_postgres_read(mut conn: sqlx::PgConnection) -> Result<(), StoreError> {
    Executor::execute(&mut conn, "COMMIT").await?;
    conn.close().await?;
    Ok(())
}

/// Connections of the typed PostgreSQL pool.
const POSTGRES_TYPED_CONNECTIONS: u32 = 2;

impl Database {
    /// Opens (creating if needed) the SQLite file at `path`. Any file name works, including
    /// ones with spaces, `?`, `%` or `#`.
    pub async fn open_sqlite(path: &Path, options: OpenOptions) -> Result<Database, StoreError> {
        Database::open(&sqlite_url(path)?, options).await
    }

    /// Opens a database by URL (`sqlite:…` or `postgres://…`). The schema is left as it is;
    /// see [`Database::migrate`].
    pub async fn open(url: &str, options: OpenOptions) -> Result<Database, StoreError> {
        let backend = backend_of(url)?;
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .connect(url)
                    .await?;
                let typed = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(POSTGRES_TYPED_CONNECTIONS)
                    .connect_lazy(url)?;
                Ok(Database {
                    backend,
                    readers: pool.clone(),
                    writer: pool,
                    postgres: Some(typed),
                    url: Url(url.to_string()),
                    busy_timeout: options.busy_timeout,
                })
            }
            Backend::Sqlite => {
                let busy_ms = options.busy_timeout.as_millis().min(i32::MAX as u128);
                // The writer is opened first: it creates the file and switches it to WAL,
                // which needs the file to itself for a moment and is kept in the file.
                let writer = sqlite_pool(1, busy_ms, options.busy_timeout)
                    .connect(url)
                    .await?;
                let mut conn = writer.acquire().await?;
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&mut *conn)
                    .await?;
                if !mode.eq_ignore_ascii_case("wal") {
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                }
                drop(conn);
                let readers = sqlite_pool(SQLITE_READERS, busy_ms, options.busy_timeout)
                    .connect(url)
                    .await?;
                Ok(Database {
                    backend,
                    readers,
                    writer,
                    postgres: None,
                    url: Url(url.to_string()),
                    busy_timeout: options.busy_timeout,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads. Never write through it: on SQLite a write from a reader would
    /// compete with the writer for the file's lock.
    pub fn reader(&self) -> &AnyPool {
        &self.readers
    }

    /// A new connection for reading many rows (see [`Bulk`]); on SQLite it waits for locks
    /// as the pool's connections do.
    pub(crate) async fn bulk(&self) -> Result<Bulk, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = self.url.0.parse()?;
                Ok(Bulk::Sqlite(RawSqlite::open(
                    options.get_filename(),
                    self.busy_timeout,
                )?))
            }
            Backend::Postgres => Ok(Bulk::Postgres(
                sqlx::PgConnection::connect(&self.url.0).await?,
            )),
        }
    }

    /// The pool of this process's one writer connection (the shared pool on PostgreSQL), for
    /// work that needs a connection of its own outside a transaction (SQLite's ATTACH).
    pub(crate) fn writer_pool(&self) -> &AnyPool {
        &self.writer
    }

    /// Starts a write transaction. On SQLite it waits for this process's writer connection
    /// (writes are queued in the process) and then for the file's write lock
    /// (`BEGIN IMMEDIATE`, waiting on the busy timeout for other processes); past the bound
    /// it fails with [`StoreError::Busy`].
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => Ok(self.writer.begin().await?),
        }
    }

    /// The pool of connections of PostgreSQL's own type (the `Any` connections of the
    /// other pools cannot become one), for work that needs it: COPY. `None` on SQLite.
    pub(crate) fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        self.postgres.as_ref()
    }

    /// Starts a read transaction: every query in it sees the same state of the database.
    pub async fn read(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(self.readers.begin().await?)
    }

    /// Applies the migrations not yet recorded in `version_table`, in one write transaction
    /// (see [`crate::apply_migrations`]); does nothing, without waiting for the write lock,
    /// when every migration is recorded already.
    pub async fn migrate(
        &self,
        version_table: &str,
        lock_key: i64,
        migrations: &[&str],
    ) -> Result<(), StoreError> {
        // A store that is up to date is not locked for writing just to find that out, so
        // opening it never waits for other writers.
        let applied: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar(&format!("SELECT MAX(version) FROM {version_table}"))
                .fetch_one(&self.readers)
                .await;
        if matches!(applied, Ok(Some(v)) if v >= migrations.len() as i64) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        crate::apply_migrations(&mut tx, self.backend, version_table, lock_key, migrations).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes every connection (SQLite then checkpoints its WAL into the file).
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
        if let Some(pool) = &self.postgres {
            pool.close().await;
        }
    }
}

fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// A pool of SQLite connections that each get the store's pragmas when they connect.
fn sqlite_pool(connections: u32, busy_ms: u128, wait: Duration) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(wait)
        // Keep connections open: reopening a SQLite file costs more than keeping it.
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                for pragma in [
                    format!("PRAGMA busy_timeout = {busy_ms}"),
                    "PRAGMA synchronous = NORMAL".to_string(),
                    "PRAGMA foreign_keys = ON".to_string(),
                    "PRAGMA temp_store = MEMORY".to_string(),
                ] {
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
}

/// The sqlx URL of a SQLite file, opened read-write and created if missing. The path is made
/// absolute and percent-encoded, so spaces, `?`, `%` and `#` in a file name stay part of the
/// name instead of being read as URL syntax.
pub fn sqlite_url(path: &Path) -> Result<String, StoreError> {
    let absolute = std::path::absolute(path)
        .map_err(|e| StoreError::BadPath(format!("{}：{e}", path.display())))?;
    let text = absolute
        .to_str()
        .ok_or_else(|| StoreError::BadPath(format!("{}：路径不是有效的 UTF-8", path.display())))?;
    let mut url = String::from("sqlite://");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.' | b'~') {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url.push_str("?mode=rwc");
    Ok(url)
}

/// Whether an error means "someone else holds the lock" (SQLite's BUSY or LOCKED) or "no
/// connection became free within the bound".
pub(crate) fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::sqlite::SqliteError>()
            .and_then(sqlx::error::DatabaseError::code)
            .and_then(|code| code.parse::<i32>().ok())
            // The primary result code is the low byte of the extended one.
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_file_names_survive_the_url() {
        let path = Path::new("/tmp/a b?c%d#e.db");
        let url = sqlite_url(path).unwrap();
        assert_eq!(url, "sqlite:///tmp/a%20b%3Fc%25d%23e.db?mode=rwc");
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        assert_eq!(options.get_filename(), path);
    }
}
