//! The change history of a school's data (who, when, old → new), where the quality office
//! reverts a change while nobody has changed the same fact since.

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::Definitions;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError, access};

const SHOWN: i64 = 300;

/// "2025 major.intake 会计事务" as "2025年 招生人数 会计事务".
fn readable_record(definitions: &Definitions, entity: &str, record: &str) -> String {
    if entity != "fact" {
        return record.to_string();
    }
    let mut parts = record.splitn(3, ' ');
    match (parts.next(), parts.next()) {
        (Some(year), Some(element)) => {
            let mut text = format!("{year}年 {}", definitions.elements.name(element));
            if let Some(major) = parts.next() {
                text.push(' ');
                text.push_str(major);
            }
            text
        }
        _ => record.to_string(),
    }
}

fn entity_label(entity: &str) -> &str {
    match entity {
        "fact" => "数据",
        "note" => "数据注释",
        "major" => "专业",
        "school" => "学校信息",
        "acceptance" => "接受说明",
        "section_owner" => "填报部门",
        other => other,
    }
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    /// One fact's changes only, as "2025 staff.total" or "2025 major.intake 会计事务".
    record: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let definitions = state.definitions();
    let changes = match &query.record {
        Some(record) => {
            state
                .store()
                .record_history(&code, "fact", record, SHOWN)
                .await?
        }
        None => state.store().history(&code, SHOWN).await?,
    };
    let changes: Vec<Value> = changes
        .into_iter()
        .map(|c| {
            let long = |v: Option<String>| {
                v.map(|v| {
                    if v.chars().count() > 120 {
                        format!("{}…", v.chars().take(120).collect::<String>())
                    } else {
                        v
                    }
                })
            };
            json!({
                "id": c.id,
                "changed_at": c.changed_at,
                "actor": c.actor,
                "entity": entity_label(&c.entity),
                "record": readable_record(definitions, &c.entity, &c.record),
                "old": long(c.old_value),
                "new": long(c.new_value),
                "revertible": c.entity == "fact",
            })
        })
        .collect();
    let mut context = frame(&session, Some(&data));
    context.insert("changes".into(), Value::Array(changes));
    context.insert(
        "record".into(),
        json!(
            query
                .record
                .map(|r| readable_record(definitions, "fact", &r))
        ),
    );
    Ok(state.render("history.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct RevertForm {
    csrf: String,
}

pub async fn revert(
    State(state): State<AppState>,
    session: Session,
    Path((code, id)): Path<(String, i64)>,
    Form(form): Form<RevertForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    readable_school(&state, &session, &code).await?;
    if !access::can_approve(&session.user) {
        return Err(WebError::Forbidden);
    }
    state.store().revert(&code, id, &session.user.name).await?;
    Ok(Redirect::to(&format!("/schools/{code}/history")).into_response())
}
