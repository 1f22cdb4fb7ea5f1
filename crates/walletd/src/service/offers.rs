//! What the confirmation page does with allowances beyond the transaction's own: with
//! `use_allowance`, the client's active allowance that covers the transaction reserves it as
//! soon as the holder opens the page (as FLASH does before texting); with `suggest_allowance`,
//! the page offers an allowance whose terms walletd computes, given only if the holder ticks it.

use super::transactions::allowance::{covers, notify};
use super::transactions::hold::reservable;
use super::transactions::inquiries;
use super::transactions::reserve::try_with_allowance;
use super::transactions::validate::selected_prices;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_core::allowance::{SUGGESTED_VALID_SECS, Terms, suggested_terms};
use wallet_core::{
    AllowanceId, Currency, PaymentStatus, TransactionKey, TransactionStatus, TransactionType,
    UserId, WalletId,
};
use wallet_store::{NewAllowanceRow, PaymentRow, TransactionRow, Tx};

/// The allowance the page suggests: its currency, terms and validity (seconds from activation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggested {
    pub currency: Currency,
    pub terms: Terms,
    pub valid_for: i64,
}

/// With `use_allowance`, reserves `new` transaction `key` under the client's active allowance of
/// the holder's first wallet when it covers it (`type: automatic`, with its callback: opening
/// the page is the holder's act). `Some(status)` when it did; `None` leaves the transaction
/// as it was, for the page to show. Not when the transaction has an allowance or inquiries of
/// its own (the holder must see those), nor for a client without `automatic`.
pub(crate) async fn reserve_by_allowance(
    state: &AppState,
    key: &TransactionKey,
    user_id: UserId,
) -> ApiResult<Option<TransactionStatus>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let Some(t) = tx.transaction_for_update(key).await? else {
        return Ok(None);
    };
    let Some(&wallet) = tx.wallets_of_user(user_id).await?.first() else {
        return Ok(None);
    };
    let client = match tx.client_by_id(t.client_id).await? {
        Some(c) if c.has_grant(TransactionType::Automatic.as_str()) => c,
        _ => return Ok(None),
    };
    if t.status != TransactionStatus::New
        || !t.use_allowance
        || !inquiries::of(&t)?.is_empty()
        || tx.allowance_of(key).await?.is_some()
        || !client.has_grant(TransactionType::Page.as_str())
    {
        return Ok(None);
    }
    let Some(a) = tx.active_allowance(client.id, wallet, now).await? else {
        return Ok(None);
    };
    let Ok(r) = reservable(&mut tx, t, now).await else {
        return Ok(None);
    };
    let selected = selected_prices(&r.payments, None)?;
    if covers(&mut tx, &a, &r.payments, &selected, now)
        .await?
        .is_err()
    {
        return Ok(None);
    }
    // A refusal (the payer's checks, money short at commit) leaves the page to the holder.
    let written = match try_with_allowance(&mut tx, &client, r, wallet, now).await {
        Ok(Ok(w)) => w,
        Ok(Err(_)) | Err(_) => return Ok(None),
    };
    let data = written.render(&mut tx).await?;
    // A wait for a person to register queued its callback already (`hold_funds`).
    if data.status != TransactionStatus::WaitingRegistration {
        crate::callbacks::enqueue_transaction(&mut tx, &written.t, &data).await?;
    }
    match tx.commit().await {
        Ok(()) => {
            written.flow.committed();
            Ok(Some(data.status))
        }
        Err(e) => match ApiError::from(e) {
            ApiError::NotEnoughFunds(_) => Ok(None),
            other => Err(other),
        },
    }
}

/// The allowance the page suggests for transaction `t` paid from `wallet`, if any: with
/// `suggest_allowance`, no allowance in the transaction, payments in one currency, a client
/// granted `automatic` (an allowance is of no use to it otherwise) and no active allowance of
/// that client for the wallet (which the suggestion would silently replace).
pub(crate) async fn suggestion(
    tx: &mut Tx,
    t: &TransactionRow,
    payments: &[PaymentRow],
    wallet: WalletId,
    now: i64,
) -> ApiResult<Option<Suggested>> {
    if !t.suggest_allowance || tx.allowance_of(&t.transaction_key).await?.is_some() {
        return Ok(None);
    }
    let live: Vec<&PaymentRow> = payments
        .iter()
        .filter(|p| p.status != PaymentStatus::Canceled)
        .collect();
    let Some(currency) = live.first().map(|p| p.currency) else {
        return Ok(None);
    };
    if live.iter().any(|p| p.currency != currency) {
        return Ok(None);
    }
    let automatic = tx
        .client_by_id(t.client_id)
        .await?
        .is_some_and(|c| c.has_grant(TransactionType::Automatic.as_str()));
    if !automatic
        || tx
            .active_allowance(t.client_id, wallet, now)
            .await?
            .is_some()
    {
        return Ok(None);
    }
    let total: i64 = live.iter().map(|p| p.price).sum();
    Ok(Some(Suggested {
        currency,
        terms: suggested_terms(total),
        valid_for: SUGGESTED_VALID_SECS,
    }))
}

/// The holder ticked the suggested allowance: it is created in transaction `t`, optional and
/// accepted with it (active once the transaction is confirmed, as any allowance in a
/// transaction), and the client is told (`allowance.new`).
pub(crate) async fn give_suggested(
    tx: &mut Tx,
    t: &TransactionRow,
    wallet: WalletId,
    now: i64,
) -> ApiResult<AllowanceId> {
    let payments = tx.payments_of(&t.transaction_key).await?;
    let Some(s) = suggestion(tx, t, &payments, wallet, now).await? else {
        return Err(ApiError::InvalidState(
            "no allowance is suggested for this transaction".into(),
        ));
    };
    let project = tx
        .project(t.project_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let id = tx
        .insert_allowance(&NewAllowanceRow {
            transaction_key: t.transaction_key.clone(),
            project_id: t.project_id,
            client_id: t.client_id,
            optional: true,
            currency: s.currency,
            max_price: s.terms.max_price,
            limits: s.terms.limits,
            description: Some(format!("Suggested by {project} on the confirmation page")),
            valid_for: Some(s.valid_for),
            valid_until: None,
            created_at: now,
        })
        .await?;
    tx.set_allowance_status(id, "new", Some(wallet)).await?;
    notify(tx, id).await?;
    Ok(id)
}
