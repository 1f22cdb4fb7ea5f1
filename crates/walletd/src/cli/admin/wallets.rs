//! Wallets and their money: balance, top-up, reservation codes, flags and spending limits.

use super::super::output::{balance_text, lines, print};
use crate::service::{admin, operator};
use crate::state::AppState;
use clap::Subcommand;
use wallet_core::ids::WalletId;

/// `walletd admin balance`.
pub(super) async fn balance(state: &AppState, wallet: WalletId, json: bool) -> anyhow::Result<()> {
    print(&admin::balance(state, wallet).await?, json, balance_text)
}

/// `walletd admin top-up`.
pub(super) async fn top_up(
    state: &AppState,
    wallet: WalletId,
    amount: &str,
    currency: &str,
    json: bool,
) -> anyhow::Result<()> {
    let balance = admin::top_up(state, wallet, amount, currency).await?;
    print(&balance, json, balance_text)
}

/// `walletd admin reservation-code`.
pub(super) async fn reservation_code(
    state: &AppState,
    wallet: WalletId,
    max_amount: Option<&str>,
    currency: &str,
    valid_for: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    let code = admin::issue_code(state, wallet, max_amount, currency, valid_for).await?;
    print(&code, json, |c| {
        format!(
            "reservation code {} (QR {}, barcode {}), valid until {}",
            c.reservation_code, c.qr, c.barcode, c.expires_at
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Activate or deactivate a wallet, or let or stop its holder spend from it.
    Set {
        #[arg(long)]
        wallet: WalletId,
        #[arg(long)]
        active: Option<bool>,
        /// false: the holder may not make transfers from the wallet (no_rights).
        #[arg(long)]
        can_pay: Option<bool>,
        #[arg(long)]
        json: bool,
    },
    /// Set or remove a spending limit per rolling period (limits_exceeded, or with
    /// --restriction the operator's temporary restriction_limits_exceeded).
    Limit {
        #[arg(long)]
        wallet: WalletId,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Decimal amount, e.g. 100.00.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        max_amount: Option<String>,
        /// Seconds of the rolling window.
        #[arg(long, default_value_t = 86_400)]
        period: i64,
        #[arg(long)]
        restriction: bool,
        /// Remove the limit.
        #[arg(long)]
        none: bool,
        #[arg(long)]
        json: bool,
    },
}

impl WalletCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            WalletCommand::Set {
                wallet,
                active,
                can_pay,
                json,
            } => {
                let w = operator::set_wallet(state, wallet, active, can_pay).await?;
                print(&w, json, |w| {
                    format!(
                        "wallet {}: active {}, can pay {}",
                        w.wallet_id, w.active, w.can_pay
                    )
                })
            }
            WalletCommand::Limit {
                wallet,
                currency,
                max_amount,
                period,
                restriction,
                none: _,
                json,
            } => {
                let max_amount = max_amount.as_deref();
                let limits = operator::set_wallet_limit(
                    state,
                    wallet,
                    &currency,
                    max_amount,
                    period,
                    restriction,
                )
                .await?;
                let empty = format!("wallet {wallet}: no limits in {currency}");
                print(&limits, json, |l| {
                    lines(l, &empty, |l| {
                        format!(
                            "{} limit: {} {} per {} s",
                            l.kind, l.max_amount, l.currency, l.period_seconds
                        )
                    })
                })
            }
        }
    }
}
