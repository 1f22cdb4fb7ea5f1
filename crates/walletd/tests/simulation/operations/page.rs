//! The confirmation page: a holder opens it (a `new` transaction, or one waiting on the page for
//! another holder, now waits for her), then accepts (reserved, or `waiting_funds` while her
//! wallet is short) or rejects.

use super::{holder, holder_of};
use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use wallet_core::TransactionStatus as S;
use walletd::service::page::{self, Shown};

pub async fn present(w: &mut World, rng: &mut StdRng, t: usize) -> Result<String, String> {
    let h = holder(w, rng);
    let tr = &w.transactions[t];
    let mine = tr.payer == Some(h.wallet);
    let waits_here = matches!(tr.status, S::Waiting | S::WaitingFunds);
    let takes_over = match tr.status {
        S::New => true,
        S::Waiting => !mine && tr.waits == Some(Waits::Page) && !w.due(t),
        _ => false,
    };
    let shown = match tr.status {
        _ if takes_over => Some(Shown::Decide),
        S::Waiting if mine && !w.due(t) => Some(Shown::Decide),
        s if (mine && waits_here) || s.is_final() || s.holds_funds() || w.due(t) => {
            Some(Shown::Notice(s))
        }
        _ => None,
    };
    let want = Expect::of(match shown {
        Some(_) => Vec::new(),
        None => vec!["forbidden"],
    });
    let key = tr.key.clone();
    let got = page::present(&w.state, &key, h.user).await;
    let Some((got, _)) = answered("present the page", got, want)? else {
        return Ok(format!("{} opens the page of {t}: forbidden", h.wallet));
    };
    if matches!(got, Shown::Decide) != matches!(shown, Some(Shown::Decide)) {
        return Err(format!("the page of {t} shows {got:?}, not {shown:?}"));
    }
    if takes_over {
        w.wait(t, S::Waiting, h.wallet, Waits::Page);
        w.note("page presented");
    }
    Ok(format!("{} opens the page of {t}: {got:?}", h.wallet))
}

/// The holder accepts or rejects `t` on the page.
pub async fn decide(w: &mut World, rng: &mut StdRng, t: usize) -> Result<String, String> {
    let h = holder_of(w, rng, t);
    let accept = rng.random_bool(0.7);
    let tr = &w.transactions[t];
    let mine = tr.payer == Some(h.wallet) && !w.due(t);
    let decides = match accept {
        true => mine && tr.status == S::Waiting,
        false => mine && matches!(tr.status, S::Waiting | S::WaitingFunds),
    };
    let want = Expect::of(match decides {
        true => Vec::new(),
        false => vec!["invalid_state"],
    });
    let key = tr.key.clone();
    let got = match accept {
        true => {
            page::accept(
                &w.state,
                &key,
                h.user,
                &page::Choice::plain(rng.random_bool(0.5)),
            )
            .await
        }
        false => page::reject(&w.state, &key, h.user).await,
    };
    if answered("decide on the page", got, want)?.is_none() {
        return Ok(format!(
            "{} decides on {t} (accept: {accept}): refused",
            h.wallet
        ));
    }
    match accept {
        true if w.covers(h.wallet, w.open_total(t)) => {
            w.reserve(t, h.wallet, None);
            w.note("accepted on the page");
        }
        true => {
            w.wait(t, S::WaitingFunds, h.wallet, Waits::Page);
            w.note("waiting for funds");
        }
        false => {
            w.set_status(t, S::Rejected);
            w.transactions[t].waits = None;
            w.note("rejected on the page");
        }
    }
    Ok(format!("{} decides on {t} (accept: {accept})", h.wallet))
}
