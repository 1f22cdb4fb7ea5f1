//! The SQLite limit through sqlx's SQLite driver, as walletd calls SQLite: N tokio tasks, each
//! statement a hop to the connection's worker thread.

use super::flow::{
    CODE, CREDIT_HOT, Calls, DEBIT_PAYER, HOLD_FUNDS, INSERT_ENTRIES, INSERT_HOLD, INSERT_MOVEMENT,
    INSERT_PAYMENT, INSERT_TRANSACTION, Ids, PAYMENT_DONE, PAYMENT_RESERVED, PAYMENTS_TO_CONFIRM,
    PAYMENTS_TO_RESERVE, SETTLE_HOLD, TRANSACTION_CONFIRMED, TRANSACTION_RESERVED,
    TRANSACTION_STATUS, Tally, USE_CODE, till_loop,
};
use crate::Common;
use anyhow::{Context, bail, ensure};
use sqlx::{Row, SqliteConnection, SqlitePool};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;

struct Sqlx {
    pool: SqlitePool,
    /// One writer at a time, queued here rather than spinning on SQLITE_BUSY.
    gate: Mutex<()>,
    ids: Ids,
}

pub(super) async fn run(
    pool: SqlitePool,
    common: &Common,
    ids: Ids,
    deadline: Instant,
) -> anyhow::Result<Tally> {
    let calls = Arc::new(Sqlx {
        pool,
        gate: Mutex::new(()),
        ids,
    });
    let codes_per_till = common.codes_per_till();
    let tasks: Vec<_> = (0..common.tills)
        .map(|till| {
            let calls = calls.clone();
            tokio::spawn(async move { till_loop(&*calls, till, codes_per_till, deadline).await })
        })
        .collect();
    let mut tally = Tally::default();
    for t in tasks {
        tally.merge(t.await?);
    }
    calls.pool.close().await;
    Ok(tally)
}

impl Calls for Sqlx {
    async fn create(&self) -> anyhow::Result<(String, i64)> {
        let ids = self.ids;
        let key = crate::transaction_key();
        let _writer = self.gate.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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

    async fn reserve(&self, key: &str, payment_id: i64, code_hash: &str) -> anyhow::Result<i64> {
        let ids = self.ids;
        let _writer = self.gate.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        ensure_status(&mut tx, key, "new").await?;
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

    async fn confirm(&self, key: &str, payment_id: i64, hold_id: i64) -> anyhow::Result<()> {
        let ids = self.ids;
        let _writer = self.gate.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        ensure_status(&mut tx, key, "reserved").await?;
        let payments = sqlx::query(PAYMENTS_TO_CONFIRM)
            .bind(key)
            .fetch_all(&mut *tx)
            .await?;
        ensure!(
            payments.len() == 1
                && payments[0].try_get::<Option<i64>, _>("hold_id")? == Some(hold_id),
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
}

/// Fails unless transaction `key` is `wanted`.
async fn ensure_status(tx: &mut SqliteConnection, key: &str, wanted: &str) -> anyhow::Result<()> {
    let status: String = sqlx::query_scalar(TRANSACTION_STATUS)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    ensure!(status == wanted, "transaction is {status}");
    Ok(())
}
