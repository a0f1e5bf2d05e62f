//! Writing the report in the browser: the list of parts with their review state, a page
//! per part (the text as Markdown, a picker of bindings by Chinese name, a live preview
//! with the bound values, a character count, compare-and-set saves), the review steps
//! (提交审阅, 退回修改 with a reason, 定稿), comments on a part or a quoted passage, and every
//! saved version with a readable diff and revert.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_authoring::{Action, Authoring, AuthoringError, PartView};
use nianbao_core::catalogue::{Dimension, ValueKind};
use nianbao_core::clock::beijing_time;
use nianbao_core::{Dataset, WritingState};
use nianbao_report::parts::Part;
use nianbao_store::{Comment, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{frame, readable_school, school_results};
use crate::auth::Session;
use crate::results::Computed;
use crate::{AppState, WebError, access};

/// The owner (department) of each part, by part key.
pub(crate) async fn owners(
    state: &AppState,
    code: &str,
) -> Result<BTreeMap<String, String>, WebError> {
    Ok(state.store().section_owners(code).await?)
}

fn authoring(state: &AppState) -> Authoring<'_> {
    Authoring::new(state.store(), state.definitions())
}

/// An authoring failure as the page shows it.
pub(crate) fn refused(error: AuthoringError) -> WebError {
    match error {
        AuthoringError::Store(e) => WebError::Store(e),
        AuthoringError::UnknownPart(_) => WebError::NotFound,
        AuthoringError::Report(e) => WebError::Internal(e.to_string()),
        other => WebError::BadRequest(other.to_string()),
    }
}

/// A part's state for a page: label, who and when (in Beijing time), and why.
fn state_json(view: &PartView) -> Value {
    json!({
        "code": view.state.code(),
        "label": view.state.label(),
        "actor": view.stored.as_ref().map(|s| s.actor.clone()),
        "at": view.stored.as_ref().map(|s| beijing_time(&s.changed_at)),
        "reason": view.stored.as_ref().and_then(|s| s.reason.clone()),
    })
}

fn comment_json(comment: &Comment, titles: &BTreeMap<String, String>) -> Value {
    json!({
        "id": comment.id,
        "part": comment.part,
        "part_title": titles.get(&comment.part).cloned().unwrap_or_else(|| comment.part.clone()),
        "quote": comment.quote,
        "body": comment.body,
        "author": comment.author,
        "at": beijing_time(&comment.created_at),
        "resolved_by": comment.resolved_by,
        "resolved_at": comment.resolved_at.as_deref().map(beijing_time),
    })
}

/// The parts of the report with their states, for the dashboard and the list page, from
/// the school's kept results.
pub(crate) fn overview(session: &Session, computed: &Computed) -> (Vec<Value>, Vec<Value>, Value) {
    let views = &computed.parts;
    let owners = &computed.owners;
    let comments = &computed.comments;
    let titles: BTreeMap<String, String> = views
        .iter()
        .map(|v| (v.part.key.clone(), v.part.title.clone()))
        .collect();
    let mut counts = BTreeMap::new();
    let parts: Vec<Value> = views
        .iter()
        .map(|view| {
            *counts.entry(view.state.code()).or_insert(0usize) += 1;
            let owner = owners.get(&view.part.key).cloned();
            let open = comments
                .iter()
                .filter(|c| c.part == view.part.key && c.resolved_by.is_none())
                .count();
            json!({
                "key": view.part.key,
                "title": view.part.title,
                "kind": view.part.kind.label(),
                "required": view.part.required,
                "state": state_json(view),
                "own_text": view.own_text,
                "has_text": view.has_text,
                "cases": view.cases,
                "owner": owner,
                "open_comments": open,
                "can_write": access::can_write_part(&session.user, owner.as_deref()),
                "assignable": Authoring::assignable(&view.part),
            })
        })
        .collect();
    let open: Vec<Value> = comments
        .iter()
        .filter(|c| c.resolved_by.is_none())
        .map(|c| comment_json(c, &titles))
        .collect();
    let states: Vec<Value> = WritingState::ALL
        .iter()
        .map(|s| json!({"label": s.label(), "code": s.code(), "count": counts.get(s.code()).copied().unwrap_or(0)}))
        .collect();
    (parts, open, Value::Array(states))
}

/// `/schools/{code}/writing`: every part, its state, owner and open comments.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<EditorQuery>,
) -> Result<Response, WebError> {
    let computed = school_results(&state, &session, &code).await?;
    let data = &computed.data;
    let (parts, open, states) = overview(&session, &computed);
    let mut context = frame(&session, Some(data));
    context.insert("parts".into(), Value::Array(parts));
    context.insert("open_comments".into(), Value::Array(open));
    context.insert("states".into(), states);
    context.insert("departments".into(), json!(super::departments(data)));
    if query.done.as_deref() == Some("owner") {
        context.insert("notice".into(), json!("负责部门已更新"));
    }
    Ok(state.render("writing.html", context)?.into_response())
}

/// The binding text for an element's value as the report prints it.
fn formatted(kind: ValueKind, call: &str) -> String {
    match kind {
        ValueKind::Percent | ValueKind::Change => format!("{{{{ {call} | pct }}}}"),
        ValueKind::Count => format!("{{{{ {call} | num }}}}"),
        _ => format!("{{{{ {call} | num(2) }}}}"),
    }
}

/// The picker's vocabulary: every element by section and every indicator, by Chinese
/// name, each with the bindings a text can insert.
pub(crate) fn picker(state: &AppState) -> Value {
    let definitions = state.definitions();
    let mut groups: Vec<Value> = Vec::new();
    for section in &definitions.sections {
        let elements: Vec<Value> = definitions
            .elements
            .iter()
            .filter(|e| e.section == section.number && e.dimension == Dimension::School)
            .filter(|e| !e.code.starts_with("reported."))
            .map(|e| {
                let name = &e.name;
                let now = format!("v(\"{name}\")");
                let before = format!("prev(\"{name}\")");
                let unit = if e.unit == "%" { "个百分点" } else { e.unit.as_str() };
                json!({
                    "name": name,
                    "unit": e.unit,
                    "bindings": [
                        {"label": "本年", "text": formatted(e.kind, &now)},
                        {"label": "上年", "text": formatted(e.kind, &before)},
                        {"label": "同比", "text": format!("{{{{ {now} | change({before}, \"{unit}\") }}}}")},
                        {"label": "增幅", "text": format!("{{{{ {now} | growth({before}) }}}}")},
                    ],
                })
            })
            .collect();
        if !elements.is_empty() {
            groups.push(json!({
                "title": format!("{} {}", section.number, section.title),
                "elements": elements,
            }));
        }
    }
    let indicators: Vec<Value> = definitions
        .indicators
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "unit": i.unit,
                "bindings": [{"label": "指标值", "text": format!("{{{{ ind(\"{}\").display }}}}", i.name)}],
            })
        })
        .collect();
    json!({"groups": groups, "indicators": indicators})
}

/// What an editor page shows besides the part itself.
#[derive(Default)]
struct Shown {
    /// The text to show instead of the stored one (a refused save keeps the author's text).
    text: Option<String>,
    base_version: Option<i64>,
    problems: Vec<String>,
    conflict: Option<String>,
    notice: Option<String>,
}

async fn editor(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    part: &Part,
    shown: Shown,
) -> Result<Map<String, Value>, WebError> {
    let code = &data.school.code;
    let year = data.school.report_year;
    let authoring = authoring(state);
    let content = authoring.content(code, year).await.map_err(refused)?;
    let views = authoring
        .part_views(code, year, &content)
        .await
        .map_err(refused)?;
    let view = views
        .iter()
        .find(|v| v.part.key == part.key)
        .ok_or(WebError::NotFound)?;
    let stored = state.store().report_text(code, year, &part.path).await?;
    let version = stored
        .as_ref()
        .filter(|s| !s.deleted)
        .map_or(0, |s| s.version);
    let default_text = content
        .get(&part.path)
        .and_then(|f| f.text().ok())
        .unwrap_or_default()
        .to_string();
    let text = shown.text.clone().unwrap_or_else(|| default_text.clone());
    let owners = owners(state, code).await?;
    let owner = owners.get(&part.key).cloned();
    let preview = nianbao_report::preview::preview(
        state.definitions(),
        data,
        year,
        &content,
        &part.path,
        &text,
    );
    let (preview_html, chars, gaps, preview_error) = match preview {
        Ok(p) => (
            nianbao_report::html::fragment(&p.blocks),
            p.chars,
            p.gaps,
            None,
        ),
        Err(e) => (String::new(), 0, Vec::new(), Some(e.to_string())),
    };
    let titles: BTreeMap<String, String> = views
        .iter()
        .map(|v| (v.part.key.clone(), v.part.title.clone()))
        .collect();
    let comments: Vec<Value> = state
        .store()
        .comments(code, year)
        .await?
        .iter()
        .filter(|c| c.part == part.key)
        .map(|c| comment_json(c, &titles))
        .collect();
    let cases: Vec<Value> = match &part.section {
        Some(section) => authoring
            .cases(code, year)
            .await
            .map_err(refused)?
            .into_iter()
            .filter(|c| &c.meta.section == section)
            .map(|c| json!({"slug": c.slug, "title": c.meta.title, "photos": c.meta.images.len()}))
            .collect(),
        None => Vec::new(),
    };
    let can_write = access::can_write_part(&session.user, owner.as_deref());
    let mut context = frame(session, Some(data));
    context.insert(
        "part".into(),
        json!({
            "key": part.key,
            "title": part.title,
            "kind": part.kind.label(),
            "required": part.required,
            "section": part.section,
            "state": state_json(view),
            "owner": owner,
            "own_text": view.own_text,
        }),
    );
    context.insert("text".into(), json!(text));
    context.insert(
        "version".into(),
        json!(shown.base_version.unwrap_or(version)),
    );
    context.insert("saved_version".into(), json!(version));
    context.insert(
        "saved_by".into(),
        json!(
            stored
                .as_ref()
                .map(|s| (s.author.clone(), beijing_time(&s.saved_at)))
        ),
    );
    context.insert("preview".into(), json!(preview_html));
    context.insert("preview_error".into(), json!(preview_error));
    context.insert("chars".into(), json!(chars));
    context.insert("gaps".into(), json!(gaps));
    context.insert("comments".into(), Value::Array(comments));
    context.insert("cases".into(), Value::Array(cases));
    context.insert("picker".into(), picker(state));
    context.insert("can_write".into(), json!(can_write));
    context.insert(
        "can_review".into(),
        json!(access::can_review(&session.user)),
    );
    context.insert(
        "can_comment".into(),
        json!(access::can_comment(&session.user)),
    );
    context.insert("problems".into(), json!(shown.problems));
    context.insert("conflict".into(), json!(shown.conflict));
    context.insert("notice".into(), json!(shown.notice));
    Ok(context)
}

#[derive(Deserialize)]
pub struct EditorQuery {
    done: Option<String>,
}

fn notice_of(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "saved" => "已保存为新版本；本部分回到「草稿」状态",
            "submit" => "已提交审阅",
            "approve" => "已定稿",
            "return" => "已退回修改，理由已记入意见",
            "comment" => "意见已添加",
            "resolved" => "意见已标为解决",
            "reverted" => "已恢复为所选版本（保存为新版本）",
            _ => return None,
        }
        .to_string(),
    )
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
    Query(query): Query<EditorQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let part = authoring(&state).part(&key).map_err(refused)?;
    let shown = Shown {
        notice: notice_of(query.done.as_deref()),
        ..Shown::default()
    };
    let context = editor(&state, &session, &data, &part, shown).await?;
    Ok(state.render("writing_part.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct SaveForm {
    csrf: String,
    text: String,
    version: i64,
}

/// Text from a browser form: CRLF line ends become LF.
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
    Form(form): Form<SaveForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    let authoring = authoring(&state);
    let part = authoring.part(&key).map_err(refused)?;
    let owners = owners(&state, &code).await?;
    if !access::can_write_part(&session.user, owners.get(&key).map(String::as_str)) {
        return Err(WebError::Forbidden);
    }
    let text = normalise(&form.text);
    let year = data.school.report_year;
    let result = authoring
        .save_text(&code, year, &part, form.version, &text, &session.user.name)
        .await;
    let (status, shown) = match result {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/schools/{code}/writing/{key}?done=saved")).into_response(),
            );
        }
        Err(AuthoringError::Invalid { problems, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Shown {
                text: Some(text),
                base_version: Some(form.version),
                problems: problems.iter().map(ToString::to_string).collect(),
                ..Shown::default()
            },
        ),
        Err(AuthoringError::Store(StoreError::TextConflict(conflict))) => (
            StatusCode::CONFLICT,
            Shown {
                text: Some(text),
                base_version: Some(form.version),
                conflict: Some(format!(
                    "这段文字已由 {} 于 {} 保存为第 {} 版（您打开时是第 {} 版），您的修改没有保存。您的文字仍在下方编辑框中：请复制保存，刷新页面后在最新版本上修改。",
                    conflict.saved_by,
                    beijing_time(&conflict.saved_at),
                    conflict.found,
                    conflict.expected
                )),
                ..Shown::default()
            },
        ),
        Err(other) => return Err(refused(other)),
    };
    let context = editor(&state, &session, &data, &part, shown).await?;
    Ok((status, state.render("writing_part.html", context)?).into_response())
}

#[derive(Deserialize)]
pub struct PreviewForm {
    csrf: String,
    text: String,
}

/// The live preview: the text checked and rendered with the bound values, as JSON.
pub async fn preview(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
    Form(form): Form<PreviewForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    let authoring = authoring(&state);
    let part = authoring.part(&key).map_err(refused)?;
    let year = data.school.report_year;
    let content = authoring.content(&code, year).await.map_err(refused)?;
    let text = normalise(&form.text);
    let problems: Vec<String> =
        nianbao_report::preview::validate(state.definitions(), &content, &part.path, &text)
            .iter()
            .map(ToString::to_string)
            .collect();
    let rendered = if problems.is_empty() {
        nianbao_report::preview::preview(
            state.definitions(),
            &data,
            year,
            &content,
            &part.path,
            &text,
        )
        .map_err(|e| e.to_string())
    } else {
        Err(String::new())
    };
    let body = match rendered {
        Ok(p) => json!({
            "html": nianbao_report::html::fragment(&p.blocks),
            "chars": p.chars,
            "gaps": p.gaps,
            "problems": problems,
        }),
        Err(message) => {
            let mut problems = problems;
            if !message.is_empty() {
                problems.push(message);
            }
            json!({"html": "", "chars": 0, "gaps": [], "problems": problems})
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct StateForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn move_state(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
    Form(form): Form<StateForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    let authoring = authoring(&state);
    let part = authoring.part(&key).map_err(refused)?;
    let action = Action::parse(&form.action)
        .ok_or_else(|| WebError::BadRequest(format!("未知的操作「{}」", form.action)))?;
    let owners = owners(&state, &code).await?;
    let allowed = match action {
        Action::Submit => {
            access::can_write_part(&session.user, owners.get(&key).map(String::as_str))
        }
        Action::Approve | Action::Return => access::can_review(&session.user),
    };
    if !allowed {
        return Err(WebError::Forbidden);
    }
    authoring
        .move_part(
            &code,
            data.school.report_year,
            &part,
            action,
            Some(form.reason.as_str()),
            &session.user.name,
        )
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!(
        "/schools/{code}/writing/{key}?done={}",
        form.action
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct CommentForm {
    csrf: String,
    body: String,
    #[serde(default)]
    quote: String,
}

pub async fn comment(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
    Form(form): Form<CommentForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !access::can_comment(&session.user) {
        return Err(WebError::Forbidden);
    }
    let part = authoring(&state).part(&key).map_err(refused)?;
    if form.body.chars().count() > 2_000 || form.quote.chars().count() > 2_000 {
        return Err(WebError::BadRequest("意见和引文各不超过 2,000 字".into()));
    }
    state
        .store()
        .add_comment(
            &code,
            data.school.report_year,
            &part.key,
            Some(form.quote.as_str()),
            &form.body,
            &session.user.name,
        )
        .await?;
    Ok(Redirect::to(&format!("/schools/{code}/writing/{key}?done=comment")).into_response())
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: String,
}

pub async fn resolve(
    State(state): State<AppState>,
    session: Session,
    Path((code, id)): Path<(String, i64)>,
    Form(form): Form<ResolveForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    readable_school(&state, &session, &code).await?;
    let comment = state.store().comment(&code, id).await?;
    let owners = owners(&state, &code).await?;
    let allowed = access::can_review(&session.user)
        || comment.author == session.user.name
        || access::can_write_part(&session.user, owners.get(&comment.part).map(String::as_str));
    if !allowed {
        return Err(WebError::Forbidden);
    }
    state
        .store()
        .resolve_comment(&code, id, &session.user.name)
        .await?;
    Ok(Redirect::to(&format!(
        "/schools/{code}/writing/{}?done=resolved",
        comment.part
    ))
    .into_response())
}

/// `/schools/{code}/writing/{part}/history`: every version, newest first, each with what
/// it changed from the one before.
pub async fn history(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let part = authoring(&state).part(&key).map_err(refused)?;
    let versions = state
        .store()
        .text_history(&code, data.school.report_year, &part.path)
        .await?;
    let newest = versions.first().map_or(0, |v| v.version);
    let rows: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let before = versions.get(i + 1).map_or("", |b| b.body.as_str());
            json!({
                "version": v.version,
                "author": v.author,
                "at": beijing_time(&v.saved_at),
                "chars": v.body.chars().count(),
                "diff": crate::diff::html(before, &v.body),
                "newest": v.version == newest,
            })
        })
        .collect();
    let owners = owners(&state, &code).await?;
    let mut context = frame(&session, Some(&data));
    context.insert("part".into(), json!({"key": part.key, "title": part.title}));
    context.insert("versions".into(), Value::Array(rows));
    context.insert("newest".into(), json!(newest));
    context.insert(
        "can_write".into(),
        json!(access::can_write_part(
            &session.user,
            owners.get(&key).map(String::as_str)
        )),
    );
    Ok(state
        .render("writing_history.html", context)?
        .into_response())
}

#[derive(Deserialize)]
pub struct RevertForm {
    csrf: String,
    /// The version to bring back.
    version: i64,
    /// The newest version the author saw.
    base: i64,
}

pub async fn revert(
    State(state): State<AppState>,
    session: Session,
    Path((code, key)): Path<(String, String)>,
    Form(form): Form<RevertForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    let authoring = authoring(&state);
    let part = authoring.part(&key).map_err(refused)?;
    let owners = owners(&state, &code).await?;
    if !access::can_write_part(&session.user, owners.get(&key).map(String::as_str)) {
        return Err(WebError::Forbidden);
    }
    let year = data.school.report_year;
    let versions = state.store().text_history(&code, year, &part.path).await?;
    let old = versions
        .iter()
        .find(|v| v.version == form.version)
        .ok_or_else(|| WebError::BadRequest(format!("第 {} 版不存在", form.version)))?;
    authoring
        .save_text(&code, year, &part, form.base, &old.body, &session.user.name)
        .await
        .map_err(|e| match e {
            AuthoringError::Store(StoreError::TextConflict(c)) => WebError::BadRequest(format!(
                "{} 于 {} 已保存了第 {} 版，请刷新后再恢复",
                c.saved_by,
                beijing_time(&c.saved_at),
                c.found
            )),
            other => refused(other),
        })?;
    Ok(Redirect::to(&format!("/schools/{code}/writing/{key}?done=reverted")).into_response())
}
