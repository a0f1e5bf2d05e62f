//! The report: an HTML preview and the Word and PDF downloads of the draft (marked 草稿 on
//! every page), generated from the stored data and texts; the page that lists what keeps
//! the draft from being final, with the quality office's 定稿 button; and the stored finals,
//! rendered again from their snapshots.

use axum::extract::{Form, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use nianbao_authoring::{Authoring, AuthoringError};
use nianbao_core::clock::beijing_time;
use nianbao_report::Document;
use serde::Deserialize;
use serde_json::{Value, json};

use super::writing::refused;
use super::{frame, readable_school, school_results};
use crate::auth::Session;
use crate::{AppState, WebError, access};

/// How a document is turned into a file.
type Render = fn(&Document) -> Result<Vec<u8>, WebError>;

fn html(doc: &Document) -> Result<Vec<u8>, WebError> {
    Ok(nianbao_report::html::render(doc).into_bytes())
}

fn docx(doc: &Document) -> Result<Vec<u8>, WebError> {
    nianbao_report::docx::render(doc).map_err(|e| WebError::Internal(e.to_string()))
}

/// The document as PDF; a server without the CJK fonts says so (a bad request, not a fault).
pub(crate) fn pdf(doc: &Document) -> Result<Vec<u8>, WebError> {
    match nianbao_report::pdf::render(doc) {
        Ok((pdf, _pages)) => Ok(pdf),
        Err(e @ nianbao_report::ReportError::FontMissing { .. }) => {
            Err(WebError::BadRequest(format!("服务器无法生成 PDF：{e}")))
        }
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}

/// Renders off the async workers (PDF layout takes a moment).
async fn render_blocking(document: Document, render: Render) -> Result<Vec<u8>, WebError> {
    tokio::task::spawn_blocking(move || render(&document))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}

/// The draft of a school's report for its report year.
async fn draft_document(
    state: &AppState,
    session: &Session,
    code: &str,
) -> Result<(nianbao_core::Dataset, Document), WebError> {
    let computed = school_results(state, session, code).await?;
    let draft = Authoring::new(state.store(), state.definitions())
        .draft_of(
            code,
            computed.year(),
            &computed.data,
            computed.findings.clone(),
            computed.indicators.clone(),
            None,
        )
        .await
        .map_err(refused)?;
    Ok((computed.data.clone(), draft.generated.document))
}

fn attachment(name: &str, extension: &str, mime: &'static str, bytes: Vec<u8>) -> Response {
    crate::download::attachment(&format!("{name}.{extension}"), mime, bytes)
}

fn file_stem(data: &nianbao_core::Dataset, suffix: &str) -> String {
    format!(
        "{}-{}年度质量报告{suffix}",
        data.school.name, data.school.report_year
    )
}

pub async fn preview(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (_, document) = draft_document(&state, &session, &code).await?;
    let bytes = render_blocking(document, html).await?;
    Ok(Html(String::from_utf8_lossy(&bytes).into_owned()).into_response())
}

pub async fn docx_file(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (data, document) = draft_document(&state, &session, &code).await?;
    let bytes = render_blocking(document, docx).await?;
    Ok(attachment(
        &file_stem(&data, "（草稿）"),
        "docx",
        crate::download::DOCX,
        bytes,
    ))
}

pub async fn pdf_file(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (data, document) = draft_document(&state, &session, &code).await?;
    let bytes = render_blocking(document, pdf).await?;
    Ok(attachment(
        &file_stem(&data, "（草稿）"),
        "pdf",
        crate::download::PDF,
        bytes,
    ))
}

/// `/schools/{code}/report/final`: what keeps the draft from being final, the 定稿 button,
/// and the finals made so far.
pub async fn final_page(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let computed = school_results(&state, &session, &code).await?;
    let data = &computed.data;
    let draft = Authoring::new(state.store(), state.definitions())
        .draft_of(
            &code,
            computed.year(),
            data,
            computed.findings.clone(),
            computed.indicators.clone(),
            None,
        )
        .await
        .map_err(refused)?;
    let blockers: Vec<Value> = draft
        .blockers
        .iter()
        .map(|b| json!({"kind": b.kind_label(), "text": b.to_string()}))
        .collect();
    let snapshots: Vec<Value> = state
        .store()
        .snapshots(&code)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "year": s.year.to_string(),
                "at": beijing_time(&s.created_at),
                "actor": s.actor,
                "hash": s.hash,
            })
        })
        .collect();
    let mut context = frame(&session, Some(data));
    context.insert("blockers".into(), Value::Array(blockers));
    context.insert("snapshots".into(), Value::Array(snapshots));
    context.insert(
        "can_finalize".into(),
        json!(access::can_finalize(&session.user)),
    );
    Ok(state.render("final.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct FinalForm {
    csrf: String,
}

pub async fn make_final(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<FinalForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !access::can_finalize(&session.user) {
        return Err(WebError::Forbidden);
    }
    let now = nianbao_core::clock::stored_time(time::OffsetDateTime::now_utc());
    let made = Authoring::new(state.store(), state.definitions())
        .make_final(&code, data.school.report_year, &session.user.name, &now)
        .await;
    match made {
        Ok(made) => Ok(
            Redirect::to(&format!("/schools/{code}/snapshots/{}", made.snapshot.id))
                .into_response(),
        ),
        Err(AuthoringError::NotReady(_)) => {
            Ok(Redirect::to(&format!("/schools/{code}/report/final")).into_response())
        }
        Err(other) => Err(refused(other)),
    }
}

/// A stored final of the school: its number, hash and downloads.
pub async fn snapshot(
    State(state): State<AppState>,
    session: Session,
    Path((code, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let entry = state
        .store()
        .snapshots(&code)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(WebError::NotFound)?;
    let mut context = frame(&session, Some(&data));
    context.insert(
        "snapshot".into(),
        json!({
            "id": entry.id,
            "year": entry.year.to_string(),
            "at": beijing_time(&entry.created_at),
            "actor": entry.actor,
            "hash": entry.hash,
        }),
    );
    Ok(state.render("snapshot.html", context)?.into_response())
}

/// A stored final rendered again from its snapshot, as HTML, DOCX or PDF.
pub async fn snapshot_file(
    State(state): State<AppState>,
    session: Session,
    Path((code, id, file)): Path<(String, i64, String)>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    // The snapshot must belong to this school: a user cannot reach another school's final.
    if !state
        .store()
        .snapshots(&code)
        .await?
        .iter()
        .any(|s| s.id == id)
    {
        return Err(WebError::NotFound);
    }
    let (_, document) = Authoring::new(state.store(), state.definitions())
        .snapshot_document(id)
        .await
        .map_err(refused)?;
    let stem = file_stem(&data, &format!("（定稿第{id}号）"));
    match file.as_str() {
        "report.html" => {
            let bytes = render_blocking(document, html).await?;
            Ok(Html(String::from_utf8_lossy(&bytes).into_owned()).into_response())
        }
        "report.docx" => Ok(attachment(
            &stem,
            "docx",
            crate::download::DOCX,
            render_blocking(document, docx).await?,
        )),
        "report.pdf" => Ok(attachment(
            &stem,
            "pdf",
            crate::download::PDF,
            render_blocking(document, pdf).await?,
        )),
        _ => Err(WebError::NotFound),
    }
}
