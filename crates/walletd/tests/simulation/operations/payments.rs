//! The steps on single payments: a frozen one finalized (perhaps reduced) or given a new end
//! (`PUT payment/{id}/freeze`: removed, moved, extended), any one canceled.

use crate::expect::{Expect, answered, pick};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::json;
use wallet_core::TransactionStatus as S;
use walletd::service::transactions;

/// Every (transaction, payment) of the model.
fn all_payments(w: &World) -> Vec<(usize, usize)> {
    let each = w.transactions.iter().enumerate();
    each.flat_map(|(t, tr)| (0..tr.payments.len()).map(move |p| (t, p)))
        .collect()
}

/// A payment to act on as on a frozen one: mostly a frozen one, now and then any.
fn pick_frozen(w: &World, rng: &mut StdRng) -> Option<(usize, usize)> {
    let any = all_payments(w);
    let frozen: Vec<_> = any
        .iter()
        .copied()
        .filter(|(t, p)| {
            matches!(
                w.transactions[*t].payments[*p].state,
                PayState::Frozen { .. }
            )
        })
        .collect();
    let from_any = frozen.is_empty() || rng.random_bool(0.1);
    pick(rng, if from_any { &any } else { &frozen })
}

/// The refusals of an action on payment `pay` of `t` that only a frozen one allows.
fn unless_frozen(w: &World, c: usize, t: usize, pay: &Pay) -> Vec<&'static str> {
    match (w.sees(c, t), pay.state) {
        (false, _) => vec!["not_found"],
        (true, PayState::Frozen { .. }) => Vec::new(),
        (true, _) => vec!["invalid_state"],
    }
}

/// Finalizes a payment (mostly a frozen one), perhaps at a reduced price.
pub async fn finalize(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let Some((t, p)) = pick_frozen(w, rng) else {
        return Ok("no payment to finalize".into());
    };
    let pay = w.transactions[t].payments[p].clone();
    let n = match rng.random_range(0..8) {
        0 => pay.price + 1,
        1..4 if pay.price > 0 => rng.random_range(1..=pay.price),
        _ => pay.price,
    };
    let mut refusals = unless_frozen(w, c, t, &pay);
    let price = rng
        .random_bool(0.6)
        .then(|| serde_json::from_value(json!({"price": n, "currency": "EUR"})).unwrap());
    let n = if price.is_some() { n } else { pay.price };
    if price.is_some() && (n > pay.price || n <= 0) && refusals.is_empty() {
        refusals.push("invalid_request");
    }
    let got = transactions::finalize(&w.state, &w.clients[c], pay.id, price).await;
    if answered("finalize", got, Expect::of(refusals))?.is_some() {
        pay_out(w, t, p, n);
        w.note("frozen and done");
    }
    Ok(format!("client {c} finalizes payment {p} of {t} at {n}"))
}

/// `PUT payment/{id}/freeze`: the freeze removed (done now), or a new end given as a time, as
/// seconds (nested `freeze.for`) or as hours (flat `freeze_for`); an end not in the future or
/// more than a year away is refused.
pub async fn change_freeze(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let Some((t, p)) = pick_frozen(w, rng) else {
        return Ok("no payment to re-freeze".into());
    };
    let (now, pay) = (w.now(), w.transactions[t].payments[p].clone());
    let at = now + [-60, 0, 1, 90, 3_600, 2 * 86_400, 367 * 86_400][rng.random_range(0..7)];
    let hours = rng.random_range(1..48);
    let (change, until) = match rng.random_range(0..5) {
        0 => (json!({"freeze_until": 0}), None),
        1 => (json!({"freeze_until": at}), Some(at)),
        2 => (json!({"freeze": {"until": at}}), Some(at)),
        3 => (json!({"freeze_for": hours}), Some(now + hours * 3_600)),
        _ => (json!({"freeze": {"for": at - now}}), Some(at)),
    };
    let mut refusals = unless_frozen(w, c, t, &pay);
    let out_of_range = until.is_some_and(|u| u <= now || u - now > 366 * 86_400);
    if out_of_range && refusals.is_empty() {
        refusals.push("invalid_request");
    }
    let req = serde_json::from_value(change.clone()).unwrap();
    let got = transactions::change_freeze(&w.state, &w.clients[c], pay.id, req).await;
    if answered("change freeze", got, Expect::of(refusals))?.is_some() {
        match until {
            None => pay_out(w, t, p, pay.price),
            Some(until) => w.transactions[t].payments[p].state = PayState::Frozen { until },
        }
        w.note(if until.is_some() {
            "freeze moved"
        } else {
            "freeze removed"
        });
    }
    Ok(format!(
        "client {c} changes the freeze of payment {p} of {t}: {change}"
    ))
}

/// Frozen payment `p` of `t` paid out at `n`: the hold of its price settled, incoming gone.
pub(super) fn pay_out(w: &mut World, t: usize, p: usize, n: i64) {
    let pay = &mut w.transactions[t].payments[p];
    let held = std::mem::replace(&mut pay.price, n);
    pay.state = PayState::Done;
    w.pay(t, held, n, true);
}

/// Cancels a payment of `t`: a new or reserved one leaves (its hold released; a transaction left
/// with none ends), a frozen one returns its money to the payer.
pub async fn cancel(w: &mut World, rng: &mut StdRng, c: usize, t: usize) -> Result<String, String> {
    let Some(p) = pick(
        rng,
        &(0..w.transactions[t].payments.len()).collect::<Vec<_>>(),
    ) else {
        return Ok(format!("{t} has no payment"));
    };
    let (status, pay) = (
        w.transactions[t].status,
        w.transactions[t].payments[p].clone(),
    );
    let open = pay.state == PayState::Open && matches!(status, S::New | S::Reserved);
    let frozen = matches!(pay.state, PayState::Frozen { .. });
    let refusals = match (w.sees(c, t), open || frozen) {
        (false, _) => vec!["not_found"],
        (true, true) => Vec::new(),
        (true, false) => vec!["invalid_state"],
    };
    let got = transactions::cancel(&w.state, &w.clients[c], pay.id).await;
    if answered("cancel payment", got, Expect::of(refusals))?.is_none() {
        return Ok(format!(
            "client {c} cancels payment {p} of {t} ({status}): refused"
        ));
    }
    let payer = w.transactions[t].payer;
    if let Some(payer) = payer.filter(|_| status == S::Reserved || frozen) {
        w.purse(payer).reserved -= pay.price;
    }
    if frozen {
        let ben = w.beneficiary(t);
        w.purse(ben).incoming -= pay.price;
    }
    w.transactions[t].payments[p].state = PayState::Canceled;
    let left = w.transactions[t]
        .payments
        .iter()
        .any(|p| p.state != PayState::Canceled);
    if open && !left {
        w.set_status(
            t,
            if status == S::New {
                S::Deleted
            } else {
                S::Revoked
            },
        );
    }
    Ok(format!("client {c} cancels payment {p} of {t} ({status})"))
}
