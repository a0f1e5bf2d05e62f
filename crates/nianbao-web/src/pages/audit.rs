//! The bureau's batch audit: a bureau user uploads a zip of its schools' hand-written
//! reports (pdf, docx, txt), bounded as `nianbao audit-batch` bounds it; each report is
//! audited and, when its file or title names a school of the area that is in the store,
//! compared with that school's data ([`nianbao_audit::against::compare`]). The audit runs
//! off the request (reading and auditing on blocking threads) while the batch's page shows
//! how far it has got. The process running the audit keeps its progress in the store with a
//! heartbeat ([`nianbao_store::Store::keep_audit_progress`]), so the pages of every process
//! show 「进行中：已审 k / n 份」, and a batch whose heartbeat stopped more than
//! [`nianbao_store::AUDIT_SILENCE`] ago as 已中断, with when it was last heard of; the
//! finished table of schools × findings is kept in the store with
//! the pre-grade of each report, which a person confirms or changes (who and when kept).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_audit::batch::{self, Entry, MAX_ARCHIVE_BYTES, Progress, Rubric, Skipped};
use nianbao_audit::batch_sheet::{self, Confirmation, Line};
use nianbao_core::{Dataset, clock};
use nianbao_store::{AuditBatch, BatchState};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bureau::{Standing, can_see_area, standing};
use super::frame;
use crate::auth::Session;
use crate::{AppState, WebError};

/// The batches being audited by this process, with how far each has got.
#[derive(Default)]
pub struct Jobs {
    running: Mutex<HashMap<i64, Arc<Progress>>>,
}

impl Jobs {
    fn start(&self, id: i64, progress: Arc<Progress>) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(id, progress);
        }
    }

    fn progress(&self, id: i64) -> Option<Arc<Progress>> {
        self.running.lock().ok()?.get(&id).cloned()
    }

    fn end(&self, id: i64) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&id);
        }
    }
}

/// The body limit of the upload route: the largest archive and room for the form's fields.
pub const UPLOAD_LIMIT: usize = MAX_ARCHIVE_BYTES as usize + 64 * 1024;

/// Fails unless the user may read the area's batches.
async fn readable(state: &AppState, session: &Session, area: &str) -> Result<Standing, WebError> {
    let standing = standing(state, session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, area) {
        return Err(WebError::Forbidden);
    }
    Ok(standing)
}

/// Whether the user may upload and confirm for the area: a bureau of the area or above it.
fn may_act(standing: &Standing) -> bool {
    matches!(standing, Standing::Bureau(_))
}

/// The grades a person may confirm: the rubric's, best first, and its fallback.
fn grades(rubric: &Rubric) -> Vec<String> {
    let mut grades: Vec<String> = rubric.grades.iter().map(|g| g.grade.clone()).collect();
    if !grades.contains(&rubric.fallback) {
        grades.push(rubric.fallback.clone());
    }
    grades
}

/// `/areas/{area}/audit`: the area's batches and the upload form.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
) -> Result<Response, WebError> {
    let standing = readable(&state, &session, &area).await?;
    let tree = state.store().area_tree().await?;
    let info = tree.area(&area).ok_or(WebError::NotFound)?;
    let batches: Vec<Value> = state
        .store()
        .audit_batches(&area)
        .await?
        .into_iter()
        .map(|b| {
            json!({
                "id": b.id, "file": b.file_name, "by": b.uploaded_by,
                "at": clock::beijing_time(&b.uploaded_at), "reports": b.reports,
                "state": state_label(&state, &b),
            })
        })
        .collect();
    let mut context = frame(&session, None);
    context.insert(
        "area".into(),
        json!({ "code": info.code, "name": info.name }),
    );
    context.insert("batches".into(), Value::Array(batches));
    context.insert("can_act".into(), json!(may_act(&standing)));
    context.insert("max_mb".into(), json!(MAX_ARCHIVE_BYTES / (1024 * 1024)));
    Ok(state.render("audit.html", context)?.into_response())
}

/// How many of a running batch's reports are audited: as this process counts them when it
/// runs the batch, else as the store holds them.
fn audited(state: &AppState, batch: &AuditBatch) -> usize {
    use std::sync::atomic::Ordering::Relaxed;
    match state.audit_jobs().progress(batch.id) {
        Some(progress) => progress.audited.load(Relaxed),
        None => batch.audited,
    }
}

/// Whether a batch is being audited: by this process, or by one whose heartbeat is recent.
fn running(state: &AppState, batch: &AuditBatch) -> bool {
    batch.state == BatchState::Running
        && (state.audit_jobs().progress(batch.id).is_some() || batch.is_live())
}

/// A batch's state as the pages show it.
fn state_label(state: &AppState, batch: &AuditBatch) -> String {
    match batch.state {
        BatchState::Done => "已完成".into(),
        BatchState::Failed => "未能完成".into(),
        BatchState::Running if running(state, batch) => format!(
            "进行中：已审 {} / {} 份",
            audited(state, batch),
            batch.reports
        ),
        BatchState::Running => format!(
            "已中断（最后一次更新：{}，北京时间）",
            clock::beijing_time(batch.last_seen())
        ),
    }
}

/// The uploaded archive written to a temporary file as it arrives, refused as soon as it
/// passes the archive's limit; with its file name and the form's CSRF token.
struct Upload {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    name: String,
    csrf: String,
}

async fn receive(mut multipart: Multipart) -> Result<Upload, WebError> {
    let incomplete = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("上传的压缩包不完整：{e}"))
    };
    let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.to_string()))?;
    let path = dir.path().join("upload.zip");
    let (mut csrf, mut name, mut received) = (String::new(), None, false);
    while let Some(mut field) = multipart.next_field().await.map_err(incomplete)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(incomplete)?,
            Some("file") => {
                name = field.file_name().map(str::to_string);
                let mut file =
                    std::fs::File::create(&path).map_err(|e| WebError::Internal(e.to_string()))?;
                let mut size: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(incomplete)? {
                    size += chunk.len() as u64;
                    if size > MAX_ARCHIVE_BYTES {
                        return Err(WebError::BadRequest(
                            batch::BatchError::TooLarge {
                                size,
                                max: MAX_ARCHIVE_BYTES,
                            }
                            .to_string(),
                        ));
                    }
                    file.write_all(&chunk)
                        .map_err(|e| WebError::Internal(e.to_string()))?;
                }
                received = size > 0;
            }
            _ => {}
        }
    }
    if !received {
        return Err(WebError::BadRequest(
            "请选择一个 .zip 压缩包：内含各校的报告文件（.pdf、.docx、.txt）".into(),
        ));
    }
    Ok(Upload {
        _dir: dir,
        path,
        name: name.unwrap_or_else(|| "upload.zip".into()),
        csrf,
    })
}

/// `POST /areas/{area}/audit`: reads the uploaded archive (refused at once when it breaks a
/// bound or holds no report), records the batch, starts its audit and shows its page.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    // Who may upload is settled before the body is read.
    let standing = readable(&state, &session, &area).await?;
    if !may_act(&standing) {
        return Err(WebError::Forbidden);
    }
    let upload = receive(multipart).await?;
    session.check_csrf(&upload.csrf)?;
    let path = upload.path.clone();
    let (entries, skipped) = tokio::task::spawn_blocking(move || batch::read_archive_file(&path))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::BadRequest(format!("{}：{e}", upload.name)))?;
    drop(upload._dir);
    // The schools a report may be matched to: the area's schools that are in the store.
    let tree = state.store().area_tree().await?;
    let schools: Vec<(String, String)> = state
        .store()
        .schools()
        .await?
        .into_iter()
        .filter(|s| tree.contains_school(&area, &s.code))
        .map(|s| (s.code, s.name))
        .collect();
    let id = state
        .store()
        .start_audit_batch(&area, &upload.name, &session.user.name, entries.len())
        .await?;
    let progress = Arc::new(Progress::default());
    state.audit_jobs().start(id, progress.clone());
    let keeper = {
        use std::sync::atomic::Ordering::Relaxed;
        let progress = progress.clone();
        state
            .store()
            .keep_audit_progress(id, move || progress.audited.load(Relaxed))
    };
    let job = state.clone();
    tokio::spawn(async move {
        let outcome = audit(&job, entries, skipped, schools, progress).await;
        keeper.stop().await;
        let written = match &outcome {
            Ok(table) => job.store().finish_audit_batch(id, Ok(table)).await,
            Err(e) => {
                eprintln!("批量审核 {id} 未能完成：{e}");
                job.store()
                    .finish_audit_batch(id, Err(&e.to_string()))
                    .await
            }
        };
        if let Err(e) = written {
            eprintln!("批量审核 {id} 的结果未能保存：{e}");
        }
        job.audit_jobs().end(id);
    });
    Ok(Redirect::to(&format!("/areas/{area}/audit/{id}")).into_response())
}

/// Audits a batch: reads every report, loads the data of the schools they name, assesses
/// each; returns the table as kept in the store.
async fn audit(
    state: &AppState,
    entries: Vec<Entry>,
    skipped: Vec<Skipped>,
    schools: Vec<(String, String)>,
    progress: Arc<Progress>,
) -> Result<String, WebError> {
    let joined = |e: tokio::task::JoinError| WebError::Internal(e.to_string());
    let entries = Arc::new(entries);
    let schools = Arc::new(schools);
    let read = {
        let (entries, schools, progress) = (entries.clone(), schools.clone(), progress.clone());
        tokio::task::spawn_blocking(move || batch::read_all(&entries, &schools, &progress))
            .await
            .map_err(joined)?
    };
    let mut datasets: BTreeMap<String, Dataset> = BTreeMap::new();
    for code in read.schools() {
        let data = state
            .store()
            .load_dataset_with_registers(&code, state.definitions())
            .await?;
        datasets.insert(code, data);
    }
    let definitions = state.definitions().clone();
    let reports = tokio::task::spawn_blocking(move || {
        let rubric = Rubric::builtin().map_err(|e| WebError::Internal(e.to_string()))?;
        let reports = batch::assess_all(
            &entries,
            &read,
            &schools,
            &datasets,
            &rubric,
            &definitions,
            &progress,
        );
        Ok::<_, WebError>(reports.iter().map(Line::of).collect::<Vec<Line>>())
    })
    .await
    .map_err(joined)??;
    Ok(json!({ "reports": reports, "skipped": skipped }).to_string())
}

/// `/areas/{area}/audit/{id}`: how far the batch has got, or its table with the grades.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path((area, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let standing = readable(&state, &session, &area).await?;
    let batch = state
        .store()
        .audit_batch(id)
        .await?
        .filter(|b| b.area == area)
        .ok_or(WebError::NotFound)?;
    let tree = state.store().area_tree().await?;
    let info = tree.area(&area).ok_or(WebError::NotFound)?;
    let mut context = frame(&session, None);
    context.insert(
        "area".into(),
        json!({ "code": info.code, "name": info.name }),
    );
    context.insert(
        "batch".into(),
        json!({
            "id": batch.id, "file": batch.file_name, "by": batch.uploaded_by,
            "at": clock::beijing_time(&batch.uploaded_at), "reports": batch.reports,
            "state": state_label(&state, &batch), "problem": batch.problem,
            "interrupted": !running(&state, &batch) && batch.state == BatchState::Running,
            "last_seen": clock::beijing_time(batch.last_seen()),
        }),
    );
    if let Some(progress) = state.audit_jobs().progress(id) {
        use std::sync::atomic::Ordering::Relaxed;
        context.insert(
            "progress".into(),
            json!({
                "read": progress.read.load(Relaxed),
                "audited": progress.audited.load(Relaxed),
            }),
        );
    } else if running(&state, &batch) {
        // Audited by another process: what it last wrote to the store.
        context.insert(
            "progress".into(),
            json!({ "audited": batch.audited, "elsewhere": true }),
        );
    }
    if let Some(result) = &batch.result {
        let table: Value =
            serde_json::from_str(result).map_err(|e| WebError::Internal(e.to_string()))?;
        let confirmed: BTreeMap<usize, Value> = state
            .store()
            .audit_grades(id)
            .await?
            .into_iter()
            .map(|g| {
                let at = clock::beijing_time(&g.at);
                (
                    g.position,
                    json!({ "grade": g.grade, "note": g.note, "by": g.by, "at": at }),
                )
            })
            .collect();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let reports: Vec<Value> = table["reports"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                if let Some(grade) = r["assessment"]["grade"].as_str() {
                    *counts.entry(grade.to_string()).or_default() += 1;
                }
                r["position"] = json!(i);
                r["confirmed"] = confirmed.get(&i).cloned().unwrap_or(Value::Null);
                r
            })
            .collect();
        let rubric = Rubric::builtin().map_err(|e| WebError::Internal(e.to_string()))?;
        context.insert(
            "summary".into(),
            json!(
                counts
                    .iter()
                    .map(|(g, n)| format!("{g} {n} 份"))
                    .collect::<Vec<_>>()
                    .join("，")
            ),
        );
        context.insert("confirmed_count".into(), json!(confirmed.len()));
        context.insert("reports".into(), Value::Array(reports));
        context.insert("skipped".into(), table["skipped"].clone());
        context.insert("grades".into(), json!(grades(&rubric)));
    }
    context.insert("can_act".into(), json!(may_act(&standing)));
    Ok(state.render("audit_batch.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    position: usize,
    grade: String,
    #[serde(default)]
    note: String,
}

/// `POST /areas/{area}/audit/{id}/confirm`: a person confirms or changes one report's grade.
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    Path((area, id)): Path<(String, i64)>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let standing = readable(&state, &session, &area).await?;
    if !may_act(&standing) {
        return Err(WebError::Forbidden);
    }
    state
        .store()
        .audit_batch(id)
        .await?
        .filter(|b| b.area == area)
        .ok_or(WebError::NotFound)?;
    let rubric = Rubric::builtin().map_err(|e| WebError::Internal(e.to_string()))?;
    let allowed = grades(&rubric);
    if !allowed.contains(&form.grade) {
        return Err(WebError::BadRequest(format!(
            "等级「{}」不在审核规则中：应为 {} 之一",
            form.grade,
            allowed.join("、")
        )));
    }
    state
        .store()
        .confirm_audit_grade(
            id,
            form.position,
            &form.grade,
            form.note.trim(),
            &session.user.name,
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/areas/{area}/audit/{id}#report-{}",
        form.position
    ))
    .into_response())
}

/// What a finished batch keeps: its table and the files it left out.
#[derive(Deserialize)]
struct Kept {
    reports: Vec<Line>,
    #[serde(default)]
    skipped: Vec<Skipped>,
}

/// `/areas/{area}/audit/{id}/table.xlsx`: a finished batch's table of schools × findings as
/// an Excel workbook, with the grades confirmed so far (who, when, the note).
pub async fn table_xlsx(
    State(state): State<AppState>,
    session: Session,
    Path((area, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    readable(&state, &session, &area).await?;
    let batch = state
        .store()
        .audit_batch(id)
        .await?
        .filter(|b| b.area == area)
        .ok_or(WebError::NotFound)?;
    let Some(result) = &batch.result else {
        return Err(WebError::BadRequest(
            "这批报告尚未审核完成，完成后才能下载表格".into(),
        ));
    };
    let kept: Kept = serde_json::from_str(result).map_err(|e| WebError::Internal(e.to_string()))?;
    let mut confirmed: BTreeMap<usize, Confirmation> = state
        .store()
        .audit_grades(id)
        .await?
        .into_iter()
        .map(|g| {
            let at = clock::beijing_time(&g.at);
            (
                g.position,
                Confirmation {
                    grade: g.grade,
                    note: g.note,
                    by: g.by,
                    at,
                },
            )
        })
        .collect();
    let lines: Vec<(Line, Option<Confirmation>)> = kept
        .reports
        .into_iter()
        .enumerate()
        .map(|(i, line)| (line, confirmed.remove(&i)))
        .collect();
    let skipped = kept.skipped;
    let tree = state.store().area_tree().await?;
    let name = tree.area(&area).map_or(area.clone(), |a| a.name.clone());
    crate::download::made(
        &format!("{name}第{id}批报告审核.xlsx"),
        crate::download::XLSX,
        move || {
            batch_sheet::workbook(&lines, &skipped).map_err(|e| WebError::Internal(e.to_string()))
        },
    )
    .await
}
