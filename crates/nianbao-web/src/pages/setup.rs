//! Setting a school up in the browser: the administrator creates a school; the quality
//! office (or the school's administrator) keeps its profile, departments and majors, and
//! starts a new report year. Every change is made against what the page showed, so a
//! second person's change in between is refused rather than overwritten.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::{Dataset, Major, OrgPath, School, Year};
use nianbao_store::{Restructure, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError, access};

/// Who may change a school's set-up: its quality office and its administrator.
fn may_set_up(session: &Session) -> bool {
    access::can_approve(&session.user) || access::can_manage_users(&session.user)
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice_of(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "学校已创建。下一步：添加专业部和专业，再为各部门创建账号",
        "profile" => "学校概况已保存",
        "department" => "专业部已更新",
        "major" => "专业已更新",
        "year" => "已开始新的报告年度：各表单的最右一列是新年度，旁边是上一年度的数据，供对照填写",
        _ => return None,
    })
}

/// The school's set-up as the page showed it, sent back with every change.
#[derive(Deserialize)]
pub struct Seen {
    /// The profile the page showed, as JSON.
    seen_school: String,
    /// The majors the page showed, as JSON.
    seen_majors: String,
}

impl Seen {
    fn parse(&self) -> Result<(School, Vec<Major>), WebError> {
        let stale = |_| WebError::BadRequest("表单已过期，请刷新页面后再改".into());
        Ok((
            serde_json::from_str(&self.seen_school).map_err(stale)?,
            serde_json::from_str(&self.seen_majors).map_err(stale)?,
        ))
    }
}

fn seen_context(context: &mut Map<String, Value>, data: &Dataset) {
    context.insert(
        "seen_school".into(),
        json!(serde_json::to_string(&data.school).unwrap_or_default()),
    );
    context.insert(
        "seen_majors".into(),
        json!(serde_json::to_string(&data.majors).unwrap_or_default()),
    );
}

/// Applies a change, turning "someone changed it meanwhile" and "that year is locked" into a
/// message for the page.
async fn apply(
    state: &AppState,
    session: &Session,
    code: &str,
    change: Restructure,
) -> Result<Option<String>, WebError> {
    match state
        .store()
        .restructure(code, &change, &session.user.name)
        .await
    {
        Ok(()) => Ok(None),
        Err(e @ (StoreError::StructureChanged(_) | StoreError::Refused(_))) => {
            Ok(Some(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

// ----- creating a school -----

pub async fn schools(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, WebError> {
    if !access::can_manage_users(&session.user) {
        return Err(WebError::Forbidden);
    }
    schools_page(&state, &session, None, StatusCode::OK).await
}

async fn schools_page(
    state: &AppState,
    session: &Session,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let list: Vec<Value> = state
        .store()
        .schools()
        .await?
        .into_iter()
        .filter(|s| access::can_read_school(&session.user, &s.code))
        .map(|s| json!({"code": s.code, "name": s.name}))
        .collect();
    let mut context = frame(session, None);
    context.insert("schools".into(), Value::Array(list));
    context.insert("problem".into(), json!(problem));
    context.insert(
        "can_create".into(),
        json!(session.user.school_code.is_none()),
    );
    Ok((status, state.render("schools.html", context)?).into_response())
}

#[derive(Deserialize)]
pub struct NewSchoolForm {
    csrf: String,
    code: String,
    name: String,
    province: String,
    city: String,
    district: String,
    report_year: String,
}

pub async fn create_school(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<NewSchoolForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    // Only an administrator of no particular school creates schools.
    if !access::can_manage_users(&session.user) || session.user.school_code.is_some() {
        return Err(WebError::Forbidden);
    }
    let refuse = |message: String| {
        schools_page(
            &state,
            &session,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let code = form.code.trim();
    let name = form.name.trim();
    if name.is_empty() {
        return refuse("学校名称不能为空".into()).await;
    }
    let Ok(year) = form
        .report_year
        .trim()
        .parse::<i64>()
        .map_err(|_| ())
        .and_then(|y| Year::new(y).map_err(|_| ()))
    else {
        return refuse(format!("报告年度「{}」不是有效的年份", form.report_year)).await;
    };
    let school = School {
        code: code.to_string(),
        name: name.to_string(),
        org_unit: OrgPath {
            province: form.province.trim().to_string(),
            city: form.city.trim().to_string(),
            district: form.district.trim().to_string(),
        },
        report_year: year,
        ..School::default()
    };
    match state
        .store()
        .create_school(&school, &session.user.name)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/schools/{code}/structure?done=created")).into_response())
        }
        Err(e @ (StoreError::BadSchoolCode(_) | StoreError::SchoolExists(_))) => {
            refuse(e.to_string()).await
        }
        Err(e) => Err(e.into()),
    }
}

// ----- the school's profile -----

pub async fn profile(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let mut context = frame(&session, Some(&data));
    context.insert("profile".into(), json!(data.school));
    context.insert(
        "designations".into(),
        json!(data.school.designations.join("\n")),
    );
    context.insert("can_edit".into(), json!(may_set_up(&session)));
    context.insert("notice".into(), json!(notice_of(query.done.as_deref())));
    seen_context(&mut context, &data);
    Ok(state.render("profile.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct ProfileForm {
    csrf: String,
    #[serde(flatten)]
    seen: Seen,
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    sponsor: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    designations: String,
    #[serde(default)]
    report_date: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    district: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !may_set_up(&session) {
        return Err(WebError::Forbidden);
    }
    let (seen_school, seen_majors) = form.seen.parse()?;
    let mut school = seen_school.clone();
    let text = |s: &str| s.trim().to_string();
    let problem = if text(&form.name).is_empty() {
        Some("学校名称不能为空".to_string())
    } else {
        school.name = text(&form.name);
        school.name_en = text(&form.name_en);
        school.sponsor = text(&form.sponsor);
        school.address = text(&form.address);
        school.phone = text(&form.phone);
        school.website = text(&form.website);
        school.report_date = text(&form.report_date);
        school.summary = text(&form.summary);
        school.designations = form
            .designations
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        school.org_unit = OrgPath {
            province: text(&form.province),
            city: text(&form.city),
            district: text(&form.district),
        };
        let change = Restructure {
            expected_school: seen_school,
            majors: seen_majors.clone(),
            expected_majors: seen_majors,
            school,
            renamed_majors: Vec::new(),
            renamed_departments: Vec::new(),
        };
        apply(&state, &session, &code, change).await?
    };
    match problem {
        None => Ok(Redirect::to(&format!("/schools/{code}/profile?done=profile")).into_response()),
        Some(problem) => {
            let mut context = frame(&session, Some(&data));
            context.insert("profile".into(), json!(data.school));
            context.insert(
                "designations".into(),
                json!(data.school.designations.join("\n")),
            );
            context.insert("can_edit".into(), json!(true));
            context.insert("problem".into(), json!(problem));
            seen_context(&mut context, &data);
            Ok((StatusCode::CONFLICT, state.render("profile.html", context)?).into_response())
        }
    }
}

// ----- departments and majors -----

fn structure_context(state: &AppState, session: &Session, data: &Dataset) -> Map<String, Value> {
    let definitions = state.definitions();
    let mut context = frame(session, Some(data));
    let majors: Vec<Value> = data
        .majors
        .iter()
        .map(|m| {
            let edition = definitions.majors.category(&m.category).map(|c| c.edition);
            let facts = data
                .facts
                .keys()
                .filter(|k| k.major.as_deref() == Some(m.name.as_str()))
                .count();
            json!({
                "name": m.name,
                "category": m.category,
                "edition": edition,
                "department": m.department,
                "retired": data.school.retired_majors.contains(&m.name),
                "facts": facts,
            })
        })
        .collect();
    let editions: Vec<Value> = [2021u16, 2010]
        .iter()
        .map(|edition| {
            let names: Vec<&str> = definitions
                .majors
                .all_names()
                .into_iter()
                .filter(|n| {
                    definitions
                        .majors
                        .category(n)
                        .is_some_and(|c| c.edition == *edition)
                })
                .collect();
            json!({"edition": edition, "categories": names})
        })
        .collect();
    let departments: Vec<Value> = data
        .school
        .departments
        .iter()
        .map(|d| {
            json!({
                "name": d,
                "majors": data.majors.iter().filter(|m| &m.department == d).count(),
            })
        })
        .collect();
    context.insert("majors".into(), Value::Array(majors));
    context.insert("editions".into(), Value::Array(editions));
    context.insert("departments".into(), Value::Array(departments));
    context.insert("can_edit".into(), json!(may_set_up(session)));
    context.insert("next_year".into(), json!(data.school.report_year.get() + 1));
    seen_context(&mut context, data);
    context
}

pub async fn structure(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let mut context = structure_context(&state, &session, &data);
    context.insert("notice".into(), json!(notice_of(query.done.as_deref())));
    Ok(state.render("structure.html", context)?.into_response())
}

async fn refused_structure(
    state: &AppState,
    session: &Session,
    code: &str,
    problem: String,
) -> Result<Response, WebError> {
    let data = state.store().load_dataset(code).await?;
    let mut context = structure_context(state, session, &data);
    context.insert("problem".into(), json!(problem));
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        state.render("structure.html", context)?,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct DepartmentForm {
    csrf: String,
    #[serde(flatten)]
    seen: Seen,
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    new_name: String,
}

pub async fn department(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<DepartmentForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    readable_school(&state, &session, &code).await?;
    if !may_set_up(&session) {
        return Err(WebError::Forbidden);
    }
    let (seen_school, seen_majors) = form.seen.parse()?;
    let mut school = seen_school.clone();
    let mut majors = seen_majors.clone();
    let mut renamed = Vec::new();
    let name = form.name.trim().to_string();
    let new_name = form.new_name.trim().to_string();
    let problem = match form.action.as_str() {
        "add" if new_name.is_empty() => Some("请填写专业部名称".to_string()),
        "add" if school.departments.contains(&new_name) => {
            Some(format!("已有名为「{new_name}」的专业部"))
        }
        "add" => {
            school.departments.push(new_name);
            None
        }
        "rename" if new_name.is_empty() => Some("请填写新的名称".to_string()),
        "rename" if school.departments.contains(&new_name) => {
            Some(format!("已有名为「{new_name}」的专业部"))
        }
        "rename" => match school.departments.iter_mut().find(|d| **d == name) {
            Some(department) => {
                *department = new_name.clone();
                for major in majors.iter_mut().filter(|m| m.department == name) {
                    major.department = new_name.clone();
                }
                renamed.push((name, new_name));
                None
            }
            None => Some(format!("没有名为「{name}」的专业部")),
        },
        "remove" => {
            let used = majors.iter().filter(|m| m.department == name).count();
            let users = state
                .store()
                .users()
                .await?
                .into_iter()
                .filter(|u| u.school_code.as_deref() == Some(code.as_str()))
                .filter(|u| u.department.as_deref() == Some(name.as_str()))
                .count();
            let owners = state
                .store()
                .section_owners(&code)
                .await?
                .values()
                .filter(|d| **d == name)
                .count();
            if used + users + owners > 0 {
                Some(format!(
                    "「{name}」仍有 {used} 个专业、{users} 个账号、{owners} 个负责的部分，不能删除：请先改到其他专业部"
                ))
            } else {
                school.departments.retain(|d| *d != name);
                None
            }
        }
        other => return Err(WebError::BadRequest(format!("未知的操作「{other}」"))),
    };
    if let Some(problem) = problem {
        return refused_structure(&state, &session, &code, problem).await;
    }
    let change = Restructure {
        expected_school: seen_school,
        expected_majors: seen_majors,
        school,
        majors,
        renamed_majors: Vec::new(),
        renamed_departments: renamed,
    };
    match apply(&state, &session, &code, change).await? {
        None => {
            Ok(Redirect::to(&format!("/schools/{code}/structure?done=department")).into_response())
        }
        Some(problem) => refused_structure(&state, &session, &code, problem).await,
    }
}

#[derive(Deserialize)]
pub struct MajorForm {
    csrf: String,
    #[serde(flatten)]
    seen: Seen,
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    new_name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    department: String,
}

pub async fn major(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<MajorForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !may_set_up(&session) {
        return Err(WebError::Forbidden);
    }
    let definitions = state.definitions();
    let (seen_school, seen_majors) = form.seen.parse()?;
    let mut school = seen_school.clone();
    let mut majors = seen_majors.clone();
    let mut renamed = Vec::new();
    let name = form.name.trim().to_string();
    let new_name = form.new_name.trim().to_string();
    let category = form.category.trim().to_string();
    let department = form.department.trim().to_string();
    let check_category = |category: &str| {
        definitions
            .majors
            .category(category)
            .map(|_| ())
            .ok_or_else(|| format!("「{category}」不是专业目录中的专业大类"))
    };
    let check_department = |department: &str| {
        if department.is_empty() || seen_school.departments.iter().any(|d| d == department) {
            Ok(())
        } else {
            Err(format!("学校没有名为「{department}」的专业部"))
        }
    };
    let outcome: Result<(), String> = match form.action.as_str() {
        "add" => {
            if new_name.is_empty() {
                Err("请填写专业名称".into())
            } else if majors.iter().any(|m| m.name == new_name) {
                Err(format!("已有名为「{new_name}」的专业"))
            } else {
                check_category(&category)
                    .and_then(|_| check_department(&department))
                    .map(|_| {
                        majors.push(Major {
                            name: new_name.clone(),
                            category: category.clone(),
                            department: department.clone(),
                        })
                    })
            }
        }
        "update" => {
            let clash = new_name != name && majors.iter().any(|m| m.name == new_name);
            match majors.iter_mut().find(|m| m.name == name) {
                None => Err(format!("没有名为「{name}」的专业")),
                Some(_) if new_name.is_empty() => Err("专业名称不能为空".into()),
                Some(_) if clash => Err(format!("已有名为「{new_name}」的专业")),
                Some(major) => check_category(&category)
                    .and_then(|_| check_department(&department))
                    .map(|_| {
                        major.category = category.clone();
                        major.department = department.clone();
                        if new_name != name {
                            major.name = new_name.clone();
                            renamed.push((name.clone(), new_name.clone()));
                            for retired in school.retired_majors.iter_mut().filter(|r| **r == name)
                            {
                                *retired = new_name.clone();
                            }
                        }
                    }),
            }
        }
        "retire" | "restore" => {
            if !majors.iter().any(|m| m.name == name) {
                Err(format!("没有名为「{name}」的专业"))
            } else {
                school.retired_majors.retain(|r| *r != name);
                if form.action == "retire" {
                    school.retired_majors.push(name.clone());
                }
                Ok(())
            }
        }
        "remove" => {
            let facts = data
                .facts
                .keys()
                .filter(|k| k.major.as_deref() == Some(name.as_str()))
                .count();
            if facts > 0 {
                Err(format!(
                    "「{name}」已有 {facts} 项数据，不能删除；如已不再招生，请标为停招"
                ))
            } else {
                majors.retain(|m| m.name != name);
                school.retired_majors.retain(|r| *r != name);
                Ok(())
            }
        }
        other => return Err(WebError::BadRequest(format!("未知的操作「{other}」"))),
    };
    if let Err(problem) = outcome {
        return refused_structure(&state, &session, &code, problem).await;
    }
    let change = Restructure {
        expected_school: seen_school.clone(),
        expected_majors: seen_majors,
        school,
        majors,
        renamed_majors: renamed,
        renamed_departments: Vec::new(),
    };
    match apply(&state, &session, &code, change).await? {
        None => Ok(Redirect::to(&format!("/schools/{code}/structure?done=major")).into_response()),
        Some(problem) => refused_structure(&state, &session, &code, problem).await,
    }
}

#[derive(Deserialize)]
pub struct YearForm {
    csrf: String,
    #[serde(flatten)]
    seen: Seen,
}

/// 开始新年度: the report year moves on by one; departments, majors and assignments stay,
/// the forms show the new year beside the last.
pub async fn next_year(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(form): Form<YearForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    readable_school(&state, &session, &code).await?;
    if !may_set_up(&session) {
        return Err(WebError::Forbidden);
    }
    let (seen_school, seen_majors) = form.seen.parse()?;
    let mut school = seen_school.clone();
    let next = i64::from(school.report_year) + 1;
    school.report_year = Year::new(next).map_err(|e| WebError::BadRequest(e.to_string()))?;
    school.report_date = String::new();
    let change = Restructure {
        expected_school: seen_school,
        majors: seen_majors.clone(),
        expected_majors: seen_majors,
        school,
        renamed_majors: Vec::new(),
        renamed_departments: Vec::new(),
    };
    match apply(&state, &session, &code, change).await? {
        None => Ok(Redirect::to(&format!("/schools/{code}?done=year")).into_response()),
        Some(problem) => refused_structure(&state, &session, &code, problem).await,
    }
}
