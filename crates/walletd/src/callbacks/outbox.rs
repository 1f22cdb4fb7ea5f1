//! Recording callbacks: service code calls [`enqueue_transaction`] / [`enqueue_payment`] inside the
//! database transaction that made the change, so a callback is recorded exactly when the change
//! is (no change without its event, no event for a change that rolled back).

use crate::clock::wall_now;
use crate::error::{ApiError, ApiResult};
use serde::Serialize;
use wallet_client::types as wire;
use wallet_store::{NewCallback, TransactionRow, Tx};

/// The `event` field: `{"type", "object", "data"}` in that order, `data` exactly as GET returns it.
#[derive(Serialize)]
struct EventBody<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    object: &'a str,
    data: &'a T,
}

/// Where callbacks of `t` go: its own URI, else its project's default; none when it was created
/// with `callback_uri: false` or neither names one.
async fn destination(tx: &mut Tx, t: &TransactionRow) -> ApiResult<Option<String>> {
    if t.callbacks_disabled {
        return Ok(None);
    }
    if let Some(uri) = &t.callback_uri {
        return Ok(Some(uri.clone()));
    }
    Ok(tx
        .project(t.project_id)
        .await?
        .and_then(|p| p.callback_uri)
        .filter(|u| !u.is_empty()))
}

async fn enqueue<T: Serialize>(
    tx: &mut Tx,
    t: &TransactionRow,
    object: &str,
    kind: &str,
    data: &T,
) -> ApiResult<()> {
    let Some(uri) = destination(tx, t).await? else {
        return Ok(());
    };
    let event = serde_json::to_string(&EventBody { kind, object, data })
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("callback event: {e}")))?;
    // Wall time, not business time: delivery happens in the real world, and the sandbox clock
    // may be far ahead of it.
    let id = tx
        .insert_callback(
            &NewCallback {
                project_id: t.project_id,
                transaction_key: Some(&t.transaction_key),
                object,
                event_type: kind,
                uri: &uri,
                event: &event,
            },
            wall_now(),
        )
        .await?;
    tracing::debug!(callback_id = id, transaction_key = %t.transaction_key, object, kind, "callback queued");
    Ok(())
}

/// Records a `transaction` callback of type `data.status` (e.g. `failed`) for the transaction's
/// callback URI (its own, else the project's default; none when it was created with `false`).
/// It is scheduled on wall time, not the change's business time (see [`enqueue`]).
pub async fn enqueue_transaction(
    tx: &mut Tx,
    t: &TransactionRow,
    data: &wire::Transaction,
) -> ApiResult<()> {
    enqueue(tx, t, "transaction", data.status.as_str(), data).await
}

/// Records a `payment` callback of type `data.status` (e.g. `done`) for the payment's transaction.
pub async fn enqueue_payment(
    tx: &mut Tx,
    t: &TransactionRow,
    data: &wire::Payment,
) -> ApiResult<()> {
    enqueue(tx, t, "payment", data.status.as_str(), data).await
}

/// Records an `allowance` callback of type `data.status` (e.g. `inactive`) for the callback URI of
/// the allowance's transaction `t`.
pub async fn enqueue_allowance(
    tx: &mut Tx,
    t: &TransactionRow,
    data: &wire::Allowance,
) -> ApiResult<()> {
    enqueue(tx, t, "allowance", &data.status, data).await
}
