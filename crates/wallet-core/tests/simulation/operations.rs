//! The steps of a run: each draws its arguments from the run's RNG and acts through
//! `wallet_core`, asserting what the simulation expects of the answer (refusals included).

use crate::model::*;
use rand::rngs::StdRng;
use rand::{Rng, RngExt};
use wallet_core::allowance::{Spend, Terms, WindowLimit};
use wallet_core::codes::{self, CodeError, CodeRecord, CodeRestriction};
use wallet_core::ledger::AccountId;
use wallet_core::payment::{FreezeSpec, MAX_FREEZE_SECS, PriceRules, reduce_price, select_price};
use wallet_core::status::Event;
use wallet_core::{Money, PaymentId, TransactionStatus as S, WalletId};

/// One random step: what it did, for the failure report.
pub fn step(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let t = (!w.transactions.is_empty()).then(|| rng.random_range(0..w.transactions.len()));
    let roll = rng.random_range(0..100);
    let t = match roll {
        36..56 => t.map(|t| aim(w, rng, t, S::New)),
        56..70 => t.map(|t| aim(w, rng, t, S::Reserved)),
        _ => t,
    };
    Ok(match (roll, t) {
        (0..8, _) => top_up(w, rng),
        (8..22, _) | (_, None) => create(w, rng),
        (22..30, _) => issue_code(w, rng),
        (30..36, _) => accept_allowance(w, rng),
        (36..48, Some(t)) => reserve_by_code(w, rng, t)?,
        (48..56, Some(t)) => reserve_by_allowance(w, rng, t)?,
        (56..70, Some(t)) => confirm(w, rng, t)?,
        (70..77, Some(t)) => revoke(w, t)?,
        (77..84, Some(_)) => finish_frozen(w, rng)?,
        _ => jump(w, rng)?,
    })
}

/// Mostly a transaction in `status` (if any), else `t`: so that steps meet transactions they
/// can act on, and now and then one they cannot.
fn aim(w: &World, rng: &mut StdRng, t: usize, status: S) -> usize {
    let fits: Vec<usize> = (0..w.transactions.len())
        .filter(|u| w.transactions[*u].status == status)
        .collect();
    match (fits.is_empty(), rng.random_bool(0.8)) {
        (false, true) => fits[rng.random_range(0..fits.len())],
        _ => t,
    }
}

fn wallet(rng: &mut impl Rng) -> AccountId {
    rng.random_range(1..=WALLETS)
}

fn top_up(w: &mut World, rng: &mut StdRng) -> String {
    let (a, c, n) = (
        wallet(rng),
        rng.random_range(0..2),
        rng.random_range(1..20_000),
    );
    w.top_up(a, c, n);
    format!("top up {a} with {n} of currency {c}")
}

fn create(w: &mut World, rng: &mut StdRng) -> String {
    let c = rng.random_range(0..2);
    let payments = (0..rng.random_range(1..=3))
        .map(|_| {
            let price = rng.random_range(1..5_000);
            Payment {
                // Mostly one currency; sometimes a payment in the other.
                currency: if rng.random_bool(0.9) { c } else { 1 - c },
                price,
                beneficiary: BENEFICIARIES[rng.random_range(0..2)],
                freeze_for: rng
                    .random_bool(0.3)
                    .then(|| rng.random_range(1..3 * 86_400)),
                rules: rng.random_bool(0.2).then(|| PriceRules {
                    min: Some(price / 2),
                    max: Some(price * 2),
                    choices: None,
                }),
                hold: None,
                held: 0,
                settled: Settled::Open,
            }
        })
        .collect();
    w.transactions.push(Transaction {
        status: S::New,
        created_at: w.now,
        payments,
        reserved_until: None,
        payer: None,
        history: vec![S::New],
    });
    format!("create transaction {}", w.transactions.len() - 1)
}

fn issue_code(w: &mut World, rng: &mut StdRng) -> String {
    let c = rng.random_range(0..2);
    let restriction = CodeRestriction {
        max_amount: rng
            .random_bool(0.3)
            .then(|| Money::new(rng.random_range(1..8_000), w.currencies[c])),
        currency: rng.random_bool(0.3).then_some(w.currencies[c]),
    };
    let valid = if rng.random_bool(0.7) {
        codes::DEFAULT_VALIDITY_SECS
    } else {
        rng.random_range(1..86_400)
    };
    let wallet_id = WalletId::new(i64::from(wallet(rng)));
    w.codes.push(CodeRecord {
        wallet_id,
        restriction,
        expires_at: w.now + valid,
        used: false,
    });
    w.code_uses.push(Vec::new());
    format!("issue code {} for wallet {wallet_id}", w.codes.len() - 1)
}

fn accept_allowance(w: &mut World, rng: &mut StdRng) -> String {
    let limits = (0..rng.random_range(0..3))
        .map(|_| WindowLimit {
            max_price: rng.random_range(100..10_000),
            time: rng.random_range(60..86_400),
        })
        .collect();
    let mut terms = Terms {
        max_price: rng.random_bool(0.6).then(|| rng.random_range(100..6_000)),
        limits,
    };
    if terms.validate().is_err() {
        terms.max_price = Some(5_000);
    }
    assert_eq!(terms.validate(), Ok(()));
    let (wallet, currency) = (wallet(rng), rng.random_range(0..2));
    w.allowances.push(Allowance {
        wallet,
        currency,
        terms,
        spent: Vec::new(),
    });
    format!("allowance {} for wallet {wallet}", w.allowances.len() - 1)
}

/// The prices to reserve: the own ones, or (where rules allow a choice) sometimes another.
fn prices(w: &World, rng: &mut StdRng, t: usize) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for (i, p) in w.transactions[t].payments.iter().enumerate() {
        // Mostly where the rules allow a choice; now and then (refused) where none do.
        let choose = rng.random_bool(if p.rules.is_some() { 0.5 } else { 0.03 });
        let selected = choose.then(|| rng.random_range(1..10_000));
        let id = PaymentId::new(i as i64 + 1);
        match select_price(id, p.price, p.rules.as_ref(), selected) {
            Ok(price) => out.push(price),
            Err(e) => {
                // Only a choice outside the rules (or without them) is refused.
                let allowed = p
                    .rules
                    .as_ref()
                    .is_some_and(|r| r.allows(selected.unwrap()));
                assert!(!allowed, "price {selected:?} refused within the rules: {e}");
                return Err(e.to_string());
            }
        }
    }
    Ok(out)
}

/// Reserves transaction `t` for `payer` at `prices` if the state machine and the ledger let it.
fn reserve(w: &mut World, t: usize, payer: AccountId, prices: &[i64]) -> Result<(), String> {
    let can = w.transactions[t].status.apply(Event::Reserve).is_ok();
    assert_eq!(
        can,
        matches!(
            w.transactions[t].status,
            S::New | S::Waiting | S::WaitingFunds
        )
    );
    if !can {
        return Err(format!("transaction is {}", w.transactions[t].status));
    }
    w.hold_all(t, payer, prices)?;
    w.apply(t, Event::Reserve).expect("checked above");
    w.transactions[t].reserved_until = Some(w.now + 24 * 3_600);
    Ok(())
}

fn reserve_by_code(w: &mut World, rng: &mut StdRng, t: usize) -> Result<String, String> {
    if w.codes.is_empty() {
        return Ok("no code to reserve with".into());
    }
    // Mostly a code still usable; now and then any (used or expired: refused).
    let live: Vec<usize> = (0..w.codes.len())
        .filter(|c| !w.codes[*c].used && w.now < w.codes[*c].expires_at)
        .collect();
    let c = match (live.is_empty(), rng.random_bool(0.8)) {
        (false, true) => live[rng.random_range(0..live.len())],
        _ => rng.random_range(0..w.codes.len()),
    };
    let prices = match prices(w, rng, t) {
        Ok(p) => p,
        Err(e) => return Ok(format!("reserve {t}: refused price ({e})")),
    };
    let money: Vec<Money> = w.transactions[t]
        .payments
        .iter()
        .zip(&prices)
        .map(|(p, n)| Money::new(*n, w.currencies[p.currency]))
        .collect();
    let record = w.codes[c].clone();
    match codes::check_use(&record, w.now, &money) {
        Err(CodeError::Invalid) => assert!(record.used, "an unused code was refused as used"),
        Err(CodeError::Expired) => assert!(w.now >= record.expires_at, "a live code was expired"),
        Err(CodeError::RestrictionViolation(_)) => {}
        Ok(()) => {
            assert!(
                !record.used && w.now < record.expires_at,
                "code {c} accepted"
            );
            let payer = record.wallet_id.get() as AccountId;
            let done = reserve(w, t, payer, &prices);
            if done.is_ok() {
                w.codes[c].used = true;
                w.code_uses[c].push(w.now);
            }
            return Ok(format!("reserve {t} by code {c}: {done:?}"));
        }
    }
    Ok(format!("reserve {t} by code {c}: code refused"))
}

fn reserve_by_allowance(w: &mut World, rng: &mut StdRng, t: usize) -> Result<String, String> {
    if w.allowances.is_empty() {
        return Ok("no allowance".into());
    }
    let a = rng.random_range(0..w.allowances.len());
    let totals = w.totals(t);
    let currency = w.allowances[a].currency;
    if totals.keys().any(|c| *c != currency) {
        return Ok(format!("reserve {t} by allowance {a}: other currency"));
    }
    let total = totals.values().sum();
    let al = &w.allowances[a];
    if let Err(e) = al.terms.check(&al.spent, w.now, total) {
        return Ok(format!("reserve {t} by allowance {a}: {e}"));
    }
    let own: Vec<i64> = w.transactions[t].payments.iter().map(|p| p.price).collect();
    let done = reserve(w, t, w.allowances[a].wallet, &own);
    if done.is_ok() {
        w.allowances[a].spent.push(Spend {
            at: w.now,
            amount: total,
        });
    }
    Ok(format!("reserve {t} by allowance {a}: {done:?}"))
}

fn confirm(w: &mut World, rng: &mut StdRng, t: usize) -> Result<String, String> {
    if let Err(e) = w.transactions[t].status.apply(Event::Confirm) {
        assert_ne!(w.transactions[t].status, S::Reserved);
        return Ok(format!("confirm {t}: {e}"));
    }
    // Each payment kept, reduced, or (wrongly) raised or zeroed: any wrong one refuses all.
    let mut final_prices = Vec::new();
    for p in &w.transactions[t].payments {
        let requested = match rng.random_range(0..10) {
            0 => p.held + rng.random_range(1..100),
            1 => 0,
            2..5 => rng.random_range(1..=p.held.max(1)),
            _ => p.held,
        };
        match reduce_price(p.held, requested) {
            Ok(n) => final_prices.push(n),
            Err(e) => {
                assert!(
                    requested <= 0 || requested > p.held,
                    "{requested} of {} refused",
                    p.held
                );
                return Ok(format!("confirm {t}: {e}"));
            }
        }
    }
    w.apply(t, Event::Confirm)?;
    for (i, price) in final_prices.into_iter().enumerate() {
        let p = &mut w.transactions[t].payments[i];
        p.price = price;
        match p.freeze_for {
            Some(s) => p.settled = Settled::FrozenUntil(w.now + s),
            None => w.settle(t, i, price)?,
        }
    }
    Ok(format!("confirm {t}"))
}

fn revoke(w: &mut World, t: usize) -> Result<String, String> {
    match w.apply(t, Event::Revoke) {
        Ok(_) => {
            w.release_all(t);
            Ok(format!("revoke {t}"))
        }
        Err(e) => Ok(format!("revoke {t}: {e}")),
    }
}

/// Finalizes (perhaps for less) or cancels one of the frozen payments.
fn finish_frozen(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let frozen: Vec<(usize, usize)> = w
        .transactions
        .iter()
        .enumerate()
        .flat_map(|(t, tr)| {
            let frozen = tr.payments.iter().enumerate();
            frozen
                .filter(|(_, p)| matches!(p.settled, Settled::FrozenUntil(_)))
                .map(move |(p, _)| (t, p))
        })
        .collect();
    let Some(&(t, p)) = frozen.get(rng.random_range(0..frozen.len().max(1))) else {
        return Ok("no frozen payment".into());
    };
    if rng.random_bool(0.3) {
        w.cancel_frozen(t, p)?;
        return Ok(format!("cancel payment {p} of {t}"));
    }
    if rng.random_bool(0.4) {
        return Ok(refreeze(w, rng, t, p));
    }
    let price = w.transactions[t].payments[p].price;
    let requested = rng.random_range(0..=price + 10);
    match reduce_price(price, requested) {
        Ok(n) => w
            .settle(t, p, n)
            .map(|_| format!("finalize payment {p} of {t} at {n}")),
        Err(e) => Ok(format!("finalize payment {p} of {t}: {e}")),
    }
}

/// Gives frozen payment `p` of `t` a new end, as `PUT payment/{id}/freeze` reads it: an end
/// time, seconds or hours from now; one not in the future or more than a year away is refused
/// and changes nothing.
fn refreeze(w: &mut World, rng: &mut StdRng, t: usize, p: usize) -> String {
    let ahead = [-60, 0, 1, 90, 3_600, 2 * 86_400, 367 * 86_400][rng.random_range(0..7)];
    let hours = rng.random_range(-1..48);
    let form = rng.random_range(0..4);
    let (nested, flat_for, flat_until) = match form {
        0 => (Some((None, Some(w.now + ahead))), None, None),
        1 => (Some((Some(ahead), None)), None, None),
        2 => (None, Some(hours), None),
        _ => (None, None, Some(w.now + ahead)),
    };
    // A zero length means no freeze asked for (as the PHP client sends it), not an end now.
    let zero = (form == 1 && ahead == 0) || (form == 2 && hours == 0);
    let end = match (nested, flat_for) {
        (Some((Some(s), None)), _) => w.now + s,
        (_, Some(h)) => w.now + h * 3_600,
        _ => w.now + ahead,
    };
    let spec = FreezeSpec::from_request(nested, flat_for, flat_until, w.now);
    let in_range = end > w.now && end - w.now <= MAX_FREEZE_SECS;
    match spec {
        Ok(Some(spec)) => {
            assert!(
                in_range && !zero,
                "an end {} s ahead was accepted",
                end - w.now
            );
            let until = match spec {
                FreezeSpec::For(s) => w.now + s,
                FreezeSpec::Until(at) => at,
            };
            assert_eq!(until, end, "the new end");
            w.transactions[t].payments[p].settled = Settled::FrozenUntil(until);
            w.refrozen += 1;
            format!("payment {p} of {t} frozen until {until}")
        }
        Ok(None) => {
            assert!(zero, "a freeze change read as none");
            format!("payment {p} of {t}: no new end given")
        }
        Err(e) => {
            assert!(
                !in_range && !zero,
                "an end {} s ahead was refused",
                end - w.now
            );
            format!("payment {p} of {t}: {e}")
        }
    }
}

/// Moves the clock (a little, or far) and fires what became due, as the sweep does.
pub fn jump(w: &mut World, rng: &mut StdRng) -> Result<String, String> {
    let by = [1, 59, 301, 3_600, 86_400, 7 * 86_400][rng.random_range(0..6)];
    w.now += by;
    for t in 0..w.transactions.len() {
        let tr = &w.transactions[t];
        if tr.status.holds_funds() && tr.reserved_until.is_some_and(|d| d <= w.now) {
            w.apply(t, Event::Expire)?;
            w.release_all(t);
        } else if tr.status == S::New && tr.created_at + NEW_LIFETIME <= w.now {
            w.apply(t, Event::Age)?;
        }
        for p in 0..w.transactions[t].payments.len() {
            let pay = &w.transactions[t].payments[p];
            if let Settled::FrozenUntil(end) = pay.settled
                && end <= w.now
            {
                let price = pay.price;
                w.settle(t, p, price)?;
            }
        }
    }
    Ok(format!("clock +{by}s"))
}
