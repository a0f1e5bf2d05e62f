//! The findings of the checks, grouped by section, where the quality office accepts a
//! warning with a written explanation (kept in the store, shown in the report's data notes).

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::{Location, Severity};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{frame, school_results};
use crate::auth::Session;
use crate::{AppState, WebError, access};

/// Pseudo-elements a location may name that are not facts, with their Chinese names.
const NOT_FACTS: [(&str, &str); 1] = [("major.category", "专业大类")];

fn element_name<'a>(element: &'a str, definitions: &'a nianbao_core::Definitions) -> &'a str {
    NOT_FACTS
        .iter()
        .find(|(code, _)| *code == element)
        .map_or_else(|| definitions.elements.name(element), |(_, name)| name)
}

/// A location in people's words: "2025年 教职工总数 会计事务".
pub(crate) fn describe(location: &Location, definitions: &nianbao_core::Definitions) -> String {
    let mut parts = Vec::new();
    if let Some(year) = location.year {
        parts.push(format!("{year}年"));
    }
    if let Some(element) = &location.element {
        parts.push(element_name(element, definitions).to_string());
    }
    if let Some(major) = &location.major {
        parts.push(major.clone());
    }
    if let Some(text) = &location.text {
        parts.push(text.clone());
    }
    parts.join(" ")
}

/// Where a location is fixed: the form cell of its fact, highlighted, or the majors page.
pub(crate) fn link(
    code: &str,
    location: &Location,
    section: &str,
    definitions: &nianbao_core::Definitions,
) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    match (&location.element, location.year) {
        (Some(element), _) if element == "major.category" => format!(
            "/schools/{code}/structure#major-{}",
            encode(location.major.as_deref().unwrap_or_default())
        ),
        (Some(element), Some(year)) => {
            let form = definitions
                .elements
                .get(element)
                .map_or(section, |e| e.section.as_str());
            let field = format!(
                "{year}|{element}|{}",
                location.major.as_deref().unwrap_or_default()
            );
            format!(
                "/schools/{code}/sections/{form}?focus={}#focus",
                encode(&field)
            )
        }
        _ => format!("/schools/{code}/sections/{section}"),
    }
}

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
    let definitions = state.definitions();
    let accepted = &computed.accepted;
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for finding in &computed.findings {
        let key = finding.key();
        let acceptance = accepted.get(&key);
        let item = json!({
            "severity": format!("{:?}", finding.severity).to_lowercase(),
            "label": finding.severity.label(),
            "message": finding.message,
            "locations": finding.locations.iter().map(|l| json!({
                "text": describe(l, definitions),
                "link": link(&code, l, &finding.section, definitions),
            })).collect::<Vec<_>>(),
            "key": key,
            "acceptable": finding.severity != Severity::Error,
            "accepted": acceptance.map(|a| &a.explanation),
            "accepted_by": acceptance.map(|a| &a.actor),
            "accepted_at": acceptance.map(|a| nianbao_core::clock::beijing_time(&a.accepted_at)),
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
    let mut context = frame(&session, Some(&computed.data));
    context.insert("groups".into(), Value::Array(groups));
    if query.done.as_deref() == Some("accepted") {
        context.insert(
            "notice".into(),
            json!("说明已保存，该警告已接受；说明会印在报告的数据说明中"),
        );
    }
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
    let computed = school_results(&state, &session, &code).await?;
    if !access::can_approve(&session.user) {
        return Err(WebError::Forbidden);
    }
    let finding = computed
        .findings
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
    Ok(Redirect::to(&format!("/schools/{code}/findings?done=accepted")).into_response())
}
