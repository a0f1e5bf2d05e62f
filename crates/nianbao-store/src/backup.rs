//! Backups of a SQLite store while it is in use: `VACUUM INTO` writes a consistent copy of
//! the whole database (one read transaction, so writers are not held up) to a new file,
//! which opens as a store of its own.

use std::path::Path;

use crate::{Backend, Store, StoreError};

impl Store {
    /// Writes a copy of the whole store to `target`, a file that must not exist yet.
    pub async fn backup(&self, target: &Path) -> Result<(), StoreError> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Refused(
                "PostgreSQL 数据库请用 pg_dump 备份（例如 pg_dump -Fc 数据库地址 > 备份文件）"
                    .into(),
            ));
        }
        if target.exists() {
            return Err(StoreError::Refused(format!(
                "{} 已存在：备份不会覆盖已有文件，请换一个文件名",
                target.display()
            )));
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

    /// The number of schema migrations applied to the store.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(self.database().reader())
            .await?;
        Ok(version.unwrap_or(0))
    }
}
