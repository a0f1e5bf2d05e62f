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

/// A finding's key ("staff.total-change:2025", "students.stock-flow:2024:电子商务") as
/// the rule's title with its year and major.
fn readable_finding(definitions: &Definitions, key: &str) -> String {
    let mut parts = key.split(':');
    let rule = parts.next().unwrap_or_default();
    let title = definitions
        .rules
        .rules
        .iter()
        .find(|r| r.id == rule)
        .map_or_else(
            || {
                if rule.starts_with("standard.") {
                    "办学标准".to_string()
                } else {
                    "核查项".to_string()
                }
            },
            |r| r.title.clone(),
        );
    let mut text = title;
    for part in parts {
        if part.chars().all(|c| c.is_ascii_digit()) {
            text = format!("{part}年 {text}");
        } else {
            text = format!("{text}（{part}）");
        }
    }
    text
}

/// "2025 major.intake 会计事务" as "2025年 招生人数 会计事务"; other records in words.
fn readable_record(definitions: &Definitions, entity: &str, record: &str) -> String {
    match entity {
        "fact" | "note" => {}
        "acceptance" => return readable_finding(definitions, record),
        "text" | "part_state" | "section_owner" => return part_title(definitions, record),
        "image" => return format!("图片 {}", record.trim_start_matches("images/")),
        "snapshot" => return format!("定稿第 {record} 号"),
        "school" => return "学校概况".to_string(),
        _ => return record.to_string(),
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

/// A part's key or a text's path ("2.1", "sections/2.1.md", "front/preface.md") as the
/// title people know it by.
fn part_title(definitions: &Definitions, record: &str) -> String {
    let name = record
        .rsplit('/')
        .next()
        .unwrap_or(record)
        .trim_end_matches(".md");
    if record.starts_with("cases/") {
        return format!("典型案例 {name}");
    }
    let fronts = [
        ("publication", "年报公开形式及网址"),
        ("declaration", "内容真实性责任声明"),
        ("preface", "前言"),
        ("back", "封底"),
    ];
    if let Some((_, title)) = fronts.iter().find(|(key, _)| *key == name) {
        return title.to_string();
    }
    match definitions.section_title(name) {
        Some(title) => format!("{name} {title}"),
        None => name.to_string(),
    }
}

fn entity_label(entity: &str) -> &str {
    match entity {
        "fact" => "数据",
        "note" => "数据注释",
        "major" | "major_name" => "专业",
        "department" => "专业部",
        "school" => "学校信息",
        "acceptance" => "接受说明",
        "section_owner" => "负责部门",
        "text" => "报告文字",
        "part_state" => "审阅状态",
        "image" => "图片",
        "snapshot" => "定稿",
        other => other,
    }
}

/// The fields of a school's profile a change touched, in words, before and after.
fn profile_change(old: Option<&str>, new: Option<&str>) -> (Option<String>, Option<String>) {
    const LABELS: [(&str, &str); 13] = [
        ("name", "名称"),
        ("name_en", "英文名称"),
        ("sponsor", "举办者"),
        ("address", "地址"),
        ("phone", "电话"),
        ("website", "网址"),
        ("designations", "荣誉称号"),
        ("departments", "专业部"),
        ("report_year", "报告年度"),
        ("report_date", "报告日期"),
        ("summary", "简介"),
        ("org_unit", "所属地区"),
        ("retired_majors", "停招专业"),
    ];
    let parse = |text: Option<&str>| {
        text.and_then(|t| serde_json::from_str::<serde_json::Map<String, Value>>(t).ok())
    };
    let (Some(before), Some(after)) = (parse(old), parse(new)) else {
        return (
            old.map(|_| "（原概况）".into()),
            new.map(|_| "（新建）".into()),
        );
    };
    let shown = |value: Option<&Value>| match value {
        None | Some(Value::Null) => "（空）".to_string(),
        Some(Value::String(s)) if s.is_empty() => "（空）".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("、"),
        Some(Value::Object(map)) => map
            .values()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    };
    let mut was = Vec::new();
    let mut now = Vec::new();
    for (key, label) in LABELS {
        if before.get(key) != after.get(key) {
            was.push(format!("{label}：{}", shown(before.get(key))));
            now.push(format!("{label}：{}", shown(after.get(key))));
        }
    }
    (Some(was.join("；")), Some(now.join("；")))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    /// One fact's changes only, as "2025 staff.total" or "2025 major.intake 会计事务".
    record: Option<String>,
    done: Option<String>,
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
        .map(|mut c| {
            if c.entity == "school" {
                let (old, new) = profile_change(c.old_value.as_deref(), c.new_value.as_deref());
                c.old_value = old;
                c.new_value = new;
            }
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
                "changed_at": nianbao_core::clock::beijing_time(&c.changed_at),
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
    if query.done.as_deref() == Some("reverted") {
        context.insert(
            "notice".into(),
            json!("已撤销这项修改：数据恢复为修改前的值（撤销本身也记入变更记录）"),
        );
    }
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
    Ok(Redirect::to(&format!("/schools/{code}/history?done=reverted")).into_response())
}
