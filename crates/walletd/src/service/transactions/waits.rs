//! The end of something a held transaction waited for (its last beneficiary registered, its
//! last awaited password given): on to the next wait, or to `reserved` (then `confirmed` with
//! `auto_confirm`). Shared by [`super::people`] and [`super::unlock`]; the caller says who is
//! told (a callback, unless the change was the client's own).

use super::password::awaits_password;
use super::settle;
use super::view::Written;
use crate::error::ApiResult;
use std::collections::BTreeMap;
use wallet_core::status::Event;
use wallet_core::{PaymentStatus, TransactionStatus};
use wallet_store::{PaymentChange, PaymentRow, TransactionRow, TransactionState, Tx};

/// Moves locked, held transaction `t` on once what it waited for ended: to `waiting_password`
/// if a payment's password is still awaited, else to `reserved`, confirmed at once with
/// `auto_confirm`. `actor` and `why` go to its audit trail. Answers the transaction as written.
pub(crate) async fn continue_held(
    tx: &mut Tx,
    t: &TransactionRow,
    now: i64,
    actor: &str,
    why: &str,
) -> ApiResult<Written> {
    let key = &t.transaction_key;
    let (canceled, payments): (Vec<PaymentRow>, Vec<PaymentRow>) = tx
        .payments_of(key)
        .await?
        .into_iter()
        .partition(|p| p.status == PaymentStatus::Canceled);
    let event = Event::Unblock.unless_awaiting(false, payments.iter().any(awaits_password));
    let to = t.status.apply(event)?;
    let changes: Vec<(PaymentRow, PaymentChange)> = payments
        .into_iter()
        .map(|p| {
            let change = PaymentChange {
                id: p.id,
                status: to.into(),
                price: p.price,
                payer_wallet_id: p.payer_wallet_id,
                hold_id: p.hold_id,
                confirmed_at: None,
            };
            (p, change)
        })
        .collect();
    let next = TransactionState {
        status: to,
        ..t.state()
    };
    let (t, changed) = tx
        .set_transaction_and_payments(t, &next, &changes, now)
        .await?;
    tx.append_event(key, now, actor, to.as_str(), Some(why))
        .await?;
    let written = Written::new(t, canceled, changed);
    if to != TransactionStatus::Reserved || !written.t.auto_confirm {
        return Ok(written);
    }
    let written = settle::settle(tx, &written.t, &written.payments, &BTreeMap::new(), now).await?;
    tx.append_event(key, now, "system", "confirmed", Some("auto_confirm"))
        .await?;
    Ok(written)
}
