//! An area report's finals: a final is begun (its number taken, who and when kept), its
//! files are written once rendered, and they are read back byte for byte.

use sqlx::Row;

use crate::{Store, StoreError};

/// One final of an area's report for a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaFinal {
    pub id: i64,
    pub area: String,
    pub year: i64,
    pub made_by: String,
    /// When (UTC as stored; show with `nianbao_core::clock::beijing_time`).
    pub made_at: String,
    /// SHA-256 of the draft's content, hex.
    pub hash: String,
}

impl Store {
    /// Begins a final of an area's report: its number, and when it was made as stored.
    pub async fn begin_area_final(
        &self,
        area: &str,
        year: i64,
        made_by: &str,
        hash: &str,
    ) -> Result<(i64, String), StoreError> {
        let now = self.now_sql();
        let mut tx = self.db.write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO area_final (area_code, year, made_by, made_at, hash) \
             VALUES ($1, $2, $3, {now}, $4) RETURNING id, made_at"
        ))
        .bind(area)
        .bind(year)
        .bind(made_by)
        .bind(hash)
        .fetch_one(&mut *tx)
        .await?;
        let begun = (row.try_get(0)?, row.try_get(1)?);
        tx.commit().await?;
        Ok(begun)
    }

    /// Keeps a final's files; `None` removes a final whose files could not be made.
    pub async fn complete_area_final(
        &self,
        id: i64,
        files: Option<(&[u8], &[u8])>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        match files {
            Some((html, docx)) => {
                sqlx::query("UPDATE area_final SET html = $1, docx = $2 WHERE id = $3")
                    .bind(html)
                    .bind(docx)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM area_final WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The finished finals of an area's report for a year, newest first.
    pub async fn area_finals(&self, area: &str, year: i64) -> Result<Vec<AreaFinal>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, area_code, year, made_by, made_at, hash FROM area_final \
             WHERE area_code = $1 AND year = $2 AND html IS NOT NULL ORDER BY id DESC",
        )
        .bind(area)
        .bind(year)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AreaFinal {
                    id: r.try_get(0)?,
                    area: r.try_get(1)?,
                    year: r.try_get(2)?,
                    made_by: r.try_get(3)?,
                    made_at: r.try_get(4)?,
                    hash: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// A finished final's file (`html` or `docx`) with the final's area, as kept.
    pub async fn area_final_file(
        &self,
        id: i64,
        docx: bool,
    ) -> Result<Option<(AreaFinal, Vec<u8>)>, StoreError> {
        let column = if docx { "docx" } else { "html" };
        let row = sqlx::query(&format!(
            "SELECT id, area_code, year, made_by, made_at, hash, {column} FROM area_final \
             WHERE id = $1 AND {column} IS NOT NULL"
        ))
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| {
            Ok((
                AreaFinal {
                    id: r.try_get(0)?,
                    area: r.try_get(1)?,
                    year: r.try_get(2)?,
                    made_by: r.try_get(3)?,
                    made_at: r.try_get(4)?,
                    hash: r.try_get(5)?,
                },
                r.try_get(6)?,
            ))
        })
        .transpose()
    }
}
