//! Backups of a store while it is in use, always as a SQLite store file: on SQLite
//! `VACUUM INTO` writes a consistent copy of the whole database (one read transaction, so
//! writers are not held up) to a new file, which opens as a store of its own; on PostgreSQL
//! the rows are copied into such a file from one snapshot (see [`crate::postgres_backup`]).
//! A backup from either backend restores into either.
//!
//! A restore reads such a file back into a store: the file is copied aside, must pass
//! `PRAGMA integrity_check` and be a store of this or an earlier release (which is then
//! migrated on the copy), and its tables replace the store's in ONE write transaction, so
//! other processes see the store before or after the restore, never between. Every school's
//! revision ends above any revision the store had before, so results a server keeps for the
//! old data are not taken for the restored data.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Row};

use crate::{Backend, Store, StoreError};

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub schools: i64,
    pub facts: i64,
    pub users: i64,
    /// The schema version of the store after the restore.
    pub schema_version: i64,
}

/// The name the backup is attached under while it is copied in.
const SOURCE: &str = "restore_src";

/// A private copy of the backup, removed (with its journal files) when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Store {
    /// Writes a copy of the whole store to `target`, a file that must not exist yet.
    pub async fn backup(&self, target: &Path) -> Result<(), StoreError> {
        if target.exists() {
            return Err(StoreError::Refused(format!(
                "{} 已存在：备份不会覆盖已有文件，请换一个文件名",
                target.display()
            )));
        }
        if self.backend() == Backend::Postgres {
            return crate::postgres_backup::backup(self, target).await;
        }
        let absolute = std::path::absolute(target)
            .map_err(|e| StoreError::BadPath(format!("{}：{e}", target.display())))?;
        let name = absolute.to_str().ok_or_else(|| {
            StoreError::BadPath(format!("{}：路径不是有效的 UTF-8", target.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(name)
            .execute(self.database().reader())
            .await?;
        Ok(())
    }

    /// Whether the store holds no school and no user account.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let (schools, _, users) = self.counts().await?;
        Ok(schools == 0 && users == 0)
    }

    /// (schools, facts, user accounts) in the store.
    async fn counts(&self) -> Result<(i64, i64, i64), StoreError> {
        let mut conn = self.database().reader().acquire().await?;
        counts_on(&mut conn).await
    }

    /// Replaces everything in this store (SQLite or PostgreSQL) with the store in `source`,
    /// a file made by [`Store::backup`] on either backend. A store that holds data is
    /// replaced only with `force`. Nothing changes unless the whole restore succeeds.
    pub async fn restore(&self, source: &Path, force: bool) -> Result<Restored, StoreError> {
        let shown = source.display();
        let meta = std::fs::metadata(source)
            .map_err(|e| StoreError::Refused(format!("无法读取备份文件 {shown}：{e}")))?;
        if !meta.is_file() {
            return Err(StoreError::Refused(format!(
                "{shown} 不是普通文件：请给出 `nianbao backup` 生成的备份文件"
            )));
        }
        let mut wal = source.as_os_str().to_owned();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
            return Err(StoreError::Refused(format!(
                "{shown} 旁边有未合并的 -wal 文件，说明它是一个正在使用（或未正常关闭）的数据库，而不是备份：请用 `nianbao backup` 生成备份后再恢复"
            )));
        }
        if !force {
            // Asked here to refuse early, and again inside the restore's transaction, where
            // no other writer can add data after the answer.
            let mut conn = self.database().reader().acquire().await?;
            refuse_unless_empty(&mut conn).await?;
        }

        // Work on a copy: the backup itself is never written (opening it as a store would
        // migrate it).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let scratch = Scratch(
            std::env::temp_dir().join(format!("nianbao-restore-{}-{nanos}.db", std::process::id())),
        );
        std::fs::copy(source, &scratch.0)
            .map_err(|e| StoreError::Refused(format!("无法复制备份文件 {shown}：{e}")))?;
        check_backup(&scratch.0, source).await?;
        let copy = Store::open_sqlite(&scratch.0).await?;
        let schema_version = copy.schema_version().await?;
        copy.database().close().await;

        match self.backend() {
            Backend::Sqlite => self.restore_sqlite(&scratch.0, force).await?,
            Backend::Postgres => crate::postgres_backup::restore(self, &scratch.0, force).await?,
        }
        let (schools, facts, users) = self.counts().await?;
        Ok(Restored {
            schools,
            facts,
            users,
            schema_version,
        })
    }

    /// Replaces the tables of this SQLite store with those of `copy`, a checked and migrated
    /// store file, attached to the writer connection for the copy.
    async fn restore_sqlite(&self, copy: &Path, force: bool) -> Result<(), StoreError> {
        let name = copy.to_str().ok_or_else(|| {
            StoreError::BadPath(format!("{}：路径不是有效的 UTF-8", copy.display()))
        })?;
        let mut conn = self.database().writer_pool().acquire().await?;
        sqlx::query(&format!("ATTACH DATABASE $1 AS {SOURCE}"))
            .bind(name)
            .execute(&mut *conn)
            .await?;
        let copied = copy_tables(&mut conn, force).await;
        let detached = sqlx::query(&format!("DETACH DATABASE {SOURCE}"))
            .execute(&mut *conn)
            .await;
        copied?;
        detached?;
        Ok(())
    }

    /// The number of schema migrations applied to the store.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(self.database().reader())
            .await?;
        Ok(version.unwrap_or(0))
    }
}

/// Checks a copy of a backup before anything is done with it: a sound SQLite file
/// (`PRAGMA integrity_check`) holding a store of this release or an earlier one.
async fn check_backup(copy: &Path, source: &Path) -> Result<(), StoreError> {
    let shown = source.display();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(copy)
        .create_if_missing(false);
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::Refused(format!("{shown} 无法作为数据库打开：{e}")))?;
    let report: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await;
    let report = report.map_err(|e| {
        StoreError::Refused(format!(
            "{shown} 不是完好的数据库文件（PRAGMA integrity_check：{e}）"
        ))
    })?;
    if report != ["ok"] {
        return Err(StoreError::Refused(format!(
            "{shown} 未通过完整性检查（PRAGMA integrity_check）：{}",
            report.join("；")
        )));
    }
    let version: Result<Option<i64>, sqlx::Error> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(&mut conn)
            .await;
    let _ = conn.close().await;
    let known = crate::migrations(Backend::Sqlite).len() as i64;
    match version {
        Ok(Some(v)) if v <= known => Ok(()),
        Ok(Some(v)) => Err(StoreError::Refused(format!(
            "{shown} 来自更新版本的程序（数据库结构版本 {v}，本程序只认识到 {known}）：请用新版本恢复"
        ))),
        _ => Err(StoreError::Refused(format!(
            "{shown} 不是年报的数据库备份（没有数据库结构版本记录）"
        ))),
    }
}

/// Replaces every table of the store with the attached backup's, in one write transaction.
async fn copy_tables(conn: &mut sqlx::AnyConnection, force: bool) -> Result<(), StoreError> {
    let tables = |schema: &str| {
        format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    };
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    if !force {
        refuse_unless_empty(&mut tx).await?;
    }
    // Rows are deleted and inserted table by table; the foreign keys are checked at commit.
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *tx)
        .await?;
    let ours: Vec<String> = sqlx::query_scalar(&tables("main"))
        .fetch_all(&mut *tx)
        .await?;
    let theirs: Vec<String> = sqlx::query_scalar(&tables(SOURCE))
        .fetch_all(&mut *tx)
        .await?;
    if ours != theirs {
        return Err(StoreError::Refused(format!(
            "备份的表与当前数据库不一致（备份：{}；当前：{}），没有恢复任何内容",
            theirs.join("、"),
            ours.join("、")
        )));
    }
    let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(revision), 0) FROM school_revision")
        .fetch_one(&mut *tx)
        .await?;
    // The guards on rows (the points events are append-only) are for the application, not
    // for a restore: they are set aside inside the transaction and put back before it ends.
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' ORDER BY name",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (name, _) in &triggers {
        sqlx::query(&format!("DROP TRIGGER main.\"{name}\""))
            .execute(&mut *tx)
            .await?;
    }
    for table in &ours {
        sqlx::query(&format!("DELETE FROM main.\"{table}\""))
            .execute(&mut *tx)
            .await?;
    }
    // Both stores went through the same migrations, so their columns are in the same order.
    for table in &ours {
        sqlx::query(&format!(
            "INSERT INTO main.\"{table}\" SELECT * FROM {SOURCE}.\"{table}\""
        ))
        .execute(&mut *tx)
        .await?;
    }
    for (_, sql) in &triggers {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    raise_revisions(&mut tx, before).await?;
    tx.commit().await?;
    Ok(())
}

/// (schools, facts, user accounts) in the store, read on `conn`.
async fn counts_on(conn: &mut sqlx::AnyConnection) -> Result<(i64, i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT CAST((SELECT COUNT(*) FROM school) AS BIGINT), CAST((SELECT COUNT(*) FROM fact) AS BIGINT), \
                CAST((SELECT COUNT(*) FROM app_user) AS BIGINT)",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// Refuses to restore over a store that holds schools or accounts (without `--force`).
pub(crate) async fn refuse_unless_empty(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let (schools, facts, users) = counts_on(conn).await?;
    if schools > 0 || users > 0 {
        return Err(StoreError::Refused(format!(
            "当前数据库已有数据（{schools} 所学校、{facts} 项数据、{users} 个账号），恢复会用备份替换其中的全部内容。确认要替换时请加 --force"
        )));
    }
    Ok(())
}

/// Raises every restored school's revision above `before`, the highest revision the store
/// had before the restore (a school without one gets one), so results kept for the
/// replaced data are never taken for the restored data.
pub(crate) async fn raise_revisions(
    tx: &mut sqlx::AnyConnection,
    before: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE school_revision SET revision = revision + $1 + 1")
        .bind(before)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO school_revision (school_id, revision) SELECT id, $1 + 1 FROM school \
         WHERE id NOT IN (SELECT school_id FROM school_revision)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
