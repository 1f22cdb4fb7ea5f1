//! The holder app: balances, statements, reservation codes, FLASH confirmations waiting,
//! passwords of payments to the holder.
//! English only; every page needs a login session and none may be framed.

use super::texts::Lang;
use super::{
    FormFields, Framing, csrf_refused, error_page, form, login_redirect, render, session, view,
};
use crate::apidoc::page;
use crate::error::{ApiError, ApiResult};
use crate::service::admin::{self, IssuedCode};
use crate::service::flash::{self, Answer, Holder};
use crate::service::transactions::{self, AwaitedPassword};
use crate::service::wallets::{self, StatementQuery};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use utoipa::openapi::path::HttpMethod::{Get, Post};
use utoipa_axum::router::OpenApiRouter;
use wallet_core::ids::{PaymentId, UserId, WalletId};
use wallet_core::money::Currency;

const HOME: &str = "/frontend/app";
const STATEMENTS: &str = "/frontend/app/statements";
/// Statements per page.
const PAGE_SIZE: i64 = 20;
const LANG: Lang = Lang::En;
const FRAMING: Framing = Framing::Denied;

/// Routes of `/frontend/app`.
pub fn router() -> OpenApiRouter<AppState> {
    let r = page(
        OpenApiRouter::new(),
        HOME,
        get(home),
        &[view(Get, "The holder's wallets")],
    );
    let r = page(
        r,
        STATEMENTS,
        get(statements),
        &[view(Get, "A wallet's statements")],
    );
    let r = page(
        r,
        "/frontend/app/code",
        post(code),
        &[form(Post, "A new reservation code")],
    );
    let r = page(
        r,
        "/frontend/app/password/{payment}",
        post(give_password),
        &[form(Post, "The password of a payment to the holder")],
    );
    page(
        r,
        "/frontend/app/flash/{key}",
        post(flash_decide),
        &[form(Post, "The holder's answer to a FLASH confirmation")],
    )
}

/// The session of the request: `Err` is the answer to give instead (login, or an error page).
async fn logged_in(
    state: &AppState,
    headers: &HeaderMap,
    back_to: &str,
) -> Result<session::Session, Response> {
    match session::current(state, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(login_redirect(LANG, back_to)),
        Err(e) => Err(error_page(LANG, &e, FRAMING)),
    }
}

/// The session of a form's POST, with its CSRF token checked.
async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<session::Session, Response> {
    let s = logged_in(state, headers, HOME).await?;
    if !session::csrf_ok(&s.csrf, form.get("csrf").map(String::as_str)) {
        return Err(csrf_refused(LANG, FRAMING));
    }
    Ok(s)
}

fn no_wallet() -> ApiError {
    ApiError::Forbidden("you have no wallet".into())
}

struct BalanceRow {
    wallet: WalletId,
    currency: String,
    at_disposal: String,
    reserved: String,
}

#[derive(Template)]
#[template(path = "app_home.html")]
struct HomePage<'a> {
    lang: &'a str,
    csrf: &'a str,
    notice: Option<&'a str>,
    balances: Vec<BalanceRow>,
    currencies: Vec<String>,
    waiting: Vec<flash::Waiting>,
    passwords: Vec<AwaitedPassword>,
}

/// The balances of every wallet of the holder, and the currencies to offer for a code (EUR
/// first).
async fn balances_of(
    state: &AppState,
    user_id: UserId,
) -> ApiResult<(Vec<BalanceRow>, Vec<String>)> {
    let mut tx = state.store.read().await?;
    let mut rows = Vec::new();
    for wallet in tx.wallets_of_user(user_id).await? {
        for (currency, b) in wallets::balance_unchecked(&mut tx, wallet).await? {
            rows.push(BalanceRow {
                wallet,
                currency,
                at_disposal: b.at_disposal_decimal,
                reserved: b.reserved_decimal,
            });
        }
    }
    let mut currencies = vec!["EUR".to_string()];
    let mut others: Vec<String> = rows
        .iter()
        .map(|r| r.currency.clone())
        .filter(|c| c != "EUR")
        .collect();
    others.sort();
    others.dedup();
    currencies.extend(others);
    Ok((rows, currencies))
}

/// `GET /frontend/app` (`?done=accepted|rejected` after a FLASH decision).
async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match logged_in(&state, &headers, HOME).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let loaded = async {
        let (balances, currencies) = balances_of(&state, s.user_id).await?;
        let waiting = flash::waiting_of_user(&state.store, s.user_id).await?;
        let passwords = transactions::awaited_by(&state, s.user_id).await?;
        ApiResult::Ok((balances, currencies, waiting, passwords))
    }
    .await;
    let (balances, currencies, waiting, passwords) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(LANG, &e, FRAMING),
    };
    let notice = match q.get("done").map(String::as_str) {
        Some("accepted") => Some("Payment accepted"),
        Some("rejected") => Some("Payment rejected"),
        Some("password") => Some("Password accepted"),
        _ => None,
    };
    let page = HomePage {
        lang: LANG.code(),
        csrf: &s.csrf,
        notice,
        balances,
        currencies,
        waiting,
        passwords,
    };
    render(StatusCode::OK, &page, FRAMING)
}

struct StatementLine {
    date: String,
    details: String,
    amount: String,
    currency: String,
}

#[derive(Template)]
#[template(path = "app_statements.html")]
struct StatementsPage<'a> {
    lang: &'a str,
    wallet: WalletId,
    lines: Vec<StatementLine>,
    total: i64,
    newer: Option<String>,
    older: Option<String>,
}

/// `2024-05-01 12:34` (UTC).
fn utc_minute(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// `GET /frontend/app/statements?offset=N[&wallet=ID]`: the ledger entries of the holder's
/// first wallet (or of `wallet`, if hers), newest first.
async fn statements(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match logged_in(&state, &headers, STATEMENTS).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let asked = q.get("wallet").map(String::as_str);
    let loaded = async {
        let mut tx = state.store.read().await?;
        let mine = tx.wallets_of_user(s.user_id).await?;
        let wallet = match asked {
            None => *mine.first().ok_or_else(no_wallet)?,
            Some(w) => w
                .trim()
                .parse::<WalletId>()
                .ok()
                .filter(|w| mine.contains(w))
                .ok_or_else(|| ApiError::NotFound(format!("wallet {w} was not found")))?,
        };
        let query = StatementQuery {
            limit: Some(PAGE_SIZE.to_string()),
            offset: q.get("offset").cloned(),
            ..Default::default()
        };
        let page = wallets::statements_of(&mut tx, wallet, &query).await?;
        ApiResult::Ok((wallet, page))
    }
    .await;
    let (wallet, page) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(LANG, &e, FRAMING),
    };
    let offset = page.metadata.offset;
    let link = |offset: i64| {
        let mut params = Vec::new();
        if asked.is_some() {
            params.push(("wallet", wallet.to_string()));
        }
        if offset > 0 {
            params.push(("offset", offset.to_string()));
        }
        match serde_urlencoded::to_string(&params) {
            Ok(q) if !q.is_empty() => format!("{STATEMENTS}?{q}"),
            _ => STATEMENTS.to_string(),
        }
    };
    let newer = (offset > 0).then(|| link((offset - PAGE_SIZE).max(0)));
    let older = (offset + PAGE_SIZE < page.metadata.total).then(|| link(offset + PAGE_SIZE));
    let lines = page
        .statements
        .into_iter()
        .map(|st| StatementLine {
            date: utc_minute(st.date),
            details: st.details,
            amount: format!(
                "{}{}",
                if st.direction == "out" { "-" } else { "+" },
                st.amount
            ),
            currency: st.currency,
        })
        .collect();
    let page = StatementsPage {
        lang: LANG.code(),
        wallet,
        lines,
        total: page.metadata.total,
        newer,
        older,
    };
    render(StatusCode::OK, &page, FRAMING)
}

#[derive(Template)]
#[template(path = "app_code.html")]
struct CodePage<'a> {
    lang: &'a str,
    qr_svg: String,
    barcode_svg: String,
    code: &'a str,
    max_amount: Option<String>,
    secs: i64,
    /// Business-clock UNIX seconds of the code's expiry (informational; the countdown uses `secs`).
    expires_at: i64,
    expires_in: String,
}

/// An SVG from a generator, without any XML prolog, labelled for assistive technology.
fn labelled_svg(svg: &str, label: &str) -> String {
    let svg = svg.find("<svg").map_or(svg, |at| &svg[at..]);
    match svg.strip_prefix("<svg") {
        Some(rest) => format!("<svg role=\"img\" aria-label=\"{label}\"{rest}"),
        None => String::new(),
    }
}

/// The QR code of `text` as inline SVG.
fn qr_svg(text: &str) -> ApiResult<String> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build();
    Ok(labelled_svg(&svg, "QR code"))
}

/// The Code128 barcode (code set C: pairs of digits) of `digits` as inline SVG.
fn barcode_svg(digits: &str) -> ApiResult<String> {
    use barcoders::generators::svg::SVG;
    use barcoders::sym::code128::Code128;
    let barcode = Code128::new(format!("\u{0106}{digits}"))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("barcode: {e}")))?;
    let svg = SVG::new(80)
        .xdim(2)
        .generate(barcode.encode())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("barcode: {e}")))?;
    Ok(labelled_svg(&svg, "Barcode"))
}

fn code_page(state: &AppState, issued: &IssuedCode, max: Option<String>) -> ApiResult<Response> {
    let secs = (issued.expires_at - state.now()).max(0);
    let page = CodePage {
        lang: LANG.code(),
        qr_svg: qr_svg(&issued.qr)?,
        barcode_svg: barcode_svg(&issued.barcode)?,
        code: &issued.reservation_code,
        max_amount: max,
        secs,
        expires_at: issued.expires_at,
        expires_in: format!("Expires in {}:{:02}", secs / 60, secs % 60),
    };
    Ok(render(StatusCode::OK, &page, FRAMING))
}

/// `POST /frontend/app/code` (`max_amount`, `currency`): a reservation code for the holder's
/// first wallet. The code is a secret: it is shown, never logged.
async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormFields(f): FormFields,
) -> Response {
    let s = match form_session(&state, &headers, &f).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let max = f
        .get("max_amount")
        .map(|m| m.trim())
        .filter(|m| !m.is_empty());
    let currency = f
        .get("currency")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .unwrap_or("EUR");
    let shown = async {
        let wallet = {
            let mut tx = state.store.read().await?;
            *tx.wallets_of_user(s.user_id)
                .await?
                .first()
                .ok_or_else(no_wallet)?
        };
        let issued = admin::issue_code(&state, wallet, max, currency, None).await?;
        let max = match max {
            Some(m) => {
                let c = Currency::parse(currency)?;
                let minor = wallet_core::money::parse_decimal(m, c)?;
                Some(format!(
                    "{} {}",
                    wallet_core::money::format_decimal(minor, c),
                    c.code()
                ))
            }
            None => None,
        };
        code_page(&state, &issued, max)
    }
    .await;
    shown.unwrap_or_else(|e| error_page(LANG, &e, FRAMING))
}

/// `POST /frontend/app/flash/{key}` (`decision=accept|reject`): the holder's answer to a FLASH
/// confirmation, as her SMS would give it.
async fn flash_decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    FormFields(f): FormFields,
) -> Response {
    let s = match form_session(&state, &headers, &f).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let (answer, done) = match f.get("decision").map(String::as_str) {
        Some("accept") => (Answer::Accept, "accepted"),
        Some("reject") => (Answer::Reject, "rejected"),
        _ => {
            return error_page(
                LANG,
                &ApiError::invalid("decision must be accept or reject"),
                FRAMING,
            );
        }
    };
    let key = match super::transaction_key(&key) {
        Ok(k) => k,
        Err(e) => return error_page(LANG, &e, FRAMING),
    };
    let decided = flash::decide(
        &state.store,
        state.now(),
        &key,
        Holder::User(s.user_id),
        answer,
    )
    .await;
    back_home(decided, done)
}

/// Home with the notice `done` once an answer worked, else the error's page.
fn back_home<T>(answer: ApiResult<T>, done: &str) -> Response {
    match answer {
        Ok(_) => Redirect::to(&format!("{HOME}?done={done}")).into_response(),
        Err(e) => error_page(LANG, &e, FRAMING),
    }
}

/// `POST /frontend/app/password/{payment}` (`password=…`): the signed-in beneficiary gives the
/// password of a payment to her wallet.
async fn give_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(payment): Path<String>,
    FormFields(f): FormFields,
) -> Response {
    let s = match form_session(&state, &headers, &f).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let Some(payment) = payment.parse::<i64>().ok().map(PaymentId::new) else {
        return error_page(
            LANG,
            &ApiError::NotFound("payment not found".into()),
            FRAMING,
        );
    };
    let password = f.get("password").map(String::as_str).unwrap_or("");
    let given =
        transactions::give_password_as_beneficiary(&state, s.user_id, payment, password).await;
    back_home(given, "password")
}
