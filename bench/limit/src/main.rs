//! `walletd-limit`: what the store alone does for the cash-out flow when each API call is its own
//! durable commit, as a naive implementation would run it — the yardstick walletd is measured
//! against. Same JSON line as `walletd-load`, with `"mode": "limit"`.
//!
//! - `walletd-limit sqlite`: N tasks run the flow's three transactions on a fresh SQLite file
//!   (WAL, `synchronous = FULL`, one writer at a time behind an in-process queue, as walletd's
//!   store does), with the SQL of `src/sqlite/flow.rs`.
//! - `walletd-limit postgres`: seeds a fresh database and runs `pgbench` with `flow.sql`,
//!   N clients, then reads pgbench's per-transaction log.
//!
//! Both use walletd's own schema (its migrations create it) and the same work per flow: see
//! `flow.sql` for the statements and what they stand for.

mod pgbench_log;
mod postgres;
mod sqlite;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sha2::{Digest, Sha256};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};
use walletd_load::setup::{CashOutPoint, insert_cash_out_point};

#[derive(Debug, Parser)]
#[command(name = "walletd-limit", version)]
struct Cli {
    #[command(subcommand)]
    store: Store,
}

#[derive(Debug, Subcommand)]
enum Store {
    /// The flow on a fresh SQLite file (WAL, synchronous = FULL), from N tasks.
    Sqlite {
        #[command(flatten)]
        common: Common,
        /// The database file (created; it must not exist) [default: a temporary file, removed after].
        #[arg(long)]
        path: Option<std::path::PathBuf>,
        /// `rusqlite`: SQLite called directly (the store's limit); `sqlx`: through sqlx, as
        /// walletd calls it (mode gets a `-sqlx` suffix).
        #[arg(long, value_enum, default_value_t = sqlite::Driver::Rusqlite)]
        driver: sqlite::Driver,
    },
    /// The flow on a fresh PostgreSQL database, run by pgbench with N clients.
    Postgres {
        #[command(flatten)]
        common: Common,
        /// A database on the server to connect to for CREATE DATABASE / DROP DATABASE.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        admin_url: String,
        /// The pgbench program.
        #[arg(long, default_value = "pgbench")]
        pgbench: String,
        /// pgbench threads (-j).
        #[arg(long, default_value_t = 2)]
        jobs: usize,
    },
}

#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Concurrent clients (tills), each one commit at a time.
    #[arg(long, default_value_t = 32)]
    tills: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Payer wallets.
    #[arg(long, default_value_t = 1000)]
    wallets: usize,
    /// Every payer on one wallet (mode `limit-one-wallet`).
    #[arg(long)]
    one_wallet: bool,
    /// Minor units per flow.
    #[arg(long, default_value_t = 100)]
    amount: i64,
    /// Codes seeded per till [default: enough for 4000 flows/s].
    #[arg(long)]
    codes_per_till: Option<u64>,
    /// Keep the database afterwards.
    #[arg(long)]
    keep: bool,
}

impl Common {
    fn wallets(&self) -> usize {
        if self.one_wallet {
            1
        } else {
            self.wallets.max(1)
        }
    }

    fn mode(&self) -> &'static str {
        if self.one_wallet {
            "limit-one-wallet"
        } else {
            "limit"
        }
    }

    fn codes_per_till(&self) -> u64 {
        self.codes_per_till.unwrap_or_else(|| {
            (self.seconds * 4000.0 / self.tills.max(1) as f64).ceil() as u64 + 50
        })
    }
}

/// The code of till `till`'s `n`-th flow, as stored (hex SHA-256 of `c-<till>-<n>`), like
/// walletd's keyed hashes: 64 hex digits spread over the index. `flow.sql` computes the same.
pub fn code_hash(till: usize, n: u64) -> String {
    Sha256::digest(format!("c-{till}-{n}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new transaction key as walletd makes it: ordered by the time it was made
/// (`wallet_core::keys::new_transaction_key`), so the limit's indexes on the key grow at one end too.
pub fn transaction_key() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    wallet_core::keys::new_transaction_key(&mut rand::rng(), millis).into_string()
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// walletd's schema in the fresh database at `url`, from walletd's own migrations, and the
/// cash-out point every flow pays, written as `walletd-load` writes its own: project `limit` with
/// one API client, `limit`.
pub async fn schema_and_cash_out_point(url: &str, now: i64) -> anyhow::Result<CashOutPoint> {
    let store = wallet_store::Store::connect(url)
        .await
        .with_context(|| format!("cannot create walletd's schema in {url}"))?;
    let mut tx = store.write().await?;
    let credentials = [("limit".to_string(), "limit-secret".to_string())];
    let point = insert_cash_out_point(
        &mut tx,
        "limit",
        "limit-owner@walletd.invalid",
        &credentials,
        now,
    )
    .await?;
    tx.commit().await?;
    store.close().await;
    Ok(point)
}

/// A name no earlier run used: `walletd_limit_<unix>_<pid>`.
pub fn fresh_name() -> String {
    format!("walletd_limit_{}_{}", unix_now(), std::process::id())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.store {
        Store::Sqlite {
            common,
            path,
            driver,
        } => sqlite::run(&common, path, driver).await,
        Store::Postgres {
            common,
            admin_url,
            pgbench,
            jobs,
        } => postgres::run(&common, &admin_url, &pgbench, jobs).await,
    };
    match result {
        Ok(report) => {
            println!("{}", report.json_line());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("walletd-limit: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_hashes_match_what_flow_sql_computes() {
        // SELECT encode(sha256(convert_to('c-' || 0 || '-' || 0, 'UTF8')), 'hex'), and 'c-3-17'.
        assert_eq!(
            code_hash(0, 0),
            "4101bfb8ebb626c350587ad3dad34a58a0294e4a8b9bd92bad77bed6f4182758"
        );
        assert_eq!(
            code_hash(3, 17),
            "0021da8475589d816ef1f6e33564c7ccd80575dadbf91b8c77b03ae6a60084a0"
        );
    }
}
