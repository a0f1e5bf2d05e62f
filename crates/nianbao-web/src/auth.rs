//! Signing in and out: session cookies (HttpOnly, SameSite=Strict), a CSRF token per
//! session checked on every form, and a limit on failed sign-ins per account and address.
//! Only the SHA-256 of a session token is stored; passwords are never logged.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use nianbao_store::User;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{AppState, WebError};

const SESSION_COOKIE: &str = "nianbao_session";
const LOGIN_COOKIE: &str = "nianbao_login";

/// The signed-in user of a request, with the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    /// The area a bureau user (a reviewer bound to an area) is bound to.
    pub area: Option<nianbao_bureau::areas::Area>,
}

impl Session {
    /// Fails unless `submitted` is this session's CSRF token.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Session, WebError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE) else {
            return Err(WebError::SignIn);
        };
        match state
            .store()
            .session(&token_hash(token.value()), now_seconds())
            .await?
        {
            Some((user, csrf)) => {
                // Only a reviewer bound to no school may be bound to an area.
                let area =
                    if user.role == nianbao_core::Role::Reviewer && user.school_code.is_none() {
                        state.store().user_area_of(user.id).await?
                    } else {
                        None
                    };
                Ok(Session { user, csrf, area })
            }
            None => Err(WebError::SignIn),
        }
    }
}

/// A random token of 32 bytes, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::new(name, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_path("/");
    cookie.set_secure(state.0.config.secure_cookies);
    cookie
}

/// Counts failed sign-ins per key in a sliding window. The keys are an account from one
/// address (locked after a few failures) and an account from anywhere (locked after more,
/// against guessing spread over many addresses). An address alone is never a key: behind a
/// proxy every user shares one, and one person's typos must not lock everyone out.
pub struct LoginLimiter {
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(window: Duration) -> LoginLimiter {
        LoginLimiter {
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long until `key` may try again, if it has `limit` failures in the window.
    pub fn locked_for(&self, key: &str, limit: usize) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = failures.get_mut(key)?;
        let now = Instant::now();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() < limit {
            return None;
        }
        times
            .first()
            .map(|first| self.window.saturating_sub(now.duration_since(*first)))
    }

    pub fn record_failure(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            // Forget stale entries rather than grow without bound under a flood.
            let window = self.window;
            failures.retain(|_, times| times.last().is_some_and(|t| t.elapsed() < window));
        }
        failures
            .entry(key.to_string())
            .or_default()
            .push(Instant::now());
    }

    pub fn clear(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(key);
    }
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    /// Set after a password change.
    changed: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let token = random_token();
    let notice = query
        .changed
        .is_some()
        .then_some("密码已修改，请用新密码登录");
    let page = state.render_login(&token, None, "", notice)?;
    Ok((jar.add(cookie(&state, LOGIN_COOKIE, token)), page).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    name: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    // Sign-in forms carry the token of a cookie set with the form (double submit).
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string());
    if !expected.is_some_and(|t| constant_time_eq(t.as_bytes(), form.csrf.as_bytes())) {
        return Err(WebError::Csrf);
    }
    let name = form.name.trim();
    let config = &state.0.config;
    let account_key = format!("name:{name}");
    let pair_key = match client {
        Some(addr) => format!("pair:{name}@{}", ip_of(addr)),
        None => format!("pair:{name}@"),
    };
    let keys = [
        (pair_key.as_str(), config.max_failed_logins),
        (account_key.as_str(), config.max_failed_logins_per_account),
    ];
    if let Some(wait) = keys
        .iter()
        .filter_map(|(k, limit)| state.0.limiter.locked_for(k, *limit))
        .max()
    {
        return Err(WebError::TooManyAttempts(
            wait.as_secs().div_ceil(60).max(1),
        ));
    }
    let Some(user) = state.store().authenticate(name, &form.password).await? else {
        for (key, _) in &keys {
            state.0.limiter.record_failure(key);
        }
        let token = random_token();
        let page = state.render_login(&token, Some("用户名或密码不正确"), name, None)?;
        return Ok((
            axum::http::StatusCode::UNAUTHORIZED,
            jar.add(cookie(&state, LOGIN_COOKIE, token)),
            page,
        )
            .into_response());
    };
    state.0.limiter.clear(&pair_key);
    let token = random_token();
    let now = now_seconds();
    state
        .store()
        .create_session(
            user.id,
            &token_hash(&token),
            &random_token(),
            now + state.0.config.session_hours * 3600,
            now,
        )
        .await?;
    let jar = jar
        .remove(Cookie::build(LOGIN_COOKIE).path("/"))
        .add(cookie(&state, SESSION_COOKIE, token));
    Ok((jar, Redirect::to("/")).into_response())
}

/// The peer's address when the server knows it (not in tests that call the router directly).
pub struct ClientAddr(Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
        ))
    }
}

fn ip_of(addr: SocketAddr) -> IpAddr {
    addr.ip()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    if let Some(token) = jar.get(SESSION_COOKIE) {
        state
            .store()
            .delete_session(&token_hash(token.value()))
            .await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_locks_after_too_many_failures_and_clears_on_success() {
        let limiter = LoginLimiter::new(Duration::from_secs(60));
        for _ in 0..2 {
            limiter.record_failure("a");
        }
        assert!(limiter.locked_for("a", 3).is_none());
        limiter.record_failure("a");
        assert!(limiter.locked_for("a", 3).is_some());
        assert!(
            limiter.locked_for("a", 4).is_none(),
            "a higher limit is not reached"
        );
        assert!(limiter.locked_for("b", 3).is_none());
        limiter.clear("a");
        assert!(limiter.locked_for("a", 3).is_none());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }
}
