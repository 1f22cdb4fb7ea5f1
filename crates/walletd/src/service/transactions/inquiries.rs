//! A transaction's inquiries: checked at creation (returned as given), answered by the holder on
//! the confirmation page, and read by the client (`GET transaction/{key}/inquired-information`).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::Value;
use std::collections::HashMap;
use wallet_client::types as wire;
use wallet_core::TransactionKey;
use wallet_core::inquiries::{self, Answers, Inquiry};
use wallet_store::{ClientRow, TransactionRow, Tx};

/// Checks `inquiries` of `POST transaction`: an array of
/// `{identifier, type: required|optional, description?, items[{identifier, type, title?}]}`,
/// item types `user_identity` and `person_code`.
pub(crate) fn check(value: &Value) -> ApiResult<()> {
    let parsed = parse(value).map_err(|e| ApiError::invalid(format!("inquiries: {e}")))?;
    inquiries::check(&parsed).map_err(|e| ApiError::invalid(format!("inquiries: {e}")))
}

fn parse(value: &Value) -> Result<Vec<Inquiry>, String> {
    if !value.is_array() {
        return Err("must be an array".into());
    }
    serde_json::from_value(value.clone()).map_err(|e| {
        format!(
            "{e} (each is {{identifier, type: required|optional, description, items: [{{identifier, type: user_identity|person_code, title}}]}})"
        )
    })
}

/// The inquiries of stored transaction `t` (none when it has none).
pub(crate) fn of(t: &TransactionRow) -> ApiResult<Vec<Inquiry>> {
    let Some(text) = &t.inquiries_json else {
        return Ok(Vec::new());
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored inquiries: {e}")))?;
    parse(&value).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored inquiries: {e}")))
}

/// The form field of item `item` of inquiry `inquiry` (`part`: `""` for a person code, else the
/// part of an identity), and of the box that shares an optional inquiry.
pub fn field_name(inquiry: usize, item: usize, part: &str) -> String {
    if part.is_empty() {
        format!("inquiry.{inquiry}.{item}")
    } else {
        format!("inquiry.{inquiry}.{item}.{part}")
    }
}

pub fn share_name(inquiry: usize) -> String {
    format!("inquiry.{inquiry}.share")
}

/// The confirmation page's form, as posted.
pub struct PageForm<'a>(pub &'a HashMap<String, String>);

impl inquiries::Form for PageForm<'_> {
    fn shared(&self, inquiry: usize) -> bool {
        self.0.get(&share_name(inquiry)).is_some_and(|v| v == "1")
    }
    fn field(&self, inquiry: usize, item: usize, part: &str) -> Option<&str> {
        self.0
            .get(&field_name(inquiry, item, part))
            .map(String::as_str)
    }
}

/// Reads the holder's answers to locked transaction `t`'s inquiries from `form` (`None` when it
/// has none); a missing or malformed answer is `invalid_request`, naming the item.
pub(crate) fn answers(
    t: &TransactionRow,
    form: &dyn inquiries::Form,
) -> ApiResult<Option<Answers>> {
    let asked = of(t)?;
    if asked.is_empty() {
        return Ok(None);
    }
    inquiries::answer(&asked, form)
        .map(Some)
        .map_err(ApiError::invalid)
}

/// Records the holder's `answers` to transaction `key`, in the database transaction of her
/// acceptance.
pub(crate) async fn record(
    tx: &mut Tx,
    key: &TransactionKey,
    answers: &Answers,
    now: i64,
) -> ApiResult<()> {
    let json = serde_json::to_string(answers)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("inquiry answers: {e}")))?;
    tx.set_inquiry_answers(key, &json, now).await?;
    Ok(())
}

/// `GET transaction/{key}/inquired-information`: the items the holder gave (the accepted
/// inquiries' items), `{"items": []}` until she answered on the confirmation page.
pub async fn inquired_information(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
) -> ApiResult<wire::InquiredInformation> {
    let mut tx = state.store.read().await?;
    // As `GET transaction/{key}`: another project's transaction does not exist for the caller.
    tx.transaction(key)
        .await?
        .filter(|t| t.project_id == client.project_id)
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let Some(text) = tx.inquiry_answers(key).await? else {
        return Ok(wire::InquiredInformation { items: Vec::new() });
    };
    let answers: Answers = serde_json::from_str(&text)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored inquiry answers: {e}")))?;
    let items = answers
        .items
        .into_iter()
        .map(|r| wire::InquiryResult {
            value: serde_json::to_value(&r.value).unwrap_or(Value::Null),
            inquiry_identifier: r.inquiry_identifier,
            item_identifier: r.item_identifier,
            item_type: r.item_type.as_str().to_string(),
        })
        .collect();
    Ok(wire::InquiredInformation { items })
}
