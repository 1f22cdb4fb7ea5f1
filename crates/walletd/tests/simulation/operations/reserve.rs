//! The client reserves: by a reservation code, by the holder's PIN (right or wrong, up to the
//! lockout), under the holder's active allowance; by code and PIN at prices chosen within the
//! payments' `price_rules` (`payment_prices`).

use super::{holder, holder_with_allowance};
use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use wallet_client::types::ReserveRequest;
use wallet_core::TransactionStatus as S;
use walletd::service::transactions;

/// The prices to reserve at, or the refusals a choice of them must meet.
type Prices = Result<Vec<i64>, Vec<&'static str>>;

/// Prices chosen for transaction `t`'s open payments, sometimes: within the rules, now and then
/// outside them (`invalid_state`) or for a payment without rules or of another transaction
/// (`invalid_request`). The request's `payment_prices`, and the prices it must reserve at (or
/// the refusal it must meet).
fn choose(w: &World, rng: &mut StdRng, t: usize) -> (Option<BTreeMap<String, i64>>, Prices) {
    let open: Vec<&Pay> = w.transactions[t]
        .payments
        .iter()
        .filter(|p| p.state == PayState::Open)
        .collect();
    if !rng.random_bool(0.4) {
        return (None, own(w, t));
    }
    let (mut chosen, mut prices, mut refusals) = (BTreeMap::new(), Vec::new(), Vec::new());
    for p in open {
        let price = match (&p.rules, rng.random_range(0..10)) {
            (_, 0..=2) => {
                prices.push(p.price);
                continue;
            }
            (None, 3) => {
                refusals.push("invalid_request");
                p.price
            }
            (None, _) => {
                prices.push(p.price);
                continue;
            }
            (Some(r), 4) => {
                refusals.push("invalid_state");
                r.max.map_or(-1, |m| m + 1)
            }
            (Some(r), _) => match &r.choices {
                Some(c) => c[rng.random_range(0..c.len())],
                None => rng.random_range(r.min.unwrap_or(0)..=r.max.unwrap_or(2 * p.price)),
            },
        };
        chosen.insert(p.id.to_string(), price);
        prices.push(price);
    }
    if rng.random_bool(0.05) {
        // No payment has this id.
        chosen.insert(i64::MAX.to_string(), 1);
        refusals.push("invalid_request");
    }
    match refusals.is_empty() {
        true => (Some(chosen), Ok(prices)),
        false => (Some(chosen), Err(refusals)),
    }
}

/// The own prices of transaction `t`'s open payments, as `choose` answers them.
fn own(w: &World, t: usize) -> Prices {
    let open = w.transactions[t].payments.iter();
    Ok(open
        .filter(|p| p.state == PayState::Open)
        .map(|p| p.price)
        .collect())
}

/// The refusals that a client's reservation (code, PIN, allowance) of `t` for `wallet` at the
/// `prices` chosen may meet, besides the way's own; and the total they come to.
fn refusals_at(
    w: &World,
    c: usize,
    t: usize,
    wallet: WalletId,
    prices: &Prices,
) -> (Vec<&'static str>, i64) {
    let total = prices.as_ref().map_or(w.open_total(t), |p| p.iter().sum());
    if !w.sees(c, t) {
        return (vec!["not_found"], total);
    }
    let mut refusals = Vec::new();
    if w.transactions[t].status != S::New {
        refusals.push("invalid_state");
    }
    if !w.covers(wallet, total) {
        refusals.push("not_enough_funds");
    }
    if let Err(r) = prices {
        refusals.extend(r);
    }
    (refusals, total)
}

/// Transaction `t` reserved at `prices` for `wallet`: the model holds them.
fn reserved(w: &mut World, t: usize, wallet: WalletId, prices: Option<&[i64]>, how: &str) {
    w.reserve(t, wallet, prices);
    w.note(how);
    if w.transactions[t].payments.iter().any(|p| p.rules.is_some()) {
        w.note("reserved with price rules");
    }
}

pub async fn by_code(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
) -> Result<String, String> {
    if w.codes.is_empty() {
        return super::create::code(w, rng).await;
    }
    let i = rng.random_range(0..w.codes.len());
    let code = w.codes[i].clone();
    w.touch(c, t);
    let (payment_prices, prices) = choose(w, rng, t);
    let (mut refusals, total) = refusals_at(w, c, t, code.wallet, &prices);
    if refusals != ["not_found"] {
        if code.used {
            refusals.push("invalid_code");
        }
        if w.now() >= code.expires_at {
            refusals.push("code_expired");
        }
        if code.max.is_some_and(|m| total > m) {
            refusals.push("code_restriction_violation");
        }
        if w.transactions[t].allowance.is_some() {
            refusals.push("invalid_state");
        }
    }
    let req = ReserveRequest {
        reservation_code: Some(code.text.clone()),
        payment_prices,
        ..Default::default()
    };
    let key = w.transactions[t].key.clone();
    let got = transactions::reserve_with_code(&w.state, &w.clients[c], &key, req).await;
    if answered("reserve by code", got, Expect::of(refusals))?.is_some() {
        w.codes[i].used = true;
        reserved(
            w,
            t,
            code.wallet,
            prices.as_deref().ok(),
            "reserved by code",
        );
    }
    Ok(format!(
        "client {c} reserves {t} with code {i} at {prices:?}"
    ))
}

/// Reserves by PIN; now and then someone guesses, wrong several times in a row.
pub async fn by_pin(w: &mut World, rng: &mut StdRng, c: usize, t: usize) -> Result<String, String> {
    let h = holder(w, rng);
    if rng.random_bool(0.15) {
        let tries = rng.random_range(2..=6);
        for _ in 0..tries {
            pin_once(w, rng, c, t, &h, false).await?;
        }
        return Ok(format!(
            "client {c} guesses {tries} PINs of {} for {t}",
            h.wallet
        ));
    }
    let right = rng.random_bool(0.8);
    pin_once(w, rng, c, t, &h, right).await
}

async fn pin_once(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
    h: &Holder,
    right: bool,
) -> Result<String, String> {
    let failures = w.pin_failures.get(&h.wallet).copied().unwrap_or(0);
    let (payment_prices, prices) = choose(w, rng, t);
    let locked = failures >= transactions::MAX_PIN_FAILURES;
    if right && !locked {
        w.touch(c, t);
    }
    let refusals = match (locked, right) {
        (true, _) => vec!["user_error_limit_exceeded"],
        (false, false) => vec!["invalid_code"],
        (false, true) => refusals_at(w, c, t, h.wallet, &prices).0,
    };
    let pin = if right { h.pin.clone() } else { "0000".into() };
    let key = w.transactions[t].key.clone();
    let got = transactions::reserve_with_pin(
        &w.state,
        &w.clients[c],
        &key,
        h.wallet,
        &pin,
        payment_prices.as_ref(),
    );
    let done = answered("reserve by PIN", got.await, Expect::of(refusals))?.is_some();
    match (done, locked, right) {
        (true, _, _) => {
            w.pin_failures.remove(&h.wallet);
            reserved(w, t, h.wallet, prices.as_deref().ok(), "reserved by PIN");
        }
        (false, true, _) => w.note("PIN locked"),
        // A right PIN refused for the transaction's sake: the failures stay as they were.
        (false, false, true) => {}
        (false, false, false) => *w.pin_failures.entry(h.wallet).or_default() += 1,
    }
    Ok(format!(
        "client {c} reserves {t} for {} by PIN (right: {right}) at {prices:?}",
        h.wallet
    ))
}

pub async fn by_allowance(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
) -> Result<String, String> {
    let wallet = holder_with_allowance(w, rng, c).wallet;
    w.touch(c, t);
    let (mut refusals, total) = refusals_at(w, c, t, wallet, &own(w, t));
    let active = w.active_allowance(w.clients[c].id, wallet);
    if refusals != ["not_found"] {
        match active {
            None => refusals.push("no_active_allowance"),
            Some(a) if !w.allowance_lets(a, total) => refusals.push("allowance_exceeded"),
            Some(_) => {}
        }
        if w.transactions[t].allowance.is_some() {
            refusals.push("invalid_state");
        }
    }
    let key = w.transactions[t].key.clone();
    let got = transactions::reserve_with_allowance(&w.state, &w.clients[c], &key, wallet, &[]);
    if answered("reserve by allowance", got.await, Expect::of(refusals))?.is_some() {
        let a = active.expect("reserved under an active allowance");
        w.transactions[t].under = Some((a, w.now()));
        reserved(w, t, wallet, None, "reserved under an allowance");
        if !w.allowances[a].limits.is_empty() {
            w.note("reserved within an allowance's windows");
        }
    } else if active.is_some_and(|a| !w.allowance_lets(a, total)) {
        w.note("allowance exceeded");
    }
    Ok(format!(
        "client {c} reserves {t} for {wallet} under allowance {active:?}"
    ))
}
