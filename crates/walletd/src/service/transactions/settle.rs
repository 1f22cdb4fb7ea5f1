//! Ending a reservation by the client: `PUT transaction/{key}/confirm` (settled, maybe at reduced
//! prices; frozen payments stay held until their freeze ends) and `DELETE transaction/{key}`
//! (revoked, every hold released).

use super::events::actor;
use super::expire::{expired_error, is_due};
use super::lock::begin_change;
use super::validate::reduced_price;
use super::view::{Written, view};
use super::{allowance, release};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::collections::BTreeMap;
use wallet_client::types::{self as wire, ConfirmPrices};
use wallet_core::payment::FreezeSpec;
use wallet_core::status::Event;
use wallet_core::{AccountId, HoldId, PaymentId, PaymentStatus, TransactionKey};
use wallet_store::{ClientRow, PaymentChange, PaymentRow, TransactionRow, TransactionState, Tx};

/// `PUT transaction/{key}/confirm`, optionally reducing payments' prices.
pub async fn confirm(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    prices: Option<ConfirmPrices>,
) -> ApiResult<wire::Transaction> {
    let (mut tx, t, now) = begin_change(state, client, key).await?;
    t.status.apply(Event::Confirm)?;
    let payments = tx.payments_of(key).await?;
    let mut reduced = BTreeMap::new();
    for (id_text, price) in prices.into_iter().flatten() {
        let payment = id_text
            .parse::<PaymentId>()
            .ok()
            .and_then(|id| payments.iter().find(|p| p.id == id))
            .ok_or_else(|| {
                ApiError::invalid(format!("payment {id_text:?} is not in this transaction"))
            })?;
        let amount = reduced_price(
            payment,
            price.price,
            price.price_decimal.as_deref(),
            &price.currency,
        )?;
        reduced.insert(payment.id, amount);
    }
    let written = settle(&mut tx, &t, &payments, &reduced, now).await?;
    let detail = (!reduced.is_empty()).then(|| format!("reduced {reduced:?}"));
    tx.append_event(key, now, &actor(client), "confirmed", detail.as_deref())
        .await?;
    written.commit(tx).await
}

/// Confirms every payment at the given (or reserved) price. An unfrozen payment is settled to
/// its beneficiary at once (`done`); a frozen one stays held for the payer and shows as incoming
/// for the beneficiary (`confirmed`) until its freeze ends, it is finalized or canceled.
pub(crate) async fn settle(
    tx: &mut Tx,
    t: &TransactionRow,
    payments: &[PaymentRow],
    prices: &BTreeMap<PaymentId, i64>,
    now: i64,
) -> ApiResult<Written> {
    let to = t.status.apply(Event::Confirm)?;
    let mut unchanged = Vec::new();
    let mut changes = Vec::with_capacity(payments.len());
    for p in payments {
        if p.status == PaymentStatus::Canceled {
            unchanged.push(p.clone());
            continue;
        }
        let hold = p.hold_id.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("reserved payment {} has no hold", p.id))
        })?;
        let amount = prices.get(&p.id).copied().unwrap_or(p.price);
        let beneficiary = tx
            .wallet_account(p.beneficiary_wallet_id, p.currency)
            .await?;
        if let Some(freeze) = FreezeSpec::stored(p.freeze_for, p.freeze_until) {
            changes.push(freeze_confirmed(tx, p, hold, beneficiary, amount, freeze, now).await?);
            continue;
        }
        // The hold as reserve placed it: on the payer's account, of the payment's price then.
        let payer_wallet = p.payer_wallet_id.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("reserved payment {} has no payer", p.id))
        })?;
        let payer_account = tx.wallet_account(payer_wallet, p.currency).await?;
        tx.settle_hold_at_commit(
            hold,
            payer_account,
            p.price,
            beneficiary,
            amount,
            &t.transaction_key,
            p.id,
            now,
        )
        .await?;
        let change = PaymentChange {
            id: p.id,
            status: PaymentStatus::Done,
            price: amount,
            payer_wallet_id: p.payer_wallet_id,
            hold_id: p.hold_id,
            confirmed_at: Some(now),
        };
        changes.push((p.clone(), change));
    }
    let confirmed = TransactionState {
        status: to,
        confirmed_at: Some(now),
        ..t.state()
    };
    let (t, changed) = tx
        .set_transaction_and_payments(t, &confirmed, &changes, now)
        .await?;
    allowance::activate(tx, &t, now).await?;
    let mut written = Written::new(t, unchanged, changed);
    written.flow.kind = written.t.kind;
    written.flow.confirmed = true;
    Ok(written)
}

/// `DELETE transaction/{key}`: a new transaction is deleted; a waiting or reserved one is revoked and its funds released.
pub async fn revoke(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
) -> ApiResult<wire::Transaction> {
    let (mut tx, t, now) = begin_change(state, client, key).await?;
    revoke_locked(&mut tx, &t, &actor(client), now).await?;
    let view = view(&mut tx, key).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Revokes (or deletes, if new) a locked transaction, releasing its funds.
pub(crate) async fn revoke_locked(
    tx: &mut Tx,
    t: &TransactionRow,
    actor: &str,
    now: i64,
) -> ApiResult<()> {
    if is_due(t, now) {
        return Err(expired_error());
    }
    let to = t.status.apply(Event::Revoke)?;
    release::release_all(tx, t, to, now).await?;
    tx.append_event(&t.transaction_key, now, actor, to.as_str(), None)
        .await?;
    Ok(())
}

/// Confirms frozen payment `p` at `amount`: its hold stays on the payer (reduced to `amount`),
/// and the beneficiary sees the money as incoming until the freeze ends.
async fn freeze_confirmed(
    tx: &mut Tx,
    p: &PaymentRow,
    hold: HoldId,
    beneficiary: AccountId,
    amount: i64,
    freeze: FreezeSpec,
    now: i64,
) -> ApiResult<(PaymentRow, PaymentChange)> {
    if !tx.reduce_hold(hold, amount).await? {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "hold {hold} of payment {} is not active",
            p.id
        )));
    }
    tx.add_incoming(beneficiary, amount).await?;
    let freeze_until = Some(freeze.ends_at(now));
    tx.set_freeze_until(p.id, freeze_until).await?;
    let change = PaymentChange {
        id: p.id,
        status: PaymentStatus::Confirmed,
        price: amount,
        payer_wallet_id: p.payer_wallet_id,
        hold_id: p.hold_id,
        confirmed_at: Some(now),
    };
    let frozen = PaymentRow {
        freeze_until,
        ..p.clone()
    };
    Ok((frozen, change))
}
