//! What must hold after every step, read from the store: the ledger sound over the whole
//! database, and every transaction, payment and wallet as the model expects it.

use crate::world::*;
use wallet_core::PaymentStatus;

/// Every invariant; the first broken one.
pub async fn check(w: &World) -> Result<(), String> {
    let mut tx = w.state.store.read().await.map_err(|e| e.to_string())?;
    let ledger = tx.ledger_check().await.map_err(|e| e.to_string())?;
    if !ledger.is_sound() {
        return Err(format!("ledger unsound: {ledger:?}"));
    }
    for (i, t) in w.transactions.iter().enumerate() {
        let row = tx
            .transaction(&t.key)
            .await
            .map_err(|e| e.to_string())?
            .ok_or(format!("transaction {i} is gone"))?;
        if row.status != t.status {
            return Err(format!(
                "transaction {i} is {} in the store, {} in the model",
                row.status, t.status
            ));
        }
        let stored = tx.payments_of(&t.key).await.map_err(|e| e.to_string())?;
        for (j, p) in t.payments.iter().enumerate() {
            let s = stored
                .iter()
                .find(|s| s.id == p.id)
                .ok_or(format!("payment {j} of {i} is gone"))?;
            let want = match p.state {
                PayState::Done => Some(PaymentStatus::Done),
                PayState::Canceled => Some(PaymentStatus::Canceled),
                PayState::Frozen { .. } => Some(PaymentStatus::Confirmed),
                PayState::Open => None,
            };
            if want.is_some_and(|want| want != s.status) || (want.is_some() && s.price != p.price) {
                return Err(format!(
                    "payment {j} of {i}: {} at {} stored, {:?} at {} expected",
                    s.status, s.price, p.state, p.price
                ));
            }
        }
    }
    for (wallet, purse) in &w.purses {
        let accounts = tx
            .wallet_accounts(*wallet)
            .await
            .map_err(|e| e.to_string())?;
        let stored = accounts
            .iter()
            .find(|a| a.currency == w.eur)
            .map(|a| Purse {
                balance: a.balance.balance,
                reserved: a.balance.reserved,
                incoming: a.incoming,
            });
        if stored.unwrap_or_default() != *purse {
            return Err(format!(
                "wallet {wallet}: {stored:?} stored, {purse:?} expected"
            ));
        }
    }
    Ok(())
}
