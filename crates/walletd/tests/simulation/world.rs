//! The simulated service: walletd's state over a SQLite file with a clock the run moves, the
//! demo project's clients and holders, and the model — what the simulation expects the store to
//! hold (each transaction's status and payments, each wallet's money, codes, PIN failures).

use std::collections::BTreeMap;
use std::sync::Arc;
use wallet_core::ids::{ClientId, PaymentId, TransactionKey, WalletId};
use wallet_core::{Currency, TransactionStatus};
use wallet_store::ClientRow;
use walletd::clock::ManualClock;
use walletd::service::admin;
use walletd::state::AppState;

/// The transitions the spec allows (transactions.txt, "Transaction statuses"), written out here
/// rather than taken from `TransactionStatus::apply`, which is what is checked.
pub const ALLOWED: &[(TransactionStatus, TransactionStatus)] = &[
    (TransactionStatus::New, TransactionStatus::Reserved),
    (TransactionStatus::New, TransactionStatus::Deleted),
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
    /// The price now: as created, as reserved, as confirmed (perhaps reduced).
    pub price: i64,
    /// Seconds it stays frozen after confirmation.
    pub freeze_for: Option<i64>,
    pub state: PayState,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayState {
    /// Not reserved, or reserved with its transaction (held at `price`).
    Open,
    /// Confirmed, frozen until then: still held for the payer, incoming for the beneficiary.
    Frozen {
        until: i64,
    },
    Done,
    Canceled,
}

/// A transaction as the model expects it.
#[derive(Debug, Clone)]
pub struct Tr {
    pub key: TransactionKey,
    pub client: usize,
    pub status: TransactionStatus,
    pub payments: Vec<Pay>,
    /// The allowance grouped into it (an allowance transaction), with its cap per transaction.
    pub allowance_max: Option<i64>,
    pub created_at: i64,
    pub reserve_for: i64,
    pub reserved_until: Option<i64>,
    pub payer: Option<WalletId>,
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
    /// The holders' wallets with their PINs.
    pub holders: Vec<(WalletId, String)>,
    /// The wallet of each client's project: the beneficiary of its payments.
    pub project_wallets: Vec<WalletId>,
    pub transactions: Vec<Tr>,
    pub codes: Vec<Code>,
    pub purses: BTreeMap<WalletId, Purse>,
    pub pin_failures: BTreeMap<WalletId, i64>,
    /// The active allowance of (client, wallet): its cap per transaction.
    pub allowances: BTreeMap<(ClientId, WalletId), i64>,
    pub eur: Currency,
}

/// The template every run copies: migrated, with the demo data and a second project.
pub struct Template {
    pub path: std::path::PathBuf,
    clients: Vec<String>,
    holders: Vec<(WalletId, String)>,
    project_wallets: Vec<WalletId>,
    balance: i64,
}

/// The state walletd's own commands build on `database`, on the run's clock and randomness from
/// `seed`, with the wrong-code limit (counted in wall-clock minutes) lifted so that nothing
/// depends on real time.
pub async fn open_state(database: &str, clock: &ManualClock, seed: u64) -> AppState {
    let state = walletd::cli::admin::admin_state(database)
        .await
        .expect("state");
    let limits = walletd::limits::Limits {
        code_failures_per_minute: i64::MAX,
        ..Default::default()
    };
    AppState {
        clock: Arc::new(clock.clone()),
        limits: Arc::new(limits),
        entropy: walletd::entropy::Entropy::seeded(seed),
        ..state
    }
}

/// Where the runs' databases go: memory where there is a tmpfs (`/dev/shm`), so that a commit's
/// fsync costs nothing and hundreds of seeds fit in a test run; else the temporary directory.
fn run_dir() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    match shm.is_dir() {
        true => shm.into(),
        false => std::env::temp_dir(),
    }
}

/// An Argon2id hash of `pin` with the least work Argon2 allows: walletd verifies it with the
/// parameters it names, so a PIN costs microseconds instead of a quarter second (debug build).
fn cheap_hash(pin: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon.hash_password(pin.as_bytes()).unwrap().to_string()
}

impl Template {
    /// Builds the template database once.
    pub async fn build() -> Template {
        let database = wallet_store::testing::fresh_database(wallet_store::Backend::Sqlite).await;
        let clock = ManualClock::default();
        clock.set(START);
        let state = open_state(&database, &clock, 0).await;
        let demo = admin::demo(&state).await.expect("demo");
        let second = admin::create_client(&state, demo.project_id, admin::DEMO_GRANTS)
            .await
            .unwrap();
        let other = admin::create_project(&state, "elsewhere").await.unwrap();
        let stranger = admin::create_client(&state, other.project_id, admin::DEMO_GRANTS)
            .await
            .unwrap();
        let holders = demo
            .users
            .iter()
            .map(|u| (u.wallet_id, u.pin.clone()))
            .collect();
        let mut tx = state.store.write().await.unwrap();
        for u in &demo.users {
            tx.set_pin_hash(u.user_id, &cheap_hash(&u.pin))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let balance = admin::balance(&state, demo.users[0].wallet_id)
            .await
            .unwrap()["EUR"]
            .at_disposal;
        state.store.close().await;
        Template {
            path: database.trim_start_matches("sqlite://").into(),
            clients: vec![demo.client.mac_id, second.mac_id, stranger.mac_id],
            holders,
            project_wallets: vec![
                demo.project_wallet_id,
                demo.project_wallet_id,
                other.wallet_id,
            ],
            balance,
        }
    }

    /// A world of its own: a copy of the template, opened.
    pub async fn world(&self, seed: u64) -> World {
        let path = run_dir().join(format!("walletd_sim_{}_{seed}.db", std::process::id()));
        std::fs::copy(&self.path, &path).expect("copy the template");
        let database = format!("sqlite://{}", path.display());
        let clock = ManualClock::default();
        clock.set(START);
        let state = open_state(&database, &clock, seed).await;
        let mut clients = Vec::new();
        {
            let mut tx = state.store.read().await.unwrap();
            for mac_id in &self.clients {
                clients.push(tx.client_by_mac_id(mac_id).await.unwrap().expect("client"));
            }
        }
        let mut purses: BTreeMap<WalletId, Purse> = self
            .holders
            .iter()
            .map(|(w, _)| {
                (
                    *w,
                    Purse {
                        balance: self.balance,
                        ..Default::default()
                    },
                )
            })
            .collect();
        for w in &self.project_wallets {
            purses.insert(*w, Purse::default());
        }
        World {
            database,
            state,
            clock,
            clients,
            holders: self.holders.clone(),
            project_wallets: self.project_wallets.clone(),
            transactions: Vec::new(),
            codes: Vec::new(),
            purses,
            pin_failures: BTreeMap::new(),
            allowances: BTreeMap::new(),
            eur: Currency::parse("EUR").unwrap(),
        }
    }
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

    /// Releases what transaction `t` holds (revoked, failed): its open payments' holds.
    pub fn release(&mut self, t: usize) {
        let payer = self.transactions[t].payer;
        let held: i64 = self.transactions[t]
            .payments
            .iter()
            .filter(|p| p.state == PayState::Open)
            .map(|p| p.price)
            .sum();
        if let Some(w) = payer {
            self.purse(w).reserved -= held;
        }
    }

    /// Moves transaction `t` to `to`, which must be a step the spec allows.
    pub fn set_status(&mut self, t: usize, to: TransactionStatus) {
        let from = self.transactions[t].status;
        assert!(
            ALLOWED.contains(&(from, to)),
            "the model moved transaction {t} {from} -> {to}"
        );
        self.transactions[t].status = to;
    }
}
