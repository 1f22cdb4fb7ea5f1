//! What must hold after every step, measured on the world without trusting the code that moved it.

use crate::model::*;
use std::collections::BTreeMap;
use wallet_core::TransactionStatus as S;
use wallet_core::ledger::{AccountBalance, AccountId};

/// The transitions the spec allows (transactions.txt, "Transaction statuses"), written out here
/// rather than taken from `TransactionStatus::apply`, which is what is checked.
pub const ALLOWED: &[(S, S)] = &[
    (S::New, S::Reserved),
    (S::New, S::Deleted),
    (S::Waiting, S::Reserved),
    (S::WaitingFunds, S::Reserved),
    (S::Reserved, S::Confirmed),
    (S::Reserved, S::Revoked),
    (S::Reserved, S::Failed),
    (S::Waiting, S::Revoked),
    (S::Waiting, S::Failed),
    (S::WaitingFunds, S::Revoked),
    (S::WaitingFunds, S::Failed),
    (S::WaitingRegistration, S::Revoked),
    (S::WaitingRegistration, S::Failed),
    (S::WaitingPassword, S::Revoked),
    (S::WaitingPassword, S::Failed),
];

/// Every invariant; the first broken one.
pub fn check(w: &World) -> Result<(), String> {
    ledgers(w)?;
    holds(w)?;
    balances(w)?;
    transitions(w)?;
    allowances(w)?;
    codes(w)
}

/// Each currency's ledger sums to zero, keeps its own rules, and no holder is below zero.
fn ledgers(w: &World) -> Result<(), String> {
    for (c, l) in w.ledgers.iter().enumerate() {
        l.check_invariants()
            .map_err(|e| format!("currency {c}: {e}"))?;
        if l.total() != 0 {
            return Err(format!("currency {c} sums to {}", l.total()));
        }
        for a in (1..=WALLETS).chain(BENEFICIARIES) {
            if l.account(a).available() < 0 || l.account(a).balance < 0 {
                return Err(format!(
                    "account {a} in currency {c} is below zero: {:?}",
                    l.account(a)
                ));
            }
        }
    }
    Ok(())
}

/// An account's `reserved` is the sum of its reserved (or confirmed but frozen) payments, and a
/// payment has a hold exactly when its transaction holds funds or it is frozen.
fn holds(w: &World) -> Result<(), String> {
    let mut held: BTreeMap<(AccountId, usize), i64> = BTreeMap::new();
    for (i, t) in w.transactions.iter().enumerate() {
        for (j, p) in t.payments.iter().enumerate() {
            let frozen = matches!(p.settled, Settled::FrozenUntil(_));
            let should = frozen || (t.status.holds_funds() && p.settled == Settled::Open);
            if p.hold.is_some() != should {
                return Err(format!(
                    "payment {j} of {i} ({}, {:?}): hold {:?}",
                    t.status, p.settled, p.hold
                ));
            }
            if frozen && t.status != S::Confirmed {
                return Err(format!(
                    "payment {j} of {i} is frozen in a {} transaction",
                    t.status
                ));
            }
            if p.hold.is_some() {
                *held.entry((t.payer.unwrap(), p.currency)).or_default() += p.held;
            }
        }
    }
    ledgers_agree(
        w,
        1..=WALLETS,
        &held,
        |b| b.reserved,
        |a, c, got, want| {
            format!("wallet {a}, currency {c}: reserved {got} but payments hold {want}")
        },
    )
}

/// Balances are deposits plus payments received minus payments made, and nothing is paid above
/// what was held.
fn balances(w: &World) -> Result<(), String> {
    let mut want = w.deposits.clone();
    for (i, t) in w.transactions.iter().enumerate() {
        for p in &t.payments {
            if let Settled::Done(n) = p.settled {
                if n > p.held || n <= 0 || t.status != S::Confirmed {
                    return Err(format!(
                        "transaction {i} ({}) paid {n} of {} held",
                        t.status, p.held
                    ));
                }
                *want.entry((t.payer.unwrap(), p.currency)).or_default() -= n;
                *want.entry((p.beneficiary, p.currency)).or_default() += n;
            }
        }
    }
    let accounts = (1..=WALLETS).chain(BENEFICIARIES);
    ledgers_agree(
        w,
        accounts,
        &want,
        |b| b.balance,
        |a, c, got, n| format!("account {a}, currency {c}: balance {got} but {n} expected"),
    )
}

/// Whether the figure `of` each of `accounts` has in each currency's ledger is what the model
/// expects (`want`, 0 where absent); the first that is not, as `mismatch(account, currency, got,
/// want)` words it.
fn ledgers_agree(
    w: &World,
    accounts: impl Iterator<Item = AccountId> + Clone,
    want: &BTreeMap<(AccountId, usize), i64>,
    of: impl Fn(AccountBalance) -> i64,
    mismatch: impl Fn(AccountId, usize, i64, i64) -> String,
) -> Result<(), String> {
    for (c, l) in w.ledgers.iter().enumerate() {
        for a in accounts.clone() {
            let (got, want) = (of(l.account(a)), want.get(&(a, c)).copied().unwrap_or(0));
            if got != want {
                return Err(mismatch(a, c, got, want));
            }
        }
    }
    Ok(())
}

/// Every status a transaction went through follows from the one before by an allowed step.
fn transitions(w: &World) -> Result<(), String> {
    for (i, t) in w.transactions.iter().enumerate() {
        for pair in t.history.windows(2) {
            if !ALLOWED.contains(&(pair[0], pair[1])) {
                return Err(format!("transaction {i} went {} -> {}", pair[0], pair[1]));
            }
        }
    }
    Ok(())
}

/// No allowance let through more than its cap per transaction or any window's limit.
fn allowances(w: &World) -> Result<(), String> {
    for (i, a) in w.allowances.iter().enumerate() {
        for s in &a.spent {
            if a.terms.max_price.is_some_and(|m| s.amount > m) {
                return Err(format!("allowance {i}: {} above max_price", s.amount));
            }
            // The heaviest window ends at a spend: check the one ending at each.
            for l in &a.terms.limits {
                let sum: i64 = a
                    .spent
                    .iter()
                    .filter(|x| x.at <= s.at && x.at > s.at - l.time)
                    .map(|x| x.amount)
                    .sum();
                if sum > l.max_price {
                    return Err(format!(
                        "allowance {i}: {sum} in {} s above {}",
                        l.time, l.max_price
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A code reserved at most once, and only before it expired.
fn codes(w: &World) -> Result<(), String> {
    for (i, uses) in w.code_uses.iter().enumerate() {
        if uses.len() > 1 || uses.iter().any(|at| *at >= w.codes[i].expires_at) {
            return Err(format!(
                "code {i} used at {uses:?}, expiring at {}",
                w.codes[i].expires_at
            ));
        }
    }
    Ok(())
}
