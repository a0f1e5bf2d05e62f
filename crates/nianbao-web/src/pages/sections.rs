//! Data entry for one section: the form (every year the report's tables show), its Excel
//! template and the upload of a filled-in template. Every submitted cell is checked against
//! the user's rights on the server, whatever the form showed; a save or an upload is one
//! transaction that either applies every change or none.

use std::collections::HashMap;

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::catalogue::{Dimension, Element, ValueKind};
use nianbao_core::definitions::Section;
use nianbao_core::{Dataset, Definitions, FactKey, Major, Severity, Year, run_checks};
use nianbao_store::{Conflict, FactEdit, StoreError, User};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::uploads::{self, Outcome};
use super::{data_sections, form_years, frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError, access};

/// A section and its elements, or 404.
fn find_section<'a>(
    definitions: &'a Definitions,
    number: &str,
) -> Result<(&'a Section, Vec<&'a Element>), WebError> {
    data_sections(definitions)
        .into_iter()
        .find(|(s, _)| s.number == number)
        .ok_or(WebError::NotFound)
}

/// A form field's name for a fact: "2025|staff.total|" or "2025|major.intake|会计事务".
fn field_key(key: &FactKey) -> String {
    format!(
        "{}|{}|{}",
        key.year,
        key.element,
        key.major.as_deref().unwrap_or("")
    )
}

fn parse_field_key(text: &str) -> Option<FactKey> {
    let mut parts = text.splitn(3, '|');
    let year = Year::new(parts.next()?.parse().ok()?).ok()?;
    let element = parts.next()?.to_string();
    let major = parts.next()?;
    Some(FactKey {
        year,
        element,
        major: (!major.is_empty()).then(|| major.to_string()),
    })
}

fn expected_text(kind: ValueKind) -> &'static str {
    kind.accepts(-1.5)
        .err()
        .or(kind.accepts(f64::NAN).err())
        .unwrap_or("数值")
}

/// Reads a number as typed: full-width digits, thousands separators and spaces allowed;
/// blank means no value.
fn parse_input(text: &str, kind: ValueKind) -> Result<Option<f64>, String> {
    let normal: String = text
        .trim()
        .chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            '．' => Some('.'),
            '－' => Some('-'),
            ',' | '，' | ' ' | '\u{3000}' => None,
            c => Some(c),
        })
        .collect();
    if normal.is_empty() {
        return Ok(None);
    }
    let found = || format!("应为{}，实际为「{}」", expected_text(kind), text.trim());
    let value: f64 = normal.parse().map_err(|_| found())?;
    kind.accepts(value)
        .map_err(|expected| format!("应为{expected}，实际为「{}」", text.trim()))?;
    Ok(Some(value))
}

fn shown(value: Option<f64>) -> String {
    value.map(nianbao_core::number::plain).unwrap_or_default()
}

/// Whether the user may change this fact of the dataset.
pub(super) fn may_edit(
    user: &User,
    element: &Element,
    key: &FactKey,
    data: &Dataset,
    owner: Option<&str>,
) -> bool {
    let department = key
        .major
        .as_deref()
        .and_then(|m| data.major(m))
        .map(|m| m.department.as_str());
    access::can_edit_fact(user, element, department, owner)
}

/// The conflict in the user's terms: element name, year and major rather than codes.
fn conflict_message(definitions: &Definitions, conflict: &Conflict) -> String {
    let key = &conflict.key;
    let name = definitions.elements.name(&key.element);
    let major = key
        .major
        .as_deref()
        .map(|m| format!("（{m}）"))
        .unwrap_or_default();
    let who = match (&conflict.changed_by, &conflict.changed_at) {
        (Some(by), Some(at)) => format!("已由 {by} 于 {} ", nianbao_core::clock::beijing_time(at)),
        _ => "已被他人".to_string(),
    };
    let value = |v: Option<f64>| v.map_or("空".to_string(), nianbao_core::number::plain);
    format!(
        "「{name}」{}年{major}{who}改为 {}（您打开页面时为 {}）。您的修改均未保存：请核对下表中的最新数据后重新填写。",
        key.year,
        value(conflict.found),
        value(conflict.expected)
    )
}

/// What a re-shown form keeps from the submission.
#[derive(Default)]
struct Shown {
    entered: HashMap<String, String>,
    originals: HashMap<String, String>,
    errors: HashMap<String, String>,
    problem: Option<String>,
    cell_errors: Vec<String>,
    notice: Option<String>,
    /// The form field a finding's link points at ("2025|staff.total|").
    focus: Option<String>,
    /// Whether the page follows a save, when the findings it left are shown at the top.
    after_save: bool,
}

async fn render(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    number: &str,
    shown: Shown,
) -> Result<Map<String, Value>, WebError> {
    let definitions = state.definitions();
    let (section, elements) = find_section(definitions, number)?;
    let owners = state.store().section_owners(&data.school.code).await?;
    let owner = owners.get(number).map(String::as_str);
    let years = form_years(data);
    let accepted: HashMap<String, String> = state
        .store()
        .acceptances(&data.school.code)
        .await?
        .into_iter()
        .map(|a| (a.key, a.explanation))
        .collect();
    let checks = run_checks(definitions, data);
    // The cells that open findings point at, with the worst severity and the messages.
    let mut flags: HashMap<String, (Severity, Vec<String>)> = HashMap::new();
    for finding in checks
        .iter()
        .filter(|f| f.severity != Severity::Info && !accepted.contains_key(&f.key()))
    {
        for location in &finding.locations {
            let (Some(element), Some(year)) = (&location.element, location.year) else {
                continue;
            };
            let key = FactKey {
                year,
                element: element.clone(),
                major: location.major.clone(),
            };
            let flag = flags
                .entry(field_key(&key))
                .or_insert((finding.severity, Vec::new()));
            flag.0 = flag.0.min(finding.severity);
            flag.1.push(finding.message.clone());
        }
    }
    let mut can_edit = false;
    let mut cell = |element: &Element, key: FactKey| {
        let name = field_key(&key);
        let current = shown_value(data, &key);
        let editable = may_edit(&session.user, element, &key, data, owner);
        can_edit |= editable;
        let flag = flags.get(&name);
        (
            editable,
            json!({
                "key": name,
                "record": nianbao_store::fact_record(&key),
                "year": key.year.to_string(),
                "label": element.name,
                "value": shown.entered.get(&name).cloned().unwrap_or_else(|| current.clone()),
                "original": shown.originals.get(&name).cloned().unwrap_or(current),
                "error": shown.errors.get(&name),
                "flag": flag.map(|(severity, _)| format!("{severity}")),
                "flag_text": flag.map(|(_, messages)| messages.join("；")),
                "focus": shown.focus.as_deref() == Some(name.as_str()),
            }),
        )
    };
    let mut rows = Vec::new();
    for element in elements.iter().filter(|e| e.dimension == Dimension::School) {
        let mut editable = false;
        let cells: Vec<Value> = years
            .iter()
            .map(|year| {
                let (e, c) = cell(element, FactKey::school(*year, element.code.clone()));
                editable |= e;
                c
            })
            .collect();
        rows.push(json!({
            "code": element.code, "name": element.name, "unit": element.unit,
            "editable": editable, "cells": cells,
        }));
    }
    let major_elements: Vec<&&Element> = elements
        .iter()
        .filter(|e| e.dimension == Dimension::Major)
        .collect();
    let mut major_rows = Vec::new();
    if !major_elements.is_empty() {
        for major in &data.majors {
            for year in &years {
                let mut editable = false;
                let cells: Vec<Value> = major_elements
                    .iter()
                    .map(|element| {
                        let key = FactKey::major(*year, element.code.clone(), major.name.clone());
                        let (e, c) = cell(element, key);
                        editable |= e;
                        c
                    })
                    .collect();
                major_rows.push(json!({
                    "major": major.name, "department": major.department,
                    "year": year.to_string(), "editable": editable, "cells": cells,
                }));
            }
        }
    }
    let code = &data.school.code;
    let findings: Vec<Value> = checks
        .iter()
        .filter(|f| f.section == number)
        .map(|f| {
            json!({
                "severity": format!("{:?}", f.severity).to_lowercase(),
                "label": f.severity.label(),
                "message": f.message,
                "accepted": accepted.get(&f.key()),
                "locations": f.locations.iter().map(|l| json!({
                    "text": super::findings::describe(l, definitions),
                    "link": super::findings::link(code, l, &f.section, definitions),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let open_here = |severity: Severity| {
        checks
            .iter()
            .filter(|f| f.section == number && f.severity == severity)
            .filter(|f| !accepted.contains_key(&f.key()))
            .count()
    };
    let open_errors = open_here(Severity::Error);
    let open_warnings = open_here(Severity::Warning);

    let mut context = frame(session, Some(data));
    context.insert(
        "section".into(),
        json!({ "number": section.number, "title": section.title }),
    );
    context.insert(
        "years".into(),
        json!(years.iter().map(|y| y.to_string()).collect::<Vec<_>>()),
    );
    context.insert("rows".into(), Value::Array(rows));
    context.insert(
        "major_elements".into(),
        json!(
            major_elements
                .iter()
                .map(|e| json!({"name": e.name, "unit": e.unit}))
                .collect::<Vec<_>>()
        ),
    );
    context.insert("major_rows".into(), Value::Array(major_rows));
    context.insert("can_edit".into(), json!(can_edit));
    context.insert("findings".into(), Value::Array(findings));
    context.insert("problem".into(), json!(shown.problem));
    context.insert("cell_errors".into(), json!(shown.cell_errors));
    context.insert("notice".into(), json!(shown.notice));
    context.insert("open_errors".into(), json!(open_errors));
    context.insert("open_warnings".into(), json!(open_warnings));
    context.insert(
        "after_save".into(),
        json!(shown.after_save && open_errors + open_warnings > 0),
    );
    Ok(context)
}

fn shown_value(data: &Dataset, key: &FactKey) -> String {
    shown(data.facts.get(key).copied())
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<usize>,
    uploaded: Option<usize>,
    /// A form field to highlight, from a finding's link.
    focus: Option<String>,
    /// After an upload: untouched cells whose fact someone changed since (kept as stored).
    kept: Option<usize>,
    /// After an upload of a file without the values it was made from.
    nobase: Option<u8>,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path((code, number)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let notice = match (query.saved, query.uploaded) {
        (Some(n), _) => Some(format!("已保存，共修改 {n} 项数据")),
        (_, Some(n)) => Some(format!(
            "Excel 模板已导入，{}",
            nianbao_xlsx::summary(n, query.kept.unwrap_or(0), query.nobase.is_none())
        )),
        _ => None,
    };
    let after_save = query.saved.is_some() || query.uploaded.is_some();
    let context = render(
        &state,
        &session,
        &data,
        &number,
        Shown {
            notice,
            focus: query.focus,
            after_save,
            ..Shown::default()
        },
    )
    .await?;
    let mut context = context;
    let status = state
        .store()
        .submission(&code, data.school.report_year)
        .await?;
    if let Some(reason) = status.state.lock_reason() {
        context.insert(
            "locked".into(),
            serde_json::json!(format!(
                "{} 年度数据已锁定（{}）：{reason}",
                data.school.report_year,
                status.state.label()
            )),
        );
    }
    Ok(state.render("section.html", context)?.into_response())
}

/// Checks one edited cell against the section, the dataset and the user's rights.
fn check_cell<'a>(
    elements: &[&'a Element],
    years: &[Year],
    data: &Dataset,
    key: &FactKey,
) -> Result<&'a Element, WebError> {
    let bad = |what: &str| WebError::BadRequest(format!("表单中的「{}」{what}", field_key(key)));
    let element = *elements
        .iter()
        .find(|e| e.code == key.element)
        .ok_or_else(|| bad("不属于本部分"))?;
    if !years.contains(&key.year) {
        return Err(bad("的年份不在本表单中"));
    }
    match (element.dimension, key.major.as_deref()) {
        (Dimension::School, None) => {}
        (Dimension::Major, Some(major)) if data.major(major).is_some() => {}
        _ => return Err(bad("的专业不存在")),
    }
    Ok(element)
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    Path((code, number)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    session.check_csrf(csrf.unwrap_or(""))?;
    let data = readable_school(&state, &session, &code).await?;
    let definitions = state.definitions();
    let (_, elements) = find_section(definitions, &number)?;
    let owners = state.store().section_owners(&code).await?;
    let owner = owners.get(&number).map(String::as_str);
    let years = form_years(&data);

    let mut shown = Shown::default();
    for (name, value) in &fields {
        if let Some(key) = name.strip_prefix("o|") {
            shown.originals.insert(key.to_string(), value.clone());
        }
    }
    let mut edits = Vec::new();
    for (name, text) in &fields {
        let Some(field) = name.strip_prefix("v|") else {
            continue;
        };
        let key = parse_field_key(field)
            .ok_or_else(|| WebError::BadRequest(format!("无法识别的表单字段「{name}」")))?;
        let element = check_cell(&elements, &years, &data, &key)?;
        if !may_edit(&session.user, element, &key, &data, owner) {
            return Err(WebError::Forbidden);
        }
        shown.entered.insert(field.to_string(), text.clone());
        let original = shown.originals.get(field).ok_or_else(|| {
            WebError::BadRequest(format!("表单缺少「{field}」的原值，请刷新页面"))
        })?;
        let expected = parse_input(original, element.kind).map_err(|_| {
            WebError::BadRequest(format!("表单中「{field}」的原值无法识别，请刷新页面"))
        })?;
        let bounded = |value: Option<f64>| match value.map(|v| element.accepts(v)) {
            Some(Err(expected)) => Err(format!("应为{expected}，实际为「{}」", text.trim())),
            _ => Ok(value),
        };
        match parse_input(text, element.kind).and_then(bounded) {
            Ok(value) if value.map(f64::to_bits) != expected.map(f64::to_bits) => {
                edits.push(FactEdit {
                    key,
                    expected,
                    value,
                });
            }
            Ok(_) => {}
            Err(message) => {
                shown.errors.insert(field.to_string(), message);
            }
        }
    }
    if !shown.errors.is_empty() {
        shown.problem = Some(format!(
            "有 {} 处填写有误，已在下表标出；所有修改均未保存。",
            shown.errors.len()
        ));
        let context = render(&state, &session, &data, &number, shown).await?;
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            state.render("section.html", context)?,
        )
            .into_response());
    }
    match state
        .store()
        .edit_facts(&code, &edits, &session.user.name)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/schools/{code}/sections/{number}?saved={}",
            edits.len()
        ))
        .into_response()),
        Err(StoreError::Conflict(conflict)) => {
            let fresh = state.store().load_dataset(&code).await?;
            let shown = Shown {
                problem: Some(conflict_message(definitions, &conflict)),
                ..Shown::default()
            };
            let context = render(&state, &session, &fresh, &number, shown).await?;
            Ok((StatusCode::CONFLICT, state.render("section.html", context)?).into_response())
        }
        Err(StoreError::Refused(why)) => {
            let shown = Shown {
                problem: Some(format!("{why}。")),
                ..Shown::default()
            };
            let context = render(&state, &session, &data, &number, shown).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                state.render("section.html", context)?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The majors of the dataset whose per-major facts the user may edit.
pub(super) fn editable_majors<'a>(
    user: &User,
    elements: &[&Element],
    data: &'a Dataset,
) -> Vec<&'a Major> {
    let Some(element) = elements.iter().find(|e| e.dimension == Dimension::Major) else {
        return Vec::new();
    };
    data.majors
        .iter()
        .filter(|m| access::can_edit_fact(user, element, Some(&m.department), None))
        .collect()
}

/// Whether the user may edit anything in the section (and so use its template).
pub(super) fn may_edit_section(
    user: &User,
    elements: &[&Element],
    data: &Dataset,
    owner: Option<&str>,
) -> bool {
    elements.iter().any(|e| match e.dimension {
        Dimension::School => access::can_edit_fact(user, e, None, owner),
        Dimension::Major => data
            .majors
            .iter()
            .any(|m| access::can_edit_fact(user, e, Some(&m.department), owner)),
    })
}

pub async fn template(
    State(state): State<AppState>,
    session: Session,
    Path((code, number)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let definitions = state.definitions();
    let (section, elements) = find_section(definitions, &number)?;
    let owners = state.store().section_owners(&code).await?;
    if !may_edit_section(
        &session.user,
        &elements,
        &data,
        owners.get(&number).map(String::as_str),
    ) {
        return Err(WebError::Forbidden);
    }
    let scope = nianbao_xlsx::TemplateScope {
        section: &number,
        years: form_years(&data),
        majors: editable_majors(&session.user, &elements, &data),
    };
    let bytes = nianbao_xlsx::write_template(definitions, &data, &scope)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let file = format!(
        "{}-{}年度-{} {}.xlsx",
        data.school.name, data.school.report_year, section.number, section.title
    );
    Ok(crate::download::attachment(
        &file,
        crate::download::XLSX,
        bytes,
    ))
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path((code, number)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let too_big = |_| {
        WebError::BadRequest(format!(
            "上传的文件过大或不完整：Excel 模板不应超过 {} MB",
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
    let (_, elements) = find_section(definitions, &number)?;
    let owners = state.store().section_owners(&code).await?;
    let owner = owners.get(&number).map(String::as_str);
    if !may_edit_section(&session.user, &elements, &data, owner) {
        return Err(WebError::Forbidden);
    }
    let file = file.ok_or_else(|| WebError::BadRequest("请选择要上传的 Excel 文件".into()))?;
    let scope = nianbao_xlsx::TemplateScope {
        section: &number,
        years: form_years(&data),
        majors: editable_majors(&session.user, &elements, &data),
    };
    let limits = nianbao_xlsx::Limits {
        max_upload_bytes: state.0.config.max_upload_bytes,
        ..nianbao_xlsx::Limits::default()
    };
    let read = nianbao_xlsx::read_upload(&file, definitions, &scope, &limits);
    let (status, shown) = match uploads::apply(&state, &session.user, &data, &owners, read).await? {
        Outcome::Applied {
            changed,
            kept,
            with_base,
        } => {
            let nobase = if with_base { "" } else { "&nobase=1" };
            return Ok(Redirect::to(&format!(
                "/schools/{code}/sections/{number}?uploaded={changed}&kept={kept}{nobase}"
            ))
            .into_response());
        }
        Outcome::Refused {
            status,
            problem,
            cells,
        } => (
            status,
            Shown {
                problem: Some(problem),
                cell_errors: cells,
                ..Shown::default()
            },
        ),
    };
    let fresh = state.store().load_dataset(&code).await?;
    let context = render(&state, &session, &fresh, &number, shown).await?;
    Ok((status, state.render("section.html", context)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_are_read_as_people_type_them() {
        assert_eq!(
            parse_input(" １，２３４ ", ValueKind::Count),
            Ok(Some(1234.0))
        );
        assert_eq!(parse_input("", ValueKind::Count), Ok(None));
        assert_eq!(parse_input("31.7", ValueKind::Percent), Ok(Some(31.7)));
        let err = parse_input("12.5", ValueKind::Count).unwrap_err();
        assert!(err.contains("非负整数") && err.contains("12.5"), "{err}");
        assert!(
            parse_input("12人", ValueKind::Count)
                .unwrap_err()
                .contains("「12人」")
        );
        assert!(parse_input("120", ValueKind::Percent).is_err());
    }

    #[test]
    fn field_names_round_trip() {
        let year = Year::new(2025).unwrap();
        for key in [
            FactKey::school(year, "staff.total"),
            FactKey::major(year, "major.intake", "会计事务"),
        ] {
            assert_eq!(parse_field_key(&field_key(&key)), Some(key));
        }
    }
}
