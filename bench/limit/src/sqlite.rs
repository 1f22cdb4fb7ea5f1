//! The limit on SQLite: the statements of `flow.sql` in SQLite's dialect (no `FOR UPDATE`: the
//! writer lock of `BEGIN IMMEDIATE` covers every row), three durable commits per flow, from N
//! tills that queue for the one writer in process (FIFO) — what walletd's store does — on a file
//! in WAL mode with `synchronous = FULL`, so each commit is on disk before the next call starts.
//!
//! Two drivers run the same statements: `rusqlite` (the default: N threads calling SQLite
//! directly, which is the store alone) and `sqlx` (N tokio tasks through sqlx's SQLite driver, as
//! walletd does, which adds a hop to the connection's worker thread per statement).

use crate::{Common, code_hash, fresh_name, unix_now};
use anyhow::{Context, bail, ensure};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use walletd_load::report::{Kind, Latencies, Report};

// The statements of one flow, numbered parameters in order of first use (both drivers bind them
// by position). They are flow.sql's, without `FOR UPDATE`.
pub(crate) const INSERT_TRANSACTION: &str = "INSERT INTO transactions (transaction_key, project_id, client_id, status, created_at, use_allowance, suggest_allowance, auto_confirm, updated_at) VALUES ($1, $2, $3, 'new', $4, 1, 0, 0, $4)";
pub(crate) const INSERT_PAYMENT: &str = "INSERT INTO payments (transaction_key, project_id, status, price, currency, description, beneficiary_wallet_id, created_at) VALUES ($1, $2, 'new', $3, 'EUR', 'limit: cash-out', $4, $5) RETURNING id";
pub(crate) const TRANSACTION_STATUS: &str =
    "SELECT status FROM transactions WHERE transaction_key = $1";
pub(crate) const PAYMENTS_TO_RESERVE: &str =
    "SELECT id, price, currency FROM payments WHERE transaction_key = $1";
pub(crate) const CODE: &str =
    "SELECT id, wallet_id, expires_at, used_at FROM reservation_codes WHERE code_hash = $1";
pub(crate) const HOLD_FUNDS: &str = "UPDATE accounts SET reserved = reserved + $1 WHERE wallet_id = $2 AND currency = 'EUR' AND balance - reserved >= $1 RETURNING id";
pub(crate) const INSERT_HOLD: &str = "INSERT INTO holds (account_id, payment_id, amount, status, created_at) VALUES ($1, $2, $3, 'active', $4) RETURNING id";
pub(crate) const PAYMENT_RESERVED: &str =
    "UPDATE payments SET status = 'reserved', payer_wallet_id = $1, hold_id = $2 WHERE id = $3";
pub(crate) const USE_CODE: &str = "UPDATE reservation_codes SET used_at = $1, transaction_key = $2 WHERE id = $3 AND used_at IS NULL";
pub(crate) const TRANSACTION_RESERVED: &str = "UPDATE transactions SET status = 'reserved', kind = 'reservation_code', wallet_id = $1, reserved_until = $2, updated_at = $3 WHERE transaction_key = $4";
pub(crate) const PAYMENTS_TO_CONFIRM: &str =
    "SELECT id, hold_id, price, beneficiary_wallet_id FROM payments WHERE transaction_key = $1";
pub(crate) const SETTLE_HOLD: &str = "UPDATE holds SET status = 'settled', resolved_at = $1 WHERE id = $2 AND status = 'active' RETURNING account_id, amount";
pub(crate) const DEBIT_PAYER: &str =
    "UPDATE accounts SET balance = balance - $1, reserved = reserved - $1 WHERE id = $2";
pub(crate) const CREDIT_HOT: &str = "UPDATE accounts SET balance = balance + $1 WHERE id = $2";
pub(crate) const INSERT_MOVEMENT: &str = "INSERT INTO movements (kind, transaction_key, payment_id, created_at) VALUES ('payment', $1, $2, $3) RETURNING id";
pub(crate) const INSERT_ENTRIES: &str =
    "INSERT INTO entries (movement_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)";
pub(crate) const PAYMENT_DONE: &str =
    "UPDATE payments SET status = 'done', confirmed_at = $1 WHERE id = $2";
pub(crate) const TRANSACTION_CONFIRMED: &str = "UPDATE transactions SET status = 'confirmed', confirmed_at = $1, updated_at = $1 WHERE transaction_key = $2";

/// Which library runs the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Driver {
    Rusqlite,
    Sqlx,
}

/// What the seed created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ids {
    pub project_id: i64,
    pub api_client: i64,
    pub hot_wallet: i64,
    pub hot_account: i64,
    pub amount: i64,
    pub now: i64,
}

/// What the tills add up to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub latencies: Latencies,
    pub flows: u64,
    pub errors: u64,
    pub out_of_codes: bool,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.latencies.merge(other.latencies);
        self.flows += other.flows;
        self.errors += other.errors;
        self.out_of_codes |= other.out_of_codes;
    }
}

struct Shared {
    pool: SqlitePool,
    /// One writer at a time, queued here rather than spinning on SQLITE_BUSY.
    gate: Mutex<()>,
    ids: Ids,
    deadline: Instant,
    codes_per_till: u64,
    out_of_codes: AtomicBool,
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
    // walletd's schema, from walletd's migrations.
    let url = format!("sqlite://{}", path.display());
    let store = wallet_store::Store::connect(&url)
        .await
        .with_context(|| format!("cannot create {url}"))?;
    store.close().await;

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
    let seeding = Instant::now();
    let ids = seed(&pool, common).await?;
    eprintln!(
        "walletd-limit: seeded {} in {:.1} s",
        path.display(),
        seeding.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(common.seconds);
    let tally = match driver {
        Driver::Sqlx => run_sqlx(pool, common, ids, deadline).await?,
        Driver::Rusqlite => {
            pool.close().await;
            let path = path.to_path_buf();
            let common = common.clone();
            tokio::task::spawn_blocking(move || {
                crate::sqlite_direct::run(&path, &common, ids, deadline)
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
    ))
}

async fn seed(pool: &SqlitePool, common: &Common) -> anyhow::Result<Ids> {
    let now = unix_now();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let owner: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, created_at) VALUES ('limit-owner@walletd.invalid', '!', $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let hot_wallet: i64 = sqlx::query_scalar(
        "INSERT INTO wallets (owner_user_id, created_at) VALUES ($1, $2) RETURNING id",
    )
    .bind(owner)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let project_id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (name, wallet_id, created_at) VALUES ('limit', $1, $2) RETURNING id",
    )
    .bind(hot_wallet)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let api_client: i64 = sqlx::query_scalar(
        "INSERT INTO clients (project_id, mac_id, mac_secret, grants, created_at) VALUES ($1, 'limit', 'limit-secret', 'reservation_code', $2) RETURNING id",
    )
    .bind(project_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let hot_account: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (wallet_id, currency, balance, reserved) VALUES ($1, 'EUR', 0, 0) RETURNING id",
    )
    .bind(hot_wallet)
    .fetch_one(&mut *tx)
    .await?;
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
    Ok(Ids {
        project_id,
        api_client,
        hot_wallet,
        hot_account,
        amount: common.amount,
        now,
    })
}

async fn run_sqlx(
    pool: SqlitePool,
    common: &Common,
    ids: Ids,
    deadline: Instant,
) -> anyhow::Result<Tally> {
    let shared = Arc::new(Shared {
        pool,
        gate: Mutex::new(()),
        ids,
        deadline,
        codes_per_till: common.codes_per_till(),
        out_of_codes: AtomicBool::new(false),
    });
    let tasks: Vec<_> = (0..common.tills)
        .map(|till| tokio::spawn(till_loop(shared.clone(), till)))
        .collect();
    let mut tally = Tally::default();
    for t in tasks {
        let (latencies, flows, errors) = t.await?;
        tally.merge(Tally {
            latencies,
            flows,
            errors,
            out_of_codes: false,
        });
    }
    tally.out_of_codes = shared.out_of_codes.load(Ordering::Relaxed);
    shared.pool.close().await;
    Ok(tally)
}

async fn till_loop(shared: Arc<Shared>, till: usize) -> (Latencies, u64, u64) {
    let mut latencies = Latencies::default();
    let (mut flows, mut errors) = (0u64, 0u64);
    let mut n = 0u64;
    while Instant::now() < shared.deadline {
        if n >= shared.codes_per_till {
            shared.out_of_codes.store(true, Ordering::Relaxed);
            break;
        }
        let code = code_hash(till, n);
        n += 1;

        let t0 = Instant::now();
        let created = create(&shared).await;
        latencies.record(Kind::Create, t0.elapsed());
        let Some((key, payment_id)) = ok_or_count(created, Kind::Create, &mut errors) else {
            continue;
        };
        let t1 = Instant::now();
        let reserved = reserve(&shared, &key, payment_id, &code).await;
        latencies.record(Kind::Reserve, t1.elapsed());
        let Some(hold_id) = ok_or_count(reserved, Kind::Reserve, &mut errors) else {
            continue;
        };
        let t2 = Instant::now();
        let confirmed = confirm(&shared, &key, payment_id, hold_id).await;
        latencies.record(Kind::Confirm, t2.elapsed());
        if ok_or_count(confirmed, Kind::Confirm, &mut errors).is_some() {
            flows += 1;
        }
    }
    (latencies, flows, errors)
}

pub(crate) fn ok_or_count<T>(r: anyhow::Result<T>, kind: Kind, errors: &mut u64) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            *errors += 1;
            if *errors <= 3 {
                eprintln!("walletd-limit: {}: {e:#}", kind.name());
            }
            None
        }
    }
}

/// `POST transaction`: the transaction and its payment.
async fn create(s: &Shared) -> anyhow::Result<(String, i64)> {
    let ids = s.ids;
    let key = crate::transaction_key();
    let _writer = s.gate.lock().await;
    let mut tx = s.pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(INSERT_TRANSACTION)
        .bind(&key)
        .bind(ids.project_id)
        .bind(ids.api_client)
        .bind(ids.now)
        .execute(&mut *tx)
        .await?;
    let payment_id: i64 = sqlx::query_scalar(INSERT_PAYMENT)
        .bind(&key)
        .bind(ids.project_id)
        .bind(ids.amount)
        .bind(ids.hot_wallet)
        .bind(ids.now)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((key, payment_id))
}

/// `PUT transaction/{key}/reserve` with a code; returns the hold.
async fn reserve(s: &Shared, key: &str, payment_id: i64, code_hash: &str) -> anyhow::Result<i64> {
    let ids = s.ids;
    let _writer = s.gate.lock().await;
    let mut tx = s.pool.begin_with("BEGIN IMMEDIATE").await?;
    let status: String = sqlx::query_scalar(TRANSACTION_STATUS)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    ensure!(status == "new", "transaction is {status}");
    let payments = sqlx::query(PAYMENTS_TO_RESERVE)
        .bind(key)
        .fetch_all(&mut *tx)
        .await?;
    ensure!(payments.len() == 1, "one payment expected");
    let amount: i64 = payments[0].try_get("price")?;
    let code = sqlx::query(CODE)
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?
        .context("unknown code")?;
    let code_id: i64 = code.try_get("id")?;
    let payer_wallet: i64 = code.try_get("wallet_id")?;
    let expires_at: i64 = code.try_get("expires_at")?;
    let used_at: Option<i64> = code.try_get("used_at")?;
    ensure!(
        used_at.is_none() && expires_at > ids.now,
        "code used or expired"
    );
    let Some(payer_account) = sqlx::query_scalar::<_, i64>(HOLD_FUNDS)
        .bind(amount)
        .bind(payer_wallet)
        .fetch_optional(&mut *tx)
        .await?
    else {
        bail!("not enough funds");
    };
    let hold_id: i64 = sqlx::query_scalar(INSERT_HOLD)
        .bind(payer_account)
        .bind(payment_id)
        .bind(amount)
        .bind(ids.now)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(PAYMENT_RESERVED)
        .bind(payer_wallet)
        .bind(hold_id)
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
    let used = sqlx::query(USE_CODE)
        .bind(ids.now)
        .bind(key)
        .bind(code_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    ensure!(used == 1, "code already used");
    sqlx::query(TRANSACTION_RESERVED)
        .bind(payer_wallet)
        .bind(ids.now + 86_400)
        .bind(ids.now)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(hold_id)
}

/// `PUT transaction/{key}/confirm`.
async fn confirm(s: &Shared, key: &str, payment_id: i64, hold_id: i64) -> anyhow::Result<()> {
    let ids = s.ids;
    let _writer = s.gate.lock().await;
    let mut tx = s.pool.begin_with("BEGIN IMMEDIATE").await?;
    let status: String = sqlx::query_scalar(TRANSACTION_STATUS)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    ensure!(status == "reserved", "transaction is {status}");
    let payments = sqlx::query(PAYMENTS_TO_CONFIRM)
        .bind(key)
        .fetch_all(&mut *tx)
        .await?;
    ensure!(
        payments.len() == 1 && payments[0].try_get::<Option<i64>, _>("hold_id")? == Some(hold_id),
        "the payment's hold is not {hold_id}"
    );
    let Some((held_account, held)) = sqlx::query_as::<_, (i64, i64)>(SETTLE_HOLD)
        .bind(ids.now)
        .bind(hold_id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        bail!("hold {hold_id} already resolved");
    };
    sqlx::query(DEBIT_PAYER)
        .bind(held)
        .bind(held_account)
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREDIT_HOT)
        .bind(held)
        .bind(ids.hot_account)
        .execute(&mut *tx)
        .await?;
    let movement: i64 = sqlx::query_scalar(INSERT_MOVEMENT)
        .bind(key)
        .bind(payment_id)
        .bind(ids.now)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(INSERT_ENTRIES)
        .bind(movement)
        .bind(held_account)
        .bind(-held)
        .bind(ids.hot_account)
        .bind(held)
        .execute(&mut *tx)
        .await?;
    sqlx::query(PAYMENT_DONE)
        .bind(ids.now)
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(TRANSACTION_CONFIRMED)
        .bind(ids.now)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
