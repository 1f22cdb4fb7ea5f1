//! Transactions with nothing held: every hold released (revoked, failed, rejected), or none
//! placed yet while the holder decides (`waiting`, `waiting_funds`).

use super::allowance;
use crate::error::ApiResult;
use wallet_core::{PaymentStatus, TransactionKey, TransactionStatus, WalletId};
use wallet_store::{TransactionRow, TransactionState, Tx};

/// Releases every hold of a transaction and marks it `status` (revoked, failed).
pub(crate) async fn release_all(
    tx: &mut Tx,
    t: &TransactionRow,
    status: TransactionStatus,
    now: i64,
) -> ApiResult<()> {
    for p in tx
        .payments_of(&t.transaction_key)
        .await?
        .into_iter()
        .filter(|p| p.status != PaymentStatus::Canceled)
    {
        if let Some(hold) = p.hold_id {
            tx.release_hold(hold, now).await?;
        }
        tx.update_payment(
            p.id,
            status.into(),
            p.price,
            p.payer_wallet_id,
            p.hold_id,
            None,
        )
        .await?;
    }
    tx.set_transaction_state(
        &t.transaction_key,
        &TransactionState {
            status,
            ..t.state()
        },
        now,
    )
    .await?;
    // Only the client revokes (or deletes a new one); failing and rejecting are not its acts.
    let notify = matches!(
        status,
        TransactionStatus::Failed | TransactionStatus::Rejected
    );
    allowance::ended(tx, &t.transaction_key, notify).await?;
    Ok(())
}

/// Puts a transaction and its payments in a status that waits for the holder (`waiting`,
/// `waiting_funds`) on `wallet`, nothing held, to be decided by `deadline` (the sweeper fails it
/// after).
pub(crate) async fn wait_for_holder(
    tx: &mut Tx,
    key: &TransactionKey,
    status: TransactionStatus,
    kind: wallet_core::TransactionType,
    wallet: WalletId,
    deadline: i64,
    now: i64,
) -> ApiResult<()> {
    for p in tx.payments_of(key).await? {
        if p.status != PaymentStatus::Canceled {
            tx.update_payment(p.id, status.into(), p.price, None, None, None)
                .await?;
        }
    }
    let waiting = TransactionState {
        status,
        kind: Some(kind),
        wallet_id: Some(wallet),
        reserved_until: Some(deadline),
        confirmed_at: None,
    };
    tx.set_transaction_state(key, &waiting, now).await?;
    Ok(())
}
