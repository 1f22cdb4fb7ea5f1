//! The simulated service: walletd's state over a SQLite file with a clock the run moves, the
//! demo project's clients and holders, and the model — what the simulation expects the store to
//! hold (each transaction's status, what it waits for and its payments, each wallet's money,
//! codes, PIN failures, allowances and what they let through).

use crate::state::open_state;
use std::collections::{BTreeMap, BTreeSet};
use wallet_core::ids::{AllowanceId, ClientId, TransactionKey, UserId};
pub use wallet_core::ids::{PaymentId, WalletId};
use wallet_core::payment::PriceRules;
use wallet_core::{Currency, TransactionStatus};
use wallet_store::ClientRow;
use walletd::clock::ManualClock;
use walletd::state::AppState;

/// The transitions the spec allows (transactions.txt, "Transaction statuses"), written out here
/// rather than taken from `TransactionStatus::apply`, which is what is checked.
pub const ALLOWED: &[(TransactionStatus, TransactionStatus)] = &[
    (TransactionStatus::New, TransactionStatus::Reserved),
    (TransactionStatus::New, TransactionStatus::Deleted),
    (TransactionStatus::New, TransactionStatus::Waiting),
    (TransactionStatus::Waiting, TransactionStatus::WaitingFunds),
    (TransactionStatus::Waiting, TransactionStatus::Rejected),
    (TransactionStatus::WaitingFunds, TransactionStatus::Rejected),
    (TransactionStatus::Waiting, TransactionStatus::Reserved),
    (TransactionStatus::WaitingFunds, TransactionStatus::Reserved),
    (TransactionStatus::Reserved, TransactionStatus::Confirmed),
    (TransactionStatus::Reserved, TransactionStatus::Revoked),
    (TransactionStatus::Reserved, TransactionStatus::Failed),
    (TransactionStatus::Waiting, TransactionStatus::Revoked),
    (TransactionStatus::Waiting, TransactionStatus::Failed),
    (TransactionStatus::WaitingFunds, TransactionStatus::Revoked),
    (TransactionStatus::WaitingFunds, TransactionStatus::Failed),
    (
        TransactionStatus::WaitingRegistration,
        TransactionStatus::Revoked,
    ),
    (
        TransactionStatus::WaitingRegistration,
        TransactionStatus::Failed,
    ),
    (
        TransactionStatus::WaitingPassword,
        TransactionStatus::Revoked,
    ),
    (
        TransactionStatus::WaitingPassword,
        TransactionStatus::Failed,
    ),
];

/// Where business time starts in every run (a fixed moment, so that a seed replays).
pub const START: i64 = 1_800_000_000;

/// A payment as the model expects it.
#[derive(Debug, Clone)]
pub struct Pay {
    pub id: PaymentId,
    /// The price now: as created, as chosen at reservation, as confirmed (perhaps reduced).
    pub price: i64,
    /// The prices the payer may choose from at reservation.
    pub rules: Option<PriceRules>,
    /// Seconds it stays frozen after confirmation.
    pub freeze_for: Option<i64>,
    pub state: PayState,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayState {
    /// Not confirmed: as its transaction (held at `price` while that holds funds).
    Open,
    /// Confirmed, frozen until then: still held for the payer, incoming for the beneficiary.
    Frozen {
        until: i64,
    },
    Done,
    Canceled,
}

/// What a `waiting` (or `waiting_funds`) transaction waits for: a FLASH SMS answer, or the
/// holder on the confirmation page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waits {
    Flash { correlation: String },
    Page,
}

/// A transaction as the model expects it.
#[derive(Debug, Clone)]
pub struct Tr {
    pub key: TransactionKey,
    pub client: usize,
    pub status: TransactionStatus,
    pub payments: Vec<Pay>,
    /// The allowance grouped into it (an allowance transaction): an index of `World::allowances`.
    pub allowance: Option<usize>,
    /// The active allowance it was reserved under, and when.
    pub under: Option<(usize, i64)>,
    pub use_allowance: bool,
    pub created_at: i64,
    pub reserve_for: i64,
    pub reserved_until: Option<i64>,
    /// The payer, or the holder's wallet it waits on.
    pub payer: Option<WalletId>,
    pub waits: Option<Waits>,
}

/// An allowance as the model expects it: its terms, and once active, whose it is until when.
#[derive(Debug, Clone)]
pub struct Allow {
    pub id: AllowanceId,
    pub max: Option<i64>,
    /// (max_price, seconds) of each window.
    pub limits: Vec<(i64, i64)>,
    pub valid_for: Option<i64>,
    pub valid_until: Option<i64>,
}

/// A reservation code issued to a holder.
#[derive(Debug, Clone)]
pub struct Code {
    pub text: String,
    pub wallet: WalletId,
    pub max: Option<i64>,
    pub expires_at: i64,
    pub used: bool,
}

/// A demo holder: her wallet, PIN, user and confirmed phone.
#[derive(Debug, Clone)]
pub struct Holder {
    pub wallet: WalletId,
    pub pin: String,
    pub user: UserId,
    pub phone: String,
}

/// A holder's money in EUR, as the model expects the store's account of her wallet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purse {
    pub balance: i64,
    pub reserved: i64,
    pub incoming: i64,
}

/// Everything one run acts on and expects.
pub struct World {
    pub database: String,
    pub state: AppState,
    pub clock: ManualClock,
    /// The demo project's two clients, then a client of another project.
    pub clients: Vec<ClientRow>,
    pub holders: Vec<Holder>,
    /// The wallet of each client's project: the beneficiary of its payments.
    pub project_wallets: Vec<WalletId>,
    pub transactions: Vec<Tr>,
    pub codes: Vec<Code>,
    pub purses: BTreeMap<WalletId, Purse>,
    pub pin_failures: BTreeMap<WalletId, i64>,
    pub allowances: Vec<Allow>,
    /// The active allowance of (client, wallet), if still valid.
    pub active: BTreeMap<(ClientId, WalletId), usize>,
    /// Each transaction's status as the store last showed it.
    pub seen: Vec<TransactionStatus>,
    /// What the run reached (statuses, ways of reserving, refusals), for `MUST_REACH`.
    pub reached: BTreeSet<String>,
    pub eur: Currency,
}

impl World {
    pub fn now(&self) -> i64 {
        use walletd::clock::Clock;
        self.clock.now()
    }

    /// Drops the state and opens the store again from its file, as a restarted server would
    /// (its randomness from `seed`, drawn by the run).
    pub async fn restart(&mut self, seed: u64) {
        self.state.store.close().await;
        self.state = open_state(&self.database, &self.clock, seed).await;
    }

    /// Removes the run's database files.
    pub async fn remove(self) {
        self.state.store.close().await;
        let path = self.database.trim_start_matches("sqlite://").to_string();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }

    /// Records that the run reached `what`.
    pub fn note(&mut self, what: impl Into<String>) {
        self.reached.insert(what.into());
    }

    /// Whether client `c` may see transaction `t` (clients of one project share transactions).
    pub fn sees(&self, c: usize, t: usize) -> bool {
        self.clients[c].project_id == self.clients[self.transactions[t].client].project_id
    }

    /// Where the payments of transaction `t` go: its project's wallet.
    pub fn beneficiary(&self, t: usize) -> WalletId {
        self.project_wallets[self.transactions[t].client]
    }

    pub fn purse(&mut self, w: WalletId) -> &mut Purse {
        self.purses.entry(w).or_default()
    }

    /// A payment of `t` held at `held` paid out at `n`: the payer's hold settled, the
    /// beneficiary paid (a frozen one's incoming gone).
    pub fn pay(&mut self, t: usize, held: i64, n: i64, frozen: bool) {
        let (payer, ben) = (
            self.transactions[t].payer.expect("a payer"),
            self.beneficiary(t),
        );
        let purse = self.purse(payer);
        purse.reserved -= held;
        purse.balance -= n;
        let purse = self.purse(ben);
        purse.balance += n;
        if frozen {
            purse.incoming -= held;
        }
    }

    /// Whether `wallet` has `amount` at its disposal.
    pub fn covers(&self, wallet: WalletId, amount: i64) -> bool {
        let p = self.purses[&wallet];
        p.balance - p.reserved >= amount
    }

    /// The total of transaction `t`'s open payments (all but the canceled, before confirmation).
    pub fn open_total(&self, t: usize) -> i64 {
        let open = self.transactions[t].payments.iter();
        open.filter(|p| p.state == PayState::Open)
            .map(|p| p.price)
            .sum()
    }

    /// Whether transaction `t`'s deadline passed while it holds funds or waits for the holder:
    /// the sweep fails it, and until then nothing may reserve it.
    pub fn due(&self, t: usize) -> bool {
        let tr = &self.transactions[t];
        let waits = matches!(
            tr.status,
            TransactionStatus::Waiting | TransactionStatus::WaitingFunds
        );
        (tr.status.holds_funds() || waits) && tr.reserved_until.is_some_and(|d| self.now() >= d)
    }

    /// Transaction `t` past its deadline fails: what it holds is released.
    pub fn fail(&mut self, t: usize) {
        self.release(t);
        self.set_status(t, TransactionStatus::Failed);
        self.transactions[t].waits = None;
    }

    /// Client `c` opens a change of transaction `t` (reserve, FLASH, confirm, revoke): one past
    /// its deadline that the sweep has not failed yet is failed then (and the call refused).
    pub fn touch(&mut self, c: usize, t: usize) {
        if self.sees(c, t) && self.due(t) {
            self.fail(t);
            self.note("failed when touched");
        }
    }

    /// Releases what transaction `t` holds (revoked, failed), if it holds anything.
    pub fn release(&mut self, t: usize) {
        if !self.transactions[t].status.holds_funds() {
            return;
        }
        let held = self.open_total(t);
        if let Some(w) = self.transactions[t].payer {
            self.purse(w).reserved -= held;
        }
    }

    /// Transaction `t` was reserved for `wallet` at `prices` (its open payments', in order; the
    /// own prices if `None`): its open payments are held.
    pub fn reserve(&mut self, t: usize, wallet: WalletId, prices: Option<&[i64]>) {
        let now = self.now();
        self.set_status(t, TransactionStatus::Reserved);
        let tr = &mut self.transactions[t];
        tr.payer = Some(wallet);
        tr.waits = None;
        tr.reserved_until = Some(now + tr.reserve_for);
        let open = tr.payments.iter_mut().filter(|p| p.state == PayState::Open);
        for (i, p) in open.enumerate() {
            if let Some(prices) = prices {
                p.price = prices[i];
            }
        }
        let total = self.open_total(t);
        self.purse(wallet).reserved += total;
    }

    /// Transaction `t` now waits for the holder of `wallet` (`waiting`, `waiting_funds`), by the
    /// deadline its reservation would have.
    pub fn wait(&mut self, t: usize, to: TransactionStatus, wallet: WalletId, waits: Waits) {
        let now = self.now();
        // A page taken over by another holder waits on, for her.
        if self.transactions[t].status != to {
            self.set_status(t, to);
        }
        let tr = &mut self.transactions[t];
        tr.payer = Some(wallet);
        tr.reserved_until = Some(now + tr.reserve_for);
        tr.waits = Some(waits);
    }

    /// Moves transaction `t` to `to`, which must be a step the spec allows.
    pub fn set_status(&mut self, t: usize, to: TransactionStatus) {
        let from = self.transactions[t].status;
        assert!(
            ALLOWED.contains(&(from, to)),
            "the model moved transaction {t} {from} -> {to}"
        );
        self.transactions[t].status = to;
        self.note(to.as_str());
    }

    /// The allowance of client `client` for `wallet` that is active now, if any.
    pub fn active_allowance(&self, client: ClientId, wallet: WalletId) -> Option<usize> {
        let a = *self.active.get(&(client, wallet))?;
        let until = self.allowances[a].valid_until;
        until.is_none_or(|u| u > self.now()).then_some(a)
    }

    /// What was reserved under allowance `a`, as (when, amount) of each payment that counts:
    /// reserved or confirmed, not canceled, at its price now.
    pub fn spends(&self, a: usize) -> Vec<(i64, i64)> {
        let mut spends = Vec::new();
        for t in &self.transactions {
            let Some((_, at)) = t.under.filter(|(u, _)| *u == a) else {
                continue;
            };
            let counts = matches!(
                t.status,
                TransactionStatus::Reserved | TransactionStatus::Confirmed
            );
            let paid = t
                .payments
                .iter()
                .filter(|p| counts && p.state != PayState::Canceled);
            spends.extend(paid.map(|p| (at, p.price)));
        }
        spends.sort();
        spends
    }

    /// Whether allowance `a` lets a transaction of `total` through now: within its cap per
    /// transaction and, with what it already let through, within every window ending now.
    pub fn allowance_lets(&self, a: usize, total: i64) -> bool {
        let (now, al, spends) = (self.now(), &self.allowances[a], self.spends(a));
        al.max.is_none_or(|m| total <= m)
            && al.limits.iter().all(|(max, time)| {
                let within = spends.iter().filter(|(at, _)| *at > now - time);
                within.map(|(_, n)| n).sum::<i64>() + total <= *max
            })
    }
}
