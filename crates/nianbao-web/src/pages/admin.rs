//! Accounts, for the administrator: the list of users and a form to create one.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::Role;
use nianbao_store::{NewUser, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::frame;
use crate::auth::Session;
use crate::{AppState, WebError, access};

async fn page(
    state: &AppState,
    session: &Session,
    problem: Option<String>,
) -> Result<Response, WebError> {
    let users: Vec<Value> = state
        .store()
        .users()
        .await?
        .into_iter()
        .map(|u| json!({ "name": u.name, "role": u.role.label(), "school": u.school_code, "department": u.department }))
        .collect();
    let schools: Vec<Value> = state
        .store()
        .schools()
        .await?
        .into_iter()
        .filter(|s| access::can_read_school(&session.user, &s.code))
        .map(|s| json!({ "code": s.code, "name": s.name }))
        .collect();
    let mut context = frame(session, None);
    context.insert("users".into(), Value::Array(users));
    context.insert("schools".into(), Value::Array(schools));
    context.insert(
        "roles".into(),
        json!(
            Role::ALL
                .iter()
                .map(|r| json!({"code": r.code(), "label": r.label()}))
                .collect::<Vec<_>>()
        ),
    );
    context.insert("problem".into(), json!(problem));
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, state.render("users.html", context)?).into_response())
}

pub async fn users(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    if !access::can_manage_users(&session.user) {
        return Err(WebError::Forbidden);
    }
    page(&state, &session, None).await
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf: String,
    name: String,
    role: String,
    school: String,
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
    let role: Role = match form.role.parse() {
        Ok(role) => role,
        Err(e) => return page(&state, &session, Some(format!("{e}"))).await,
    };
    let school = form.school.trim();
    // An administrator bound to a school creates accounts for that school only.
    if !school.is_empty() && !access::can_read_school(&session.user, school) {
        return Err(WebError::Forbidden);
    }
    if school.is_empty() && role != Role::Reviewer {
        return page(
            &state,
            &session,
            Some("只有只读审阅账号可以不属于任何学校，请选择学校".into()),
        )
        .await;
    }
    if school.is_empty() && session.user.school_code.is_some() {
        return Err(WebError::Forbidden);
    }
    let name = form.name.trim();
    if name.is_empty() {
        return page(&state, &session, Some("用户名不能为空".into())).await;
    }
    let new = NewUser {
        name,
        role,
        school_code: (!school.is_empty()).then_some(school),
        department: Some(form.department.as_str()),
        password: &form.password,
    };
    match state.store().add_user(&new).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(
            e @ (StoreError::UserExists(_)
            | StoreError::DepartmentRequired(_)
            | StoreError::WeakPassword(_)),
        ) => page(&state, &session, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}
