//! Metrics: the Prometheus recorder behind the `metrics` facade, every metric's name, and what the
//! service, the store and the jobs record. `GET /metrics` renders them (`http::ops`); the HTTP
//! requests' own metrics are recorded by `http::observe`.
//!
//! Labels take a bounded set of values only (route templates, methods, statuses, error codes,
//! transaction types, job names): never a key, an id, an amount or a raw path.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;
use wallet_core::TransactionType;
use wallet_store::Store;

/// Requests answered, by `route` (template, or `unmatched`), `method` and `status`.
pub const HTTP_REQUESTS: &str = "walletd_http_requests_total";
/// Time from a request's arrival to its answer, by `route` and `method`.
pub const HTTP_DURATION: &str = "walletd_http_request_duration_seconds";
/// Error answers, by the spec's `error` code.
pub const API_ERRORS: &str = "walletd_api_errors_total";
/// Time an API write's commit takes (the commit that stores the request's answer with its change).
pub const COMMIT_DURATION: &str = "walletd_store_commit_duration_seconds";
/// SQLite: write transactions committed, and the group commits (one fsync each) that held them;
/// their ratio is the mean group-commit batch size.
pub const COMMITS: &str = "walletd_store_commits_total";
pub const GROUP_COMMITS: &str = "walletd_store_group_commits_total";
/// SQLite: the transactions of each group commit (a histogram: the batch sizes).
pub const GROUP_COMMIT_SIZE: &str = wallet_store::GROUP_COMMIT_SIZE;
/// SQLite: group commits that failed (their transactions were refused).
pub const FAILED_GROUP_COMMITS: &str = "walletd_store_failed_group_commits_total";
/// SQLite: write transactions waiting for the one writer connection.
pub const WRITERS_WAITING: &str = "walletd_store_writers_waiting";
/// PostgreSQL: connections of the pool open, and of them idle.
pub const POOL_CONNECTIONS: &str = "walletd_store_pool_connections";
pub const POOL_IDLE: &str = "walletd_store_pool_idle_connections";
/// Callbacks neither delivered nor given up, and how old the oldest of them is.
pub const CALLBACKS_PENDING: &str = "walletd_callbacks_pending";
pub const CALLBACKS_OLDEST_AGE: &str = "walletd_callbacks_oldest_pending_age_seconds";
/// Delivery attempts, by `result`: `delivered`, `failed` (to be retried), `gave_up`.
pub const CALLBACK_DELIVERIES: &str = "walletd_callback_deliveries_total";
/// How late, in seconds, a deadline's work ran after the deadline, by `job`:
/// `reservation_expiry`, `freeze_end`.
pub const SWEEPER_LAG: &str = "walletd_sweeper_lag_seconds";
/// Reservations made, and transactions confirmed, by transaction `type`.
pub const RESERVATIONS: &str = "walletd_reservations_total";
pub const CONFIRMS: &str = "walletd_confirms_total";

/// Buckets of the latencies (seconds): 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of the sweeper's lag (whole seconds: deadlines are).
const LAG_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];
/// Buckets of the group commits' sizes (transactions).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process's metrics: what `GET /metrics` renders.
#[derive(Clone)]
pub struct Telemetry {
    handle: PrometheusHandle,
}

impl Telemetry {
    /// The process-wide Prometheus recorder, installed on first use (every server of the process,
    /// as the tests run several, shares it). No HTTP listener of its own: `/metrics` is a route.
    pub fn install() -> Telemetry {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(SWEEPER_LAG.into()), LAG_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(GROUP_COMMIT_SIZE.into()), BATCH_BUCKETS)
                })
                .expect("bucket lists are not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics shows none");
            }
            describe();
            handle
        });
        Telemetry {
            handle: handle.clone(),
        }
    }

    /// The Prometheus text of every metric, with the store's counters read now (no query: they
    /// are counted in memory).
    pub fn render(&self, store: &Store) -> String {
        if let Some((open, idle)) = store.pool_use() {
            gauge!(POOL_CONNECTIONS).set(f64::from(open));
            gauge!(POOL_IDLE).set(idle as f64);
        } else {
            let stats = store.commit_stats();
            counter!(COMMITS).absolute(stats.logical_commits);
            counter!(GROUP_COMMITS).absolute(stats.physical_commits);
            counter!(FAILED_GROUP_COMMITS).absolute(stats.failed_batches);
            gauge!(WRITERS_WAITING).set(stats.writers_waiting as f64);
        }
        self.handle.render()
    }

    /// Folds the histograms' recent samples into their buckets, so that memory stays bounded
    /// when nobody scrapes (the sweeper calls it on every sweep).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// The `# HELP` line of each metric.
fn describe() {
    use metrics::{describe_counter as c, describe_gauge as g, describe_histogram as h};
    c!(
        HTTP_REQUESTS,
        "Requests answered, by route template, method and status."
    );
    h!(
        HTTP_DURATION,
        "Time from a request's arrival to its answer, by route and method."
    );
    c!(API_ERRORS, "Error answers, by error code.");
    h!(COMMIT_DURATION, "Time the commit of an API write takes.");
    c!(COMMITS, "SQLite: write transactions committed.");
    c!(
        GROUP_COMMITS,
        "SQLite: group commits (one fsync each); commits / group commits is the mean batch."
    );
    c!(FAILED_GROUP_COMMITS, "SQLite: group commits that failed.");
    h!(
        GROUP_COMMIT_SIZE,
        "SQLite: the write transactions each group commit (one fsync) held."
    );
    g!(
        WRITERS_WAITING,
        "SQLite: write transactions waiting for the writer connection."
    );
    g!(
        POOL_CONNECTIONS,
        "PostgreSQL: connections of the pool open."
    );
    g!(
        POOL_IDLE,
        "PostgreSQL: connections of the pool open and idle."
    );
    g!(
        CALLBACKS_PENDING,
        "Callbacks neither delivered nor given up (refreshed by the sweeper)."
    );
    g!(
        CALLBACKS_OLDEST_AGE,
        "Age of the oldest pending callback (refreshed by the sweeper)."
    );
    c!(
        CALLBACK_DELIVERIES,
        "Callback delivery attempts, by result: delivered, failed, gave_up."
    );
    h!(
        SWEEPER_LAG,
        "How late deadline work ran after its deadline, by job."
    );
    c!(RESERVATIONS, "Transactions reserved, by type.");
    c!(CONFIRMS, "Transactions confirmed, by type.");
}

/// Counts an error answer (`ApiError::into_response`).
pub fn api_error(code: &'static str) {
    counter!(API_ERRORS, "error" => code).increment(1);
}

/// Records how long an API write's commit took.
pub fn commit_took(elapsed: Duration) {
    histogram!(COMMIT_DURATION).record(elapsed.as_secs_f64());
}

/// Reads the callback outbox's backlog into its gauges (by the sweeper, not by a scrape).
pub async fn refresh_outbox(store: &Store, now: i64) -> wallet_store::Result<()> {
    let mut tx = store.read().await?;
    let (pending, oldest) = tx.callback_backlog().await?;
    gauge!(CALLBACKS_PENDING).set(pending as f64);
    gauge!(CALLBACKS_OLDEST_AGE).set(oldest.map_or(0, |at| (now - at).max(0)) as f64);
    Ok(())
}

/// What became of a callback delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    Failed,
    GaveUp,
}

pub fn callback_delivery(result: Delivery) {
    let result = match result {
        Delivery::Delivered => "delivered",
        Delivery::Failed => "failed",
        Delivery::GaveUp => "gave_up",
    };
    counter!(CALLBACK_DELIVERIES, "result" => result).increment(1);
}

/// Deadline-driven work, for [`SWEEPER_LAG`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    ReservationExpiry,
    FreezeEnd,
}

/// Records that work due at `deadline` ran at `now` (business time, in seconds).
pub fn ran_late(job: Deadline, deadline: i64, now: i64) {
    let job = match job {
        Deadline::ReservationExpiry => "reservation_expiry",
        Deadline::FreezeEnd => "freeze_end",
    };
    histogram!(SWEEPER_LAG, "job" => job).record((now - deadline).max(0) as f64);
}

/// What a change did to a transaction of type `kind`: reserved it, confirmed it (both with
/// `auto_confirm`). Counted once its database transaction committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    pub kind: Option<TransactionType>,
    pub reserved: bool,
    pub confirmed: bool,
}

impl Flow {
    pub fn reserved(kind: TransactionType) -> Flow {
        Flow {
            kind: Some(kind),
            reserved: true,
            confirmed: false,
        }
    }

    /// Counts the flow; call it after the commit succeeded.
    pub fn committed(self) {
        let kind = self.kind.map_or("unknown", TransactionType::as_str);
        if self.reserved {
            counter!(RESERVATIONS, "type" => kind).increment(1);
        }
        if self.confirmed {
            counter!(CONFIRMS, "type" => kind).increment(1);
        }
    }
}
