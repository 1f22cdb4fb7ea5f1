//! Request validation of the transaction API, in one place: every check of what a client sends to
//! create, reserve, confirm or search, turning it into rows and domain values or refusing it with
//! `invalid_request` (or the spec's own error). Operations call these before they open a database
//! transaction, so a refused request costs no database work. The checks are public, and pure, so
//! that the fuzz targets (`fuzz/`) run them as the handlers do.

use super::beneficiary::{Beneficiary, parse_beneficiary};
use super::password::{parse_password, stored};
use crate::error::{ApiError, ApiResult};
use serde_json::Value;
use std::collections::BTreeMap;
use wallet_client::types::{CallbackUri, NewAllowance, NewPayment, NewTransaction};
use wallet_core::allowance::{Terms, WindowLimit};
use wallet_core::ids::{PaymentId, ProjectId, TransactionKey, WalletId};
use wallet_core::money::{Currency, parse_decimal};
use wallet_core::payment::{FreezeSpec, PriceRules, reduce_price, select_price};
use wallet_core::reserve::ReserveSpec;
use wallet_store::{ClientRow, NewAllowanceRow, NewPaymentRow, PaymentRow};

/// Most payments one transaction may group.
pub const MAX_PAYMENTS: usize = 100;

/// Longest free-text field (description, purpose, URIs).
pub const MAX_TEXT: usize = 2048;

/// Longest validity walletd accepts for an allowance: ten years.
pub const MAX_VALID_SECS: i64 = 3653 * 86_400;

fn check_text(field: &str, value: &Option<String>) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > MAX_TEXT => Err(ApiError::invalid(format!(
            "{field} is longer than {MAX_TEXT} characters"
        ))),
        _ => Ok(()),
    }
}

fn check_uri(field: &str, value: &Option<String>) -> ApiResult<()> {
    check_text(field, value)?;
    match value {
        Some(v) if !(v.starts_with("http://") || v.starts_with("https://")) => {
            Err(ApiError::invalid(format!(
                "{field} must be an absolute http:// or https:// URI"
            )))
        }
        _ => Ok(()),
    }
}

/// Amount of a payment request: exactly one of `price` (minor units) and `price_decimal`.
fn requested_amount(
    price: Option<i64>,
    price_decimal: &Option<String>,
    currency: Currency,
) -> ApiResult<i64> {
    let amount = match (price, price_decimal) {
        (Some(p), None) => p,
        (None, Some(d)) => parse_decimal(d, currency)?,
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give either price or price_decimal, not both",
            ));
        }
        (None, None) => return Err(ApiError::invalid("price or price_decimal is required")),
    };
    if amount <= 0 {
        return Err(ApiError::invalid("price must be positive"));
    }
    Ok(amount)
}

/// What `POST transaction` decides of the new transaction's row, checked.
pub struct NewTransactionTerms {
    pub reserve: ReserveSpec,
    pub callback_uri: Option<String>,
    /// `callback_uri: false`.
    pub callbacks_disabled: bool,
    pub restrictions: Option<Value>,
    pub auto_confirm: bool,
}

/// Checks the transaction-level fields of `POST transaction` (payments and the allowance are
/// checked as they are written).
pub fn transaction_terms(req: &NewTransaction, now: i64) -> ApiResult<NewTransactionTerms> {
    if req.payments.is_empty() && req.allowance.is_none() {
        return Err(ApiError::invalid(
            "payments is required (a non-empty array of payments or payment ids) unless an allowance is given",
        ));
    }
    let restrictions = req
        .restrictions
        .as_ref()
        .map(validate_restrictions)
        .transpose()?;
    if req.payments.len() > MAX_PAYMENTS {
        return Err(ApiError::invalid(format!(
            "a transaction groups at most {MAX_PAYMENTS} payments"
        )));
    }
    let nested = req.reserve.as_ref();
    let reserve = ReserveSpec::from_request(
        nested.and_then(|r| r.for_seconds),
        nested.and_then(|r| r.until),
        nested.is_some(),
        req.reserve_for,
        req.reserve_until,
        now,
    )?;
    check_uri("redirect_uri", &req.redirect_uri)?;
    let (callback_uri, callbacks_disabled) = match &req.callback_uri {
        None => (None, false),
        Some(CallbackUri::Disabled) => (None, true),
        Some(CallbackUri::Uri(u)) => {
            check_uri("callback_uri", &Some(u.clone()))?;
            (Some(u.clone()), false)
        }
    };
    if let Some(user) = &req.user
        && !user.get("email").is_some_and(Value::is_string)
    {
        return Err(ApiError::invalid(
            "user must be an object with a string email",
        ));
    }
    if let Some(inquiries) = &req.inquiries {
        super::inquiries::check(inquiries)?;
    }
    Ok(NewTransactionTerms {
        reserve,
        callback_uri,
        callbacks_disabled,
        restrictions,
        auto_confirm: req.auto_confirm.unwrap_or(false),
    })
}

/// A validated inline payment, before it has an id.
pub struct PaymentDraft {
    pub row: NewPaymentRow,
    pub explicit_beneficiary: bool,
    /// The beneficiary as given; a person or a barcode is looked up when it is written.
    pub(super) beneficiary: Beneficiary,
}

/// Validates an inline payment of `POST transaction` (or `POST payment`) into its row.
pub fn draft_payment(
    p: &NewPayment,
    key: &TransactionKey,
    project_id: ProjectId,
    project_wallet: WalletId,
    now: i64,
) -> ApiResult<PaymentDraft> {
    let currency = Currency::parse(&p.currency)?;
    let price = requested_amount(p.price, &p.price_decimal, currency)?;
    check_text("description", &p.description)?;
    check_text("purpose", &p.purpose)?;
    if let Some(rules) = &p.price_rules {
        rules.validate().map_err(ApiError::from)?;
    }
    let freeze = FreezeSpec::from_request(
        p.freeze.as_ref().map(|f| (f.for_seconds, f.until)),
        p.freeze_for,
        p.freeze_until,
        now,
    )
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let (freeze_for, freeze_until) = match freeze {
        Some(FreezeSpec::For(seconds)) => (Some(seconds), None),
        Some(FreezeSpec::Until(at)) => (None, Some(at)),
        None => (None, None),
    };
    // Its value is hashed apart (`password::hash_passwords`), before the database transaction.
    let password = parse_password(p.password.as_ref())?.map(|d| stored(&d.shown));
    let beneficiary = parse_beneficiary(p.beneficiary.as_ref())?;
    let (beneficiary_wallet_id, beneficiary_json) = match &beneficiary {
        Beneficiary::Project => (project_wallet, None),
        Beneficiary::Wallet(id) => (*id, Some(serde_json::json!({ "id": id }))),
        // A placeholder until the person is looked up (`create::write_payments`).
        Beneficiary::Person(c) => (project_wallet, Some(c.shown(None))),
        Beneficiary::Barcode(b) => (project_wallet, Some(serde_json::json!({ "barcode": b }))),
    };
    Ok(PaymentDraft {
        explicit_beneficiary: beneficiary_json.is_some(),
        beneficiary,
        row: NewPaymentRow {
            transaction_key: key.clone(),
            project_id,
            price,
            currency,
            description: p.description.clone(),
            parameters: p.parameters.as_ref().map(Value::to_string),
            price_rules: p
                .price_rules
                .as_ref()
                .map(|r| serde_json::to_string(r).expect("rules serialize")),
            purpose: p.purpose.clone(),
            beneficiary_wallet_id,
            beneficiary_json: beneficiary_json.map(|v| v.to_string()),
            password_json: password,
            freeze_for,
            freeze_until,
            created_at: now,
        },
    })
}

pub(crate) fn prefix_error(e: ApiError, prefix: &str) -> ApiError {
    e.prefixed(prefix)
}

/// Checks `restrictions` of `POST transaction`: `{"account_owner": {"type": "natural"|"legal",
/// "requirements": ["identity"]}}`. Anything walletd would not enforce is refused, not ignored.
pub fn validate_restrictions(r: &Value) -> ApiResult<Value> {
    let bad = |m: &str| ApiError::invalid(format!("restrictions: {m}"));
    let o = r.as_object().ok_or_else(|| bad("must be an object"))?;
    for k in o.keys() {
        if k != "account_owner" {
            return Err(bad(&format!("unknown restriction {k:?}")));
        }
    }
    if let Some(owner) = o.get("account_owner") {
        let owner = owner
            .as_object()
            .ok_or_else(|| bad("account_owner must be an object"))?;
        for (k, v) in owner {
            match k.as_str() {
                "type" => {
                    if !matches!(v.as_str(), Some("natural" | "legal")) {
                        return Err(bad("account_owner.type must be \"natural\" or \"legal\""));
                    }
                }
                "requirements" => {
                    let ok = v
                        .as_array()
                        .is_some_and(|a| a.iter().all(|x| x.as_str() == Some("identity")));
                    if !ok {
                        return Err(bad(
                            "account_owner.requirements must be an array of \"identity\"",
                        ));
                    }
                }
                other => {
                    return Err(bad(&format!(
                        "account_owner.{other} is not supported by walletd"
                    )));
                }
            }
        }
    }
    Ok(r.clone())
}

/// An amount given as minor units or as a decimal string (exactly one).
fn amount(
    field: &str,
    cents: Option<i64>,
    decimal: &Option<String>,
    c: Currency,
) -> ApiResult<Option<i64>> {
    match (cents, decimal) {
        (Some(v), None) => Ok(Some(v)),
        (None, Some(d)) => Ok(Some(parse_decimal(d, c)?)),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(ApiError::invalid(format!(
            "give either {field} or {field}_decimal, not both"
        ))),
    }
}

/// Validates an allowance as a client gives it and turns it into a row of transaction `key`.
pub fn draft_allowance(
    req: &NewAllowance,
    key: &TransactionKey,
    client: &ClientRow,
    optional: bool,
    now: i64,
) -> ApiResult<NewAllowanceRow> {
    let currency = Currency::parse(&req.currency)?;
    let max_price = amount("max_price", req.max_price, &req.max_price_decimal, currency)?;
    let limits = req
        .limits
        .iter()
        .map(|l| WindowLimit {
            max_price: l.max_price,
            time: l.time,
        })
        .collect();
    let terms = Terms { max_price, limits };
    terms
        .validate()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    if req
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_TEXT)
    {
        return Err(ApiError::invalid("description is too long"));
    }
    let given = [
        req.valid.is_some(),
        req.valid_for.is_some(),
        req.valid_until.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ApiError::invalid(
            "only one of valid, valid_for and valid_until may be given",
        ));
    }
    let (valid_for, valid_until) = match (&req.valid, req.valid_for, req.valid_until) {
        (Some(v), _, _) => match (v.for_seconds, v.until) {
            (Some(s), None) => (Some(s), None),
            (None, Some(u)) => (None, Some(u)),
            _ => {
                return Err(ApiError::invalid(
                    "valid must have exactly one of 'for' and 'until'",
                ));
            }
        },
        (None, Some(hours), _) => (Some(hours.saturating_mul(3600)), None),
        (None, None, Some(u)) => (None, Some(u)),
        (None, None, None) => (None, None),
    };
    if valid_for.is_some_and(|s| !(1..=MAX_VALID_SECS).contains(&s)) {
        return Err(ApiError::invalid(format!(
            "validity must be positive and at most {} days",
            MAX_VALID_SECS / 86_400
        )));
    }
    if valid_until.is_some_and(|u| u <= now || u - now > MAX_VALID_SECS) {
        return Err(ApiError::invalid(
            "valid.until must be in the future and at most ten years away",
        ));
    }
    Ok(NewAllowanceRow {
        transaction_key: key.clone(),
        project_id: client.project_id,
        client_id: client.id,
        optional,
        currency,
        max_price: terms.max_price,
        limits: terms.limits,
        description: req.description.clone(),
        valid_for,
        valid_until,
        created_at: now,
    })
}

/// The same or a lower price for `payment`, given as `price` (minor units) or `price_decimal`
/// in the payment's own currency: what confirm and finalize accept.
pub fn reduced_price(
    payment: &PaymentRow,
    price: Option<i64>,
    price_decimal: Option<&str>,
    currency: &str,
) -> ApiResult<i64> {
    let currency = Currency::parse(currency)?;
    if currency != payment.currency {
        return Err(ApiError::invalid(format!(
            "payment {} is in {}, not {currency}",
            payment.id, payment.currency
        )));
    }
    let amount = match (price, price_decimal) {
        (Some(p), None) => p,
        (None, Some(d)) => parse_decimal(d, currency)?,
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of price and price_decimal for each payment",
            ));
        }
    };
    Ok(reduce_price(payment.price, amount)?)
}

/// The price to reserve for each payment, applying `payment_prices` where `price_rules` allow.
pub fn selected_prices(
    payments: &[PaymentRow],
    chosen: Option<&BTreeMap<String, i64>>,
) -> ApiResult<Vec<i64>> {
    let mut chosen_by_id = BTreeMap::new();
    for (id, price) in chosen.into_iter().flatten() {
        let id: PaymentId = id.parse().map_err(|_| {
            ApiError::invalid(format!("payment_prices key {id:?} is not a payment id"))
        })?;
        if !payments.iter().any(|p| p.id == id) {
            return Err(ApiError::invalid(format!(
                "payment_prices names payment {id}, which is not in this transaction"
            )));
        }
        chosen_by_id.insert(id, *price);
    }
    payments
        .iter()
        .map(|p| {
            let rules: Option<PriceRules> = p
                .price_rules
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok());
            Ok(select_price(
                p.id,
                p.price,
                rules.as_ref(),
                chosen_by_id.get(&p.id).copied(),
            )?)
        })
        .collect()
}

/// Paging and filters of `GET transactions` / `GET payments`, as given in the query string.
/// The `#[param]`s describe them in the OpenAPI document as what they must parse to.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// The payer's wallet id.
    #[param(value_type = Option<i64>)]
    pub wallet: Option<String>,
    /// The beneficiary's wallet id.
    #[param(value_type = Option<i64>)]
    pub beneficiary: Option<String>,
    /// UNIX time (transactions: a week before `to` by default).
    #[param(value_type = Option<i64>)]
    pub from: Option<String>,
    /// UNIX time (transactions: now by default).
    #[param(value_type = Option<i64>)]
    pub to: Option<String>,
    /// 1 to 200 (20 by default).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
}

/// An optional integer query parameter (empty means absent).
pub fn int_param(name: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| ApiError::invalid(format!("{name} must be an integer")))
        })
        .transpose()
}

/// `limit` (1 to 200, 20 if absent) and `offset` (not negative, 0 if absent) of a page of results.
pub fn paging(limit: &Option<String>, offset: &Option<String>) -> ApiResult<(i64, i64)> {
    let limit = int_param("limit", limit)?.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit must be from 1 to 200"));
    }
    let offset = int_param("offset", offset)?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset must not be negative"));
    }
    Ok((limit, offset))
}

/// Turns query parameters into a store filter. `valid` lists the accepted statuses.
pub fn search_filter(
    client: &ClientRow,
    q: &SearchQuery,
    valid: &[&str],
    default_week: Option<i64>,
) -> ApiResult<wallet_store::SearchFilter> {
    let statuses: Vec<String> = q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if valid.contains(&s) {
                Ok(s.to_string())
            } else {
                Err(ApiError::invalid(format!("unknown status {s:?}")))
            }
        })
        .collect::<ApiResult<_>>()?;
    let (limit, offset) = paging(&q.limit, &q.offset)?;
    let mut to = int_param("to", &q.to)?;
    let mut from = int_param("from", &q.from)?;
    if let Some(now) = default_week {
        // `to` defaults to now and `from` to a week before `to` (the spec's defaults for transactions).
        let t = *to.get_or_insert(now);
        from.get_or_insert(t - 7 * 86_400);
    }
    Ok(wallet_store::SearchFilter {
        project_id: client.project_id,
        statuses,
        wallet: int_param("wallet", &q.wallet)?.map(WalletId::new),
        beneficiary: int_param("beneficiary", &q.beneficiary)?.map(WalletId::new),
        from,
        to,
        limit,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`draft_payment`] of transaction `k` of project 1, whose wallet is 2.
    fn draft(p: &NewPayment) -> ApiResult<PaymentDraft> {
        let key = TransactionKey::issued("k".into());
        draft_payment(p, &key, ProjectId::new(1), WalletId::new(2), 0)
    }

    fn payment(price: i64) -> NewPayment {
        NewPayment {
            price: Some(price),
            currency: "EUR".into(),
            ..Default::default()
        }
    }

    #[test]
    fn drafts_refuse_bad_amounts_and_currencies() {
        assert!(draft(&payment(0)).is_err());
        assert!(draft(&payment(-5)).is_err());
        let bad_currency = NewPayment {
            currency: "EURO".into(),
            ..payment(5)
        };
        assert!(draft(&bad_currency).is_err());
        let both = NewPayment {
            price_decimal: Some("1.00".into()),
            ..payment(100)
        };
        assert!(draft(&both).is_err());
        let decimal = NewPayment {
            price: None,
            price_decimal: Some("12.1".into()),
            ..payment(1)
        };
        let d = draft(&decimal).unwrap();
        assert_eq!(d.row.price, 1210);
        assert_eq!(
            d.row.beneficiary_wallet_id,
            WalletId::new(2),
            "project wallet by default"
        );
        assert!(!d.explicit_beneficiary);
        let to = NewPayment {
            beneficiary: Some(serde_json::json!({"id": 9})),
            ..payment(1)
        };
        assert!(draft(&to).unwrap().explicit_beneficiary);
    }
}
