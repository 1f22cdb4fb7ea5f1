//! `walletd admin …` and `walletd demo`: operator commands, run directly on the store (they work
//! while a server runs on the same database). One module per group of subcommands, each with its
//! arguments and what it runs.

mod callbacks;
mod clock;
mod holders;
mod projects;
mod wallets;

pub use callbacks::CallbacksCommand;
pub use clock::ClockCommand;
pub use holders::{SmsCommand, UserCommand};
pub use projects::{ClientCommand, ProjectCommand};
pub use wallets::WalletCommand;

use super::output::print;
use crate::callbacks::CallbackSigner;
use crate::clock::{SandboxClock, SharedClock};
use crate::service::admin;
use crate::state::{AppState, load_code_key};
use clap::Subcommand;
use std::sync::Arc;
use wallet_core::ids::WalletId;
use wallet_store::Store;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// A wallet's balance (same JSON as GET wallet/{id}/balance).
    Balance {
        #[arg(long)]
        wallet: WalletId,
        #[arg(long)]
        json: bool,
    },
    /// Add money to a wallet from the top-up source account.
    TopUp {
        #[arg(long)]
        wallet: WalletId,
        /// Decimal amount, e.g. 100.00.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long)]
        json: bool,
    },
    /// Issue a one-time reservation code for a wallet (what the holder's app shows).
    ReservationCode {
        #[arg(long)]
        wallet: WalletId,
        /// Largest transaction total the code may reserve, e.g. 50.00.
        #[arg(long)]
        max_amount: Option<String>,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Seconds the code stays valid (default 300).
        #[arg(long)]
        valid_for: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// The sandbox clock: business time is wall time plus an offset operators can move.
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Projects (merchants, cash-out points).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// API clients of a project.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The callback outbox: what was sent where, and redelivery.
    #[command(subcommand)]
    Callbacks(CallbacksCommand),
    /// Wallet holders: phone, identity verification, restriction, person type.
    #[command(subcommand)]
    User(UserCommand),
    /// Wallets: active, spending rights, spending limits.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// The SMS outbox (FLASH SMS to holders), and answering one for a holder.
    #[command(subcommand)]
    Sms(SmsCommand),
}

/// The state the operator commands act with: the server's, without a server (also what tests use
/// to act as an operator beside running servers).
pub async fn admin_state(database: &str) -> anyhow::Result<AppState> {
    let store = Store::connect(database).await?;
    let code_key = load_code_key(&store).await?;
    // Admin commands never sign, but share AppState with the server: same key source as `serve`.
    let key_pem = std::env::var_os("WALLETD_CALLBACK_KEY_PEM").map(std::path::PathBuf::from);
    let callbacks = CallbackSigner::load(&store, key_pem.as_deref()).await?;
    let clock: SharedClock = Arc::new(SandboxClock::default());
    let state = AppState {
        store,
        clock,
        code_key: Arc::new(code_key),
        default_port: 80,
        callbacks: Arc::new(callbacks),
        admin_token: None,
        rate_limit_per_minute: i64::MAX,
        sms: Arc::new(crate::sms::OutboxGateway),
        // Never rendered: a command's metrics end with its process.
        telemetry: crate::telemetry::Telemetry::install(),
        metrics_token: None,
        limits: Default::default(),
        entropy: crate::entropy::Entropy::system(),
    };
    // Admin commands live in sandbox time too (a code issued after `clock advance` expires then).
    crate::service::lifecycle::sync_clock(&state).await?;
    Ok(state)
}

/// Runs one admin command.
pub(super) async fn run(cmd: AdminCommand, database: &str) -> anyhow::Result<()> {
    let state = admin_state(database).await?;
    match cmd {
        AdminCommand::Balance { wallet, json } => wallets::balance(&state, wallet, json).await,
        AdminCommand::TopUp {
            wallet,
            amount,
            currency,
            json,
        } => wallets::top_up(&state, wallet, &amount, &currency, json).await,
        AdminCommand::ReservationCode {
            wallet,
            max_amount,
            currency,
            valid_for,
            json,
        } => {
            let max_amount = max_amount.as_deref();
            wallets::reservation_code(&state, wallet, max_amount, &currency, valid_for, json).await
        }
        AdminCommand::Clock(c) => c.run(&state).await,
        AdminCommand::Project(c) => c.run(&state).await,
        AdminCommand::Client(c) => c.run(&state).await,
        AdminCommand::Callbacks(c) => c.run(&state).await,
        AdminCommand::User(c) => c.run(&state).await,
        AdminCommand::Wallet(c) => c.run(&state).await,
        AdminCommand::Sms(c) => c.run(&state).await,
    }
}

/// `walletd demo`: creates (once) the demo project, client and holders, and prints them.
pub(super) async fn demo(database: &str, json: bool) -> anyhow::Result<()> {
    let state = admin_state(database).await?;
    let demo = admin::demo(&state).await?;
    print(&demo, json, |d| {
        let mut s = format!(
            "demo project {} (wallet {})\nclient: WALLET_MAC_ID={} WALLET_MAC_SECRET={}\n",
            d.project_id, d.project_wallet_id, d.client.mac_id, d.client.mac_secret
        );
        for u in &d.users {
            s.push_str(&format!(
                "holder {} (user {}): wallet {}, password {}, PIN {}\n",
                u.email, u.user_id, u.wallet_id, u.password, u.pin
            ));
        }
        s
    })
}
