//! Time-driven bookkeeping: the sandbox clock offset, idempotency records, aged transactions.

use crate::batch::IfUnchanged;
use crate::{Result, StoreError, Tx, db};
use wallet_core::ids::{ClientId, TransactionKey};

/// Name of the setting holding the sandbox clock offset in seconds.
const CLOCK_OFFSET: &str = "clock_offset_seconds";

db::row_type! {
    /// The first answer to an idempotent request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct IdempotentAnswer {
        pub request_hash: String,
        pub status: u16 = |c| Ok(u16::try_from(c.get::<i64>("status")?).unwrap_or(500)),
        pub body: String,
    }
}

impl Tx {
    /// How far the sandbox clock is ahead of wall time (0 unless an operator moved it).
    pub async fn clock_offset(&mut self) -> Result<i64> {
        match self.setting(CLOCK_OFFSET).await? {
            Some(v) => v
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("{CLOCK_OFFSET} = {v:?}"))),
            None => Ok(0),
        }
    }

    /// Moves the sandbox clock forward by `seconds`; returns the new offset.
    pub async fn advance_clock(&mut self, seconds: i64) -> Result<i64> {
        self.setting_or_insert(CLOCK_OFFSET, "0").await?;
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT value FROM settings WHERE name = $1{}",
            self.for_update()
        ));
        let current: String = self.one_scalar(q, (CLOCK_OFFSET,)).await?;
        let current: i64 = current
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("{CLOCK_OFFSET} = {current:?}")))?;
        let next = current.saturating_add(seconds);
        self.exec(
            "UPDATE settings SET value = $1 WHERE name = $2",
            (next.to_string(), CLOCK_OFFSET),
        )
        .await?;
        Ok(next)
    }

    /// The stored answer for `(client, key)`, if any.
    pub async fn idempotent_answer(
        &mut self,
        client_id: ClientId,
        key: &str,
    ) -> Result<Option<IdempotentAnswer>> {
        self.optional(
            db::select("FROM idempotency_keys WHERE client_id = $1 AND idempotency_key = $2"),
            (client_id, key),
        )
        .await
    }

    /// Stores the first answer for `(client, key)`; `false` if one is stored already
    /// (a concurrent duplicate won), in which case the caller must roll back.
    pub async fn store_idempotent_answer(
        &mut self,
        client_id: ClientId,
        key: &str,
        answer: &IdempotentAnswer,
        now: i64,
    ) -> Result<bool> {
        let inserted = self.run(answer_insert(client_id, key, answer, now)).await?;
        Ok(inserted == 1)
    }

    /// [`Tx::store_idempotent_answer`] at commit (`batch.rs`): the commit fails with
    /// [`StoreError::AnsweredMeanwhile`], writing nothing, if an answer is stored already.
    pub fn answer_at_commit(
        &mut self,
        client_id: ClientId,
        key: &str,
        answer: &IdempotentAnswer,
        now: i64,
    ) {
        self.at_commit.push(
            answer_insert(client_id, key, answer, now),
            IfUnchanged::AnsweredMeanwhile,
        );
    }

    /// Forgets idempotency records created before `before`.
    pub async fn forget_idempotent_answers(&mut self, before: i64) -> Result<u64> {
        self.changed(
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            (before,),
        )
        .await
    }

    /// Keys of `new` transactions created before `before` (due for deletion by age).
    pub async fn aged_new_transactions(
        &mut self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<TransactionKey>> {
        self.flush_rows().await?;
        self.all_scalars(
            "SELECT transaction_key FROM transactions WHERE status = 'new' AND created_at <= $1 ORDER BY created_at LIMIT $2",
            (before, limit),
        )
        .await
    }

    /// Counts one request of `client_id` in the window starting at `window_start`, on row `shard`
    /// of the window (PostgreSQL spreads a client's count over rows; see `request.rs`).
    pub(crate) async fn count_request(
        &mut self,
        client_id: ClientId,
        window_start: i64,
        shard: i64,
    ) -> Result<()> {
        self.add_counts(client_id, window_start, shard, 1, 0).await
    }

    /// Counts one invalid request (refused signature, 4xx answer) of a client in the window.
    pub async fn count_invalid_request(
        &mut self,
        client_id: ClientId,
        window_start: i64,
    ) -> Result<()> {
        let shard = crate::request::next_shard(self.backend);
        self.add_counts(client_id, window_start, shard, 0, 1).await
    }

    async fn add_counts(
        &mut self,
        client_id: ClientId,
        window_start: i64,
        shard: i64,
        requests: i64,
        invalid: i64,
    ) -> Result<()> {
        let upsert = counts_upsert(client_id, window_start, shard, requests, invalid);
        self.run(upsert).await?;
        Ok(())
    }

    /// The requests and the invalid requests of `client_id` counted in the window starting at
    /// `window_start` (committed ones, and this transaction's).
    pub async fn request_counts(
        &mut self,
        client_id: ClientId,
        window_start: i64,
    ) -> Result<(i64, i64)> {
        let (requests, invalid): (Option<i64>, Option<i64>) = self
            .one(
                "SELECT CAST(SUM(requests) AS BIGINT), CAST(SUM(invalid) AS BIGINT) FROM rate_counters WHERE client_id = $1 AND window_start = $2",
                (client_id, window_start),
            )
            .await?;
        Ok((requests.unwrap_or(0), invalid.unwrap_or(0)))
    }

    /// Forgets request counts of windows that started before `before`.
    pub async fn forget_request_counts(&mut self, before: i64) -> Result<u64> {
        self.changed(
            "DELETE FROM rate_counters WHERE window_start < $1",
            (before,),
        )
        .await
    }
}

fn answer_insert(client_id: ClientId, key: &str, answer: &IdempotentAnswer, now: i64) -> db::Query {
    db::query_with(
        "INSERT INTO idempotency_keys (client_id, idempotency_key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id, idempotency_key) DO NOTHING",
        (
            client_id,
            key,
            &answer.request_hash,
            i64::from(answer.status),
            &answer.body,
            now,
        ),
    )
}

/// Adds to a client's rate counts in a window, on row `shard` of it.
pub(crate) fn counts_upsert(
    client_id: ClientId,
    window_start: i64,
    shard: i64,
    requests: i64,
    invalid: i64,
) -> db::Query {
    db::query_with(
        "INSERT INTO rate_counters (client_id, window_start, shard, requests, invalid) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, window_start, shard) DO UPDATE SET requests = rate_counters.requests + $4, invalid = rate_counters.invalid + $5",
        (client_id, window_start, shard, requests, invalid),
    )
}
