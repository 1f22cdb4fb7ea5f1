//! The client ends a transaction: confirms it (prices kept or reduced, frozen payments held on,
//! an allowance made active) or revokes it.

use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::json;
use wallet_client::types::ConfirmPrices;
use wallet_core::TransactionStatus as S;
use walletd::service::transactions;

/// Some open payments kept, some reduced, now and then one raised or zeroed (refused): the
/// request's prices and the price each payment must end at.
fn final_prices(
    w: &World,
    rng: &mut StdRng,
    t: usize,
) -> (ConfirmPrices, Vec<(PaymentId, i64)>, bool) {
    let (mut prices, mut wanted, mut wrong) = (ConfirmPrices::new(), Vec::new(), false);
    let open = w.transactions[t]
        .payments
        .iter()
        .filter(|p| p.state == PayState::Open);
    for p in open {
        let n = match rng.random_range(0..12) {
            0 => p.price + 1,
            1 => 0,
            2..6 if p.price > 0 => rng.random_range(1..=p.price),
            _ => p.price,
        };
        let sent = n != p.price || rng.random_bool(0.2);
        // A price reserved at 0 (a tip left out) cannot be confirmed at 0, only left as it is.
        wrong |= sent && (n <= 0 || n > p.price);
        if sent {
            let price = serde_json::from_value(json!({"price": n, "currency": "EUR"})).unwrap();
            prices.insert(p.id.to_string(), price);
        }
        wanted.push((p.id, n));
    }
    (prices, wanted, wrong)
}

pub async fn confirm(
    w: &mut World,
    rng: &mut StdRng,
    c: usize,
    t: usize,
) -> Result<String, String> {
    w.touch(c, t);
    let mut refusals = if !w.sees(c, t) {
        vec!["not_found"]
    } else if w.transactions[t].status != S::Reserved {
        vec!["invalid_state"]
    } else {
        Vec::new()
    };
    let (prices, wanted, wrong) = final_prices(w, rng, t);
    if wrong {
        refusals.push("invalid_request");
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
        let p = w.transactions[t].payments.iter_mut().find(|p| p.id == id);
        let p = p.unwrap();
        let held = std::mem::replace(&mut p.price, n);
        match p.freeze_for {
            Some(s) => {
                p.state = PayState::Frozen { until: now + s };
                w.purse(payer).reserved -= held - n;
                w.purse(ben).incoming += n;
            }
            None => {
                p.state = PayState::Done;
                w.pay(t, held, n, false);
            }
        }
    }
    // The allowance is the creating client's, whichever client of the project confirmed it.
    if let Some(a) = w.transactions[t].allowance {
        let owner = w.clients[w.transactions[t].client].id;
        let valid_for = w.allowances[a].valid_for;
        w.allowances[a].valid_until = valid_for.map(|s| now + s);
        w.active.insert((owner, payer), a);
        w.note("allowance");
    }
    Ok(format!("client {c} confirms {t}"))
}

pub async fn revoke(w: &mut World, c: usize, t: usize) -> Result<String, String> {
    w.touch(c, t);
    let status = w.transactions[t].status;
    let to = match status {
        S::New => Some(S::Deleted),
        S::Waiting | S::WaitingFunds => Some(S::Revoked),
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
        w.transactions[t].waits = None;
    }
    Ok(format!("client {c} revokes {t} ({status})"))
}
