//! The steps on single payments (a frozen one finalized, any one canceled) and on time: the clock
//! moved and the sweep run, as the server's sweeper runs it.

use crate::expect::{Expect, answered, pick};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::json;
use wallet_core::TransactionStatus as S;
use walletd::service::transactions;
use walletd::service::transactions::NEW_TRANSACTION_LIFETIME_SECS;

/// Every (transaction, payment) of the model.
fn all_payments(w: &World) -> Vec<(usize, usize)> {
    let each = w.transactions.iter().enumerate();
    each.flat_map(|(t, tr)| (0..tr.payments.len()).map(move |p| (t, p)))
        .collect()
}

/// Finalizes a payment (mostly a frozen one), perhaps at a reduced price.
pub async fn finalize(w: &mut World, rng: &mut StdRng, c: usize) -> Result<String, String> {
    let frozen: Vec<_> = all_payments(w)
        .into_iter()
        .filter(|(t, p)| {
            matches!(
                w.transactions[*t].payments[*p].state,
                PayState::Frozen { .. }
            )
        })
        .collect();
    let any = all_payments(w);
    let from_any = frozen.is_empty() || rng.random_bool(0.1);
    let Some((t, p)) = pick(rng, if from_any { &any } else { &frozen }) else {
        return Ok("no payment to finalize".into());
    };
    let pay = w.transactions[t].payments[p].clone();
    let n = match rng.random_range(0..8) {
        0 => pay.price + 1,
        1..4 => rng.random_range(1..=pay.price),
        _ => pay.price,
    };
    let mut refusals = match (w.sees(c, t), pay.state) {
        (false, _) => vec!["not_found"],
        (true, PayState::Frozen { .. }) => Vec::new(),
        (true, _) => vec!["invalid_state"],
    };
    let price = rng
        .random_bool(0.6)
        .then(|| serde_json::from_value(json!({"price": n, "currency": "EUR"})).unwrap());
    let n = if price.is_some() { n } else { pay.price };
    if n > pay.price && refusals.is_empty() {
        refusals.push("invalid_request");
    }
    let got = transactions::finalize(&w.state, &w.clients[c], pay.id, price).await;
    if answered("finalize", got, Expect::of(refusals))?.is_some() {
        pay_out(w, t, p, n);
    }
    Ok(format!("client {c} finalizes payment {p} of {t} at {n}"))
}

/// Frozen payment `p` of `t` paid out at `n`: the hold of its price settled, incoming gone.
fn pay_out(w: &mut World, t: usize, p: usize, n: i64) {
    let (payer, ben) = (w.transactions[t].payer.unwrap(), w.beneficiary(t));
    let pay = &mut w.transactions[t].payments[p];
    let held = std::mem::replace(&mut pay.price, n);
    pay.state = PayState::Done;
    let purse = w.purse(payer);
    purse.reserved -= held;
    purse.balance -= n;
    let purse = w.purse(ben);
    purse.incoming -= held;
    purse.balance += n;
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

/// Moves the clock forward and runs the sweep; the model fires what became due.
pub async fn jump(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let by = [1, 59, 600, 3_600, 86_400, 10 * 86_400][rng.random_range(0..6)];
    w.clock.advance(by);
    walletd::jobs::sweep_once(&w.state)
        .await
        .map_err(|e| format!("sweep: {e:#}"))?;
    let now = w.now();
    for t in 0..w.transactions.len() {
        let tr = &w.transactions[t];
        if tr.status.holds_funds() && tr.reserved_until.is_some_and(|d| now >= d) {
            w.release(t);
            w.set_status(t, S::Failed);
        } else if tr.status == S::New && tr.created_at + NEW_TRANSACTION_LIFETIME_SECS <= now {
            w.set_status(t, S::Deleted);
        }
        for p in 0..w.transactions[t].payments.len() {
            if let PayState::Frozen { until } = w.transactions[t].payments[p].state
                && until <= now
            {
                let price = w.transactions[t].payments[p].price;
                pay_out(w, t, p, price);
            }
        }
    }
    Ok(format!("clock +{by} s, swept"))
}
