//! Allowances: created alone (`POST allowance`) or inside a transaction, accepted by the holder
//! with the transaction, active from the client's confirm until canceled or replaced, and used
//! to reserve later transactions without asking the holder (`PUT transaction/{key}/reserve/{wallet}`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::state::AppState;
use wallet_client::types::{self as wire, AllowanceRef, NewAllowance};
use wallet_core::allowance::{Exceeded, Terms, WindowLimit};
use wallet_core::money::{Currency, parse_decimal};
use wallet_store::{AllowanceRow, ClientRow, NewAllowanceRow, PaymentRow, TransactionRow, Tx};

/// Longest validity walletd accepts for an allowance: ten years.
pub const MAX_VALID_SECS: i64 = 3653 * 86_400;

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("allowance {id} was not found"))
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
pub(crate) fn draft(
    req: &NewAllowance,
    key: &str,
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
        .is_some_and(|d| d.chars().count() > super::transactions::MAX_TEXT)
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
        transaction_key: key.to_string(),
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

/// Groups the allowance of `POST transaction` into the new transaction `key`: a new one from
/// `data`, or the caller's existing `new` one by `id` (which leaves its old transaction).
pub(crate) async fn attach(
    tx: &mut Tx,
    client: &ClientRow,
    key: &str,
    r: &AllowanceRef,
    now: i64,
) -> ApiResult<()> {
    let optional = r.optional.unwrap_or(false);
    match (&r.id, &r.data) {
        (Some(_), Some(_)) | (None, None) => Err(ApiError::invalid(
            "allowance needs exactly one of id and data",
        )),
        (None, Some(data)) => {
            let row = draft(data, key, client, optional, now)
                .map_err(|e| super::transactions::prefix_error(e, "allowance: "))?;
            tx.insert_allowance(&row).await?;
            Ok(())
        }
        (Some(id), None) => {
            let a = match tx.allowance_for_update(*id).await? {
                Some(a) if a.project_id == client.project_id => a,
                _ => return Err(ApiError::invalid(format!("allowance {id} was not found"))),
            };
            let old = tx
                .transaction_for_update(&a.transaction_key)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("allowance {id} has no transaction"))
                })?;
            if a.status != "new" || old.status != wallet_core::TransactionStatus::New {
                return Err(ApiError::InvalidState(format!(
                    "allowance {id} is {}; only new allowances can be grouped into a transaction",
                    a.status
                )));
            }
            tx.move_allowance(a.id, key, optional).await?;
            tx.append_event(
                &old.key,
                now,
                &format!("client:{}", client.mac_id),
                "allowance_moved",
                Some(&format!("{id} -> {key}")),
            )
            .await?;
            super::transactions::delete_if_empty(tx, &old, now).await?;
            Ok(())
        }
    }
}

/// The holder accepted transaction `key` from `wallet_id`: its allowance, if any, is for that wallet.
pub(crate) async fn accepted_by(tx: &mut Tx, key: &str, wallet_id: i64) -> ApiResult<()> {
    if let Some(a) = tx.allowance_of(key).await?
        && a.status == "new"
    {
        tx.set_allowance_status(a.id, "new", Some(wallet_id))
            .await?;
    }
    Ok(())
}

/// The client confirmed transaction `t`: its allowance becomes the active one of its wallet
/// (the client's previous active allowance for that wallet becomes `inactive`).
pub(crate) async fn activate(tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
    let Some(a) = tx.allowance_of(&t.key).await? else {
        return Ok(());
    };
    if a.status != "new" {
        return Ok(());
    }
    let wallet = a.wallet_id.or(t.wallet_id).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "confirmed transaction {} has no wallet",
            t.key
        ))
    })?;
    let valid_until = a.valid_until.or(a.valid_for.map(|s| now.saturating_add(s)));
    tx.activate_allowance(&a, wallet, valid_until, now).await?;
    Ok(())
}

/// Transaction `key` ended unconfirmed (revoked, rejected, failed, deleted): its new allowance is deleted.
pub(crate) async fn ended(tx: &mut Tx, key: &str) -> ApiResult<()> {
    if let Some(a) = tx.allowance_of(key).await?
        && a.status == "new"
    {
        tx.set_allowance_status(a.id, "deleted", a.wallet_id)
            .await?;
    }
    Ok(())
}

fn terms(a: &AllowanceRow) -> Terms {
    Terms {
        max_price: a.max_price,
        limits: a.limits.clone(),
    }
}

/// Whether active allowance `a` covers reserving `payments` at the `selected` prices now:
/// `Ok(Err(allowance_exceeded))` when it does not.
pub(crate) async fn covers(
    tx: &mut Tx,
    a: &AllowanceRow,
    payments: &[PaymentRow],
    selected: &[i64],
    now: i64,
) -> ApiResult<Result<(), ApiError>> {
    if payments.is_empty() {
        return Ok(Err(ApiError::InvalidState(
            "the transaction has no payments to reserve".into(),
        )));
    }
    if let Some(p) = payments.iter().find(|p| p.currency != a.currency) {
        return Ok(Err(ApiError::AllowanceExceeded(format!(
            "the allowance is in {}; payment {} is in {}",
            a.currency, p.id, p.currency
        ))));
    }
    let total: i64 = selected.iter().sum();
    let terms = terms(a);
    let spent = tx
        .allowance_spends(a.id, now - terms.longest_window())
        .await?;
    Ok(terms
        .check(&spent, now, total)
        .map_err(|e: Exceeded| ApiError::AllowanceExceeded(format!("allowance {}: {e}", a.id))))
}

/// `POST allowance`: a new allowance in a transaction of its own, created with default parameters.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: NewAllowance,
) -> ApiResult<wire::Allowance> {
    let t = wire::NewTransaction {
        allowance: Some(AllowanceRef {
            id: None,
            data: Some(req),
            optional: Some(false),
        }),
        ..Default::default()
    };
    let (tx, t) = super::transactions::create_unanswered(state, caller, t).await?;
    let allowance = t
        .allowance
        .map(|a| a.data)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("allowance vanished")))?;
    crate::idempotency::commit_answer(tx, &allowance).await?;
    Ok(allowance)
}

/// The allowance as shown at `now`: an active one past its `valid.until` is `inactive`.
fn shown(mut a: AllowanceRow, now: i64) -> wire::Allowance {
    if a.status == "active" && a.valid_until.is_some_and(|u| u <= now) {
        a.status = "inactive".into();
    }
    render::allowance(&a)
}

/// `GET allowance/{id}`.
pub async fn get(state: &AppState, client: &ClientRow, id: i64) -> ApiResult<wire::Allowance> {
    let mut tx = state.store.read().await?;
    match tx.allowance(id).await? {
        Some(a) if a.project_id == client.project_id => Ok(shown(a, state.now())),
        _ => Err(not_found(id)),
    }
}

/// `DELETE allowance/{id}`: a new allowance is deleted (its transaction too, if nothing else is
/// in it); an active one becomes inactive.
pub async fn cancel(state: &AppState, client: &ClientRow, id: i64) -> ApiResult<wire::Allowance> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let a = match tx.allowance_for_update(id).await? {
        Some(a) if a.project_id == client.project_id => a,
        _ => return Err(not_found(id)),
    };
    cancel_locked(&mut tx, client, a, now).await?;
    let a = tx.allowance(id).await?.ok_or_else(|| not_found(id))?;
    let view = shown(a, now);
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

async fn cancel_locked(
    tx: &mut Tx,
    client: &ClientRow,
    a: AllowanceRow,
    now: i64,
) -> ApiResult<()> {
    let actor = format!("client:{}", client.mac_id);
    match a.status.as_str() {
        "active" => {
            tx.set_allowance_status(a.id, "inactive", a.wallet_id)
                .await?;
        }
        "new" => {
            let t = tx
                .transaction_for_update(&a.transaction_key)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("allowance {} has no transaction", a.id))
                })?;
            if t.status != wallet_core::TransactionStatus::New {
                return Err(ApiError::InvalidState(format!(
                    "the allowance's transaction is {}; revoke the transaction instead",
                    t.status
                )));
            }
            tx.set_allowance_status(a.id, "deleted", a.wallet_id)
                .await?;
            tx.append_event(
                &t.key,
                now,
                &actor,
                "allowance_canceled",
                Some(&a.id.to_string()),
            )
            .await?;
            super::transactions::delete_if_empty(tx, &t, now).await?;
        }
        other => {
            return Err(ApiError::InvalidState(format!(
                "allowance {} is {other}; only new or active allowances can be canceled",
                a.id
            )));
        }
    }
    Ok(())
}

async fn active_or_refuse(
    tx: &mut Tx,
    client: &ClientRow,
    wallet_id: i64,
    now: i64,
) -> ApiResult<AllowanceRow> {
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    tx.active_allowance(client.id, wallet_id, now)
        .await?
        .ok_or_else(|| {
            ApiError::NoActiveAllowance(format!(
                "wallet {wallet_id} has no active allowance for this client"
            ))
        })
}

/// `GET allowance/active/{wallet}`: the client's active allowance for the wallet.
pub async fn active(
    state: &AppState,
    client: &ClientRow,
    wallet_id: i64,
) -> ApiResult<wire::Allowance> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let a = active_or_refuse(&mut tx, client, wallet_id, now).await?;
    Ok(shown(a, now))
}

/// `DELETE allowance/active/{wallet}`: the client's active allowance for the wallet becomes inactive.
pub async fn cancel_active(
    state: &AppState,
    client: &ClientRow,
    wallet_id: i64,
) -> ApiResult<wire::Allowance> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let a = active_or_refuse(&mut tx, client, wallet_id, now).await?;
    let id = a.id;
    cancel_locked(&mut tx, client, a, now).await?;
    let a = tx.allowance(id).await?.ok_or_else(|| not_found(id))?;
    let view = shown(a, now);
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// `GET allowance/limit/{wallet}?currency=`: the largest transaction the active allowance
/// covers now (0 in another currency than the allowance's).
pub async fn limit(
    state: &AppState,
    client: &ClientRow,
    wallet_id: i64,
    currency: Option<&str>,
) -> ApiResult<wire::AllowanceAmount> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let a = active_or_refuse(&mut tx, client, wallet_id, now).await?;
    let currency = match currency {
        Some(c) => Currency::parse(c)?,
        None => a.currency,
    };
    let amount = if currency == a.currency {
        let terms = terms(&a);
        let spent = tx
            .allowance_spends(a.id, now - terms.longest_window())
            .await?;
        terms.remaining(&spent, now)
    } else {
        0
    };
    Ok(wire::AllowanceAmount {
        amount,
        currency: currency.code().to_string(),
    })
}
