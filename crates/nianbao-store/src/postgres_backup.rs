//! Backups of a PostgreSQL store in the same form as a SQLite store's: a SQLite store file
//! of the current schema holding every row, read in ONE repeatable-read transaction so the
//! copy is consistent while the store is in use. Such a file opens as a SQLite store, is
//! restored into SQLite like any SQLite backup, and is restored into PostgreSQL here — so
//! backups move both ways between the two backends.
//!
//! A restore into PostgreSQL replaces every table's rows in ONE transaction (other sessions
//! wait for it and then see the restored store, never a part of it), recreates the points
//! ledger's partitions for the restored schools, sets every id sequence past the restored
//! ids, and raises every school's revision above any it had, as the SQLite restore does.

use std::path::{Path, PathBuf};

use sqlx::{AnyConnection, Connection};

use crate::table_copy::{self, Table, quoted};
use crate::{Backend, Store, StoreError, sqlite_url};

/// The table of applied migrations: each side keeps its own (they hold the same versions).
const VERSION_TABLE: &str = "schema_version";

/// A file being written, removed (with its journal) unless it was finished.
struct Partial(PathBuf);

impl Drop for Partial {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Opens one connection to a SQLite file (created if missing), outside any pool, in the
/// default rollback-journal mode, so the finished file stands on its own.
async fn open_file(path: &Path) -> Result<AnyConnection, StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&sqlite_url(path)?).await?;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// Writes every row of the PostgreSQL `store` to a new SQLite store file at `target`.
pub(crate) async fn backup(store: &Store, target: &Path) -> Result<(), StoreError> {
    let file_name = target
        .file_name()
        .ok_or_else(|| StoreError::BadPath(format!("{}：不是文件名", target.display())))?;
    let mut hidden = std::ffi::OsString::from(".");
    hidden.push(file_name);
    hidden.push(format!(".{}.partial", std::process::id()));
    let partial = Partial(target.with_file_name(hidden));
    let _ = std::fs::remove_file(&partial.0);

    let mut file = open_file(&partial.0).await?;
    {
        let mut tx = file.begin().await?;
        crate::apply_migrations(
            &mut tx,
            Backend::Sqlite,
            VERSION_TABLE,
            4242,
            crate::migrations(Backend::Sqlite),
        )
        .await?;
        tx.commit().await?;
    }

    let mut source = store.database().reader().acquire().await?;
    let mut snapshot = source
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?;
    let tables = table_copy::postgres_tables(&mut snapshot).await?;
    table_copy::same_tables(&tables, &table_copy::sqlite_columns(&mut file).await?)?;

    let mut out = file.begin_with("BEGIN IMMEDIATE").await?;
    // Rows of a tree may come in any order on the way out; the keys are checked at commit.
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *out)
        .await?;
    for table in &tables {
        sqlx::query(&format!("DELETE FROM {}", quoted(&table.name)))
            .execute(&mut *out)
            .await?;
        table_copy::copy_table(&mut snapshot, &mut out, table).await?;
    }
    out.commit().await?;
    snapshot.rollback().await?;
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut file)
        .await?;
    if check != ["ok"] {
        return Err(StoreError::Refused(format!(
            "写出的备份未通过完整性检查：{}",
            check.join("；")
        )));
    }
    file.close().await?;

    // Linking fails if the target appeared meanwhile: a backup never replaces a file. A
    // file system without hard links gets a rename after one more look.
    let placed = match std::fs::hard_link(&partial.0, target) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !target.exists() => {
            std::fs::rename(&partial.0, target)
        }
        other => other,
    };
    placed.map_err(|e| StoreError::Refused(format!("无法把备份写到 {}：{e}", target.display())))?;
    Ok(())
}

/// Replaces every row of the PostgreSQL `store` with the rows of `copy`, a checked and
/// migrated SQLite store file (over schools or accounts only with `force`). A failure
/// changes nothing.
pub(crate) async fn restore(store: &Store, copy: &Path, force: bool) -> Result<(), StoreError> {
    let mut file = open_file(copy).await?;
    let mut source = file.begin().await?;
    let mut tx = store.database().write().await?;
    let tables = table_copy::postgres_tables(&mut tx).await?;
    table_copy::same_tables(&tables, &table_copy::sqlite_columns(&mut source).await?)?;
    let tables: Vec<&Table> = tables.iter().filter(|t| t.name != VERSION_TABLE).collect();

    // Every table is taken for this transaction before anything is read, so no write
    // slips in between the revisions read here and the replacement.
    let names: Vec<String> = tables.iter().map(|t| quoted(&t.name)).collect();
    sqlx::query(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        names.join(", ")
    ))
    .execute(&mut *tx)
    .await?;
    if !force {
        crate::backup::refuse_unless_empty(&mut tx).await?;
    }
    let before: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(revision), 0) AS BIGINT) FROM school_revision",
    )
    .fetch_one(&mut *tx)
    .await?;
    // TRUNCATE empties every table at once (the references among them hold) and does not
    // run the append-only guard of the points events, which is for rows, not for a restore.
    sqlx::query(&format!("TRUNCATE {}", names.join(", ")))
        .execute(&mut *tx)
        .await?;
    replace_event_partitions(&mut source, &mut tx).await?;
    for table in &tables {
        table_copy::copy_table(&mut source, &mut tx, table).await?;
    }
    reset_sequences(&mut tx).await?;
    crate::backup::raise_revisions(&mut tx, before).await?;
    tx.commit().await?;
    source.rollback().await?;
    file.close().await?;
    Ok(())
}

/// Drops the points events' partitions of the replaced schools and creates one for every
/// school and school year the restored store has terms or events in.
async fn replace_event_partitions(
    source: &mut AnyConnection,
    tx: &mut AnyConnection,
) -> Result<(), StoreError> {
    let old: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(c.relname AS TEXT) FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid \
         JOIN pg_class p ON p.oid = i.inhparent \
         JOIN pg_namespace n ON n.oid = p.relnamespace \
         WHERE p.relname = 'points_event' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut *tx)
    .await?;
    for partition in &old {
        sqlx::query(&format!("DROP TABLE {}", quoted(partition)))
            .execute(&mut *tx)
            .await?;
    }
    let needed: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT school_id, school_year FROM points_period \
         UNION SELECT school_id, school_year FROM points_event ORDER BY 1, 2",
    )
    .fetch_all(&mut *source)
    .await?;
    for (school, school_year) in needed {
        crate::points::create_event_partition(tx, school, school_year).await?;
    }
    Ok(())
}

/// Sets every id sequence (the serial columns) past the largest id restored, so the next
/// row gets a new id.
async fn reset_sequences(tx: &mut AnyConnection) -> Result<(), StoreError> {
    let serial: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND (column_default LIKE 'nextval(%' OR is_identity = 'YES') \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (table, column) in serial {
        sqlx::query(&format!(
            "SELECT CAST(setval(pg_get_serial_sequence($1, $2), \
                    COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false) AS BIGINT)",
            column = quoted(&column),
            table = quoted(&table),
        ))
        .bind(quoted(&table))
        .bind(&column)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
