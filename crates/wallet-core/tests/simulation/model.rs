//! The simulated world: wallets in two currencies, transactions, codes and allowances, moved only
//! through `wallet_core` (the state machine, the ledger, code checks, price rules, allowance terms),
//! with the simulation's own record of what should have happened beside it.

use std::collections::BTreeMap;
use wallet_core::allowance::{Spend, Terms};
use wallet_core::codes::CodeRecord;
use wallet_core::ledger::{AccountId, HoldId, Ledger, Posting};
use wallet_core::payment::PriceRules;
use wallet_core::status::Event;
use wallet_core::{Currency, TransactionStatus};

/// The system account money is topped up from (it goes negative).
pub const SOURCE: AccountId = 0;
/// Holders' wallets are accounts `1..=WALLETS`.
pub const WALLETS: u32 = 4;
/// Beneficiaries (projects' wallets) follow the holders'.
pub const BENEFICIARIES: [AccountId; 2] = [WALLETS + 1, WALLETS + 2];
/// A `new` transaction older than this is deleted by age.
pub const NEW_LIFETIME: i64 = 3_600;

/// One payment as the simulation knows it.
#[derive(Debug, Clone)]
pub struct Payment {
    pub currency: usize,
    pub price: i64,
    pub beneficiary: AccountId,
    /// Seconds the payment stays frozen after confirmation.
    pub freeze_for: Option<i64>,
    /// Prices the payer may choose from at reservation.
    pub rules: Option<PriceRules>,
    /// The hold placed for it (while it is reserved, and while frozen after confirmation).
    pub hold: Option<HoldId>,
    /// The amount held.
    pub held: i64,
    /// Where the payment stands after confirmation.
    pub settled: Settled,
}

/// A payment's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Not confirmed (or its transaction never was).
    Open,
    /// Confirmed and frozen until this time: the hold stays active.
    FrozenUntil(i64),
    /// Money paid to the beneficiary.
    Done(i64),
    /// A frozen payment canceled: its hold released.
    Canceled,
}

/// One transaction as the simulation knows it.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub status: TransactionStatus,
    pub created_at: i64,
    pub payments: Vec<Payment>,
    /// The deadline of its reservation, once reserved.
    pub reserved_until: Option<i64>,
    pub payer: Option<AccountId>,
    /// Every status it went through, in order (the first is `new`).
    pub history: Vec<TransactionStatus>,
}

/// An allowance a holder accepted: its terms, its currency and what was reserved under it.
#[derive(Debug, Clone)]
pub struct Allowance {
    pub wallet: AccountId,
    pub currency: usize,
    pub terms: Terms,
    pub spent: Vec<Spend>,
}

/// The whole world of one run.
pub struct World {
    pub now: i64,
    pub currencies: Vec<Currency>,
    /// One ledger per currency (money of two currencies never meets).
    pub ledgers: Vec<Ledger>,
    pub transactions: Vec<Transaction>,
    pub codes: Vec<CodeRecord>,
    pub allowances: Vec<Allowance>,
    /// Money topped up per account and currency.
    pub deposits: BTreeMap<(AccountId, usize), i64>,
    /// When each code (by index) reserved a transaction: at most once, before it expired.
    pub code_uses: Vec<Vec<i64>>,
    /// How many freezes were given a new end.
    pub refrozen: usize,
}

impl World {
    pub fn new(now: i64) -> World {
        let currencies = vec![
            Currency::parse("EUR").unwrap(),
            Currency::parse("JPY").unwrap(),
        ];
        let ledgers = currencies
            .iter()
            .map(|_| {
                let mut l = Ledger::new();
                l.add_system_account(SOURCE);
                l
            })
            .collect();
        World {
            now,
            deposits: BTreeMap::new(),
            code_uses: Vec::new(),
            refrozen: 0,
            currencies,
            ledgers,
            transactions: Vec::new(),
            codes: Vec::new(),
            allowances: Vec::new(),
        }
    }

    /// Moves transaction `i` by `event`, as the state machine allows; records the step.
    pub fn apply(&mut self, i: usize, event: Event) -> Result<TransactionStatus, String> {
        let t = &mut self.transactions[i];
        let to = t.status.apply(event).map_err(|e| e.to_string())?;
        t.status = to;
        t.history.push(to);
        Ok(to)
    }

    /// Holds every payment of transaction `i` on `payer`'s account, all or none.
    pub fn hold_all(&mut self, i: usize, payer: AccountId, prices: &[i64]) -> Result<(), String> {
        let mut ledgers = self.ledgers.clone();
        let mut holds = Vec::new();
        for (p, price) in self.transactions[i].payments.iter().zip(prices) {
            let id = ledgers[p.currency]
                .hold(payer, *price)
                .map_err(|e| e.to_string())?;
            holds.push((id, *price));
        }
        self.ledgers = ledgers;
        let t = &mut self.transactions[i];
        for (p, (id, price)) in t.payments.iter_mut().zip(holds) {
            p.hold = Some(id);
            p.held = price;
        }
        t.payer = Some(payer);
        Ok(())
    }

    /// Releases every active hold of transaction `i` that is not frozen-and-confirmed.
    pub fn release_all(&mut self, i: usize) {
        for p in &mut self.transactions[i].payments {
            if let (Some(id), Settled::Open) = (p.hold.take(), p.settled) {
                self.ledgers[p.currency]
                    .release(id)
                    .expect("hold released once");
            }
        }
    }

    /// Pays out payment `p` of transaction `i` at `price` (at most what is held).
    pub fn settle(&mut self, i: usize, p: usize, price: i64) -> Result<(), String> {
        let pay = &mut self.transactions[i].payments[p];
        let id = pay.hold.ok_or("payment has no hold")?;
        self.ledgers[pay.currency]
            .settle(id, pay.beneficiary, price)
            .map_err(|e| e.to_string())?;
        pay.hold = None;
        pay.settled = Settled::Done(price);
        Ok(())
    }

    /// Releases the hold of frozen payment `p` of transaction `i`: the payer keeps the money.
    pub fn cancel_frozen(&mut self, i: usize, p: usize) -> Result<(), String> {
        let pay = &mut self.transactions[i].payments[p];
        let Settled::FrozenUntil(_) = pay.settled else {
            return Err("payment is not frozen".into());
        };
        let id = pay.hold.take().ok_or("frozen payment has no hold")?;
        self.ledgers[pay.currency]
            .release(id)
            .map_err(|e| e.to_string())?;
        pay.settled = Settled::Canceled;
        Ok(())
    }

    /// Tops up `wallet` with `amount` of currency `c`.
    pub fn top_up(&mut self, wallet: AccountId, c: usize, amount: i64) {
        self.ledgers[c]
            .post(&Posting::transfer(SOURCE, wallet, amount))
            .expect("a top-up always posts");
        *self.deposits.entry((wallet, c)).or_default() += amount;
    }

    /// Totals of transaction `i` per currency index.
    pub fn totals(&self, i: usize) -> BTreeMap<usize, i64> {
        let mut totals = BTreeMap::new();
        for p in &self.transactions[i].payments {
            *totals.entry(p.currency).or_default() += p.price;
        }
        totals
    }
}
