//! `/frontend[/en|/ru]/oauth?response_type=code&client_id=…&scope=…&redirect_uri=…&state=…` (the
//! URL the PHP client's `getAuthorizationUri` builds) and `/frontend[/en|/ru]/oauth/{session}`
//! (a request the client prepared with `POST /oauth/v1/session`): not signed in, the page asks
//! for credentials in place (the holder session of every page); signed in, it lists the scopes
//! with Allow and Deny. The decision sends the browser back to the client's registered redirect
//! URI (302) with `code` and `state`, or `error=access_denied`. Never framed: a consent page in
//! another site's frame could be clicked blind.

use super::texts::{Lang, Texts};
use super::{
    FormFields, Framing, csrf_refused, error_page, login_page, login_redirect, render, session,
};
use crate::error::ApiError;
use crate::service::oauth::{self, AuthRequest, Authorization};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "oauth.html")]
struct ConsentPage<'a> {
    lang: &'a str,
    t: &'a Texts,
    action: &'a str,
    csrf: &'a str,
    project: &'a str,
    scopes: Vec<&'a str>,
    back_to: String,
}

/// The page's own URL: where its form posts and where signing in comes back to.
fn here(lang: Lang, prepared: Option<&str>, query: Option<&str>) -> String {
    let mut path = format!("{}/oauth", lang.prefix());
    if let Some(key) = prepared {
        path = format!("{path}/{key}");
    }
    match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path,
    }
}

/// Back to the client (RFC 6749 §4.1.2: 302), the code in the URL never cached or referred on.
fn found(uri: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(uri) else {
        return error_page(
            Lang::En,
            &ApiError::invalid("the redirect URI cannot be sent"),
            Framing::Denied,
        );
    };
    let mut res = StatusCode::FOUND.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// A prepared request's key as the path gives it; anything walletd could not have issued is
/// `not_found` without a look-up.
fn prepared_key(key: &str) -> Result<&str, ApiError> {
    if key.len() == 43 && key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(key)
    } else {
        Err(ApiError::NotFound(
            "this sign-in link is unknown, used or expired; start again from the site that sent you"
                .into(),
        ))
    }
}

/// Whether the signed-in holder (if any) may decide `req`, or the error page.
async fn holder_may_decide(
    state: &AppState,
    lang: Lang,
    req: &AuthRequest,
    holder: Option<&session::Session>,
) -> Result<bool, Response> {
    let Some(s) = holder else { return Ok(false) };
    oauth::may_decide(state, req, s.user_id)
        .await
        .map_err(|e| error_page(lang, &e, Framing::Denied))
}

/// Asks the holder: the sign-in form first (as the address a prepared request names), then the
/// scopes with Allow and Deny.
async fn ask(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    here: &str,
    req: AuthRequest,
) -> Response {
    let holder = match session::current(state, headers).await {
        Ok(s) => s,
        Err(e) => return error_page(lang, &e, Framing::Denied),
    };
    let may = match holder_may_decide(state, lang, &req, holder.as_ref()).await {
        Ok(may) => may,
        Err(page) => return page,
    };
    let t = lang.texts();
    let (Some(holder), true) = (holder.as_ref(), may) else {
        let email = req.email.as_deref().unwrap_or("");
        let note = holder.is_some().then_some(t.oauth_other_account);
        return login_page(
            headers,
            lang,
            StatusCode::OK,
            here,
            email,
            note,
            Framing::Denied,
        );
    };
    let back_to = url::Url::parse(&req.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let page = ConsentPage {
        lang: lang.code(),
        t,
        action: here,
        csrf: &holder.csrf,
        project: &req.project,
        scopes: req.scope.split(' ').collect(),
        back_to,
    };
    render(StatusCode::OK, &page, Framing::Denied)
}

/// Carries out the holder's decision (`decision=approve|deny`) on `req`.
async fn decide_on(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    here: &str,
    f: &HashMap<String, String>,
    req: Result<AuthRequest, Response>,
) -> Response {
    let holder = match session::current(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return login_redirect(lang, here),
        Err(e) => return error_page(lang, &e, Framing::Denied),
    };
    if !session::csrf_ok(&holder.csrf, f.get("csrf").map(String::as_str)) {
        return csrf_refused(lang, Framing::Denied);
    }
    let req = match req {
        Ok(r) => r,
        Err(page) => return page,
    };
    match holder_may_decide(state, lang, &req, Some(&holder)).await {
        Ok(true) => {}
        Ok(false) => return login_redirect(lang, here),
        Err(page) => return page,
    }
    let result = match f.get("decision").map(String::as_str) {
        Some("approve") => oauth::approve(state, &req, holder.user_id).await,
        Some("deny") => oauth::deny(state, &req).await,
        _ => Err(ApiError::invalid("decision must be approve or deny")),
    };
    match result {
        Ok(uri) => found(&uri),
        Err(e) => error_page(lang, &e, Framing::Denied),
    }
}

/// The authorization request of the query: to ask about, or answered at once.
async fn from_query(
    state: &AppState,
    lang: Lang,
    q: &HashMap<String, String>,
) -> Result<AuthRequest, Response> {
    match oauth::authorization_request(state, q).await {
        Ok(Authorization::Ask(r)) => Ok(*r),
        Ok(Authorization::Refuse(uri)) => Err(found(&uri)),
        Err(e) => Err(error_page(lang, &e, Framing::Denied)),
    }
}

/// The request a client prepared, by the key in the path.
async fn from_key(state: &AppState, lang: Lang, key: &str) -> Result<AuthRequest, Response> {
    let found = match prepared_key(key) {
        Ok(key) => oauth::prepared_request(state, key).await,
        Err(e) => Err(e),
    };
    found.map_err(|e| error_page(lang, &e, Framing::Denied))
}

/// `GET …/oauth?…`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(q): Query<HashMap<String, String>>,
    lang: Lang,
) -> Response {
    let here = here(lang, None, raw.as_deref());
    match from_query(&state, lang, &q).await {
        Ok(req) => ask(&state, &headers, lang, &here, req).await,
        Err(answer) => answer,
    }
}

/// `POST …/oauth?…` (the same query) with `csrf` and `decision`.
pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(q): Query<HashMap<String, String>>,
    FormFields(f): FormFields,
    lang: Lang,
) -> Response {
    let here = here(lang, None, raw.as_deref());
    let req = from_query(&state, lang, &q).await;
    decide_on(&state, &headers, lang, &here, &f, req).await
}

/// `GET …/oauth/{session}`.
pub async fn show_prepared(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    lang: Lang,
) -> Response {
    let req = match from_key(&state, lang, &key).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let here = here(lang, Some(&key), None);
    ask(&state, &headers, lang, &here, req).await
}

/// `POST …/oauth/{session}` with `csrf` and `decision`.
pub async fn decide_prepared(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    FormFields(f): FormFields,
    lang: Lang,
) -> Response {
    let req = from_key(&state, lang, &key).await;
    let here = match prepared_key(&key) {
        Ok(k) => here(lang, Some(k), None),
        Err(_) => here(lang, None, None),
    };
    decide_on(&state, &headers, lang, &here, &f, req).await
}
