//! The dashboard: completion per section, open findings, indicators against the standards,
//! and (for the quality office) which department fills in each section.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::catalogue::Dimension;
use nianbao_core::{FactKey, Severity};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{data_sections, departments, frame, readable_school, school_results};
use crate::auth::Session;
use crate::{AppState, WebError, access};

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let computed = school_results(&state, &session, &code).await?;
    let data = &computed.data;
    let definitions = state.definitions();
    let year = computed.year();
    let owners = &computed.owners;
    let accepted = &computed.accepted;
    let findings = &computed.findings;
    // One pass over the findings: each finding's key is built once, not once per section.
    let (mut errors, mut warnings, mut accepted_count) = (0usize, 0usize, 0usize);
    let mut open_by_section: HashMap<&str, usize> = HashMap::new();
    for finding in findings {
        if accepted.contains_key(&finding.key()) {
            accepted_count += 1;
            continue;
        }
        match finding.severity {
            Severity::Info => continue,
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
        }
        *open_by_section.entry(finding.section.as_str()).or_default() += 1;
    }

    let sections: Vec<Value> = data_sections(definitions)
        .into_iter()
        .map(|(section, elements)| {
            let (mut filled, mut expected) = (0usize, 0usize);
            let mut editable = false;
            let owner = owners.get(&section.number).map(String::as_str);
            for element in elements {
                match element.dimension {
                    Dimension::School => {
                        expected += 1;
                        filled += usize::from(data.value(year, &element.code).is_some());
                        editable |= access::can_edit_fact(&session.user, element, None, owner);
                    }
                    Dimension::Major => {
                        for major in &data.majors {
                            expected += 1;
                            let key =
                                FactKey::major(year, element.code.clone(), major.name.clone());
                            filled += usize::from(data.facts.contains_key(&key));
                            editable |= access::can_edit_fact(
                                &session.user,
                                element,
                                Some(&major.department),
                                owner,
                            );
                        }
                    }
                }
            }
            let open_here = open_by_section
                .get(section.number.as_str())
                .copied()
                .unwrap_or(0);
            json!({
                "number": section.number,
                "title": section.title,
                "filled": filled,
                "expected": expected,
                "percent": (filled * 100).checked_div(expected).unwrap_or(100),
                "owner": owner,
                "open": open_here,
                "editable": editable,
            })
        })
        .collect();

    let indicators = &computed.indicators;
    let judged: Vec<_> = indicators
        .iter()
        .filter(|i| !i.verdicts.is_empty())
        .collect();
    let rows: Vec<Value> = indicators
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "display": i.display,
                "unit": i.unit,
                "reported": i.reported.map(nianbao_core::number::plain),
                "verdicts": i.verdicts.iter().map(|v| json!({
                    "standard": v.standard_name,
                    "op": v.op.symbol(),
                    "threshold": nianbao_core::number::plain(v.threshold),
                    "pass": v.pass,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();

    let mut context = frame(&session, Some(data));
    context.insert(
        "counts".into(),
        json!({
            "error": errors,
            "warning": warnings,
            "accepted": accepted_count,
        }),
    );
    context.insert("sections".into(), Value::Array(sections));
    let notice = match query.done.as_deref() {
        Some("year") => Some(format!(
            "已开始 {year} 年度：各表单最右一列是新年度，旁边是上一年度的数据，供对照填写"
        )),
        Some("owner") => Some("负责部门已更新".to_string()),
        _ => None,
    };
    context.insert("notice".into(), json!(notice));
    context.insert("departments".into(), json!(departments(data)));
    context.insert("indicators".into(), Value::Array(rows));
    let (parts, open_comments, states) = super::writing::overview(&session, &computed);
    let attention: Vec<Value> = parts
        .into_iter()
        .filter(|p| p["state"]["code"] == "review" || p["state"]["reason"].is_string())
        .collect();
    context.insert("writing_states".into(), states);
    context.insert("writing_attention".into(), Value::Array(attention));
    context.insert("open_comments".into(), Value::Array(open_comments));
    context.insert("indicators_judged".into(), json!(judged.len()));
    context.insert(
        "indicators_passing".into(),
        json!(judged.iter().filter(|i| i.passes_all()).count()),
    );
    Ok(state.render("dashboard.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct OwnerForm {
    csrf: String,
    section: String,
    department: String,
    /// The page to go back to: the dashboard, or the writing list ("writing").
    #[serde(default)]
    back: String,
}

/// Assigns a section to a department (quality office only).
pub async fn assign_owner(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<OwnerForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !access::can_approve(&session.user) {
        return Err(WebError::Forbidden);
    }
    let authoring = nianbao_authoring::Authoring::new(state.store(), state.definitions());
    let is_data_section = data_sections(state.definitions())
        .iter()
        .any(|(s, _)| s.number == form.section);
    let is_part = authoring
        .parts()
        .map_err(super::writing::refused)?
        .iter()
        .any(|p| p.key == form.section && nianbao_authoring::Authoring::assignable(p));
    if !is_data_section && !is_part {
        return Err(WebError::BadRequest(format!(
            "报告中没有「{}」这一部分",
            form.section
        )));
    }
    let department = form.department.trim();
    if !department.is_empty() && !departments(&data).iter().any(|d| d == department) {
        return Err(WebError::BadRequest(format!(
            "学校没有名为「{department}」的部门"
        )));
    }
    state
        .store()
        .set_section_owner(&code, &form.section, Some(department), &session.user.name)
        .await?;
    let back = if form.back == "writing" {
        format!("/schools/{code}/writing?done=owner#part-{}", form.section)
    } else {
        format!("/schools/{code}?done=owner")
    };
    Ok(Redirect::to(&back).into_response())
}
