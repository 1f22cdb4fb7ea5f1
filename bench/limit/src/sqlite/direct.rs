//! The SQLite limit with SQLite called directly (rusqlite, on the same bundled SQLite as sqlx):
//! N threads, one connection, taken in turn (FIFO) for each API call's `BEGIN IMMEDIATE … COMMIT`.

use super::flow::{
    CODE, CREDIT_HOT, Calls, DEBIT_PAYER, HOLD_FUNDS, INSERT_ENTRIES, INSERT_HOLD, INSERT_MOVEMENT,
    INSERT_PAYMENT, INSERT_TRANSACTION, Ids, PAYMENT_DONE, PAYMENT_RESERVED, PAYMENTS_TO_CONFIRM,
    PAYMENTS_TO_RESERVE, SETTLE_HOLD, TRANSACTION_CONFIRMED, TRANSACTION_RESERVED,
    TRANSACTION_STATUS, Tally, USE_CODE, till_loop,
};
use crate::Common;
use anyhow::{Context, bail, ensure};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The one connection, and the ids the statements bind.
struct Direct {
    // tokio's mutex is fair: waiting tills take the writer in arrival order, as walletd's gate does.
    writer: Mutex<Connection>,
    ids: Ids,
}

/// Runs the tills on threads of their own, each driving its loop with `runtime` (the calls block
/// their thread in SQLite, as the store alone would); called off the async workers.
pub(super) fn run(
    path: &Path,
    common: &Common,
    ids: Ids,
    deadline: Instant,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<Tally> {
    let conn = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    ensure!(mode == "wal", "journal mode {mode}, not WAL");
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    conn.set_prepared_statement_cache_capacity(64);
    let calls = Direct {
        writer: Mutex::new(conn),
        ids,
    };
    let codes_per_till = common.codes_per_till();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..common.tills)
            .map(|till| {
                let calls = &calls;
                scope.spawn(move || {
                    runtime.block_on(till_loop(calls, till, codes_per_till, deadline))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a till thread panicked"))
            .collect()
    });
    let mut tally = Tally::default();
    for t in tallies {
        tally.merge(t);
    }
    Ok(tally)
}

impl Calls for Direct {
    async fn create(&self) -> anyhow::Result<(String, i64)> {
        create(&mut *self.writer.lock().await, self.ids)
    }

    async fn reserve(&self, key: &str, payment_id: i64, code_hash: &str) -> anyhow::Result<i64> {
        reserve(
            &mut *self.writer.lock().await,
            self.ids,
            key,
            payment_id,
            code_hash,
        )
    }

    async fn confirm(&self, key: &str, payment_id: i64, hold_id: i64) -> anyhow::Result<()> {
        confirm(
            &mut *self.writer.lock().await,
            self.ids,
            key,
            payment_id,
            hold_id,
        )
    }
}

/// `POST transaction`.
fn create(conn: &mut Connection, ids: Ids) -> anyhow::Result<(String, i64)> {
    let key = crate::transaction_key();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(INSERT_TRANSACTION)?.execute(params![
        key,
        ids.project_id,
        ids.api_client,
        ids.now
    ])?;
    let payment_id: i64 = tx.prepare_cached(INSERT_PAYMENT)?.query_row(
        params![key, ids.project_id, ids.amount, ids.hot_wallet, ids.now],
        |r| r.get(0),
    )?;
    tx.commit()?;
    Ok((key, payment_id))
}

/// `PUT transaction/{key}/reserve` with a code; returns the hold.
fn reserve(
    conn: &mut Connection,
    ids: Ids,
    key: &str,
    payment_id: i64,
    code_hash: &str,
) -> anyhow::Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    ensure_status(&tx, key, "new")?;
    let prices: Vec<i64> = tx
        .prepare_cached(PAYMENTS_TO_RESERVE)?
        .query_map([key], |r| r.get(1))?
        .collect::<Result<_, _>>()?;
    ensure!(prices.len() == 1, "one payment expected");
    let amount = prices[0];
    let (code_id, payer_wallet, expires_at, used_at): (i64, i64, i64, Option<i64>) = tx
        .prepare_cached(CODE)?
        .query_row([code_hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .context("unknown code")?;
    ensure!(
        used_at.is_none() && expires_at > ids.now,
        "code used or expired"
    );
    let Some(payer_account) = tx
        .prepare_cached(HOLD_FUNDS)?
        .query_row(params![amount, payer_wallet], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        bail!("not enough funds");
    };
    let hold_id: i64 = tx
        .prepare_cached(INSERT_HOLD)?
        .query_row(params![payer_account, payment_id, amount, ids.now], |r| {
            r.get(0)
        })?;
    tx.prepare_cached(PAYMENT_RESERVED)?
        .execute(params![payer_wallet, hold_id, payment_id])?;
    let used = tx
        .prepare_cached(USE_CODE)?
        .execute(params![ids.now, key, code_id])?;
    ensure!(used == 1, "code already used");
    tx.prepare_cached(TRANSACTION_RESERVED)?.execute(params![
        payer_wallet,
        ids.now + 86_400,
        ids.now,
        key
    ])?;
    tx.commit()?;
    Ok(hold_id)
}

/// `PUT transaction/{key}/confirm`.
fn confirm(
    conn: &mut Connection,
    ids: Ids,
    key: &str,
    payment_id: i64,
    hold_id: i64,
) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    ensure_status(&tx, key, "reserved")?;
    let holds: Vec<Option<i64>> = tx
        .prepare_cached(PAYMENTS_TO_CONFIRM)?
        .query_map([key], |r| r.get(1))?
        .collect::<Result<_, _>>()?;
    ensure!(
        holds == [Some(hold_id)],
        "the payment's hold is not {hold_id}"
    );
    let Some((held_account, held)) = tx
        .prepare_cached(SETTLE_HOLD)?
        .query_row(params![ids.now, hold_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .optional()?
    else {
        bail!("hold {hold_id} already resolved");
    };
    tx.prepare_cached(DEBIT_PAYER)?
        .execute(params![held, held_account])?;
    tx.prepare_cached(CREDIT_HOT)?
        .execute(params![held, ids.hot_account])?;
    let movement: i64 = tx
        .prepare_cached(INSERT_MOVEMENT)?
        .query_row(params![key, payment_id, ids.now], |r| r.get(0))?;
    tx.prepare_cached(INSERT_ENTRIES)?.execute(params![
        movement,
        held_account,
        -held,
        ids.hot_account,
        held
    ])?;
    tx.prepare_cached(PAYMENT_DONE)?
        .execute(params![ids.now, payment_id])?;
    tx.prepare_cached(TRANSACTION_CONFIRMED)?
        .execute(params![ids.now, key])?;
    tx.commit()?;
    Ok(())
}

/// Fails unless transaction `key` is `wanted`.
fn ensure_status(tx: &rusqlite::Transaction, key: &str, wanted: &str) -> anyhow::Result<()> {
    let status: String = tx
        .prepare_cached(TRANSACTION_STATUS)?
        .query_row([key], |r| r.get(0))?;
    ensure!(status == wanted, "transaction is {status}");
    Ok(())
}
