//! FLASH SMS: the client asks walletd to text the holder (`PUT transaction/{key}/flash/{wallet}`:
//! reserved at once under a covering allowance with `use_allowance`, else `waiting` for her
//! answer), and the holder answers by SMS (`"<code> YES|NO"` from her phone) or logged in.

use super::{holder_of, holder_with_allowance};
use crate::expect::{Expect, answered};
use crate::world::*;
use rand::RngExt;
use rand::rngs::StdRng;
use wallet_core::TransactionStatus as S;
use walletd::service::flash::{self, Answer};

pub async fn send(w: &mut World, rng: &mut StdRng, c: usize, t: usize) -> Result<String, String> {
    let h = holder_with_allowance(w, rng, c);
    w.touch(c, t);
    let tr = &w.transactions[t];
    let total = w.open_total(t);
    let allowance = w
        .active_allowance(w.clients[c].id, h.wallet)
        .filter(|a| tr.use_allowance && tr.allowance.is_none() && w.allowance_lets(*a, total));
    let refusals = match (w.sees(c, t), tr.status, allowance) {
        (false, _, _) => vec!["not_found"],
        (true, S::New, Some(_)) if !w.covers(h.wallet, total) => vec!["not_enough_funds"],
        (true, S::New, _) => Vec::new(),
        (true, _, _) => vec!["invalid_state"],
    };
    let key = tr.key.clone();
    let got = flash::send(&w.state, &w.clients[c], &key, h.wallet).await;
    let Some(sent) = answered("send FLASH", got, Expect::of(refusals))? else {
        return Ok(format!("client {c} sends {t} to {}: refused", h.wallet));
    };
    if let Some(a) = allowance {
        w.transactions[t].under = Some((a, w.now()));
        w.reserve(t, h.wallet, None);
        w.note("FLASH reserved under an allowance");
        return Ok(format!(
            "client {c} sends {t}: reserved under allowance {a}"
        ));
    }
    let correlation = sent
        .correlation_key
        .ok_or("a FLASH wait without correlation_key")?;
    let waits = Waits::Flash { correlation };
    w.wait(t, S::Waiting, h.wallet, waits);
    w.note("FLASH sent");
    Ok(format!("client {c} sends {t} to {} by FLASH", h.wallet))
}

/// A holder answers: by SMS with the code of `t` if it waits for a FLASH answer (another's code
/// now and then, or from another phone: the transaction that code names for that phone, if
/// any), or logged in on `t` itself.
pub async fn answer(w: &mut World, rng: &mut StdRng, t: usize) -> Result<String, String> {
    let h = holder_of(w, rng, t);
    let accept = rng.random_bool(0.7);
    let word = if accept { "yes" } else { "NO" };
    let now = w.now();
    let by_sms = rng.random_bool(0.6);
    let target = if by_sms {
        let code = match &w.transactions[t].waits {
            Some(Waits::Flash { correlation }) if rng.random_bool(0.9) => correlation.clone(),
            _ => "ZZ99".into(),
        };
        let waits = Some(Waits::Flash {
            correlation: code.clone(),
        });
        let found = (0..w.transactions.len()).find(|u| {
            let u = &w.transactions[*u];
            u.status == S::Waiting && u.payer == Some(h.wallet) && u.waits == waits
        });
        let text = format!("{code} {word}");
        let got = flash::answer(&w.state.store, now, &h.phone, &text);
        (found, got.await)
    } else {
        let key = w.transactions[t].key.clone();
        let who = flash::Holder::User(h.user);
        let answer = if accept {
            Answer::Accept
        } else {
            Answer::Reject
        };
        let mine = w.transactions[t].payer == Some(h.wallet);
        let got = flash::decide(&w.state.store, now, &key, who, answer).await;
        (mine.then_some(t), got)
    };
    let (found, got) = target;
    let Some(u) = found else {
        answered("FLASH answer", got, Expect::of(vec!["not_found"]))?;
        return Ok(format!("{} answers {t}: not hers", h.wallet));
    };
    let tr = &w.transactions[u];
    let flash_wait = tr.status == S::Waiting && matches!(tr.waits, Some(Waits::Flash { .. }));
    let refusals = match (flash_wait && !w.due(u), accept) {
        (false, _) => vec!["invalid_state"],
        (true, true) if !w.covers(h.wallet, w.open_total(u)) => vec!["not_enough_funds"],
        (true, _) => Vec::new(),
    };
    if answered("FLASH answer", got, Expect::of(refusals))?.is_none() {
        return Ok(format!("{} answers {u} {word}: refused", h.wallet));
    }
    match accept {
        true => w.reserve(u, h.wallet, None),
        false => {
            w.set_status(u, S::Rejected);
            w.transactions[u].waits = None;
        }
    }
    w.note(if by_sms {
        "FLASH answered by SMS"
    } else {
        "FLASH answered logged in"
    });
    Ok(format!(
        "{} answers {u} {word} (by SMS: {by_sms})",
        h.wallet
    ))
}
