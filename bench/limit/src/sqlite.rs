//! The limit on SQLite: the statements of `flow.sql` in SQLite's dialect (no `FOR UPDATE`: the
//! writer lock of `BEGIN IMMEDIATE` covers every row), three durable commits per flow, from N
//! tills that queue for the one writer in process (FIFO) — what walletd's store does — on a file
//! in WAL mode with `synchronous = FULL`, so each commit is on disk before the next call starts.
//!
//! Two drivers run the same statements and the same till loop (`flow`): `rusqlite` (the default:
//! N threads calling SQLite directly, which is the store alone; `direct`) and `sqlx` (N tokio
//! tasks through sqlx's SQLite driver, as walletd does, which adds a hop to the connection's
//! worker thread per statement; `via_sqlx`).

mod direct;
mod flow;
mod via_sqlx;

use crate::{Common, code_hash, fresh_name, schema_and_cash_out_point, unix_now};
use anyhow::ensure;
use flow::{Ids, Tally};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use walletd_load::report::Report;

/// Which library runs the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Driver {
    Rusqlite,
    Sqlx,
}

pub async fn run(common: &Common, path: Option<PathBuf>, driver: Driver) -> anyhow::Result<Report> {
    let temporary = path.is_none();
    let path = path.unwrap_or_else(|| std::env::temp_dir().join(format!("{}.db", fresh_name())));
    ensure!(
        !path.exists(),
        "{} exists; the limit needs a fresh file",
        path.display()
    );
    let result = measure(common, &path, driver).await;
    if temporary && !common.keep {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    } else {
        eprintln!("walletd-limit: kept {}", path.display());
    }
    result
}

async fn measure(
    common: &Common,
    path: &std::path::Path,
    driver: Driver,
) -> anyhow::Result<Report> {
    let seeding = Instant::now();
    let now = unix_now();
    let url = format!("sqlite://{}", path.display());
    let point = schema_and_cash_out_point(&url, now).await?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    seed_payers(&pool, common, now).await?;
    let ids = Ids {
        project_id: point.project_id.get(),
        api_client: point.clients[0].get(),
        hot_wallet: point.wallet.get(),
        hot_account: point.account.get(),
        amount: common.amount,
        now,
    };
    eprintln!(
        "walletd-limit: seeded {} in {:.1} s",
        path.display(),
        seeding.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(common.seconds);
    let tally = match driver {
        Driver::Sqlx => via_sqlx::run(pool, common, ids, deadline).await?,
        Driver::Rusqlite => {
            pool.close().await;
            let path = path.to_path_buf();
            let common = common.clone();
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                direct::run(&path, &common, ids, deadline, &runtime)
            })
            .await??
        }
    };
    let elapsed = started.elapsed();
    if tally.out_of_codes {
        eprintln!("walletd-limit: a till used all its codes; pass a larger --codes-per-till");
    }
    let Tally {
        latencies,
        flows,
        errors,
        ..
    } = tally;
    eprintln!(
        "walletd-limit: sqlite: {flows} flows in {:.2} s; {}",
        elapsed.as_secs_f64(),
        latencies.breakdown()
    );
    let mode = match driver {
        Driver::Rusqlite => common.mode().to_string(),
        Driver::Sqlx => format!("{}-sqlx", common.mode()),
    };
    Ok(Report::new(
        "sqlite",
        &mode,
        common.tills,
        flows,
        elapsed,
        &latencies,
        errors,
        0.0,
    )
    .with_instances(0))
}

/// The payers (a user, a wallet and a funded EUR account each) and every till's codes, each bound
/// to a payer picked as walletd-load picks them.
async fn seed_payers(pool: &SqlitePool, common: &Common, now: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut payers = Vec::with_capacity(common.wallets());
    for i in 0..common.wallets() {
        let user: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, created_at) VALUES ($1, '!', $2) RETURNING id",
        )
        .bind(format!("limit-payer-{i}@walletd.invalid"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let wallet: i64 = sqlx::query_scalar(
            "INSERT INTO wallets (owner_user_id, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(user)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO accounts (wallet_id, currency, balance, reserved) VALUES ($1, 'EUR', 1000000000000, 0)",
        )
        .bind(wallet)
        .execute(&mut *tx)
        .await?;
        payers.push(wallet);
    }
    let seed = now as u64;
    for till in 0..common.tills {
        for n in 0..common.codes_per_till() {
            let payer = payers
                [walletd_load::setup::payer_of(seed, till * 1_000_003 + n as usize, payers.len())];
            sqlx::query(
                "INSERT INTO reservation_codes (code_hash, wallet_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(code_hash(till, n))
            .bind(payer)
            .bind(now)
            .bind(now + 86_400)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
