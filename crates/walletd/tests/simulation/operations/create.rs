//! Creation: transactions (frozen payments, price rules, `use_allowance`), allowances (a cap per
//! transaction, windows, a validity), reservation codes; and the client canceling its active
//! allowance.

use super::{caller, holder, holder_with_allowance};
use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use wallet_core::TransactionStatus as S;
use wallet_core::payment::PriceRules;
use walletd::service::{admin, allowances, transactions};

/// Price rules for a payment of `price`, now and then: a range, choices, or tips (`min: 0`).
fn rules(rng: &mut StdRng, price: i64) -> Option<PriceRules> {
    let (min, max, choices) = match rng.random_range(0..12) {
        0 => (Some(price / 2), Some(price * 2), None),
        1 => (
            None,
            None,
            Some(vec![price, (price / 2).max(1), price + 100]),
        ),
        2 => (Some(0), None, None),
        _ => return None,
    };
    Some(PriceRules { min, max, choices })
}

/// The model's record of a transaction just created by client `c`.
fn record(
    w: &mut World,
    c: usize,
    key: wallet_core::TransactionKey,
    payments: Vec<Pay>,
) -> &mut Tr {
    w.transactions.push(Tr {
        key,
        client: c,
        status: S::New,
        payments,
        allowance: None,
        under: None,
        use_allowance: false,
        created_at: w.now(),
        reserve_for: wallet_core::reserve::DEFAULT_RESERVE_SECS,
        reserved_until: None,
        payer: None,
        waits: None,
    });
    w.note(S::New.as_str());
    w.transactions.last_mut().unwrap()
}

pub async fn transaction(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let drafts: Vec<_> = (0..rng.random_range(1..=3))
        .map(|_| {
            let price = rng.random_range(1..30_000);
            let freeze = rng.random_bool(0.25).then(|| rng.random_range(60..7_200));
            (price, rules(rng, price), freeze)
        })
        .collect();
    let payments: Vec<Value> = drafts
        .iter()
        .map(|(price, rules, freeze)| {
            json!({"description": "goods", "price": price, "currency": "EUR",
                   "price_rules": rules, "freeze": freeze.map(|s| json!({"for": s}))})
        })
        .collect();
    let reserve_for = [60, 600, 3_600, 86_400][rng.random_range(0..4)];
    let use_allowance = rng.random_bool(0.3);
    let req = json!({"payments": payments, "reserve": {"for": reserve_for},
                     "use_allowance": use_allowance});
    let who = caller(w, c);
    let got = transactions::create(&w.state, &who, serde_json::from_value(req).unwrap());
    let t = answered("create", got.await, Expect::Ok)?.unwrap();
    let payments = t
        .payments
        .iter()
        .zip(drafts)
        .map(|(p, (price, rules, freeze_for))| Pay {
            id: p.id,
            price,
            rules,
            freeze_for,
            state: PayState::Open,
        })
        .collect();
    let tr = record(w, c, t.transaction_key.clone(), payments);
    tr.reserve_for = reserve_for;
    tr.use_allowance = use_allowance;
    let n = w.transactions.len() - 1;
    Ok(format!("client {c} creates {n} ({})", t.transaction_key))
}

pub async fn allowance(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let max = rng
        .random_bool(0.7)
        .then(|| rng.random_range(1_000..40_000));
    let windows = if max.is_none() { 1..3 } else { 0..3 };
    let limits: Vec<(i64, i64)> = (0..rng.random_range(windows))
        .map(|_| {
            let time = [60, 600, 3_600, 86_400][rng.random_range(0..4)];
            (rng.random_range(2_000..60_000), time)
        })
        .collect();
    let valid_for = rng
        .random_bool(0.3)
        .then(|| rng.random_range(60..2 * 86_400));
    let req = json!({"currency": "EUR", "max_price": max,
        "limits": limits.iter().map(|(m, t)| json!({"max_price": m, "time": t})).collect::<Vec<_>>(),
        "valid": valid_for.map(|s| json!({"for": s}))});
    let who = caller(w, c);
    let got = allowances::create(&w.state, &who, serde_json::from_value(req).unwrap());
    let a = answered("create allowance", got.await, Expect::Ok)?.unwrap();
    w.allowances.push(Allow {
        id: a.id,
        max,
        limits,
        valid_for,
        valid_until: None,
    });
    let i = w.allowances.len() - 1;
    record(w, c, a.transaction_key.clone(), Vec::new()).allowance = Some(i);
    let n = w.transactions.len() - 1;
    Ok(format!(
        "client {c} creates allowance {i} in transaction {n} ({:?})",
        w.allowances[i]
    ))
}

pub async fn code(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let wallet = holder(w, rng).wallet;
    let max = rng.random_bool(0.3).then(|| rng.random_range(1..600) * 100);
    let valid_for = rng.random_bool(0.5).then(|| rng.random_range(30..3_600));
    let max_text = max.map(|m| format!("{}.00", m / 100));
    let got = admin::issue_code(&w.state, wallet, max_text.as_deref(), "EUR", valid_for).await;
    let code = answered("issue code", got, Expect::Ok)?.unwrap();
    w.codes.push(Code {
        text: code.reservation_code,
        wallet,
        max,
        expires_at: code.expires_at,
        used: false,
    });
    Ok(format!("code {} for wallet {wallet}", w.codes.len() - 1))
}

/// `DELETE allowance/active/{wallet}`: the client's active allowance becomes inactive.
pub async fn cancel_allowance(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let wallet = holder_with_allowance(w, rng, c).wallet;
    let id = w.clients[c].id;
    let active = w.active_allowance(id, wallet);
    let want = Expect::of(match active {
        Some(_) => Vec::new(),
        None => vec!["no_active_allowance"],
    });
    let got = allowances::cancel_active(&w.state, &w.clients[c], wallet).await;
    if answered("cancel active allowance", got, want)?.is_some() {
        w.active.remove(&(id, wallet));
        w.note("allowance canceled");
    }
    Ok(format!(
        "client {c} cancels its allowance for {wallet} ({active:?})"
    ))
}
