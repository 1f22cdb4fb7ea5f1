//! The allowance grouped into a transaction: it follows the transaction (accepted with it,
//! active from its confirm, deleted when it ends unconfirmed), and an active one covers later
//! transactions within its terms.

use crate::error::{ApiError, ApiResult};
use wallet_core::allowance::{Exceeded, Terms};
use wallet_core::ids::{TransactionKey, WalletId};
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

/// Transaction `key` ended unconfirmed (revoked, rejected, failed, deleted): its new allowance is deleted.
pub(crate) async fn ended(tx: &mut Tx, key: &TransactionKey) -> ApiResult<()> {
    if let Some(a) = tx.allowance_of(key).await?
        && a.status == "new"
    {
        tx.set_allowance_status(a.id, "deleted", a.wallet_id)
            .await?;
    }
    Ok(())
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
