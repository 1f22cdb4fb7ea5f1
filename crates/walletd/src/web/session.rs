//! Login sessions of wallet holders on walletd's pages: a random id in an `HttpOnly`,
//! `SameSite=Lax` cookie (only its SHA-256 is stored), an idle timeout that slides on use and an
//! absolute one, a CSRF token per session; the password checked by `service::logins`.

use crate::credentials::{hash_token, secrets_equal};
use crate::error::ApiResult;
use crate::service::logins::check_password;
use crate::state::AppState;
use axum::http::HeaderMap;
use std::net::IpAddr;
use wallet_core::ids::UserId;
use wallet_core::keys::random_base62;

/// Cookie of the login session.
pub const SESSION_COOKIE: &str = "walletd_session";
/// Cookie of the CSRF token of forms shown before logging in (double submit).
pub const CSRF_COOKIE: &str = "walletd_csrf";
/// A session ends after this many seconds without a request.
pub const IDLE_SECS: i64 = 15 * 60;
/// …and at the latest this long after logging in.
pub const ABSOLUTE_SECS: i64 = 12 * 3600;

/// A logged-in holder.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: UserId,
    /// The token every form of this session echoes in its `csrf` field.
    pub csrf: String,
    id_hash: String,
}

/// Session times: the sandbox clock may run ahead of wall time, never make a session outlive
/// its real life.
pub use crate::service::logins::now;

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for our pages (`Secure` behind a TLS proxy that says so).
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    format!(
        "{name}={value}; Path=/frontend; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session the request's cookie names, if it is still valid; its idle timeout slides.
pub async fn current(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Session>> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let id_hash = hash_token(id);
    let now = now(state);
    let row = {
        let mut tx = state.store.read().await?;
        tx.session(&id_hash, now).await?
    };
    let Some(row) = row else { return Ok(None) };
    let slid = (now + IDLE_SECS).min(row.created_at + ABSOLUTE_SECS);
    // Only write when the expiry moves by more than a minute: reading a page stays cheap.
    if slid > row.expires_at + 60 {
        let mut tx = state.store.write().await?;
        tx.extend_session(&id_hash, slid).await?;
        tx.commit().await?;
    }
    Ok(Some(Session {
        user_id: row.user_id,
        csrf: row.csrf,
        id_hash,
    }))
}

pub use crate::service::logins::LoginRefused;

/// Checks the holder's e-mail and password; on success opens a session and returns the cookie's
/// id. Too many recent failures (per e-mail or per address) refuse without checking
/// (`service::logins`).
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> ApiResult<Result<(String, Session), LoginRefused>> {
    let user_id = match check_password(state, email, password, ip).await? {
        Ok(user_id) => user_id,
        Err(refused) => return Ok(Err(refused)),
    };
    let now = now(state);
    let id = random_base62(&mut rand::rng(), 43);
    let session = Session {
        user_id,
        csrf: random_base62(&mut rand::rng(), 32),
        id_hash: hash_token(&id),
    };
    let mut tx = state.store.write().await?;
    tx.insert_session(
        &session.id_hash,
        user_id,
        &session.csrf,
        now,
        now + IDLE_SECS,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok((id, session)))
}

/// Ends the session.
pub async fn logout(state: &AppState, session: &Session) -> ApiResult<()> {
    let mut tx = state.store.write().await?;
    tx.delete_session(&session.id_hash).await?;
    tx.commit().await?;
    Ok(())
}

/// The CSRF token of forms shown to someone not logged in: the one in their cookie, or a new one
/// (then `Some(cookie)` must be set).
pub fn anonymous_csrf(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() >= 32) {
        Some(t) => (t.to_string(), None),
        None => {
            let t = random_base62(&mut rand::rng(), 32);
            let c = set_cookie(headers, CSRF_COOKIE, &t, ABSOLUTE_SECS);
            (t, Some(c))
        }
    }
}

/// Whether a form's `csrf` field matches the expected token (compared in constant time).
pub fn csrf_ok(expected: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| !expected.is_empty() && secrets_equal(g, expected))
}
