//! What must hold after every step, read from the store: the ledger sound over the whole
//! database, no account below zero, every account's holds the sum of its payments that hold
//! money, only the spec's status transitions, no allowance past its limits, and every
//! transaction, payment and wallet as the model expects it.

use crate::world::*;
use std::collections::BTreeMap;
use wallet_core::status::Event;
use wallet_core::{PaymentStatus, TransactionStatus as S};
use wallet_store::{PaymentRow, Tx};

/// The steps the holder's own decisions make (transactions.txt: a transaction presented to her,
/// waiting for funds after she accepted, rejected by her), which the core's state machine has
/// no event for: the confirmation page and FLASH set them themselves.
const HOLDER_STEPS: &[(S, S)] = &[
    (S::New, S::Waiting),
    (S::Waiting, S::WaitingFunds),
    (S::Waiting, S::Rejected),
    (S::WaitingFunds, S::Rejected),
];

/// Whether a transaction may go `from` → `to`: a step of the spec's list that the core's state
/// machine makes by some event (or one of the holder's steps it does not name).
fn may_move(from: S, to: S) -> bool {
    let core =
        Event::ALL.iter().any(|e| from.apply(*e) == Ok(to)) || HOLDER_STEPS.contains(&(from, to));
    ALLOWED.contains(&(from, to)) && core
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Every invariant; the first broken one. Remembers the statuses read for the next step's check.
pub async fn check(w: &mut World) -> Result<(), String> {
    let mut tx = w.state.store.read().await.map_err(err)?;
    let ledger = tx.ledger_check().await.map_err(err)?;
    if !ledger.is_sound() {
        return Err(format!("ledger unsound: {ledger:?}"));
    }
    let mut rows = Vec::new();
    for (i, t) in w.transactions.iter().enumerate() {
        let row = tx.transaction(&t.key).await.map_err(err)?;
        let row = row.ok_or(format!("transaction {i} is gone"))?;
        let from = w.seen.get(i).copied().unwrap_or(S::New);
        if row.status != from && !may_move(from, row.status) {
            return Err(format!(
                "transaction {i} went {from} -> {} in the store",
                row.status
            ));
        }
        if row.status != t.status {
            return Err(format!(
                "transaction {i} is {} in the store, {} in the model",
                row.status, t.status
            ));
        }
        let stored = tx.payments_of(&t.key).await.map_err(err)?;
        payments(i, t, &stored)?;
        rows.push(stored);
    }
    w.seen = w.transactions.iter().map(|t| t.status).collect();
    accounts(w, &mut tx, &rows).await?;
    allowances(w, &mut tx, &rows).await
}

/// Each payment of transaction `i` as the model expects it: status, price, freeze end.
fn payments(i: usize, t: &Tr, stored: &[PaymentRow]) -> Result<(), String> {
    for (j, p) in t.payments.iter().enumerate() {
        let s = stored.iter().find(|s| s.id == p.id);
        let s = s.ok_or(format!("payment {j} of {i} is gone"))?;
        let (want, until) = match p.state {
            PayState::Done => (PaymentStatus::Done, None),
            PayState::Canceled => (PaymentStatus::Canceled, None),
            PayState::Frozen { until } => (PaymentStatus::Confirmed, Some(until)),
            PayState::Open => (t.status.into(), None),
        };
        let frozen_ok = until.is_none_or(|u| s.freeze_until == Some(u));
        if want != s.status || s.price != p.price || !frozen_ok {
            return Err(format!(
                "payment {j} of {i}: {} at {} until {:?} stored, {:?} at {} expected",
                s.status, s.price, s.freeze_until, p.state, p.price
            ));
        }
    }
    Ok(())
}

/// Every wallet as the model expects it, none below zero, and each one's `reserved` the sum of
/// the stored payments that hold its money (reserved, or confirmed and frozen).
async fn accounts(w: &World, tx: &mut Tx, rows: &[Vec<PaymentRow>]) -> Result<(), String> {
    let mut held: BTreeMap<WalletId, i64> = BTreeMap::new();
    for p in rows.iter().flatten() {
        let holds = match p.status {
            PaymentStatus::Reserved => true,
            PaymentStatus::Confirmed => p.freeze_until.is_some(),
            _ => false,
        };
        if let (true, Some(payer)) = (holds, p.payer_wallet_id) {
            *held.entry(payer).or_default() += p.price;
        }
    }
    for (wallet, purse) in &w.purses {
        let accounts = tx.wallet_accounts(*wallet).await.map_err(err)?;
        let stored = accounts
            .iter()
            .find(|a| a.currency == w.eur)
            .map(|a| Purse {
                balance: a.balance.balance,
                reserved: a.balance.reserved,
                incoming: a.incoming,
            });
        let stored = stored.unwrap_or_default();
        if stored.balance < 0 || stored.balance < stored.reserved || stored.incoming < 0 {
            return Err(format!("wallet {wallet} is below zero: {stored:?}"));
        }
        let holds = held.get(wallet).copied().unwrap_or(0);
        if stored.reserved != holds {
            return Err(format!(
                "wallet {wallet} has {} reserved, its payments hold {holds}",
                stored.reserved
            ));
        }
        if stored != *purse {
            return Err(format!(
                "wallet {wallet}: {stored:?} stored, {purse:?} expected"
            ));
        }
    }
    Ok(())
}

/// What the store says each allowance let through is what the model says, and within its
/// limits: each transaction under its cap, every window (the heaviest ends at a spend) under
/// its maximum.
async fn allowances(w: &World, tx: &mut Tx, rows: &[Vec<PaymentRow>]) -> Result<(), String> {
    for (a, al) in w.allowances.iter().enumerate() {
        let spends = tx.allowance_spends(al.id, i64::MIN).await.map_err(err)?;
        let mut stored: Vec<(i64, i64)> = spends.iter().map(|s| (s.at, s.amount)).collect();
        stored.sort();
        if stored != w.spends(a) {
            return Err(format!(
                "allowance {a} let through {stored:?} in the store, {:?} in the model",
                w.spends(a)
            ));
        }
        for (at, _) in &stored {
            for (max, time) in &al.limits {
                let window = stored.iter().filter(|(x, _)| *x <= *at && *x > at - time);
                let sum: i64 = window.map(|(_, n)| n).sum();
                if sum > *max {
                    return Err(format!("allowance {a}: {sum} in {time} s, above {max}"));
                }
            }
        }
        let under = w.transactions.iter().zip(rows);
        for (t, stored) in under.filter(|(t, _)| t.under.is_some_and(|(u, _)| u == a)) {
            let paid = stored
                .iter()
                .filter(|p| p.status != PaymentStatus::Canceled);
            let total: i64 = paid.map(|p| p.price).sum();
            if al.max.is_some_and(|m| total > m) {
                return Err(format!("allowance {a} let {} through at {total}", t.key));
            }
        }
    }
    Ok(())
}
