//! Time and money arriving: the clock moved and the sweep run as the server's sweeper runs it
//! (deadlines, deletion by age, freeze ends, `waiting_funds` resumed), and top-ups.

use super::holder;
use super::payments::pay_out;
use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use wallet_core::TransactionStatus as S;
use walletd::service::admin;
use walletd::service::transactions::NEW_TRANSACTION_LIFETIME_SECS;

/// Moves the clock forward (a little, across allowance windows, or far) and runs the sweep; the
/// model fires what became due.
pub async fn jump(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let by = [1, 30, 59, 299, 600, 3_600, 86_400, 10 * 86_400][rng.random_range(0..8)];
    w.clock.advance(by);
    if rng.random_bool(0.25) {
        // The sweeper has not run yet: what is due waits for the next sweep, or for a call.
        return Ok(format!("clock +{by} s, not swept"));
    }
    walletd::jobs::sweep_once(&w.state)
        .await
        .map_err(|e| format!("sweep: {e:#}"))?;
    let now = w.now();
    for t in 0..w.transactions.len() {
        let tr = &w.transactions[t];
        if w.due(t) {
            w.fail(t);
        } else if tr.status == S::New && tr.created_at + NEW_TRANSACTION_LIFETIME_SECS <= now {
            w.set_status(t, S::Deleted);
        }
        for p in 0..w.transactions[t].payments.len() {
            if let PayState::Frozen { until } = w.transactions[t].payments[p].state
                && until <= now
            {
                let price = w.transactions[t].payments[p].price;
                pay_out(w, t, p, price);
                w.note("freeze ended");
            }
        }
    }
    resume(w, None);
    Ok(format!("clock +{by} s, swept"))
}

/// Money arrived (on `wallet`, or anywhere): each `waiting_funds` transaction, oldest first,
/// whose wallet now covers it is reserved.
fn resume(w: &mut World, wallet: Option<WalletId>) {
    let mut waiting: Vec<usize> = (0..w.transactions.len())
        .filter(|t| w.transactions[*t].status == S::WaitingFunds)
        .filter(|t| wallet.is_none_or(|x| w.transactions[*t].payer == Some(x)))
        .collect();
    waiting.sort_by_key(|t| {
        (
            w.transactions[*t].created_at,
            w.transactions[*t].key.to_string(),
        )
    });
    for t in waiting {
        let payer = w.transactions[t].payer.expect("waits on a wallet");
        if !w.due(t) && w.covers(payer, w.open_total(t)) {
            w.reserve(t, payer, None);
            w.note("reserved when funds arrived");
        }
    }
}

pub async fn top_up(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let wallet = holder(w, rng).wallet;
    let euros = rng.random_range(1..500);
    let got = admin::top_up(&w.state, wallet, &format!("{euros}.00"), "EUR").await;
    answered("top up", got, Expect::Ok)?;
    w.purse(wallet).balance += euros * 100;
    resume(w, Some(wallet));
    Ok(format!("top up {wallet} with {euros} EUR"))
}
