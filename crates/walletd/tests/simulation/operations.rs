//! The steps of a run, each through walletd's service functions (what the HTTP handlers call):
//! the model says what must happen — success, or which refusals are right — and, on success,
//! how the store must change.

use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::json;
use wallet_client::types::{ConfirmPrices, NewTransaction, ReserveRequest};
use wallet_core::TransactionStatus as S;
use walletd::caller::Caller;
use walletd::service::{admin, allowances, transactions};

fn caller(w: &World, c: usize) -> Caller {
    Caller {
        client: w.clients[c].clone(),
        holder: None,
        scope: None,
        project: None,
        location: None,
    }
}

/// One random step; what it did, for the failure report.
pub async fn step(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let c = if rng.random_bool(0.1) {
        2
    } else {
        rng.random_range(0..2)
    };
    let t = (!w.transactions.is_empty()).then(|| rng.random_range(0..w.transactions.len()));
    match (rng.random_range(0..100), t) {
        (0..16, _) | (_, None) => create(w, rng, c).await,
        (16..20, _) => create_allowance(w, rng, c).await,
        (20..28, _) => issue_code(w, rng).await,
        (28..40, Some(t)) => reserve_by_code(w, rng, c, t).await,
        (40..46, Some(t)) => reserve_by_pin(w, rng, c, t).await,
        (46..53, Some(t)) => reserve_by_allowance(w, rng, c, t).await,
        (53..67, Some(t)) => confirm(w, rng, c, t).await,
        (67..73, Some(t)) => revoke(w, c, t).await,
        (73..77, Some(t)) => crate::payments::cancel(w, rng, c, t).await,
        (77..82, _) => crate::payments::finalize(w, rng, c).await,
        (82..85, _) => top_up(w, rng).await,
        (85..88, _) => {
            w.restart(rng.random()).await;
            Ok("restart".into())
        }
        _ => crate::payments::jump(w, rng).await,
    }
}

async fn create(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let payments: Vec<_> = (0..rng.random_range(1..=3))
        .map(|_| {
            let freeze = rng.random_bool(0.25).then(|| rng.random_range(60..7_200));
            json!({"description": "goods", "price": rng.random_range(1..30_000), "currency": "EUR",
                   "freeze": freeze.map(|s| json!({"for": s}))})
        })
        .collect();
    let reserve_for = [60, 600, 3_600, 86_400][rng.random_range(0..4)];
    let req: NewTransaction =
        serde_json::from_value(json!({"payments": payments, "reserve": {"for": reserve_for}}))
            .unwrap();
    let got = transactions::create(&w.state, &caller(w, c), req).await;
    let t = answered("create", got, Expect::Ok)?.unwrap();
    let payments = t
        .payments
        .iter()
        .map(|p| Pay {
            id: p.id,
            price: p.price,
            freeze_for: p.freeze.as_ref().and_then(|f| f.for_seconds),
            state: PayState::Open,
        })
        .collect();
    w.transactions.push(Tr {
        key: t.transaction_key.clone(),
        client: c,
        status: S::New,
        payments,
        allowance_max: None,
        created_at: w.now(),
        reserve_for,
        reserved_until: None,
        payer: None,
    });
    Ok(format!(
        "client {c} creates {} ({})",
        w.transactions.len() - 1,
        t.transaction_key
    ))
}

async fn create_allowance(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let max = rng.random_range(1_000..40_000);
    let req = serde_json::from_value(json!({"currency": "EUR", "max_price": max})).unwrap();
    let got = allowances::create(&w.state, &caller(w, c), req).await;
    let a = answered("create allowance", got, Expect::Ok)?.unwrap();
    w.transactions.push(Tr {
        key: a.transaction_key.clone(),
        client: c,
        status: S::New,
        payments: Vec::new(),
        allowance_max: Some(max),
        created_at: w.now(),
        reserve_for: wallet_core::reserve::DEFAULT_RESERVE_SECS,
        reserved_until: None,
        payer: None,
    });
    Ok(format!(
        "client {c} creates allowance transaction {} (max {max})",
        w.transactions.len() - 1
    ))
}

async fn issue_code(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let (wallet, _) = w.holders[rng.random_range(0..w.holders.len())].clone();
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

/// The refusals reserving transaction `t` for `wallet` by client `c` may meet, besides the way's own.
fn reserve_refusals(
    w: &World,
    c: usize,
    t: usize,
    wallet: wallet_core::WalletId,
) -> Vec<&'static str> {
    if !w.sees(c, t) {
        return vec!["not_found"];
    }
    let tr = &w.transactions[t];
    let mut refusals = Vec::new();
    if tr.status != S::New {
        refusals.push("invalid_state");
    }
    let total: i64 = tr
        .payments
        .iter()
        .filter(|p| p.state == PayState::Open)
        .map(|p| p.price)
        .sum();
    let purse = w.purses[&wallet];
    if purse.balance - purse.reserved < total {
        refusals.push("not_enough_funds");
    }
    refusals
}

/// Transaction `t` was reserved for `wallet`: the model holds its open payments.
fn reserved(w: &mut World, t: usize, wallet: wallet_core::WalletId) {
    let now = w.now();
    w.set_status(t, S::Reserved);
    let tr = &mut w.transactions[t];
    tr.payer = Some(wallet);
    tr.reserved_until = Some(now + tr.reserve_for);
    let total: i64 = tr
        .payments
        .iter()
        .filter(|p| p.state == PayState::Open)
        .map(|p| p.price)
        .sum();
    w.purse(wallet).reserved += total;
}

async fn reserve_by_code(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
) -> Result<String, String> {
    if w.codes.is_empty() {
        return issue_code(w, rng).await;
    }
    let i = rng.random_range(0..w.codes.len());
    let code = w.codes[i].clone();
    let mut refusals = reserve_refusals(w, c, t, code.wallet);
    if refusals != ["not_found"] {
        let total: i64 = w.transactions[t]
            .payments
            .iter()
            .filter(|p| p.state == PayState::Open)
            .map(|p| p.price)
            .sum();
        if code.used {
            refusals.push("invalid_code");
        }
        if w.now() >= code.expires_at {
            refusals.push("code_expired");
        }
        if code.max.is_some_and(|m| total > m) {
            refusals.push("code_restriction_violation");
        }
        if w.transactions[t].allowance_max.is_some() {
            refusals.push("invalid_state");
        }
    }
    let req = ReserveRequest {
        reservation_code: Some(code.text.clone()),
        ..Default::default()
    };
    let key = w.transactions[t].key.clone();
    let got = transactions::reserve_with_code(&w.state, &w.clients[c], &key, req).await;
    if answered("reserve by code", got, Expect::of(refusals))?.is_some() {
        w.codes[i].used = true;
        reserved(w, t, code.wallet);
    }
    Ok(format!("client {c} reserves {t} with code {i}"))
}

async fn reserve_by_pin(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
) -> Result<String, String> {
    let (wallet, pin) = w.holders[rng.random_range(0..w.holders.len())].clone();
    let right = rng.random_bool(0.8);
    let failures = w.pin_failures.get(&wallet).copied().unwrap_or(0);
    let refusals = if failures >= transactions::MAX_PIN_FAILURES {
        vec!["user_error_limit_exceeded"]
    } else if !right {
        vec!["invalid_code"]
    } else {
        reserve_refusals(w, c, t, wallet)
    };
    let pin = if right { pin } else { "0000".into() };
    let key = w.transactions[t].key.clone();
    let got =
        transactions::reserve_with_pin(&w.state, &w.clients[c], &key, wallet, &pin, None).await;
    if answered("reserve by PIN", got, Expect::of(refusals))?.is_some() {
        w.pin_failures.remove(&wallet);
        reserved(w, t, wallet);
    } else if right && failures < transactions::MAX_PIN_FAILURES {
        // A right PIN refused for the transaction's sake: the failures stay as they were.
    } else if failures < transactions::MAX_PIN_FAILURES {
        *w.pin_failures.entry(wallet).or_default() += 1;
    }
    Ok(format!(
        "client {c} reserves {t} for {wallet} by PIN (right: {right})"
    ))
}

async fn reserve_by_allowance(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
) -> Result<String, String> {
    let (wallet, _) = w.holders[rng.random_range(0..w.holders.len())].clone();
    let mut refusals = reserve_refusals(w, c, t, wallet);
    if refusals != ["not_found"] {
        let total: i64 = w.transactions[t]
            .payments
            .iter()
            .filter(|p| p.state == PayState::Open)
            .map(|p| p.price)
            .sum();
        match w.allowances.get(&(w.clients[c].id, wallet)) {
            None => refusals.push("no_active_allowance"),
            Some(max) if total > *max => refusals.push("allowance_exceeded"),
            Some(_) => {}
        }
        if w.transactions[t].allowance_max.is_some() {
            refusals.push("invalid_state");
        }
    }
    let key = w.transactions[t].key.clone();
    let got =
        transactions::reserve_with_allowance(&w.state, &w.clients[c], &key, wallet, &[]).await;
    if answered("reserve by allowance", got, Expect::of(refusals))?.is_some() {
        reserved(w, t, wallet);
    }
    Ok(format!(
        "client {c} reserves {t} for {wallet} under an allowance"
    ))
}

async fn confirm(w: &mut World, rng: &mut StdRng, c: usize, t: usize) -> Result<String, String> {
    let mut refusals = if !w.sees(c, t) {
        vec!["not_found"]
    } else if w.transactions[t].status != S::Reserved {
        vec!["invalid_state"]
    } else {
        Vec::new()
    };
    // Some open payments kept, some reduced, now and then one raised or zeroed (refused).
    let mut prices = ConfirmPrices::new();
    let mut wanted = Vec::new();
    for p in w.transactions[t]
        .payments
        .iter()
        .filter(|p| p.state == PayState::Open)
    {
        let n = match rng.random_range(0..12) {
            0 => p.price + 1,
            1 => 0,
            2..6 => rng.random_range(1..=p.price),
            _ => p.price,
        };
        if n <= 0 || n > p.price {
            refusals.push("invalid_request");
        }
        if n != p.price || rng.random_bool(0.2) {
            let price = serde_json::from_value(json!({"price": n, "currency": "EUR"})).unwrap();
            prices.insert(p.id.to_string(), price);
        }
        wanted.push((p.id, n));
    }
    let key = w.transactions[t].key.clone();
    let got = transactions::confirm(&w.state, &w.clients[c], &key, Some(prices)).await;
    if answered("confirm", got, Expect::of(refusals))?.is_none() {
        return Ok(format!("client {c} confirms {t}: refused"));
    }
    let now = w.now();
    w.set_status(t, S::Confirmed);
    let (payer, ben) = (w.transactions[t].payer.expect("a payer"), w.beneficiary(t));
    for (id, n) in wanted {
        let p = w.transactions[t]
            .payments
            .iter_mut()
            .find(|p| p.id == id)
            .unwrap();
        let held = std::mem::replace(&mut p.price, n);
        match p.freeze_for {
            Some(s) => {
                p.state = PayState::Frozen { until: now + s };
                w.purse(payer).reserved -= held - n;
                w.purse(ben).incoming += n;
            }
            None => {
                p.state = PayState::Done;
                let purse = w.purse(payer);
                purse.reserved -= held;
                purse.balance -= n;
                w.purse(ben).balance += n;
            }
        }
    }
    // The allowance is the creating client's, whichever client of the project confirmed it.
    if let Some(max) = w.transactions[t].allowance_max {
        let owner = w.clients[w.transactions[t].client].id;
        w.allowances.insert((owner, payer), max);
    }
    Ok(format!("client {c} confirms {t}"))
}

async fn revoke(w: &mut World, c: usize, t: usize) -> Result<String, String> {
    let status = w.transactions[t].status;
    let to = match status {
        _ if !w.sees(c, t) => None,
        S::New => Some(S::Deleted),
        s if s.holds_funds() => Some(S::Revoked),
        _ => None,
    };
    let refusals = match (to, w.sees(c, t)) {
        (_, false) => vec!["not_found"],
        (None, true) => vec!["invalid_state"],
        (Some(_), true) => Vec::new(),
    };
    let key = w.transactions[t].key.clone();
    let got = transactions::revoke(&w.state, &w.clients[c], &key).await;
    if answered("revoke", got, Expect::of(refusals))?.is_some() {
        w.release(t);
        w.set_status(t, to.unwrap());
    }
    Ok(format!("client {c} revokes {t} ({status})"))
}

async fn top_up(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let (wallet, _) = w.holders[rng.random_range(0..w.holders.len())].clone();
    let euros = rng.random_range(1..500);
    let got = admin::top_up(&w.state, wallet, &format!("{euros}.00"), "EUR").await;
    answered("top up", got, Expect::Ok)?;
    w.purse(wallet).balance += euros * 100;
    Ok(format!("top up {wallet} with {euros} EUR"))
}
