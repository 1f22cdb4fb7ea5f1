//! The `allowance` resource: created alone (`POST allowance`) or inside a transaction, read,
//! canceled, and the client's active allowance of a wallet and what it still covers. How an
//! allowance follows its transaction is in `transactions::allowance`.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::service::transactions::{actor, allowance::terms, create_unanswered, delete_if_empty};
use crate::state::AppState;
use wallet_client::types::{self as wire, AllowanceRef, NewAllowance};
use wallet_core::ids::{AllowanceId, WalletId};
use wallet_core::money::Currency;
use wallet_store::{AllowanceRow, ClientRow, Tx};

fn not_found(id: AllowanceId) -> ApiError {
    ApiError::NotFound(format!("allowance {id} was not found"))
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
    let (tx, t) = create_unanswered(state, caller, t).await?;
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
pub async fn get(
    state: &AppState,
    client: &ClientRow,
    id: AllowanceId,
) -> ApiResult<wire::Allowance> {
    let mut tx = state.store.read().await?;
    match tx.allowance(id).await? {
        Some(a) if a.project_id == client.project_id => Ok(shown(a, state.now())),
        _ => Err(not_found(id)),
    }
}

/// `DELETE allowance/{id}`: a new allowance is deleted (its transaction too, if nothing else is
/// in it); an active one becomes inactive.
pub async fn cancel(
    state: &AppState,
    client: &ClientRow,
    id: AllowanceId,
) -> ApiResult<wire::Allowance> {
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
    let actor = actor(client);
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
                &t.transaction_key,
                now,
                &actor,
                "allowance_canceled",
                Some(&a.id.to_string()),
            )
            .await?;
            delete_if_empty(tx, &t, now).await?;
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
    wallet_id: WalletId,
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
    wallet_id: WalletId,
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
    wallet_id: WalletId,
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
    wallet_id: WalletId,
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
