//! The wallet holder's web pages, server-rendered (askama templates, no build step): the
//! confirmation page of `type: page` transactions, the login that guards it, the OAuth
//! authorization page, and the holder app.
//! They call the same services as the REST API; only the way the caller is known differs (a login
//! session instead of a MAC signature).

mod app;
mod confirm;
mod oauth;
pub mod session;
pub mod texts;

use crate::apidoc::{PageOp, page};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use texts::{Lang, Texts};
use utoipa::openapi::path::HttpMethod::{self, Get, Post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_core::ids::TransactionKey;

/// The transaction key of a page's path. One walletd could not have issued is `not_found`, as
/// looking it up would answer.
fn transaction_key(text: &str) -> Result<TransactionKey, ApiError> {
    TransactionKey::parse(text)
        .ok_or_else(|| ApiError::NotFound(format!("transaction {text:?} was not found")))
}

/// Every page route, under `/frontend/`, each with its description.
pub fn router() -> OpenApiRouter<AppState> {
    let mut r = OpenApiRouter::new()
        .routes(routes!(css))
        .routes(routes!(js));
    r = page(
        r,
        "/frontend/logout",
        post(logout),
        &[form(Post, "Log out")],
    );
    for lang in Lang::ALL {
        let p = lang.prefix();
        r = page(
            r,
            &format!("{p}/login"),
            get(move |s, h, q| login_form(s, h, q, lang))
                .post(move |s, h, ip, f| login_submit(s, h, ip, f, lang)),
            &[view(Get, "The login form"), form(Post, "Log in")],
        );
        r = page(
            r,
            &format!("{p}/wallet/confirm/{{key}}"),
            get(move |s, h, k, q| confirm::show(s, h, k, q, lang))
                .post(move |s, h, k, q, f| confirm::decide(s, h, k, q, f, lang)),
            &[
                view(
                    Get,
                    "The confirmation page of a transaction (may be framed)",
                ),
                form(Post, "The holder's decision: accept or reject"),
            ],
        );
        r = page(
            r,
            &format!("{p}/oauth"),
            get(move |s, h, raw, q| oauth::show(s, h, raw, q, lang))
                .post(move |s, h, raw, q, f| oauth::decide(s, h, raw, q, f, lang)),
            &[
                view(
                    Get,
                    "The OAuth authorization page (response_type=code, client_id, scope, redirect_uri, state)",
                ),
                form(
                    Post,
                    "The holder's decision: approve or deny (302 to redirect_uri)",
                ),
            ],
        );
        r = page(
            r,
            &format!("{p}/oauth/{{session}}"),
            get(move |s, h, k| oauth::show_prepared(s, h, k, lang))
                .post(move |s, h, k, f| oauth::decide_prepared(s, h, k, f, lang)),
            &[
                view(
                    Get,
                    "An authorization request prepared by POST /oauth/v1/session",
                ),
                form(
                    Post,
                    "The holder's decision: approve or deny (302 to redirect_uri)",
                ),
            ],
        );
    }
    r.merge(app::router())
}

/// A page shown by GET.
fn view(method: HttpMethod, summary: &'static str) -> PageOp {
    PageOp {
        method,
        summary,
        form: false,
    }
}

/// A form posted.
fn form(method: HttpMethod, summary: &'static str) -> PageOp {
    PageOp {
        method,
        summary,
        form: true,
    }
}

/// A form body: every field as text (each handler reads what it needs). A NUL in it is refused
/// (400), as in the API (`json::refuse_encoded_nul`).
pub struct FormFields(pub HashMap<String, String>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormFields {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let axum::Form(fields) = axum::Form::<HashMap<String, String>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if fields
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            let refused = (
                StatusCode::BAD_REQUEST,
                "a form field holds the NUL character",
            );
            return Err(refused.into_response());
        }
        Ok(FormFields(fields))
    }
}

/// Whether a page may be shown inside another site's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The confirmation page: the spec lets clients embed it in an iframe.
    Allowed,
    Denied,
}

/// An HTML answer with the headers every page carries: a strict CSP (only walletd's own CSS and
/// JS), no caching, no referrer (a transaction key is in the URL), framing as `framing` says.
pub fn html(status: StatusCode, body: String, framing: Framing) -> Response {
    let ancestors = match framing {
        Framing::Allowed => "*",
        Framing::Denied => "'none'",
    };
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors {ancestors}"
    );
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if framing == Framing::Denied {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    res
}

/// Renders a template, or the error page if it cannot be rendered.
pub fn render(status: StatusCode, t: &impl Template, framing: Framing) -> Response {
    match t.render() {
        Ok(body) => html(status, body, framing),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(mut res: Response, cookies: impl IntoIterator<Item = String>) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: &'a str,
    title: &'a str,
    message: &'a str,
}

/// A failure shown as a page: the API error's status and description (never a stack of JSON).
pub fn error_page(lang: Lang, e: &ApiError, framing: Framing) -> Response {
    if matches!(e, ApiError::Internal(_)) {
        tracing::error!(error = %e, "page failed");
    }
    let message = match e {
        ApiError::Internal(_) => "Internal error; please try again later.".to_string(),
        e => e.to_string(),
    };
    let page = ErrorPage {
        lang: lang.code(),
        title: lang.texts().error_title,
        message: &message,
    };
    e.counted(render(e.status(), &page, framing))
}

/// The 403 page of a form whose CSRF token is missing or wrong.
pub fn csrf_refused(lang: Lang, framing: Framing) -> Response {
    error_page(
        lang,
        &ApiError::Forbidden(
            "the form has expired or did not come from this site; reload the page and try again"
                .into(),
        ),
        framing,
    )
}

/// The address the request came from (for counting failed logins), when the server knows it.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A safe place to go after logging in: one of our own pages, never another site.
pub fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/frontend/")
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/frontend/app".to_string(),
    }
}

/// Where a page that needs a session sends someone not logged in.
pub fn login_redirect(lang: Lang, next: &str) -> Response {
    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Redirect::to(&format!("{}/login?{q}", lang.prefix())).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'a str,
    t: &'a Texts,
    action: &'a str,
    next: &'a str,
    csrf: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

/// The login form of `lang`, coming back to `next` once logged in.
pub fn login_page(
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
    framing: Framing,
) -> Response {
    let (csrf, cookie) = session::anonymous_csrf(headers);
    let action = format!("{}/login", lang.prefix());
    let page = LoginPage {
        lang: lang.code(),
        t: lang.texts(),
        action: &action,
        next,
        csrf: &csrf,
        email,
        error,
    };
    with_cookies(render(status, &page, framing), cookie)
}

async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    lang: Lang,
) -> Response {
    let next = local_next(q.get("next").map(String::as_str));
    if let Ok(Some(_)) = session::current(&state, &headers).await {
        return Redirect::to(&next).into_response();
    }
    login_page(
        &headers,
        lang,
        StatusCode::OK,
        &next,
        "",
        None,
        Framing::Denied,
    )
}

/// Logs in (the login page's form, and the one the confirmation page shows in its place).
pub(crate) async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    FormFields(f): FormFields,
    lang: Lang,
) -> Response {
    let next = local_next(f.get("next").map(String::as_str));
    // The confirmation page may be framed; its login form is the same form.
    let framing = if next.contains("/wallet/confirm/") {
        Framing::Allowed
    } else {
        Framing::Denied
    };
    let expected = session::cookie(&headers, session::CSRF_COOKIE).unwrap_or("");
    if !session::csrf_ok(expected, f.get("csrf").map(String::as_str)) {
        return csrf_refused(lang, framing);
    }
    let email = f.get("email").map(String::as_str).unwrap_or("");
    let password = f.get("password").map(String::as_str).unwrap_or("");
    let t = lang.texts();
    match session::login(&state, email, password, ip).await {
        Ok(Ok((id, _))) => {
            let cookie = session::set_cookie(
                &headers,
                session::SESSION_COOKIE,
                &id,
                session::ABSOLUTE_SECS,
            );
            with_cookies(Redirect::to(&next).into_response(), [cookie])
        }
        Ok(Err(session::LoginRefused::WrongCredentials)) => login_page(
            &headers,
            lang,
            StatusCode::UNAUTHORIZED,
            &next,
            email,
            Some(t.wrong_credentials),
            framing,
        ),
        Ok(Err(session::LoginRefused::TooManyFailures)) => login_page(
            &headers,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            email,
            Some(t.too_many_logins),
            framing,
        ),
        Err(e) => error_page(lang, &e, framing),
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormFields(f): FormFields,
) -> Response {
    let lang = Lang::En;
    match session::current(&state, &headers).await {
        Ok(Some(s)) => {
            if !session::csrf_ok(&s.csrf, f.get("csrf").map(String::as_str)) {
                return csrf_refused(lang, Framing::Denied);
            }
            if let Err(e) = session::logout(&state, &s).await {
                return error_page(lang, &e, Framing::Denied);
            }
        }
        Ok(None) => {}
        Err(e) => return error_page(lang, &e, Framing::Denied),
    }
    let gone = session::set_cookie(&headers, session::SESSION_COOKIE, "", 0);
    with_cookies(
        Redirect::to(&format!("{}/login", lang.prefix())).into_response(),
        [gone],
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The pages' style sheet.
#[utoipa::path(get, path = "/frontend/static/walletd.css", tag = "holder pages",
    responses((status = 200, body = String, content_type = "text/css")))]
async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/walletd.css"),
    )
}

/// The pages' script.
#[utoipa::path(get, path = "/frontend/static/walletd.js", tag = "holder pages",
    responses((status = 200, body = String, content_type = "text/javascript")))]
async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/walletd.js"),
    )
}
