//! Typical cases in the browser: a form per case (title, section, order, text with
//! bindings, photo captions), photo uploads (checked, turned upright, scaled and stripped of
//! metadata before they are stored), ordering within a section, deletion, and the stored
//! pictures served to the signed-in users of the school. Who may edit a case is who may
//! write its section.

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_authoring::{Authoring, AuthoringError, CaseEdit, CaseView, PhotoUpload};
use nianbao_core::Dataset;
use nianbao_core::clock::beijing_time;
use nianbao_report::photo::PhotoLimits;
use nianbao_store::StoreError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::writing::{owners, refused};
use super::{frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError, access};

fn authoring(state: &AppState) -> Authoring<'_> {
    Authoring::new(state.store(), state.definitions())
}

/// The sections a case can be filed under, for the form's list.
fn sections(state: &AppState) -> Vec<Value> {
    state
        .definitions()
        .sections
        .iter()
        .filter(|s| s.number != "0")
        .map(|s| json!({"number": s.number, "title": s.title}))
        .collect()
}

async fn may_write_section(
    state: &AppState,
    session: &Session,
    code: &str,
    section: &str,
) -> Result<bool, WebError> {
    let owners = owners(state, code).await?;
    Ok(access::can_write_part(
        &session.user,
        owners.get(section).map(String::as_str),
    ))
}

/// What the case form shows besides the case.
#[derive(Default)]
struct Shown {
    problem: Option<String>,
    notice: Option<String>,
    /// The author's input to keep after a refused save.
    title: Option<String>,
    section: Option<String>,
    order: Option<i64>,
    body: Option<String>,
    version: Option<i64>,
}

async fn form_context(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    case: Option<&CaseView>,
    section: Option<&str>,
    shown: Shown,
) -> Result<Map<String, Value>, WebError> {
    let code = &data.school.code;
    let section = shown
        .section
        .clone()
        .or_else(|| case.map(|c| c.meta.section.clone()))
        .or_else(|| section.map(str::to_string))
        .unwrap_or_default();
    let can_write = section.is_empty() || may_write_section(state, session, code, &section).await?;
    let photos: Vec<Value> = case
        .map(|c| {
            c.meta
                .images
                .iter()
                .enumerate()
                .map(|(i, image)| {
                    json!({
                        "index": i,
                        "file": image.file.trim_start_matches("images/"),
                        "caption": image.caption,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut context = frame(session, Some(data));
    context.insert(
        "case".into(),
        json!({
            "slug": case.map(|c| c.slug.clone()),
            "title": shown.title.clone().or_else(|| case.map(|c| c.meta.title.clone())).unwrap_or_default(),
            "section": section,
            "order": shown.order.or_else(|| case.map(|c| c.meta.order)).unwrap_or(1),
            "body": shown.body.clone().or_else(|| case.map(|c| c.body.clone())).unwrap_or_default(),
            "version": shown.version.or_else(|| case.map(|c| c.version)).unwrap_or(0),
            "photos": photos,
        }),
    );
    context.insert("sections".into(), json!(sections(state)));
    context.insert("picker".into(), super::writing::picker(state));
    context.insert("can_write".into(), json!(can_write));
    context.insert("problem".into(), json!(shown.problem));
    context.insert("notice".into(), json!(shown.notice));
    context.insert(
        "max_photo_mb".into(),
        json!(PhotoLimits::default().max_bytes / 1024 / 1024),
    );
    Ok(context)
}

#[derive(Deserialize)]
pub struct NewQuery {
    section: Option<String>,
}

/// `/schools/{code}/cases/new`: an empty case form.
pub async fn new(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let context = form_context(
        &state,
        &session,
        &data,
        None,
        query.section.as_deref(),
        Shown::default(),
    )
    .await?;
    Ok(state.render("case.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path((code, slug)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let case = authoring(&state)
        .case(&code, data.school.report_year, &slug)
        .await
        .map_err(|_| WebError::NotFound)?;
    let notice = match query.done.as_deref() {
        Some("saved") => Some("案例已保存；所在章节回到「草稿」状态".to_string()),
        Some("photo") => Some("照片已上传".to_string()),
        Some("removed") => Some("照片已删除".to_string()),
        Some("moved") => Some("顺序已调整".to_string()),
        _ => None,
    };
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    let context = form_context(&state, &session, &data, Some(&case), None, shown).await?;
    Ok(state.render("case.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct CaseForm {
    csrf: String,
    title: String,
    section: String,
    #[serde(default)]
    order: String,
    body: String,
    #[serde(default)]
    version: i64,
    /// The captions of the photos, in order, as `caption` fields.
    #[serde(default)]
    caption: Vec<String>,
}

async fn save_case(
    state: &AppState,
    session: &Session,
    code: &str,
    slug: Option<String>,
    form: CaseForm,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(state, session, code).await?;
    let year = data.school.report_year;
    let authoring = authoring(state);
    let existing = match &slug {
        Some(slug) => Some(
            authoring
                .case(code, year, slug)
                .await
                .map_err(|_| WebError::NotFound)?,
        ),
        None => None,
    };
    // Both the section the case leaves and the one it joins must be the writer's.
    let mut sections = vec![form.section.clone()];
    if let Some(case) = &existing {
        sections.push(case.meta.section.clone());
    }
    for section in &sections {
        if !may_write_section(state, session, code, section).await? {
            return Err(WebError::Forbidden);
        }
    }
    let body = form.body.replace("\r\n", "\n");
    let order: i64 = form.order.trim().parse().unwrap_or(1);
    let edit = CaseEdit {
        title: &form.title,
        section: &form.section,
        order,
        body: &body,
        captions: form.caption.clone(),
    };
    let result = authoring
        .save_case(
            code,
            year,
            slug.as_deref(),
            form.version,
            &edit,
            &session.user.name,
        )
        .await;
    let problem = match result {
        Ok(slug) => {
            return Ok(
                Redirect::to(&format!("/schools/{code}/cases/{slug}?done=saved")).into_response(),
            );
        }
        Err(AuthoringError::Store(StoreError::TextConflict(c))) => format!(
            "这个案例已由 {} 于 {} 保存为第 {} 版（您打开时是第 {} 版），您的修改没有保存。您的文字仍在下方：请复制保存，刷新页面后在最新版本上修改。",
            c.saved_by,
            beijing_time(&c.saved_at),
            c.found,
            c.expected
        ),
        Err(e @ (AuthoringError::Invalid { .. } | AuthoringError::Refused(_))) => e.to_string(),
        Err(other) => return Err(refused(other)),
    };
    let shown = Shown {
        problem: Some(problem),
        title: Some(form.title.clone()),
        section: Some(form.section.clone()),
        order: Some(order),
        body: Some(body),
        version: Some(form.version),
        ..Shown::default()
    };
    let context = form_context(state, session, &data, existing.as_ref(), None, shown).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        state.render("case.html", context)?,
    )
        .into_response())
}

/// Reads a form whose `caption` field may repeat.
fn case_form(fields: Vec<(String, String)>) -> Result<CaseForm, WebError> {
    let mut form = CaseForm {
        csrf: String::new(),
        title: String::new(),
        section: String::new(),
        order: String::new(),
        body: String::new(),
        version: 0,
        caption: Vec::new(),
    };
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => form.csrf = value,
            "title" => form.title = value,
            "section" => form.section = value,
            "order" => form.order = value,
            "body" => form.body = value,
            "version" => {
                form.version = value
                    .parse()
                    .map_err(|_| WebError::BadRequest("表单版本号无法识别，请刷新页面".into()))?
            }
            "caption" => form.caption.push(value),
            _ => {}
        }
    }
    Ok(form)
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    save_case(&state, &session, &code, None, case_form(fields)?).await
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    Path((code, slug)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    save_case(&state, &session, &code, Some(slug), case_form(fields)?).await
}

/// Checks the user may change the case; returns the case and the report year.
async fn writable_case(
    state: &AppState,
    session: &Session,
    code: &str,
    slug: &str,
) -> Result<(CaseView, nianbao_core::Year), WebError> {
    let data = readable_school(state, session, code).await?;
    let year = data.school.report_year;
    let case = authoring(state)
        .case(code, year, slug)
        .await
        .map_err(|_| WebError::NotFound)?;
    if !may_write_section(state, session, code, &case.meta.section).await? {
        return Err(WebError::Forbidden);
    }
    Ok((case, year))
}

pub async fn upload_photo(
    State(state): State<AppState>,
    session: Session,
    Path((code, slug)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let limit = PhotoLimits::default().max_bytes;
    let too_big = |_| {
        WebError::BadRequest(format!(
            "上传的照片过大或不完整：每张照片不得超过 {} MB",
            limit / 1024 / 1024
        ))
    };
    let (mut csrf, mut file, mut caption, mut version) = (None, None, String::new(), None);
    while let Some(field) = multipart.next_field().await.map_err(too_big)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(too_big)?),
            Some("caption") => caption = field.text().await.map_err(too_big)?,
            Some("version") => version = field.text().await.map_err(too_big)?.parse().ok(),
            Some("file") => file = Some(field.bytes().await.map_err(too_big)?),
            _ => {}
        }
    }
    session.check_csrf(csrf.as_deref().unwrap_or(""))?;
    let (case, year) = writable_case(&state, &session, &code, &slug).await?;
    let file = file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| WebError::BadRequest("请选择要上传的照片".into()))?;
    let base = version.unwrap_or(case.version);
    // Decoding and scaling a photo takes a moment: off the async workers.
    let prepared = tokio::task::spawn_blocking(move || {
        nianbao_report::photo::prepare(&file, &PhotoLimits::default())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    let outcome = match prepared {
        Ok(photo) => {
            let upload = PhotoUpload {
                photo,
                caption: &caption,
            };
            authoring(&state)
                .add_photo(&code, year, &slug, base, upload, &session.user.name)
                .await
        }
        Err(e) => Err(AuthoringError::Refused(e.to_string())),
    };
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/schools/{code}/cases/{slug}?done=photo")).into_response())
        }
        Err(AuthoringError::Store(StoreError::TextConflict(c))) => {
            Err(WebError::BadRequest(format!(
                "这个案例已由 {} 于 {} 修改，照片没有上传：请刷新页面后重试",
                c.saved_by,
                beijing_time(&c.saved_at)
            )))
        }
        Err(AuthoringError::Refused(message)) => {
            let data = readable_school(&state, &session, &code).await?;
            let shown = Shown {
                problem: Some(format!("照片没有上传：{message}")),
                ..Shown::default()
            };
            let context = form_context(&state, &session, &data, Some(&case), None, shown).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                state.render("case.html", context)?,
            )
                .into_response())
        }
        Err(other) => Err(refused(other)),
    }
}

#[derive(Deserialize)]
pub struct VersionForm {
    csrf: String,
    version: i64,
}

pub async fn remove_photo(
    State(state): State<AppState>,
    session: Session,
    Path((code, slug, index)): Path<(String, String, usize)>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let (_, year) = writable_case(&state, &session, &code, &slug).await?;
    authoring(&state)
        .remove_photo(&code, year, &slug, form.version, index, &session.user.name)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!("/schools/{code}/cases/{slug}?done=removed")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path((code, slug)): Path<(String, String)>,
    Form(form): Form<VersionForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let (case, year) = writable_case(&state, &session, &code, &slug).await?;
    authoring(&state)
        .delete_case(&code, year, &slug, form.version, &session.user.name)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!(
        "/schools/{code}/writing/{}?done=saved",
        case.meta.section
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    step: i64,
}

pub async fn move_case(
    State(state): State<AppState>,
    session: Session,
    Path((code, slug)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let (case, year) = writable_case(&state, &session, &code, &slug).await?;
    authoring(&state)
        .move_case(&code, year, &slug, form.step.signum(), &session.user.name)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!(
        "/schools/{code}/writing/{}?done=saved",
        case.meta.section
    ))
    .into_response())
}

/// A stored picture of the school's report, for the pages that show it.
pub async fn image(
    State(state): State<AppState>,
    session: Session,
    Path((code, name)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    if name.contains('/') || name.contains("..") {
        return Err(WebError::NotFound);
    }
    let image = state
        .store()
        .report_image(&code, data.school.report_year, &format!("images/{name}"))
        .await?
        .ok_or(WebError::NotFound)?;
    let mime = if image.bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if image.bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else {
        // SVG is served as a download, never rendered inline, so no script in it can run.
        return Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CONTENT_DISPOSITION, "attachment"),
            ],
            image.bytes,
        )
            .into_response());
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        image.bytes,
    )
        .into_response())
}
