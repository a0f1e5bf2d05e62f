//! The findings of the checks, grouped by section, where the quality office accepts a
//! warning with a written explanation (kept in the store, shown in the report's data notes).

use std::collections::BTreeMap;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::{Location, Severity, run_checks};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError, access};

fn describe(location: &Location, definitions: &nianbao_core::Definitions) -> String {
    let mut parts = Vec::new();
    if let Some(year) = location.year {
        parts.push(format!("{year}年"));
    }
    if let Some(element) = &location.element {
        parts.push(definitions.elements.name(element).to_string());
    }
    if let Some(major) = &location.major {
        parts.push(major.clone());
    }
    if let Some(text) = &location.text {
        parts.push(text.clone());
    }
    parts.join(" ")
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let definitions = state.definitions();
    let accepted: BTreeMap<String, _> = state
        .store()
        .acceptances(&code)
        .await?
        .into_iter()
        .map(|a| (a.key.clone(), a))
        .collect();
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for finding in run_checks(definitions, &data) {
        let key = finding.key();
        let acceptance = accepted.get(&key);
        let item = json!({
            "severity": format!("{:?}", finding.severity).to_lowercase(),
            "label": finding.severity.label(),
            "message": finding.message,
            "locations": finding.locations.iter().map(|l| describe(l, definitions)).collect::<Vec<_>>(),
            "key": key,
            "acceptable": finding.severity != Severity::Error,
            "accepted": acceptance.map(|a| &a.explanation),
            "accepted_by": acceptance.map(|a| &a.actor),
            "accepted_at": acceptance.map(|a| &a.accepted_at),
        });
        match groups.last_mut() {
            Some((section, items)) if *section == finding.section => items.push(item),
            _ => groups.push((finding.section.clone(), vec![item])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(section, findings)| {
            json!({
                "title": definitions.section_title(&section).unwrap_or("其他"),
                "section": section,
                "findings": findings,
            })
        })
        .collect();
    let mut context = frame(&session, Some(&data));
    context.insert("groups".into(), Value::Array(groups));
    Ok(state.render("findings.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct AcceptForm {
    csrf: String,
    key: String,
    explanation: String,
}

pub async fn accept(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !access::can_approve(&session.user) {
        return Err(WebError::Forbidden);
    }
    let findings = run_checks(state.definitions(), &data);
    let finding = findings
        .iter()
        .find(|f| f.key() == form.key)
        .ok_or_else(|| {
            WebError::BadRequest(format!(
                "当前核查结果中没有「{}」，数据可能已更正",
                form.key
            ))
        })?;
    state
        .store()
        .accept(&code, finding, &form.explanation, &session.user.name)
        .await?;
    Ok(Redirect::to(&format!("/schools/{code}/findings")).into_response())
}
