//! The whole year in one Excel workbook: one sheet per data section (as the sections'
//! templates have them), limited to what the user may edit, downloaded from the dashboard and
//! uploaded back as one transaction.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nianbao_core::catalogue::Dimension;
use nianbao_core::{Dataset, Definitions};
use nianbao_store::User;
use nianbao_xlsx::{ScopeError, SectionScope, WorkbookScope, XlsxError};
use serde_json::json;

use super::sections::editable_majors;
use super::uploads::{self, Outcome};
use super::{data_sections, form_years, frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError, access};

/// The sections, majors and years of the user's workbook: every section with something the
/// user may edit; its school-level sheet only where the user may edit school-level facts.
fn scope<'a>(
    user: &User,
    definitions: &'a Definitions,
    data: &'a Dataset,
    owners: &std::collections::BTreeMap<String, String>,
) -> WorkbookScope<'a> {
    let sections = data_sections(definitions)
        .into_iter()
        .filter_map(|(section, elements)| {
            let owner = owners.get(&section.number).map(String::as_str);
            let school_level = elements.iter().any(|e| {
                e.dimension == Dimension::School && access::can_edit_fact(user, e, None, owner)
            });
            let majors = editable_majors(user, &elements, data);
            (school_level || !majors.is_empty()).then_some(SectionScope {
                section: section.number.as_str(),
                school_level,
                majors,
            })
        })
        .collect();
    WorkbookScope {
        years: form_years(data),
        sections,
    }
}

/// The file name: letters, digits and dashes of the school code, and the report year.
fn file_name(data: &Dataset) -> String {
    format!(
        "{}-{}年度数据填报工作簿.xlsx",
        data.school.name, data.school.report_year
    )
}

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let definitions = state.definitions();
    let owners = state.store().section_owners(&code).await?;
    let scope = scope(&session.user, definitions, &data, &owners);
    let bytes = match nianbao_xlsx::write_workbook(definitions, &data, &scope) {
        Ok(bytes) => bytes,
        Err(XlsxError::Scope(ScopeError::EmptyWorkbook)) => return Err(WebError::Forbidden),
        Err(e) => return Err(WebError::Internal(e.to_string())),
    };
    Ok(crate::download::attachment(
        &file_name(&data),
        crate::download::XLSX,
        bytes,
    ))
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let too_big = |_| {
        WebError::BadRequest(format!(
            "上传的文件过大或不完整：Excel 工作簿不应超过 {} MB",
            state.0.config.max_upload_bytes / (1024 * 1024)
        ))
    };
    let (mut csrf, mut file) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(too_big)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(too_big)?),
            Some("file") => file = Some(field.bytes().await.map_err(too_big)?),
            _ => {}
        }
    }
    session.check_csrf(csrf.as_deref().unwrap_or(""))?;
    let data = readable_school(&state, &session, &code).await?;
    let definitions = state.definitions();
    let owners = state.store().section_owners(&code).await?;
    let scope = scope(&session.user, definitions, &data, &owners);
    if scope.sections.is_empty() {
        return Err(WebError::Forbidden);
    }
    let file = file.ok_or_else(|| WebError::BadRequest("请选择要上传的 Excel 工作簿".into()))?;
    let limits = nianbao_xlsx::Limits {
        max_upload_bytes: state.0.config.max_upload_bytes,
        ..nianbao_xlsx::Limits::default()
    };
    let read = nianbao_xlsx::read_workbook(&file, definitions, &scope, &limits);
    let outcome = uploads::apply(&state, &session.user, &data, &owners, read).await?;
    let mut context = frame(&session, Some(&data));
    let status = match outcome {
        Outcome::Applied {
            changed,
            kept,
            with_base,
        } => {
            context.insert(
                "notice".into(),
                json!(format!(
                    "工作簿已导入，{}",
                    nianbao_xlsx::summary(changed, kept, with_base)
                )),
            );
            StatusCode::OK
        }
        Outcome::Refused {
            status,
            problem,
            cells,
        } => {
            context.insert("problem".into(), json!(problem));
            context.insert("cell_errors".into(), json!(cells));
            status
        }
    };
    Ok((status, state.render("workbook.html", context)?).into_response())
}
