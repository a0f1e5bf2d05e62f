//! The psychological archive's pages. Everyone who reads the school sees the same counts
//! the report uses, small ones withheld. Only a counsellor of the school opens the archive
//! itself: the list, one student's archive (一人一档), imports, exports, the access log and
//! the deletion of archives past their retention — each opening naming a reason, each
//! logged by the store. The archive's key is the server's (`nianbao serve
//! --psych-key-file`, or `NIANBAO_PSYCH_KEY`); without it the archive stays closed.

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::clock::beijing_time;
use nianbao_core::number::grouped;
use nianbao_core::{Dataset, Role};
use nianbao_store::{PsychAccess, StoreError};
use nianbao_systems::psych::{ArchiveEvent, PsychKind, Sealer};
use nianbao_systems::{Day, Mode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::registers::{download, read_upload, refusal, upload_table};
use super::{frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError};

/// Lets only a counsellor of the school through; 403 for everyone else.
async fn counsellor(state: &AppState, session: &Session, code: &str) -> Result<Dataset, WebError> {
    if session.user.role != Role::Counsellor {
        return Err(WebError::Forbidden);
    }
    readable_school(state, session, code).await
}

/// The server's sealer for the school, or a page saying the key is missing.
fn sealer(state: &AppState, code: &str) -> Result<Sealer, WebError> {
    match state.psych_key() {
        Some(key) => Ok(Sealer::new(key, code)),
        None => Err(WebError::BadRequest(
            "服务器未配置心理档案密钥（nianbao serve --psych-key-file 或环境变量 NIANBAO_PSYCH_KEY），心理档案无法打开".into(),
        )),
    }
}

/// A store error of the archive as a page: refusals are the user's to fix.
fn refused(error: StoreError) -> WebError {
    match error {
        StoreError::NotCounsellor => WebError::Forbidden,
        StoreError::ReasonRequired(_) | StoreError::WrongKey => {
            WebError::BadRequest(error.to_string())
        }
        other => WebError::Store(other),
    }
}

fn reasons(state: &AppState) -> Result<Value, WebError> {
    Ok(json!(state.vocabulary()?.psych.access_reasons))
}

fn kinds() -> Value {
    json!(
        PsychKind::ALL
            .iter()
            .map(|k| json!({"code": k.code(), "label": k.label()}))
            .collect::<Vec<_>>()
    )
}

#[derive(Deserialize, Default)]
pub struct Notice {
    imported: Option<String>,
    purged: Option<usize>,
}

/// `/schools/{code}/psych`: the counts (for everyone who reads the school) and, for the
/// counsellor, the ways into the archive.
pub async fn summary(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    summary_page(&state, &session, &data, &notice, None).await
}

async fn summary_page(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    notice: &Notice,
    problem: Option<(String, Vec<String>)>,
) -> Result<Response, WebError> {
    let definitions = state.definitions();
    let vocabulary = state.vocabulary()?;
    let years = nianbao_report::table_years(data, data.school.report_year);
    let rows: Vec<Value> = definitions
        .elements
        .iter()
        .filter(|e| e.register.as_deref() == Some("psych"))
        .map(|e| {
            json!({
                "name": e.name.trim_end_matches("（心理档案）"),
                "unit": e.unit,
                "values": years.iter().map(|y| data.value(*y, &e.code).map(|v| grouped(v, 0))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut context = frame(session, Some(data));
    context.insert(
        "years".into(),
        json!(years.iter().map(|y| y.get()).collect::<Vec<_>>()),
    );
    context.insert("rows".into(), json!(rows));
    context.insert("min_cell".into(), json!(vocabulary.psych.min_cell));
    context.insert("retention".into(), json!(vocabulary.psych.retention_years));
    let is_counsellor = session.user.role == Role::Counsellor;
    context.insert("counsellor".into(), json!(is_counsellor));
    if is_counsellor {
        context.insert("key_ready".into(), json!(state.psych_key().is_some()));
        context.insert("reasons".into(), reasons(state)?);
        context.insert("kinds".into(), kinds());
        context.insert(
            "due".into(),
            json!(
                state
                    .store()
                    .psych_due_for_deletion(&data.school.code, Day::today())
                    .await?
            ),
        );
    }
    if let Some(imported) = &notice.imported {
        context.insert("notice".into(), json!(format!("已导入：{imported}")));
    }
    if let Some(purged) = notice.purged {
        context.insert(
            "notice".into(),
            json!(format!(
                "已删除保存期满的档案 {purged} 份，各年度汇总人数保留"
            )),
        );
    }
    let status = match problem {
        Some((message, rows)) => {
            context.insert("problem".into(), json!(message));
            context.insert("problem_rows".into(), json!(rows));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    };
    Ok((status, state.render("psych.html", context)?).into_response())
}

#[derive(Deserialize, Default)]
pub struct ReasonQuery {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    detail: String,
}

impl ReasonQuery {
    fn text(&self) -> String {
        match (self.reason.trim(), self.detail.trim()) {
            (reason, "") => reason.to_string(),
            (reason, detail) => format!("{reason}：{detail}"),
        }
    }
}

fn reason_form(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    action: &str,
    title: &str,
) -> Result<Response, WebError> {
    let mut context: Map<String, Value> = frame(session, Some(data));
    context.insert("reasons".into(), reasons(state)?);
    context.insert("action".into(), json!(action));
    context.insert("title".into(), json!(title));
    Ok(state.render("psych_reason.html", context)?.into_response())
}

/// `/schools/{code}/psych/archives?reason=…`: the counsellor's list of archives.
pub async fn archives(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<ReasonQuery>,
) -> Result<Response, WebError> {
    let data = counsellor(&state, &session, &code).await?;
    if query.reason.trim().is_empty() {
        return reason_form(
            &state,
            &session,
            &data,
            &format!("/schools/{code}/psych/archives"),
            "查看心理档案列表",
        );
    }
    let reason = query.text();
    let access = PsychAccess {
        user: &session.user,
        reason: &reason,
    };
    let entries = state
        .store()
        .psych_archives(&code, &sealer(&state, &code)?, &access, state.vocabulary()?)
        .await
        .map_err(refused)?;
    let mut context = frame(&session, Some(&data));
    context.insert(
        "archives".into(),
        json!(
            entries
                .iter()
                .map(|a| json!({
                    "id": a.id,
                    "student_no": a.identity.student_no,
                    "name": a.identity.name,
                    "class": a.identity.class,
                    "records": a.records,
                    "last_day": a.last_day.map(|d| d.to_string()),
                    "risk": a.latest_risk,
                    "retain_until": a.retain_until.to_string(),
                }))
                .collect::<Vec<_>>()
        ),
    );
    context.insert("reason".into(), json!(query.reason.trim()));
    context.insert("detail".into(), json!(query.detail.trim()));
    Ok(state
        .render("psych_archives.html", context)?
        .into_response())
}

fn event_json(event: &ArchiveEvent) -> Value {
    let note = |n: &Option<String>| n.clone().unwrap_or_default();
    match event {
        ArchiveEvent::Screening(s) => json!({
            "day": s.day.to_string(), "kind": "心理筛查",
            "what": format!("{}，得分 {}，{}", s.instrument, nianbao_core::number::plain(s.score), s.risk),
            "note": note(&s.note), "record_no": s.record_no,
        }),
        ArchiveEvent::Session(s) => json!({
            "day": s.day.to_string(), "kind": s.form,
            "what": format!("{}{}{}",
                s.topic.clone().unwrap_or_default(),
                s.minutes.map(|m| format!("（{m} 分钟）")).unwrap_or_default(),
                s.counsellor.as_ref().map(|c| format!("，{c}")).unwrap_or_default()),
            "note": note(&s.note), "record_no": s.record_no,
        }),
        ArchiveEvent::FollowUp(f) => json!({
            "day": f.day.to_string(), "kind": "跟进回访",
            "what": format!("{}{}", f.method, f.next.map(|d| format!("，下次 {d}")).unwrap_or_default()),
            "note": note(&f.note), "record_no": f.record_no,
        }),
    }
}

/// `/schools/{code}/psych/archives/{id}?reason=…`: one student's archive.
pub async fn archive(
    State(state): State<AppState>,
    session: Session,
    Path((code, id)): Path<(String, i64)>,
    Query(query): Query<ReasonQuery>,
) -> Result<Response, WebError> {
    let data = counsellor(&state, &session, &code).await?;
    if query.reason.trim().is_empty() {
        return reason_form(
            &state,
            &session,
            &data,
            &format!("/schools/{code}/psych/archives/{id}"),
            "查看学生心理档案",
        );
    }
    let reason = query.text();
    let access = PsychAccess {
        user: &session.user,
        reason: &reason,
    };
    let Some((archive, retain)) = state
        .store()
        .psych_archive(
            &code,
            id,
            &sealer(&state, &code)?,
            &access,
            state.vocabulary()?,
        )
        .await
        .map_err(refused)?
    else {
        return Err(WebError::NotFound);
    };
    let mut context = frame(&session, Some(&data));
    context.insert(
        "who".into(),
        json!({
            "name": archive.identity.name,
            "student_no": archive.identity.student_no,
            "class": archive.identity.class,
            "retain_until": retain.to_string(),
        }),
    );
    context.insert(
        "events".into(),
        json!(archive.events.iter().map(event_json).collect::<Vec<_>>()),
    );
    context.insert("reason".into(), json!(query.reason.trim()));
    context.insert("detail".into(), json!(query.detail.trim()));
    Ok(state.render("psych_archive.html", context)?.into_response())
}

/// `POST /schools/{code}/psych/import`: a list of screenings, sessions or follow-ups.
pub async fn import(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let upload = read_upload(&state, multipart).await?;
    session.check_csrf(&upload.csrf)?;
    let data = counsellor(&state, &session, &code).await?;
    let vocabulary = state.vocabulary()?;
    let kind = PsychKind::from_code(&upload.kind)
        .ok_or_else(|| WebError::BadRequest(format!("「{}」不是心理档案的表", upload.kind)))?;
    let sealer = sealer(&state, &code)?;
    let rows = match upload_table(&state, &upload, kind.label(), kind.columns())
        .and_then(|t| nianbao_systems::psych::records::read(kind, &t, &vocabulary.psych))
    {
        Ok(rows) => rows,
        Err(errors) => {
            return summary_page(
                &state,
                &session,
                &data,
                &Notice::default(),
                Some(refusal(&errors)),
            )
            .await;
        }
    };
    let access = PsychAccess {
        user: &session.user,
        reason: &upload.reason,
    };
    let mode = if upload.replace {
        Mode::Replace
    } else {
        Mode::Upsert
    };
    match state
        .store()
        .import_psych(&code, kind, rows, mode, &sealer, &access, vocabulary)
        .await
    {
        Ok(summary) => {
            let text: String = format!("{}：{summary}", kind.label())
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            Ok(Redirect::to(&format!("/schools/{code}/psych?imported={text}")).into_response())
        }
        Err(StoreError::Import(errors)) => {
            summary_page(
                &state,
                &session,
                &data,
                &Notice::default(),
                Some(refusal(&errors)),
            )
            .await
        }
        Err(e) => Err(refused(e)),
    }
}

#[derive(Deserialize)]
pub struct ExportForm {
    csrf: String,
    kind: String,
    reason: String,
    #[serde(default)]
    detail: String,
}

/// `POST /schools/{code}/psych/export`: one list with names, as Excel; logged.
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<ExportForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = counsellor(&state, &session, &code).await?;
    let kind = PsychKind::from_code(&form.kind)
        .ok_or_else(|| WebError::BadRequest(format!("「{}」不是心理档案的表", form.kind)))?;
    let reason = ReasonQuery {
        reason: form.reason,
        detail: form.detail,
    }
    .text();
    let access = PsychAccess {
        user: &session.user,
        reason: &reason,
    };
    let sheet = state
        .store()
        .export_psych(
            &code,
            kind,
            &sealer(&state, &code)?,
            &access,
            state.vocabulary()?,
        )
        .await
        .map_err(refused)?;
    download(&data.school.name, &sheet)
}

/// `/schools/{code}/psych/access`: the access log.
pub async fn access_log(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let data = counsellor(&state, &session, &code).await?;
    let entries = state
        .store()
        .psych_access_log(&code, &session.user, 500)
        .await
        .map_err(refused)?;
    let mut context = frame(&session, Some(&data));
    context.insert(
        "entries".into(),
        json!(
            entries
                .iter()
                .map(|e| json!({
                    "at": beijing_time(&e.at), "actor": e.actor, "action": e.action,
                    "subject": e.subject, "reason": e.reason,
                }))
                .collect::<Vec<_>>()
        ),
    );
    Ok(state.render("psych_access.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /schools/{code}/psych/purge`: deletes the archives past their retention.
pub async fn purge(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    counsellor(&state, &session, &code).await?;
    let gone = state
        .store()
        .purge_psych(&code, Day::today(), &session.user)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!("/schools/{code}/psych?purged={gone}")).into_response())
}
