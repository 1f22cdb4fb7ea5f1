//! Deadlines: a reservation (or a wait for the holder) past its deadline fails and its funds
//! return; a `new` transaction is deleted a month after creation.

use super::{allowance, release, view};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_core::status::Event;
use wallet_core::{PaymentStatus, TransactionKey, TransactionStatus};
use wallet_store::{TransactionRow, TransactionState, Tx};

/// `new` transactions are deleted this long after creation ("1 month": 30 days).
pub const NEW_TRANSACTION_LIFETIME_SECS: i64 = 30 * 86_400;

/// Whether the transaction's deadline passed: a reservation's, or (`waiting`, `waiting_funds`)
/// the time by which the holder had to accept and the money had to be there.
pub(crate) fn is_due(t: &TransactionRow, now: i64) -> bool {
    let waits = matches!(
        t.status,
        TransactionStatus::Waiting | TransactionStatus::WaitingFunds
    );
    (t.status.holds_funds() || waits) && t.reserved_until.is_some_and(|deadline| now >= deadline)
}

/// Fails a transaction whose reservation deadline passed, releasing its funds. `true` if it did.
pub async fn expire_if_due(state: &AppState, key: &TransactionKey) -> ApiResult<bool> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let Some(t) = tx.transaction_for_update(key).await? else {
        return Ok(false);
    };
    if !is_due(&t, now) {
        return Ok(false);
    }
    expire_locked(&mut tx, &t, now).await?;
    tx.commit().await?;
    if let Some(deadline) = t.reserved_until {
        crate::telemetry::ran_late(crate::telemetry::Deadline::ReservationExpiry, deadline, now);
    }
    tracing::info!(transaction_key = %key, "reservation expired; funds released");
    Ok(true)
}

/// Fails a locked transaction whose deadline passed, releasing its holds.
pub(super) async fn expire_locked(tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
    let to = t.status.apply(Event::Expire)?;
    release::release_all(tx, t, to, now).await?;
    let detail = t.reserved_until.map(|d| format!("deadline {d}"));
    tx.append_event(
        &t.transaction_key,
        now,
        "system",
        "expired",
        detail.as_deref(),
    )
    .await?;
    let data = view::view(tx, &t.transaction_key).await?;
    crate::callbacks::enqueue_transaction(tx, t, &data).await?;
    Ok(())
}

pub(crate) fn expired_error() -> ApiError {
    ApiError::InvalidState(
        "the reservation deadline passed: the transaction failed and its funds were released"
            .into(),
    )
}

/// The holder's decision (FLASH answer, the confirmation page) on a transaction past its
/// deadline comes too late: refused, as a read already shows it `failed`; the sweep fails it.
pub(crate) fn refuse_if_due(t: &TransactionRow, now: i64) -> ApiResult<()> {
    match is_due(t, now) {
        true => Err(expired_error()),
        false => Ok(()),
    }
}

/// Keys of reservations past their deadline (for the sweeper).
pub async fn due_reservations(state: &AppState, limit: i64) -> ApiResult<Vec<TransactionKey>> {
    let mut tx = state.store.read().await?;
    Ok(tx.due_reservations(state.now(), limit).await?)
}

/// Deletes a `new` transaction that reached its age limit. `true` if it did.
pub async fn delete_if_aged(state: &AppState, key: &TransactionKey) -> ApiResult<bool> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let Some(t) = tx.transaction_for_update(key).await? else {
        return Ok(false);
    };
    if t.status != TransactionStatus::New || t.created_at + NEW_TRANSACTION_LIFETIME_SECS > now {
        return Ok(false);
    }
    let to = t.status.apply(Event::Age)?;
    // A canceled payment stays canceled (as release_all leaves it when revoking or failing).
    let payments = tx.payments_of(key).await?;
    for p in payments
        .iter()
        .filter(|p| p.status != PaymentStatus::Canceled)
    {
        tx.update_payment(p.id, to.into(), p.price, p.payer_wallet_id, p.hold_id, None)
            .await?;
    }
    tx.set_transaction_state(
        key,
        &TransactionState {
            status: to,
            ..t.state()
        },
        now,
    )
    .await?;
    tx.append_event(key, now, "system", "deleted", Some("new for a month"))
        .await?;
    allowance::ended(&mut tx, key, true).await?;
    view::view_and_notify(&mut tx, key).await?;
    tx.commit().await?;
    Ok(true)
}
