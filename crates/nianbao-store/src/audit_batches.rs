//! A bureau's batch audits of hand-written school reports: each uploaded archive is a batch
//! of an area, started when uploaded and finished with its table of schools × findings
//! (kept as the JSON the page shows) or with why it failed; a person confirms or changes
//! each report's pre-grade, and who did so and when is kept with the grade.

use sqlx::Row;

use crate::{Store, StoreError};

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Being audited.
    Running,
    Done,
    Failed,
}

impl BatchState {
    fn code(self) -> &'static str {
        match self {
            BatchState::Running => "running",
            BatchState::Done => "done",
            BatchState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<BatchState, StoreError> {
        match text {
            "running" => Ok(BatchState::Running),
            "done" => Ok(BatchState::Done),
            "failed" => Ok(BatchState::Failed),
            _ => Err(StoreError::Corrupt(format!(
                "批量审核的状态「{text}」无法识别"
            ))),
        }
    }
}

/// One uploaded archive and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBatch {
    pub id: i64,
    pub area: String,
    /// The archive's file name as uploaded.
    pub file_name: String,
    pub uploaded_by: String,
    /// When (UTC as stored; show with `nianbao_core::clock::beijing_time`).
    pub uploaded_at: String,
    /// How many reports the archive holds.
    pub reports: usize,
    pub state: BatchState,
    /// The table (JSON) once done; `None` in lists.
    pub result: Option<String>,
    /// Why it failed.
    pub problem: Option<String>,
}

/// A grade a person confirmed for one report of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedGrade {
    /// The report's place in the batch's table, from 0.
    pub position: usize,
    pub grade: String,
    pub note: String,
    pub by: String,
    /// When (UTC as stored).
    pub at: String,
}

fn batch_of(row: &sqlx::any::AnyRow, with_result: bool) -> Result<AuditBatch, StoreError> {
    let state: String = row.try_get("state")?;
    let reports: i64 = row.try_get("reports")?;
    Ok(AuditBatch {
        id: row.try_get("id")?,
        area: row.try_get("area_code")?,
        file_name: row.try_get("file_name")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: row.try_get("uploaded_at")?,
        reports: usize::try_from(reports).unwrap_or_default(),
        state: BatchState::parse(&state)?,
        result: if with_result {
            row.try_get("result")?
        } else {
            None
        },
        problem: row.try_get("problem")?,
    })
}

impl Store {
    /// Records an uploaded archive of `reports` reports as a batch of `area` being audited;
    /// returns its id.
    pub async fn start_audit_batch(
        &self,
        area: &str,
        file_name: &str,
        uploaded_by: &str,
        reports: usize,
    ) -> Result<i64, StoreError> {
        let now = self.now_sql();
        let mut tx = self.db.write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO audit_batch (area_code, file_name, uploaded_by, uploaded_at, reports, state) \
             VALUES ($1, $2, $3, {now}, $4, 'running') RETURNING id"
        ))
        .bind(area)
        .bind(file_name)
        .bind(uploaded_by)
        .bind(i64::try_from(reports).unwrap_or(i64::MAX))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        tx.commit().await?;
        Ok(id)
    }

    /// Finishes a batch: with its table (JSON), or with why it failed.
    pub async fn finish_audit_batch(
        &self,
        id: i64,
        outcome: Result<&str, &str>,
    ) -> Result<(), StoreError> {
        let (state, result, problem) = match outcome {
            Ok(table) => (BatchState::Done, Some(table), None),
            Err(why) => (BatchState::Failed, None, Some(why)),
        };
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE audit_batch SET state = $1, result = $2, problem = $3 WHERE id = $4")
            .bind(state.code())
            .bind(result)
            .bind(problem)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The batches of an area, newest first, without their tables.
    pub async fn audit_batches(&self, area: &str) -> Result<Vec<AuditBatch>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, area_code, file_name, uploaded_by, uploaded_at, reports, state, problem \
             FROM audit_batch WHERE area_code = $1 ORDER BY id DESC",
        )
        .bind(area)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(|r| batch_of(r, false)).collect()
    }

    /// One batch with its table.
    pub async fn audit_batch(&self, id: i64) -> Result<Option<AuditBatch>, StoreError> {
        let row = sqlx::query(
            "SELECT id, area_code, file_name, uploaded_by, uploaded_at, reports, state, result, problem \
             FROM audit_batch WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| batch_of(&r, true)).transpose()
    }

    /// Records the grade a person confirmed for the report at `position` of a finished
    /// batch (replacing an earlier confirmation of it), with who and now.
    pub async fn confirm_audit_grade(
        &self,
        batch: i64,
        position: usize,
        grade: &str,
        note: &str,
        by: &str,
    ) -> Result<(), StoreError> {
        let now = self.now_sql();
        let mut tx = self.db.write().await?;
        let row = sqlx::query("SELECT state, reports FROM audit_batch WHERE id = $1")
            .bind(batch)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::Refused(format!(
                "没有编号为 {batch} 的批量审核"
            )));
        };
        let state: String = row.try_get(0)?;
        let reports: i64 = row.try_get(1)?;
        if BatchState::parse(&state)? != BatchState::Done {
            return Err(StoreError::Refused(
                "这批报告尚未审核完毕，不能确认等级".into(),
            ));
        }
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        if position >= reports {
            return Err(StoreError::Refused(format!(
                "这批报告只有 {reports} 份，没有第 {} 份",
                position.saturating_add(1)
            )));
        }
        sqlx::query(&format!(
            "INSERT INTO audit_grade (batch_id, position, grade, note, confirmed_by, confirmed_at) \
             VALUES ($1, $2, $3, $4, $5, {now}) ON CONFLICT (batch_id, position) DO UPDATE SET \
             grade = excluded.grade, note = excluded.note, confirmed_by = excluded.confirmed_by, \
             confirmed_at = excluded.confirmed_at"
        ))
        .bind(batch)
        .bind(position)
        .bind(grade)
        .bind(note)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The grades confirmed for a batch's reports, by position.
    pub async fn audit_grades(&self, batch: i64) -> Result<Vec<ConfirmedGrade>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, grade, note, confirmed_by, confirmed_at FROM audit_grade \
             WHERE batch_id = $1 ORDER BY position",
        )
        .bind(batch)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let position: i64 = r.try_get(0)?;
                Ok(ConfirmedGrade {
                    position: usize::try_from(position).unwrap_or_default(),
                    grade: r.try_get(1)?,
                    note: r.try_get(2)?,
                    by: r.try_get(3)?,
                    at: r.try_get(4)?,
                })
            })
            .collect()
    }
}
