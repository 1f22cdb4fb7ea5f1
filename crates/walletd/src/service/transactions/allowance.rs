//! The allowance grouped into a transaction: it follows the transaction (accepted with it,
//! active from its confirm, deleted when it ends unconfirmed), and an active one covers later
//! transactions within its terms. A change the client did not make (the holder's decision, an
//! expiry) queues an `allowance` callback ([`notify`]).

use crate::error::{ApiError, ApiResult};
use wallet_core::allowance::{Exceeded, Terms};
use wallet_core::ids::{AllowanceId, TransactionKey, WalletId};
use wallet_store::{AllowanceRow, PaymentRow, TransactionRow, Tx};

/// The holder accepted transaction `key` from `wallet_id`: its allowance, if any, is for that wallet.
pub(crate) async fn accepted_by(
    tx: &mut Tx,
    key: &TransactionKey,
    wallet_id: WalletId,
) -> ApiResult<()> {
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
    let Some(a) = tx.allowance_of(&t.transaction_key).await? else {
        return Ok(());
    };
    if a.status != "new" {
        return Ok(());
    }
    let wallet = a.wallet_id.or(t.wallet_id).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "confirmed transaction {} has no wallet",
            t.transaction_key
        ))
    })?;
    let valid_until = a.valid_until.or(a.valid_for.map(|s| now.saturating_add(s)));
    tx.activate_allowance(&a, wallet, valid_until, now).await?;
    Ok(())
}

/// Transaction `key` ended unconfirmed (revoked, rejected, failed, deleted): its new allowance is
/// deleted. `notify`: the client did not end it (a holder's rejection, a deadline, age), so the
/// allowance's callback is queued.
pub(crate) async fn ended(tx: &mut Tx, key: &TransactionKey, notify: bool) -> ApiResult<()> {
    if let Some(a) = tx.allowance_of(key).await?
        && a.status == "new"
    {
        tx.set_allowance_status(a.id, "deleted", a.wallet_id)
            .await?;
        if notify {
            self::notify(tx, a.id).await?;
        }
    }
    Ok(())
}

/// Queues the callback of allowance `id` as it is now (`allowance.<status>`), to the callback URI
/// of its transaction: after a change the client did not make.
pub(crate) async fn notify(tx: &mut Tx, id: AllowanceId) -> ApiResult<()> {
    let a = tx
        .allowance(id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("allowance {id} vanished")))?;
    let t = tx
        .transaction(&a.transaction_key)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("allowance {id} has no transaction")))?;
    crate::callbacks::enqueue_allowance(tx, &t, &crate::render::allowance(&a)).await
}

/// Active allowances past their `valid.until` become `inactive` (with their callback), one
/// database transaction each; answers how many did.
pub async fn expire_due(store: &wallet_store::Store, now: i64) -> ApiResult<usize> {
    let due = {
        let mut tx = store.read().await?;
        tx.expired_active_allowances(now, 100).await?
    };
    let mut expired = 0;
    for id in due {
        let mut tx = store.write().await?;
        let Some(a) = tx.allowance_for_update(id).await? else {
            continue;
        };
        if a.status != "active" || a.valid_until.is_none_or(|u| u > now) {
            continue;
        }
        tx.set_allowance_status(a.id, "inactive", a.wallet_id)
            .await?;
        notify(&mut tx, a.id).await?;
        tx.commit().await?;
        expired += 1;
    }
    Ok(expired)
}

pub(crate) fn terms(a: &AllowanceRow) -> Terms {
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
