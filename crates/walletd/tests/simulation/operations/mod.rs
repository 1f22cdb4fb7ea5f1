//! The steps of a run, each through walletd's service functions (what the HTTP handlers call):
//! the model says what must happen — success, or which refusals are right — and, on success,
//! how the store must change. One module per area: `create` (transactions, allowances, codes;
//! an active allowance canceled), `reserve` (code, PIN, allowance, chosen prices), `settle`
//! (confirm, revoke), `flash` and `page` (the holder's answers), `payments` (single payments:
//! finalize, cancel, freeze changes), `time` (clock jumps with or without the sweep, top-ups).

mod create;
mod flash;
mod page;
mod payments;
mod reserve;
mod settle;
mod time;

use crate::world::*;

use rand::RngExt;
use rand::rngs::StdRng;
use wallet_core::TransactionStatus as S;
use walletd::caller::Caller;

fn caller(w: &World, c: usize) -> Caller {
    Caller {
        client: w.clients[c].clone(),
        holder: None,
        scope: None,
        project: None,
        location: None,
    }
}

/// A random demo holder.
fn holder(w: &World, rng: &mut StdRng) -> Holder {
    w.holders[rng.random_range(0..w.holders.len())].clone()
}

/// Mostly the holder `t` waits on or was paid by (if any), else a random one.
fn holder_of(w: &World, rng: &mut StdRng, t: usize) -> Holder {
    let payer = w.transactions[t].payer.filter(|_| rng.random_bool(0.8));
    let found = w.holders.iter().find(|h| Some(h.wallet) == payer);
    found.cloned().unwrap_or_else(|| holder(w, rng))
}

/// Mostly a holder with an active allowance for client `c` (if any), else a random one.
fn holder_with_allowance(w: &World, rng: &mut StdRng, c: usize) -> Holder {
    let id = w.clients[c].id;
    let with: Vec<&Holder> = w
        .holders
        .iter()
        .filter(|h| w.active_allowance(id, h.wallet).is_some())
        .collect();
    match (with.is_empty(), rng.random_bool(0.7)) {
        (false, true) => with[rng.random_range(0..with.len())].clone(),
        _ => holder(w, rng),
    }
}

/// Mostly one of the transactions `fit` picks out (if any), else `t`: so that steps meet the
/// transactions they can act on, and now and then one they cannot.
fn aim(w: &World, rng: &mut StdRng, t: usize, fit: fn(&Tr) -> bool) -> usize {
    let fits: Vec<usize> = (0..w.transactions.len())
        .filter(|u| fit(&w.transactions[*u]))
        .collect();
    match (fits.is_empty(), rng.random_bool(0.8)) {
        (false, true) => fits[rng.random_range(0..fits.len())],
        _ => t,
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
    let roll = rng.random_range(0..100);
    // The transactions each step can act on, to aim it at them mostly.
    let fit: fn(&Tr) -> bool = match roll {
        19..43 => |t| t.status == S::New,
        43..47 | 51..55 => |t| matches!(t.status, S::Waiting | S::WaitingFunds),
        47..51 => |t| matches!(t.status, S::New | S::Waiting),
        55..66 => |t| t.status == S::Reserved,
        _ => |_| true,
    };
    let t = t.map(|t| aim(w, rng, t, fit));
    match (roll, t) {
        (0..12, _) | (_, None) => create::transaction(w, rng, c).await,
        (12..15, _) => create::allowance(w, rng, c).await,
        (15..19, _) => create::code(w, rng).await,
        (19..27, Some(t)) => reserve::by_code(w, rng, c, t).await,
        (27..33, Some(t)) => reserve::by_pin(w, rng, c, t).await,
        (33..38, Some(t)) => reserve::by_allowance(w, rng, c, t).await,
        (38..43, Some(t)) => flash::send(w, rng, c, t).await,
        (43..47, Some(t)) => flash::answer(w, rng, t).await,
        (47..51, Some(t)) => page::present(w, rng, t).await,
        (51..55, Some(t)) => page::decide(w, rng, t).await,
        (55..66, Some(t)) => settle::confirm(w, rng, c, t).await,
        (66..70, Some(t)) => settle::revoke(w, c, t).await,
        (70..73, Some(t)) => payments::cancel(w, rng, c, t).await,
        (73..77, _) => payments::finalize(w, rng, c).await,
        (77..80, _) => payments::change_freeze(w, rng, c).await,
        (80..82, _) => create::cancel_allowance(w, rng, c).await,
        (82..86, _) => time::top_up(w, rng).await,
        (86..88, _) => {
            w.restart(rng.random()).await;
            Ok("restart".into())
        }
        _ => time::jump(w, rng).await,
    }
}
