//! An area report's finals: a final is begun (its number taken, who and when kept), its
//! files (web page, Word, and PDF when the fonts allowed one) are written once rendered, and
//! they are read back byte for byte.

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
    /// Whether a PDF is kept (finals made before PDFs were kept, or where the server had
    /// no CJK font, have none).
    pub has_pdf: bool,
}

/// A final's files as rendered.
#[derive(Debug, Clone, Copy)]
pub struct FinalFiles<'a> {
    pub html: &'a [u8],
    pub docx: &'a [u8],
    pub pdf: Option<&'a [u8]>,
}

/// One of a final's kept files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalFile {
    Html,
    Docx,
    Pdf,
}

impl FinalFile {
    /// The file by its name in an address (`report.html`, `report.docx`, `report.pdf`).
    pub fn from_name(name: &str) -> Option<FinalFile> {
        match name {
            "report.html" => Some(FinalFile::Html),
            "report.docx" => Some(FinalFile::Docx),
            "report.pdf" => Some(FinalFile::Pdf),
            _ => None,
        }
    }

    fn column(self) -> &'static str {
        match self {
            FinalFile::Html => "html",
            FinalFile::Docx => "docx",
            FinalFile::Pdf => "pdf",
        }
    }
}

const COLUMNS: &str = "id, area_code, year, made_by, made_at, hash, \
    CASE WHEN pdf IS NULL THEN 0 ELSE 1 END AS has_pdf";

fn final_of(r: &sqlx::any::AnyRow) -> Result<AreaFinal, StoreError> {
    let has_pdf: i32 = r.try_get(6)?;
    Ok(AreaFinal {
        id: r.try_get(0)?,
        area: r.try_get(1)?,
        year: r.try_get(2)?,
        made_by: r.try_get(3)?,
        made_at: r.try_get(4)?,
        hash: r.try_get(5)?,
        has_pdf: has_pdf != 0,
    })
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
        files: Option<FinalFiles<'_>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        match files {
            Some(files) => {
                sqlx::query("UPDATE area_final SET html = $1, docx = $2, pdf = $3 WHERE id = $4")
                    .bind(files.html)
                    .bind(files.docx)
                    .bind(files.pdf)
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
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM area_final \
             WHERE area_code = $1 AND year = $2 AND html IS NOT NULL ORDER BY id DESC"
        ))
        .bind(area)
        .bind(year)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(final_of).collect()
    }

    /// A finished final's file with the final, as kept; `None` when there is no such final
    /// or it keeps no such file.
    pub async fn area_final_file(
        &self,
        id: i64,
        file: FinalFile,
    ) -> Result<Option<(AreaFinal, Vec<u8>)>, StoreError> {
        let column = file.column();
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, {column} FROM area_final \
             WHERE id = $1 AND html IS NOT NULL AND {column} IS NOT NULL"
        ))
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| Ok((final_of(&r)?, r.try_get(7)?))).transpose()
    }
}
