//! The template database every run copies (migrated, with the demo data and a second project).

use crate::state::open_state;
use crate::world::*;
use std::collections::BTreeMap;
use wallet_core::{Currency, WalletId};
use walletd::clock::ManualClock;
use walletd::service::admin;

/// The template every run copies: migrated, with the demo data and a second project.
pub struct Template {
    pub path: std::path::PathBuf,
    clients: Vec<String>,
    holders: Vec<Holder>,
    project_wallets: Vec<WalletId>,
    balance: i64,
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
            .map(|u| Holder {
                wallet: u.wallet_id,
                pin: u.pin.clone(),
                user: u.user_id,
                phone: u.phone.clone(),
            })
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
            .map(|h| {
                (
                    h.wallet,
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
            allowances: Vec::new(),
            active: BTreeMap::new(),
            seen: Vec::new(),
            reached: Default::default(),
            eur: Currency::parse("EUR").unwrap(),
        }
    }
}
