//! What can go wrong in a request, and the page (and status) each failure shows. Internal
//! details go to the server's log, never to the page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use nianbao_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("请先登录")]
    SignIn,
    #[error("您没有权限进行这项操作")]
    Forbidden,
    #[error("页面不存在")]
    NotFound,
    #[error("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")]
    Csrf,
    #[error("登录失败次数过多，请 {0} 分钟后再试")]
    TooManyAttempts(u64),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("服务器内部错误：{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::SignIn => StatusCode::SEE_OTHER,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Store(StoreError::UnknownSchool(_) | StoreError::UnknownChange(_)) => {
                StatusCode::NOT_FOUND
            }
            WebError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            WebError::Store(StoreError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Store(
                StoreError::ErrorNotAcceptable(_)
                | StoreError::EmptyExplanation
                | StoreError::NotRevertible(_)
                | StoreError::UserExists(_)
                | StoreError::DepartmentRequired(_)
                | StoreError::WeakPassword(_)
                | StoreError::Refused(_),
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Store(_) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self, WebError::SignIn) {
            return Redirect::to("/login").into_response();
        }
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            eprintln!("请求失败：{self}");
            "服务器内部错误，请稍后再试；如果问题持续，请联系管理员查看服务日志".to_string()
        } else {
            self.to_string()
        };
        let page = format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\">\
             <h1>{title}</h1><p class=\"error\">{message}</p><p><a href=\"/\">返回首页</a></p></main></body></html>",
            title = status
                .canonical_reason()
                .map_or("出错了", |_| title_of(status)),
            message = escape(&message),
        );
        let mut response = (status, Html(page)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
        }
        response
    }
}

fn title_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "无权访问",
        StatusCode::NOT_FOUND => "未找到",
        StatusCode::CONFLICT => "数据已被他人修改",
        StatusCode::TOO_MANY_REQUESTS => "请稍后再试",
        StatusCode::SERVICE_UNAVAILABLE => "数据库正忙",
        StatusCode::INTERNAL_SERVER_ERROR => "服务器错误",
        _ => "请求有误",
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_store_answers_503_with_its_message_and_a_retry_hint() {
        let response = WebError::Store(StoreError::Busy).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from_static("2"))
        );
        let message = StoreError::Busy.to_string();
        assert!(message.contains("没有保存"), "{message}");
    }
}
