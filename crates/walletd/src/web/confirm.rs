//! `/frontend/{en/,,ru/}wallet/confirm/{key}`: the spec's "Redirecting user to transaction page".
//! Not logged in, the page asks for credentials in place; logged in, it shows the transaction
//! (now `waiting`, `type: page`) with Accept and Reject. After the decision it redirects to the
//! transaction's `redirect_uri`, or shows a notice; with `?display=iframe|popup` the notice also
//! tells the embedding page or the opener (`walletd.js`).

use super::texts::{Lang, Texts};
use super::{FormFields, Framing, error_page, login_page, render, session};
use crate::error::ApiError;
use crate::service::page::{self, Choice, Presented, Shown};
use crate::service::transactions::inquiries::{PageForm, field_name, share_name};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::{BTreeMap, HashMap};
use wallet_core::inquiries::{IDENTITY_PARTS, Inquiry, ItemType};
use wallet_core::money::{Currency, format_decimal};
use wallet_core::{TransactionStatus, WalletId};

/// How the page was opened: as a page of its own, in an iframe, or in a pop-up window.
fn display(q: &HashMap<String, String>) -> &'static str {
    match q.get("display").map(String::as_str) {
        Some("iframe") => "iframe",
        Some("popup") => "popup",
        _ => "",
    }
}

fn path_of(lang: Lang, key: &str, display: &str) -> String {
    let base = format!("{}/wallet/confirm/{key}", lang.prefix());
    if display.is_empty() {
        base
    } else {
        format!("{base}?display={display}")
    }
}

fn money(amount: i64, currency: Currency) -> String {
    format!("{} {}", format_decimal(amount, currency), currency.code())
}

struct PaymentLine {
    description: String,
    amount: String,
}

struct AllowanceView {
    description: Option<String>,
    lines: Vec<String>,
    optional: bool,
}

/// One text field of an inquiry's item.
struct FieldView {
    name: String,
    label: String,
}

struct InquiryView {
    description: Option<String>,
    /// The name of the box that shares an optional inquiry.
    share: Option<String>,
    fields: Vec<FieldView>,
}

fn inquiry_views(t: &Texts, inquiries: &[Inquiry]) -> Vec<InquiryView> {
    inquiries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut fields = Vec::new();
            for (j, item) in q.items.iter().enumerate() {
                let title = item.title.as_deref().unwrap_or(&item.identifier);
                let parts: Vec<(&str, &str)> = match item.kind {
                    ItemType::PersonCode => vec![("", t.person_code)],
                    ItemType::UserIdentity => IDENTITY_PARTS
                        .iter()
                        .zip([t.name, t.surname, t.nationality, t.person_code])
                        .map(|(p, l)| (*p, l))
                        .collect(),
                };
                for (part, label) in parts {
                    fields.push(FieldView {
                        name: field_name(i, j, part),
                        label: format!("{title} — {label}"),
                    });
                }
            }
            InquiryView {
                description: q.description.clone(),
                share: (q.need == wallet_core::inquiries::Need::Optional).then(|| share_name(i)),
                fields,
            }
        })
        .collect()
}

/// The lines that tell an allowance's terms.
fn terms_lines(
    t: &Texts,
    currency: Currency,
    max_price: Option<i64>,
    limits: &[wallet_core::allowance::WindowLimit],
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(max) = max_price {
        lines.push(format!("{}: {}", t.allowance_max, money(max, currency)));
    }
    for l in limits {
        lines.push(format!(
            "{}: {} / {} {}",
            t.allowance_limit,
            money(l.max_price, currency),
            l.time,
            t.seconds
        ));
    }
    lines
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    lang: &'a str,
    t: &'a Texts,
    action: &'a str,
    csrf: &'a str,
    project: &'a str,
    wallet: WalletId,
    payments: Vec<PaymentLine>,
    totals: Vec<String>,
    allowance: Option<AllowanceView>,
    /// The terms of the allowance the page suggests.
    suggested: Option<Vec<String>>,
    inquiries: Vec<InquiryView>,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage<'a> {
    lang: &'a str,
    title: &'a str,
    message: String,
    key: &'a str,
    status: &'a str,
    display: &'a str,
    redirect: &'a str,
    continue_label: &'a str,
}

fn confirm_page(lang: Lang, action: &str, csrf: &str, p: &Presented) -> Response {
    let t = lang.texts();
    let mut totals: BTreeMap<&str, (Currency, i64)> = BTreeMap::new();
    let payments = p
        .payments
        .iter()
        .map(|pay| {
            let e = totals
                .entry(pay.currency.code())
                .or_insert((pay.currency, 0));
            e.1 += pay.price;
            PaymentLine {
                description: pay.description.clone().unwrap_or_else(|| "—".into()),
                amount: money(pay.price, pay.currency),
            }
        })
        .collect();
    let allowance = p.allowance.as_ref().map(|a| AllowanceView {
        description: a.description.clone(),
        lines: terms_lines(t, a.currency, a.max_price, &a.limits),
        optional: a.optional,
    });
    let suggested = p.suggested.as_ref().map(|s| {
        let mut lines = terms_lines(t, s.currency, s.terms.max_price, &s.terms.limits);
        lines.push(format!(
            "{}: {} {}",
            t.valid_for,
            s.valid_for / 86_400,
            t.days
        ));
        lines
    });
    let page = ConfirmPage {
        lang: lang.code(),
        t,
        action,
        csrf,
        project: &p.project_name,
        wallet: p.wallet_id,
        payments,
        totals: totals.values().map(|(c, a)| money(*a, *c)).collect(),
        allowance,
        suggested,
        inquiries: inquiry_views(t, &p.inquiries),
    };
    render(StatusCode::OK, &page, Framing::Allowed)
}

/// The notice after a decision (or instead of the form, when it is too late to decide).
fn notice(
    lang: Lang,
    key: &str,
    status: TransactionStatus,
    display: &str,
    redirect: Option<&str>,
) -> Response {
    let t = lang.texts();
    let message = match status {
        TransactionStatus::Reserved | TransactionStatus::Confirmed => t.accepted.to_string(),
        TransactionStatus::WaitingFunds => t.waiting_funds.to_string(),
        TransactionStatus::Rejected => t.rejected.to_string(),
        other => format!("{} {other}.", t.other_status),
    };
    let page = NoticePage {
        lang: lang.code(),
        title: t.confirm_title,
        message,
        key,
        status: status.as_str(),
        display,
        redirect: redirect.unwrap_or(""),
        continue_label: t.continue_,
    };
    render(StatusCode::OK, &page, Framing::Allowed)
}

/// `GET …/wallet/confirm/{key}`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    lang: Lang,
) -> Response {
    let display = display(&q);
    let here = path_of(lang, &key, display);
    let session = match session::current(&state, &headers).await {
        Ok(s) => s,
        Err(e) => return error_page(lang, &e, Framing::Allowed),
    };
    let Some(session) = session else {
        return login_page(
            &headers,
            lang,
            StatusCode::OK,
            &here,
            "",
            None,
            Framing::Allowed,
        );
    };
    let presented = match super::transaction_key(&key) {
        Ok(k) => page::present(&state, &k, session.user_id).await,
        Err(e) => Err(e),
    };
    match presented {
        Ok((Shown::Decide, p)) => confirm_page(lang, &here, &session.csrf, &p),
        Ok((Shown::Notice(status), _)) => notice(lang, &key, status, display, None),
        Ok((Shown::ByAllowance(status), p)) => decided(
            lang,
            &key,
            status,
            display,
            p.transaction.redirect_uri.as_deref(),
        ),
        Err(e) => error_page(lang, &e, Framing::Allowed),
    }
}

/// `POST …/wallet/confirm/{key}` with `decision=accept|reject` (and `with_allowance=1`,
/// `with_suggested=1`, the inquiries' fields).
pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    FormFields(f): FormFields,
    lang: Lang,
) -> Response {
    let display = display(&q);
    let session = match session::current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return super::login_redirect(lang, &path_of(lang, &key, display));
        }
        Err(e) => return error_page(lang, &e, Framing::Allowed),
    };
    if !session::csrf_ok(&session.csrf, f.get("csrf").map(String::as_str)) {
        return super::csrf_refused(lang, Framing::Allowed);
    }
    let transaction_key = match super::transaction_key(&key) {
        Ok(k) => k,
        Err(e) => return error_page(lang, &e, Framing::Allowed),
    };
    let key = &transaction_key;
    let result = match f.get("decision").map(String::as_str) {
        Some("accept") => {
            let ticked = |name: &str| f.get(name).is_some_and(|v| v == "1");
            let choice = Choice {
                with_allowance: ticked("with_allowance"),
                with_suggested: ticked("with_suggested"),
                answers: &PageForm(&f),
            };
            page::accept(&state, key, session.user_id, &choice).await
        }
        Some("reject") => page::reject(&state, key, session.user_id).await,
        _ => Err(ApiError::invalid("decision must be accept or reject")),
    };
    let data = match result {
        Ok(d) => d,
        Err(e) => return error_page(lang, &e, Framing::Allowed),
    };
    decided(
        lang,
        key,
        data.status,
        display,
        data.redirect_uri.as_deref(),
    )
}

/// After the decision: back to the client's `redirect_uri`, or the notice.
fn decided(
    lang: Lang,
    key: &str,
    status: TransactionStatus,
    display: &str,
    redirect: Option<&str>,
) -> Response {
    match (redirect, display) {
        // A page of its own goes back to the client's site (303: the browser GETs it).
        (Some(uri), "") => Redirect::to(uri).into_response(),
        _ => notice(lang, key, status, display, redirect),
    }
}
