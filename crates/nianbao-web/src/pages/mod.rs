//! The pages of the app, one module per area. This module holds what they share: the
//! school a request is about (after the access check), the page frame's context and the
//! dataset sections that have data to enter.

pub mod admin;
pub mod audit;
pub mod bureau;
pub mod cases;
pub mod dashboard;
pub mod findings;
pub mod history;
pub mod points;
pub mod psych;
pub mod registers;
pub mod report;
pub mod sections;
pub mod setup;
mod uploads;
pub mod workbook;
pub mod writing;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::catalogue::Element;
use nianbao_core::definitions::Section;
use nianbao_core::{Dataset, Definitions, Year};
use serde_json::{Map, Value, json};

use crate::access;
use crate::auth::Session;
use crate::results::Computed;
use crate::{AppState, WebError};

/// Fails with 403 unless the user may read the school: before the store is asked about the
/// school, so a user cannot learn which other schools exist.
pub(crate) async fn check_readable(
    state: &AppState,
    session: &Session,
    code: &str,
) -> Result<(), WebError> {
    if !access::can_read_school(&session.user, code) {
        return Err(WebError::Forbidden);
    }
    // A bureau's user (bound to an area) reads only the schools of its area.
    if session.user.school_code.is_none()
        && let Some(area) = state.store().user_area(session.user.id).await?
        && !state
            .store()
            .area_tree()
            .await?
            .contains_school(&area, code)
    {
        return Err(WebError::Forbidden);
    }
    Ok(())
}

/// A school's dataset (with its registers' figures), findings and indicators, if the user
/// may read it: from the results kept for the school's current revision, computed when the
/// school has changed.
pub(crate) async fn school_results(
    state: &AppState,
    session: &Session,
    code: &str,
) -> Result<Arc<Computed>, WebError> {
    check_readable(state, session, code).await?;
    state
        .results()
        .get(state.store(), state.definitions(), code)
        .await
}

/// Loads a school's dataset, with its registers' figures, if the user may read it (a copy
/// of the one kept for the school's current revision).
pub(crate) async fn readable_school(
    state: &AppState,
    session: &Session,
    code: &str,
) -> Result<Dataset, WebError> {
    Ok(school_results(state, session, code).await?.data.clone())
}

/// The context every page's frame (base.html) needs.
pub(crate) fn frame(session: &Session, data: Option<&Dataset>) -> Map<String, Value> {
    let user = &session.user;
    let mut context = Map::new();
    // A bureau user is named by its bureau and what it does there, not by the reviewer role
    // it holds: 「南宁区教育局 · 审核」.
    let role = match &session.area {
        Some(area) => format!("{} · {}", area.bureau_name(), area.level.duty()),
        None => user.role.label().to_string(),
    };
    context.insert(
        "user".into(),
        json!({ "name": user.name, "role": role, "department": user.department }),
    );
    context.insert("csrf".into(), json!(session.csrf));
    context.insert(
        "can_manage_users".into(),
        json!(access::can_manage_users(user)),
    );
    context.insert("can_approve".into(), json!(access::can_approve(user)));
    context.insert("points_only".into(), json!(user.role.points_only()));
    if let Some(data) = data {
        context.insert(
            "school".into(),
            json!({
                "code": data.school.code,
                "name": data.school.name,
                "report_year": data.school.report_year.to_string(),
            }),
        );
    }
    context
}

/// The sections with elements to enter, in outline order, with their elements.
pub(crate) fn data_sections(definitions: &Definitions) -> Vec<(&Section, Vec<&Element>)> {
    let mut by_section: HashMap<&str, Vec<&Element>> = HashMap::new();
    for element in definitions.elements.iter().filter(|e| !e.is_computed()) {
        by_section
            .entry(element.section.as_str())
            .or_default()
            .push(element);
    }
    definitions
        .sections
        .iter()
        .filter_map(|section| {
            let elements = by_section.remove(section.number.as_str())?;
            Some((section, elements))
        })
        .collect()
}

/// The years a form shows: the report year and the two before it, as the report's tables.
pub(crate) fn form_years(data: &Dataset) -> Vec<Year> {
    let last = i64::from(data.school.report_year);
    (last - 2..=last)
        .filter_map(|y| Year::new(y).ok())
        .collect()
}

/// The departments a section can be assigned to: the school's and its majors'.
pub(crate) fn departments(data: &Dataset) -> Vec<String> {
    let mut all: Vec<String> = data.school.departments.clone();
    for major in &data.majors {
        if !major.department.is_empty() && !all.contains(&major.department) {
            all.push(major.department.clone());
        }
    }
    all
}

/// `/`: a user bound to one school goes to it; others choose among the schools.
pub async fn home(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    if let Some(code) = &session.user.school_code {
        if session.user.role.points_only() {
            return Ok(Redirect::to(&format!("/schools/{code}/points")).into_response());
        }
        return Ok(Redirect::to(&format!("/schools/{code}")).into_response());
    }
    if let Some(area) = state.store().user_area(session.user.id).await? {
        return Ok(Redirect::to(&format!("/areas/{area}")).into_response());
    }
    let schools: Vec<Value> = state
        .store()
        .schools()
        .await?
        .into_iter()
        .map(|s| json!({ "code": s.code, "name": s.name }))
        .collect();
    let mut context = frame(&session, None);
    context.insert("schools".into(), Value::Array(schools));
    Ok(state.render("home.html", context)?.into_response())
}

pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../templates/app.js"),
    )
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/app.css"),
    )
}
