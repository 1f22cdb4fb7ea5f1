//! Frozen payments, after their transaction is confirmed: `PUT payment/{id}/freeze` (a new end),
//! `PUT payment/{id}/finalize` (paid out now, maybe reduced), `DELETE payment/{id}` (canceled:
//! the money returns), and freezes ending by themselves.

use super::events::actor;
use super::password::{awaits_password, password_of};
use super::validate::reduced_price;
use super::waits;
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::state::AppState;
use wallet_client::types::{self as wire, FinalPrice, FreezeChange};
use wallet_core::payment::{FreezeSpec, MAX_FREEZE_SECS};
use wallet_core::{HoldId, PaymentId, PaymentStatus};
use wallet_store::{ClientRow, PaymentRow, Tx};

fn not_found(id: PaymentId) -> ApiError {
    ApiError::NotFound(format!("payment {id} was not found"))
}

/// The freeze a payment asked for, if any.
pub fn freeze_of(p: &PaymentRow) -> Option<FreezeSpec> {
    FreezeSpec::stored(p.freeze_for, p.freeze_until)
}

/// Locks a payment of the caller's project (another project's does not exist for the caller).
/// Its transaction is locked first, in the same order as confirm and revoke take them.
async fn lock_own(tx: &mut Tx, id: PaymentId, client: &ClientRow) -> ApiResult<PaymentRow> {
    let p = tx
        .payment(id)
        .await?
        .filter(|p| p.project_id == client.project_id)
        .ok_or_else(|| not_found(id))?;
    tx.transaction_for_update(&p.transaction_key).await?;
    match tx.payment_for_update(id).await? {
        Some(locked) if locked.transaction_key == p.transaction_key => Ok(locked),
        _ => Err(ApiError::InvalidState(format!(
            "payment {id} moved to another transaction meanwhile; try again"
        ))),
    }
}

/// A payment whose money is frozen: confirmed, with a freeze, not yet finalized or canceled.
fn frozen(p: &PaymentRow) -> ApiResult<HoldId> {
    match (p.status, p.freeze_until, p.hold_id) {
        (PaymentStatus::Confirmed, Some(_), Some(hold)) if freeze_of(p).is_some() => Ok(hold),
        _ => Err(ApiError::InvalidState(format!(
            "payment {} is {}; only a confirmed payment with a freeze can be finalized, canceled or re-frozen",
            p.id, p.status
        ))),
    }
}

/// Pays a frozen payment out to its beneficiary at `amount` (at most the confirmed price).
async fn finalize_locked(
    tx: &mut Tx,
    p: &PaymentRow,
    amount: i64,
    actor: &str,
    now: i64,
) -> ApiResult<wire::Payment> {
    let hold = frozen(p)?;
    let beneficiary = tx
        .wallet_account(p.beneficiary_wallet_id, p.currency)
        .await?;
    tx.add_incoming(beneficiary, -p.price).await?;
    if !tx
        .settle_hold(hold, beneficiary, amount, &p.transaction_key, p.id, now)
        .await?
    {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "hold {hold} of frozen payment {} was resolved",
            p.id
        )));
    }
    tx.update_payment(
        p.id,
        PaymentStatus::Done,
        amount,
        p.payer_wallet_id,
        p.hold_id,
        p.confirmed_at,
    )
    .await?;
    let detail = format!("payment {} finalized at {amount}", p.id);
    tx.append_event(
        &p.transaction_key,
        now,
        actor,
        "payment_done",
        Some(&detail),
    )
    .await?;
    let p = tx.payment(p.id).await?.ok_or_else(|| not_found(p.id))?;
    Ok(render::payment(&p))
}

/// `PUT payment/{id}/finalize`: ends the freeze now, optionally at a reduced price.
pub async fn finalize(
    state: &AppState,
    client: &ClientRow,
    id: PaymentId,
    price: Option<FinalPrice>,
) -> ApiResult<wire::Payment> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let p = lock_own(&mut tx, id, client).await?;
    frozen(&p)?;
    let amount = match price {
        None => p.price,
        Some(fp) => reduced_price(&p, fp.price, fp.price_decimal.as_deref(), &fp.currency)?,
    };
    let answer = finalize_locked(&mut tx, &p, amount, &actor(client), now).await?;
    crate::idempotency::commit_answer(tx, &answer).await?;
    Ok(answer)
}

/// `DELETE payment/{id}`: cancels a payment. A new one leaves its transaction; a reserved one
/// has its hold released; a frozen one (confirmed, before its freeze ends) returns its money to the
/// payer. Other payments of the transaction are not touched; a transaction left with no payment
/// is deleted (if new) or revoked (if reserved).
pub async fn cancel(
    state: &AppState,
    client: &ClientRow,
    id: PaymentId,
) -> ApiResult<wire::Payment> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let p = lock_own(&mut tx, id, client).await?;
    let actor = actor(client);
    match p.status {
        PaymentStatus::Confirmed => {
            let hold = frozen(&p)?;
            let beneficiary = tx
                .wallet_account(p.beneficiary_wallet_id, p.currency)
                .await?;
            tx.add_incoming(beneficiary, -p.price).await?;
            if !tx.release_hold(hold, now).await? {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "hold {hold} of frozen payment {id} was resolved"
                )));
            }
        }
        PaymentStatus::Reserved | PaymentStatus::New => {
            if let Some(hold) = p.hold_id {
                tx.release_hold(hold, now).await?;
            }
        }
        // A payment created `cancelable` may be canceled alone while its password is awaited.
        PaymentStatus::WaitingPassword if password_of(&p).is_some_and(|pw| pw.cancelable_now()) => {
            if let Some(hold) = p.hold_id {
                tx.release_hold(hold, now).await?;
            }
        }
        other => {
            return Err(ApiError::InvalidState(format!(
                "payment {id} is {other}; only new, reserved or frozen payments (or one whose awaited password is cancelable) can be canceled"
            )));
        }
    }
    tx.update_payment(
        id,
        PaymentStatus::Canceled,
        p.price,
        p.payer_wallet_id,
        p.hold_id,
        p.confirmed_at,
    )
    .await?;
    tx.append_event(
        &p.transaction_key,
        now,
        &actor,
        "payment_canceled",
        Some(&id.to_string()),
    )
    .await?;
    if p.status != PaymentStatus::Confirmed && !end_if_empty(&mut tx, &p, &actor, now).await? {
        continue_unless_awaited(&mut tx, &p, &actor, now).await?;
    }
    let p = tx.payment(id).await?.ok_or_else(|| not_found(id))?;
    let answer = render::payment(&p);
    crate::idempotency::commit_answer(tx, &answer).await?;
    Ok(answer)
}

/// A transaction waiting for passwords continues once its payment canceled was the last whose
/// password was awaited (the client's own change: no callback).
async fn continue_unless_awaited(
    tx: &mut Tx,
    p: &PaymentRow,
    actor: &str,
    now: i64,
) -> ApiResult<()> {
    if p.status != PaymentStatus::WaitingPassword {
        return Ok(());
    }
    let payments = tx.payments_of(&p.transaction_key).await?;
    let awaited = payments
        .iter()
        .any(|q| q.status != PaymentStatus::Canceled && awaits_password(q));
    let t = tx.transaction_for_update(&p.transaction_key).await?;
    if let Some(t) = t.filter(|_| !awaited) {
        waits::continue_held(tx, &t, now, actor, "the payments left wait for no password").await?;
    }
    Ok(())
}

/// A transaction whose last payment was canceled before its confirmation ends: deleted if new,
/// revoked if reserved. Answers whether it ended.
async fn end_if_empty(tx: &mut Tx, p: &PaymentRow, actor: &str, now: i64) -> ApiResult<bool> {
    let left = tx
        .payments_of(&p.transaction_key)
        .await?
        .iter()
        .filter(|q| q.status != PaymentStatus::Canceled)
        .count();
    if left > 0 {
        return Ok(false);
    }
    let t = tx.transaction(&p.transaction_key).await?.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("payment {} without transaction", p.id))
    })?;
    let to = t.status.apply(wallet_core::status::Event::Revoke)?;
    let state = wallet_store::TransactionState {
        status: to,
        ..t.state()
    };
    tx.set_transaction_state(&t.transaction_key, &state, now)
        .await?;
    tx.append_event(
        &t.transaction_key,
        now,
        actor,
        to.as_str(),
        Some("no payment left"),
    )
    .await?;
    Ok(true)
}

/// `PUT payment/{id}/freeze`: `freeze_until: 0` removes the freeze (the payment is done now);
/// `freeze_until: T` moves its end to T; `freeze_for: H` makes it end H hours from now.
pub async fn change_freeze(
    state: &AppState,
    client: &ClientRow,
    id: PaymentId,
    change: FreezeChange,
) -> ApiResult<wire::Payment> {
    let now = state.now();
    let nested = change.freeze.as_ref().map(|f| (f.for_seconds, f.until));
    let remove = change.freeze_until == Some(0) && change.freeze_for.is_none() && nested.is_none();
    let mut tx = state.store.write().await?;
    let p = lock_own(&mut tx, id, client).await?;
    frozen(&p)?;
    let actor = actor(client);
    if remove {
        let answer = finalize_locked(&mut tx, &p, p.price, &actor, now).await?;
        crate::idempotency::commit_answer(tx, &answer).await?;
        return Ok(answer);
    }
    let spec = FreezeSpec::from_request(nested, change.freeze_for, change.freeze_until, now)
        .map_err(|e| ApiError::invalid(e.to_string()))?
        .ok_or_else(|| {
            ApiError::invalid("give freeze_until (0 removes the freeze) or freeze_for")
        })?;
    let until = spec.ends_at(now);
    if until - now > MAX_FREEZE_SECS {
        return Err(ApiError::invalid("a freeze may last at most a year"));
    }
    tx.set_freeze_until(id, Some(until)).await?;
    tx.append_event(
        &p.transaction_key,
        now,
        &actor,
        "payment_freeze",
        Some(&format!("payment {id} until {until}")),
    )
    .await?;
    let p = tx.payment(id).await?.ok_or_else(|| not_found(id))?;
    let answer = render::payment(&p);
    crate::idempotency::commit_answer(tx, &answer).await?;
    Ok(answer)
}

/// Finalizes, at their confirmed price, frozen payments whose freeze has ended. Returns how many.
pub async fn finalize_due_freezes(state: &AppState) -> ApiResult<usize> {
    let mut done = 0;
    loop {
        let due = {
            let mut tx = state.store.read().await?;
            tx.freezes_due(state.now(), 100).await?
        };
        let batch = due.len();
        for id in due {
            let now = state.now();
            let mut tx = state.store.write().await?;
            let Some(p) = tx.payment_for_update(id).await? else {
                continue;
            };
            if p.status != PaymentStatus::Confirmed || p.freeze_until.is_none_or(|u| u > now) {
                continue;
            }
            let data = finalize_locked(&mut tx, &p, p.price, "system", now).await?;
            let t = tx.transaction(&p.transaction_key).await?.ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("payment {id} without transaction"))
            })?;
            crate::callbacks::enqueue_payment(&mut tx, &t, &data).await?;
            tx.commit().await?;
            if let Some(until) = p.freeze_until {
                crate::telemetry::ran_late(crate::telemetry::Deadline::FreezeEnd, until, now);
            }
            done += 1;
        }
        if batch < 100 {
            return Ok(done);
        }
    }
}
