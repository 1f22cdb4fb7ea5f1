//! The API request being served, and what its write transaction records for it.
//!
//! Every authenticated API request must record its MAC nonce (so it cannot be replayed) and count
//! itself towards its client's rate limit. Doing that in a commit of its own would cost every
//! request a second durable write; instead the walletd middleware runs the request inside
//! [`serve_request`], and the first write transaction opened inside it ([`crate::Store::write`])
//! records the nonce and counts the request at commit, in its last statement before `COMMIT`
//! (`batch.rs`): both are durable exactly when the request's change is. A replay is refused by the
//! nonce's unique key with nothing written, even when it races the original: the later of the two
//! to commit finds the nonce taken and rolls back.
//!
//! When no write transaction of the request commits (a read, a refusal), the middleware records
//! the nonce and the count afterwards, in a commit of their own, before it answers
//! ([`RequestRecord::is_recorded`] tells it to).
//!
//! A write transaction whose commit failed with the database unreachable may have committed all
//! the same (the connection lost after `COMMIT` was sent, in a failover): its record is then
//! *in doubt* ([`RequestRecord::commit_in_doubt`]), and the nonce found taken afterwards is most
//! likely the request's own, not a replay's. The request is answered unavailable (retryable), so
//! that its retry, with a new nonce and the same idempotency key, gets the stored answer.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use wallet_core::ids::ClientId;

/// Rows each client's per-minute rate count is spread over on PostgreSQL, so that concurrent
/// requests do not queue for one row lock (SQLite has one writer: one row).
pub(crate) const RATE_SHARDS: u64 = 16;

/// An authenticated request's nonce and rate-count bookkeeping.
#[derive(Debug)]
pub struct RequestRecord {
    pub(crate) mac_id: String,
    pub(crate) nonce: String,
    pub(crate) client_id: ClientId,
    /// Wall time of the request (nonce retention).
    pub(crate) now: i64,
    /// Start of the rate-limit minute holding `now`.
    pub(crate) window_start: i64,
    recorded: AtomicBool,
    in_doubt: AtomicBool,
}

impl RequestRecord {
    pub fn new(
        mac_id: &str,
        nonce: &str,
        client_id: ClientId,
        now: i64,
        window_start: i64,
    ) -> Arc<RequestRecord> {
        Arc::new(RequestRecord {
            mac_id: mac_id.to_string(),
            nonce: nonce.to_string(),
            client_id,
            now,
            window_start,
            recorded: AtomicBool::new(false),
            in_doubt: AtomicBool::new(false),
        })
    }

    pub fn client_id(&self) -> ClientId {
        self.client_id
    }

    pub fn window_start(&self) -> i64 {
        self.window_start
    }

    /// True once a write transaction holding the nonce and the count has committed.
    pub fn is_recorded(&self) -> bool {
        self.recorded.load(Ordering::SeqCst)
    }

    pub(crate) fn mark_recorded(&self) {
        self.recorded.store(true, Ordering::SeqCst);
    }

    /// True when a write transaction holding the nonce failed at commit with a database failure
    /// (not a refusal): it may have committed, the nonce with it (see the module documentation).
    pub fn commit_in_doubt(&self) -> bool {
        self.in_doubt.load(Ordering::SeqCst)
    }
}

/// `e`, the failure of the commit of a transaction recording `record`: marks the record in doubt
/// when `e` is the database's failure rather than a refusal (which rolled everything back).
pub(crate) fn in_doubt_after(
    record: Option<&RequestRecord>,
    e: crate::StoreError,
) -> crate::StoreError {
    if let Some(r) = record
        && e.kind().is_some()
    {
        r.in_doubt.store(true, Ordering::SeqCst);
    }
    e
}

impl crate::Tx {
    /// Records `record`'s nonce and counts the request now, for a request whose handler committed
    /// nothing. `false` when the nonce was used before (a replay; the request is counted anyway).
    pub async fn record_request(&mut self, record: &RequestRecord) -> crate::Result<bool> {
        let fresh = self
            .remember_nonce(&record.mac_id, &record.nonce, record.now)
            .await?;
        let shard = next_shard(self.backend);
        self.count_request(record.client_id, record.window_start, shard)
            .await?;
        Ok(fresh)
    }

    /// PostgreSQL: writes the request's rate count now, if it is still waiting for commit, before
    /// this transaction locks an account's row. Every transaction that holds both then takes the
    /// rate-count row first (a reserve's commit writes it before its guards, `batch.rs`), so none
    /// waits for a rate-count row while holding an account that another one waits for.
    pub(crate) async fn count_request_first(&mut self) -> crate::Result<()> {
        if self.backend != crate::Backend::Postgres || self.rate_counted {
            return Ok(());
        }
        let Some(r) = self.request.clone() else {
            return Ok(());
        };
        let shard = next_shard(self.backend);
        self.count_request(r.client_id, r.window_start, shard)
            .await?;
        self.rate_counted = true;
        Ok(())
    }
}

tokio::task_local! {
    static REQUEST: Arc<RequestRecord>;
}

/// Runs `f` (the request's handler) as `record`'s request: see the module documentation.
pub async fn serve_request<F: Future>(record: Arc<RequestRecord>, f: F) -> F::Output {
    REQUEST.scope(record, f).await
}

/// The request being served by this task whose nonce is not yet recorded, if any.
pub(crate) fn unrecorded() -> Option<Arc<RequestRecord>> {
    REQUEST
        .try_with(Arc::clone)
        .ok()
        .filter(|r| !r.is_recorded())
}

/// The rate-count row a write counts on: on PostgreSQL one of [`RATE_SHARDS`], in turn.
pub(crate) fn next_shard(backend: crate::Backend) -> i64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    match backend {
        crate::Backend::Sqlite => 0,
        crate::Backend::Postgres => (NEXT.fetch_add(1, Ordering::Relaxed) % RATE_SHARDS) as i64,
    }
}
