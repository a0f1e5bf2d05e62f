//! The report: an HTML preview and the Word and PDF downloads, generated from the stored
//! data with the accepted warnings in its data notes.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use nianbao_core::{Dataset, Definitions, evaluate_indicators, run_checks};
use nianbao_report::{Content, Document, SchoolContent};

use super::readable_school;
use crate::auth::Session;
use crate::{AppState, WebError};

fn document(
    definitions: &Definitions,
    data: &Dataset,
    acceptances: &[nianbao_core::Acceptance],
) -> Result<Document, WebError> {
    let year = data.school.report_year;
    let findings = run_checks(definitions, data);
    let indicators = evaluate_indicators(definitions, data, year);
    let input = nianbao_report::ReportInput {
        definitions,
        data,
        year,
        findings: &findings,
        indicators: &indicators,
        acceptances,
    };
    let content = Content::load(&SchoolContent::Builtin, &data.school.code)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    nianbao_report::build_document(&input, &content).map_err(|e| WebError::Internal(e.to_string()))
}

/// Builds the report off the async workers (PDF layout takes a moment) and renders it.
async fn generate<T: Send + 'static>(
    state: &AppState,
    session: &Session,
    code: &str,
    render: fn(&Document) -> Result<T, WebError>,
) -> Result<(Dataset, T), WebError> {
    let data = readable_school(state, session, code).await?;
    let acceptances = state.store().acceptances(code).await?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let doc = document(state.definitions(), &data, &acceptances)?;
        let out = render(&doc)?;
        Ok((data, out))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
}

fn attachment(data: &Dataset, extension: &str, mime: &'static str, bytes: Vec<u8>) -> Response {
    let file = format!(
        "{}-{}.{extension}",
        data.school.code, data.school.report_year
    );
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn preview(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (_, html) = generate(&state, &session, &code, |doc| {
        Ok(nianbao_report::html::render(doc))
    })
    .await?;
    Ok(Html(html).into_response())
}

pub async fn docx(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (data, bytes) = generate(&state, &session, &code, |doc| {
        nianbao_report::docx::render(doc).map_err(|e| WebError::Internal(e.to_string()))
    })
    .await?;
    Ok(attachment(
        &data,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        bytes,
    ))
}

pub async fn pdf(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (data, bytes) = generate(
        &state,
        &session,
        &code,
        |doc| match nianbao_report::pdf::render(doc) {
            Ok((pdf, _pages)) => Ok(pdf),
            Err(e @ nianbao_report::ReportError::FontMissing { .. }) => {
                Err(WebError::BadRequest(format!("服务器无法生成 PDF：{e}")))
            }
            Err(e) => Err(WebError::Internal(e.to_string())),
        },
    )
    .await?;
    Ok(attachment(&data, "pdf", "application/pdf", bytes))
}
