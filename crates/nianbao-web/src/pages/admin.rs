//! Accounts: the administrator lists users, creates them (a department chosen from the
//! school's list), disables and enables them and resets their passwords; every user changes
//! their own password. Disabling or a new password ends the account's sessions.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::Role;
use nianbao_core::clock::beijing_time;
use nianbao_store::{NewUser, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::frame;
use crate::auth::Session;
use crate::{AppState, WebError, access};

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice_of(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "账号已创建",
        "disabled" => "账号已停用，其登录已全部失效",
        "enabled" => "账号已恢复使用",
        "password" => "密码已重设，该账号须用新密码重新登录",
        _ => return None,
    })
}

async fn page(
    state: &AppState,
    session: &Session,
    problem: Option<String>,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let own_school = session.user.school_code.as_deref();
    let users: Vec<Value> = state
        .store()
        .accounts()
        .await?
        .into_iter()
        .filter(|a| own_school.is_none() || a.user.school_code.as_deref() == own_school)
        .map(|a| {
            json!({
                "name": a.user.name,
                "role": a.user.role.label(),
                "school": a.user.school_code,
                "department": a.user.department,
                "disabled": a.disabled,
                "created_at": beijing_time(&a.created_at),
                "is_self": a.user.name == session.user.name,
            })
        })
        .collect();
    let mut schools: Vec<Value> = Vec::new();
    for school in state.store().schools().await? {
        if !access::can_read_school(&session.user, &school.code) {
            continue;
        }
        let departments = state
            .store()
            .load_dataset(&school.code)
            .await
            .map(|d| super::departments(&d))
            .unwrap_or_default();
        schools
            .push(json!({ "code": school.code, "name": school.name, "departments": departments }));
    }
    let mut context = frame(session, None);
    context.insert("users".into(), Value::Array(users));
    context.insert("schools".into(), Value::Array(schools));
    context.insert(
        "roles".into(),
        json!(
            Role::ALL
                .iter()
                .filter(|r| **r != Role::Counsellor && !r.points_only())
                .map(|r| json!({"code": r.code(), "label": r.label()}))
                .collect::<Vec<_>>()
        ),
    );
    context.insert("problem".into(), json!(problem));
    context.insert("notice".into(), json!(notice));
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, state.render("users.html", context)?).into_response())
}

pub async fn users(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    if !access::can_manage_users(&session.user) {
        return Err(WebError::Forbidden);
    }
    page(&state, &session, None, notice_of(query.done.as_deref())).await
}

/// Why the web administrator neither creates counsellors nor resets their passwords.
const COUNSELLOR_ON_SERVER: &str = "心理辅导员账号可查阅学生心理档案，只能由服务器管理员在命令行创建（nianbao user add --role counsellor），网页管理员不能创建或重设其密码；如心理辅导员忘记密码，请由服务器管理员另建账号并停用原账号";

/// Why teachers' and students' accounts are made on the command line for now.
const POINTS_ON_SERVER: &str = "班主任、任课教师和学生账号须绑定班级或学号，请由服务器管理员在命令行创建（nianbao user add --role head_teacher --class 班级，或 --role student --student 学号）";

#[derive(Deserialize)]
pub struct UserForm {
    csrf: String,
    name: String,
    role: String,
    school: String,
    #[serde(default)]
    department: String,
    password: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<UserForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    if !access::can_manage_users(&session.user) {
        return Err(WebError::Forbidden);
    }
    let refuse = |message: String| page(&state, &session, Some(message), None);
    let role: Role = match form.role.parse() {
        Ok(role) => role,
        Err(e) => return refuse(format!("{e}")).await,
    };
    // A counsellor reads the psychological archive: an account the web administrator made
    // could read it too. Such accounts are made on the server (`nianbao user add`).
    if role == Role::Counsellor {
        return refuse(COUNSELLOR_ON_SERVER.into()).await;
    }
    if role.points_only() {
        return refuse(POINTS_ON_SERVER.into()).await;
    }
    let school = form.school.trim();
    // An administrator bound to a school creates accounts for that school only.
    if !school.is_empty() && !access::can_read_school(&session.user, school) {
        return Err(WebError::Forbidden);
    }
    if school.is_empty() && role != Role::Reviewer {
        return refuse("只有只读审阅账号可以不属于任何学校，请选择学校".into()).await;
    }
    if school.is_empty() && session.user.school_code.is_some() {
        return Err(WebError::Forbidden);
    }
    let name = form.name.trim();
    if name.is_empty() {
        return refuse("用户名不能为空".into()).await;
    }
    // The department must be one of the school's (the form offers them as "school|department").
    let department = form
        .department
        .split_once('|')
        .map_or(form.department.trim(), |(_, d)| d.trim());
    if !department.is_empty() {
        if school.is_empty() {
            return refuse("部门须属于所选学校".into()).await;
        }
        let known = state
            .store()
            .load_dataset(school)
            .await
            .map(|d| super::departments(&d))?;
        if !known.iter().any(|d| d == department) {
            return refuse(format!(
                "学校没有名为「{department}」的部门（已有：{}）",
                known.join("、")
            ))
            .await;
        }
    }
    let new = NewUser {
        name,
        role,
        school_code: (!school.is_empty()).then_some(school),
        department: Some(department),
        password: &form.password,
    };
    match state.store().add_user(&new).await {
        Ok(_) => Ok(Redirect::to("/admin/users?done=created").into_response()),
        Err(
            e @ (StoreError::UserExists(_)
            | StoreError::DepartmentRequired(_)
            | StoreError::WeakPassword(_)),
        ) => refuse(e.to_string()).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AccountForm {
    csrf: String,
    action: String,
    #[serde(default)]
    password: String,
}

/// Disables, enables or resets the password of another account.
pub async fn manage_user(
    State(state): State<AppState>,
    session: Session,
    Path(name): Path<String>,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    if !access::can_manage_users(&session.user) {
        return Err(WebError::Forbidden);
    }
    let account = state
        .store()
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.user.name == name)
        .ok_or(WebError::NotFound)?;
    if let Some(own) = &session.user.school_code
        && account.user.school_code.as_ref() != Some(own)
    {
        return Err(WebError::Forbidden);
    }
    if name == session.user.name && form.action == "disable" {
        return page(&state, &session, Some("不能停用自己的账号".into()), None).await;
    }
    let done = match form.action.as_str() {
        "disable" => {
            state.store().set_disabled(&name, true).await?;
            "disabled"
        }
        "enable" => {
            state.store().set_disabled(&name, false).await?;
            "enabled"
        }
        "password" if account.user.role == Role::Counsellor => {
            return page(&state, &session, Some(COUNSELLOR_ON_SERVER.into()), None).await;
        }
        "password" => match state.store().set_password(&name, &form.password).await {
            Ok(()) => "password",
            Err(e @ StoreError::WeakPassword(_)) => {
                return page(&state, &session, Some(e.to_string()), None).await;
            }
            Err(e) => return Err(e.into()),
        },
        other => return Err(WebError::BadRequest(format!("未知的操作「{other}」"))),
    };
    Ok(Redirect::to(&format!("/admin/users?done={done}")).into_response())
}

/// `/account/password`: a user changes their own password.
pub async fn password_page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, WebError> {
    let context = frame(&session, None);
    Ok(state.render("password.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    old: String,
    new: String,
    again: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let problem = if form.new != form.again {
        Some("两次输入的新密码不一致".to_string())
    } else {
        match state
            .store()
            .change_password(&session.user.name, &form.old, &form.new)
            .await
        {
            Ok(()) => return Ok(Redirect::to("/login?changed=1").into_response()),
            Err(e @ (StoreError::WrongPassword | StoreError::WeakPassword(_))) => {
                Some(e.to_string())
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut context = frame(&session, None);
    context.insert("problem".into(), json!(problem));
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        state.render("password.html", context)?,
    )
        .into_response())
}
