//! The callback outbox: events recorded in the transaction that made a change, then delivered
//! at least once by a worker.
//!
//! Work is claimed with one guarded `UPDATE … WHERE id = (SELECT … LIMIT 1) AND <still free>
//! RETURNING …`, which both dialects accept (`FOR UPDATE SKIP LOCKED` alone is a syntax error on
//! SQLite). The claim takes a lease (`locked_until`) instead of holding a row lock across the HTTP
//! call, so several instances can share one PostgreSQL and a crashed worker's row is retried once
//! its lease runs out. On PostgreSQL the inner select also skips rows other claimers hold, so
//! concurrent workers do not queue behind each other.

use crate::{Backend, Result, Tx, db};
use wallet_core::ids::{ProjectId, TransactionKey};

/// What is needed to record a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCallback<'a> {
    pub project_id: ProjectId,
    pub transaction_key: Option<&'a TransactionKey>,
    /// `transaction`, `payment` or `allowance`.
    pub object: &'a str,
    /// The event's `type`: the object's new status (`failed`, `reserved`, `done`, …).
    pub event_type: &'a str,
    pub uri: &'a str,
    /// The exact JSON text that is signed and sent.
    pub event: &'a str,
}

db::row_type! {
    /// A recorded callback and its delivery state.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CallbackRow {
        pub id: i64,
        pub project_id: ProjectId,
        pub transaction_key: Option<TransactionKey>,
        pub object: String,
        pub event_type: String,
        pub uri: String,
        pub event: String,
        /// Attempts since the callback was (re)queued, including one in progress.
        pub attempts: i64,
        /// When the next attempt is due; `None` once delivered or given up.
        pub next_attempt_at: Option<i64>,
        pub last_attempt_at: Option<i64>,
        /// HTTP status of the last answer (`None`: no answer, e.g. connection refused).
        pub last_status: Option<i64>,
        pub last_error: Option<String>,
        pub delivered_at: Option<i64>,
        pub locked_until: Option<i64>,
        pub created_at: i64,
    }
}

/// Which callbacks [`Tx::callbacks`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackFilter {
    /// Only those not delivered yet (pending or given up).
    pub undelivered: bool,
    pub transaction_key: Option<TransactionKey>,
}

impl Tx {
    /// Records a callback, due at once. Call it in the transaction that makes the change, so the
    /// event exists exactly when the change does.
    pub async fn insert_callback(&mut self, c: &NewCallback<'_>, now: i64) -> Result<i64> {
        self.one_scalar(
            "INSERT INTO callbacks (project_id, transaction_key, object, event_type, uri, event, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) RETURNING id",
            (c.project_id, c.transaction_key, c.object, c.event_type, c.uri, c.event, now),
        )
        .await
    }

    /// Claims the oldest due callback for one attempt: counts the attempt and leases the row until
    /// `lease_until`, so no other worker takes it meanwhile. `None` when nothing is due.
    pub async fn claim_callback(
        &mut self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<CallbackRow>> {
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let free = "delivered_at IS NULL AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2)";
        let q = db::returning(format_args!(
            "UPDATE callbacks SET locked_until = $1, attempts = attempts + 1, last_attempt_at = $2 \
             WHERE id = (SELECT id FROM callbacks WHERE {free} ORDER BY next_attempt_at, id LIMIT 1{skip_locked}) \
             AND {free}"
        ));
        self.optional(q, (lease_until, now)).await
    }

    /// Marks a claimed callback delivered (the receiver answered 2xx with `status`).
    pub async fn callback_delivered(&mut self, id: i64, status: i64, now: i64) -> Result<bool> {
        Ok(self.changed(
            "UPDATE callbacks SET delivered_at = $1, last_status = $2, last_error = NULL, next_attempt_at = NULL, locked_until = NULL WHERE id = $3 AND delivered_at IS NULL",
            (now, status, id),
        )
        .await?
            == 1)
    }

    /// Records a failed attempt and when to try again (`None`: give up until redelivered).
    pub async fn callback_failed(
        &mut self,
        id: i64,
        status: Option<i64>,
        error: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<bool> {
        Ok(self.changed(
            "UPDATE callbacks SET last_status = $1, last_error = $2, next_attempt_at = $3, locked_until = NULL WHERE id = $4 AND delivered_at IS NULL",
            (status, error, next_attempt_at, id),
        )
        .await?
            == 1)
    }

    /// Queues a callback again, due now, whether or not it was delivered (operators' redelivery).
    /// `false` when there is no such callback.
    pub async fn requeue_callback(&mut self, id: i64, now: i64) -> Result<bool> {
        Ok(self.changed(
            "UPDATE callbacks SET delivered_at = NULL, next_attempt_at = $1, locked_until = NULL, attempts = 0 WHERE id = $2",
            (now, id),
        )
        .await?
            == 1)
    }

    /// Callbacks still to deliver (neither delivered nor given up), and when the oldest was made.
    pub async fn callback_backlog(&mut self) -> Result<(i64, Option<i64>)> {
        self.one(
            db::query_as("SELECT COUNT(*), MIN(created_at) FROM callbacks WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL"),
            (),
        )
        .await
    }

    pub async fn callback(&mut self, id: i64) -> Result<Option<CallbackRow>> {
        self.optional(db::select("FROM callbacks WHERE id = $1"), (id,))
            .await
    }

    /// Recorded callbacks, newest first, at most `limit`.
    pub async fn callbacks(
        &mut self,
        filter: &CallbackFilter,
        limit: i64,
    ) -> Result<Vec<CallbackRow>> {
        let undelivered = if filter.undelivered {
            " AND delivered_at IS NULL"
        } else {
            ""
        };
        let by_key = if filter.transaction_key.is_some() {
            " AND transaction_key = $2"
        } else {
            ""
        };
        let q = db::select(format_args!(
            "FROM callbacks WHERE 1 = 1{undelivered}{by_key} ORDER BY id DESC LIMIT $1"
        ));
        match &filter.transaction_key {
            Some(key) => self.all(q, (limit, key)).await,
            None => self.all(q, (limit,)).await,
        }
    }

    /// Sets (or clears) a project's default callback URI, used for transactions that name none.
    /// `false` when there is no such project.
    pub async fn set_project_callback_uri(
        &mut self,
        project_id: ProjectId,
        uri: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .changed(
                "UPDATE projects SET callback_uri = $1 WHERE id = $2",
                (uri, project_id),
            )
            .await?
            == 1)
    }
}
