//! A bureau's batch audits of hand-written school reports: each uploaded archive is a batch
//! of an area, started when uploaded and finished with its table of schools × findings
//! (kept as the JSON the page shows) or with why it failed; a person confirms or changes
//! each report's pre-grade, and who did so and when is kept with the grade.
//!
//! While a batch runs, the process auditing it keeps its progress in the store (how many
//! reports are done, and a heartbeat: when it last wrote), so that every process can show how
//! far it has got, and a batch whose heartbeat has stopped is known to have been cut off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::Row;

use crate::{Store, StoreError};

/// How often, at least, the process auditing a batch writes its heartbeat, even when no
/// report was finished since the last.
pub const AUDIT_HEARTBEAT: Duration = Duration::from_secs(5);

/// A batch still running whose heartbeat is older than this was cut off (its process stopped
/// or was restarted): twelve heartbeats missed.
pub const AUDIT_SILENCE: Duration = Duration::from_secs(60);

/// How often the progress keeper looks whether another report is done.
const PROGRESS_POLL: Duration = Duration::from_millis(250);

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
    /// How many of its reports are audited, as the process auditing it last wrote (all of
    /// them once done).
    pub audited: usize,
    /// When the process auditing it last wrote (UTC as stored); `None` for a batch of an
    /// earlier release.
    pub heartbeat_at: Option<String>,
    /// Seconds from its last sign of life ([`AuditBatch::last_seen`]) to when it was read,
    /// by the database's clock (the one that wrote the heartbeat).
    pub silent_for: i64,
}

impl AuditBatch {
    /// Its last sign of life (UTC as stored): the heartbeat, or the upload when it has none.
    pub fn last_seen(&self) -> &str {
        self.heartbeat_at.as_deref().unwrap_or(&self.uploaded_at)
    }

    /// Whether a process is auditing it still: running, with a heartbeat no older than
    /// [`AUDIT_SILENCE`] when it was read.
    pub fn is_live(&self) -> bool {
        self.state == BatchState::Running
            && u64::try_from(self.silent_for).unwrap_or(0) <= AUDIT_SILENCE.as_secs()
    }

    /// Whether it was cut off: still running in the store, with no heartbeat for longer than
    /// [`AUDIT_SILENCE`].
    pub fn is_interrupted(&self) -> bool {
        self.state == BatchState::Running && !self.is_live()
    }
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

/// The columns of a batch as [`batch_of`] reads them, without its table; `now` is the
/// database's time expression.
fn batch_columns(now: &str) -> String {
    format!(
        "id, area_code, file_name, uploaded_by, uploaded_at, reports, state, problem, audited, \
         heartbeat_at, {now} AS read_at"
    )
}

fn batch_of(row: &sqlx::any::AnyRow, with_result: bool) -> Result<AuditBatch, StoreError> {
    let state: String = row.try_get("state")?;
    let reports: i64 = row.try_get("reports")?;
    let audited: i64 = row.try_get("audited")?;
    let uploaded_at: String = row.try_get("uploaded_at")?;
    let heartbeat_at: Option<String> = row.try_get("heartbeat_at")?;
    let read_at: String = row.try_get("read_at")?;
    // A time that cannot be read counts as long ago: the batch shows as cut off.
    let silent_for = nianbao_core::clock::seconds_between(
        heartbeat_at.as_deref().unwrap_or(&uploaded_at),
        &read_at,
    )
    .unwrap_or(i64::MAX);
    Ok(AuditBatch {
        id: row.try_get("id")?,
        area: row.try_get("area_code")?,
        file_name: row.try_get("file_name")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at,
        reports: usize::try_from(reports).unwrap_or_default(),
        state: BatchState::parse(&state)?,
        result: if with_result {
            row.try_get("result")?
        } else {
            None
        },
        problem: row.try_get("problem")?,
        audited: usize::try_from(audited).unwrap_or_default(),
        heartbeat_at,
        silent_for,
    })
}

impl Store {
    /// Records an uploaded archive of `reports` reports as a batch of `area` being audited,
    /// none of them done and its heartbeat now; returns its id.
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
            "INSERT INTO audit_batch (area_code, file_name, uploaded_by, uploaded_at, reports, state, \
             audited, heartbeat_at) VALUES ($1, $2, $3, {now}, $4, 'running', 0, {now}) RETURNING id"
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

    /// Finishes a batch: with its table (JSON), every report then counted as audited, or
    /// with why it failed; its heartbeat is now.
    pub async fn finish_audit_batch(
        &self,
        id: i64,
        outcome: Result<&str, &str>,
    ) -> Result<(), StoreError> {
        let (state, result, problem) = match outcome {
            Ok(table) => (BatchState::Done, Some(table), None),
            Err(why) => (BatchState::Failed, None, Some(why)),
        };
        let now = self.now_sql();
        let audited = if state == BatchState::Done {
            "reports"
        } else {
            "audited"
        };
        let mut tx = self.db.write().await?;
        sqlx::query(&format!(
            "UPDATE audit_batch SET state = $1, result = $2, problem = $3, \
             audited = {audited}, heartbeat_at = {now} WHERE id = $4"
        ))
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
        let rows = sqlx::query(&format!(
            "SELECT {} FROM audit_batch WHERE area_code = $1 ORDER BY id DESC",
            batch_columns(self.now_sql())
        ))
        .bind(area)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(|r| batch_of(r, false)).collect()
    }

    /// One batch with its table.
    pub async fn audit_batch(&self, id: i64) -> Result<Option<AuditBatch>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {}, result FROM audit_batch WHERE id = $1",
            batch_columns(self.now_sql())
        ))
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| batch_of(&r, true)).transpose()
    }

    /// Records how many reports of a running batch are audited, with its heartbeat now (a
    /// finished batch is left as it is).
    pub async fn record_audit_progress(&self, id: i64, audited: usize) -> Result<(), StoreError> {
        let now = self.now_sql();
        let mut tx = self.db.write().await?;
        sqlx::query(&format!(
            "UPDATE audit_batch SET audited = $1, heartbeat_at = {now} \
             WHERE id = $2 AND state = 'running'"
        ))
        .bind(i64::try_from(audited).unwrap_or(i64::MAX))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps a running batch's progress in the store until the keeper is stopped or dropped:
    /// `audited` (how many reports are done) is written as soon as it changes (looked at four
    /// times a second) and at least every [`AUDIT_HEARTBEAT`], each time with the heartbeat.
    /// A write that fails is reported on stderr and tried again at the next turn.
    pub fn keep_audit_progress(
        &self,
        id: i64,
        audited: impl Fn() -> usize + Send + 'static,
    ) -> ProgressKeeper {
        let stop = Arc::new(StopSignal::default());
        let store = self.clone();
        let signal = stop.clone();
        let task = tokio::spawn(async move {
            let mut written: Option<(usize, Instant)> = None;
            while !signal.wait(PROGRESS_POLL).await {
                let done = audited();
                let due = match written {
                    Some((n, at)) => n != done || at.elapsed() >= AUDIT_HEARTBEAT,
                    None => true,
                };
                if !due {
                    continue;
                }
                match store.record_audit_progress(id, done).await {
                    Ok(()) => written = Some((done, Instant::now())),
                    Err(e) => eprintln!("批量审核 {id} 的进度未能保存：{e}"),
                }
            }
        });
        ProgressKeeper {
            stop,
            task: Some(task),
        }
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

/// A stop asked of a progress keeper, and the wake-up that goes with it.
#[derive(Default)]
struct StopSignal {
    stopped: AtomicBool,
    wake: tokio::sync::Notify,
}

impl StopSignal {
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits up to `turn` for a stop; whether one was asked.
    async fn wait(&self, turn: Duration) -> bool {
        if self.stopped.load(Ordering::SeqCst) {
            return true;
        }
        let _ = tokio::time::timeout(turn, self.wake.notified()).await;
        self.stopped.load(Ordering::SeqCst)
    }
}

/// Writes a running batch's progress and heartbeat to the store
/// ([`Store::keep_audit_progress`]) until it is stopped or dropped.
pub struct ProgressKeeper {
    stop: Arc<StopSignal>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ProgressKeeper {
    /// Stops writing, and waits for a write under way to end: none follows.
    pub async fn stop(mut self) {
        self.stop.stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ProgressKeeper {
    /// A keeper dropped without being stopped (its audit ended by a panic, say) stops too, so
    /// that the batch's heartbeat ends with it and the batch shows as cut off.
    fn drop(&mut self) {
        self.stop.stop();
    }
}
