//! The timed part: N tills of one cash-out point, each running create → reserve by code →
//! confirm back to back, as fast as walletd answers.

use crate::report::{Kind, Latencies};
use crate::retry::{self, Attempts};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wallet_client::types::{
    NewPayment, NewTransaction, PaymentRef, ReserveRequest, Transaction, TransactionKey,
    TransactionStatus,
};
use wallet_client::{Client, Error, Method};

/// When the run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// After this many flows have been started (and finished).
    Flows(u64),
    /// No new flow starts after this long.
    Seconds(f64),
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Flows whose three requests all succeeded.
    pub flows: u64,
    /// Failed requests (a failed flow stops at its first failure).
    pub errors: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    pub latencies: Latencies,
    /// The first few error messages, for the log.
    pub sample_errors: Vec<String>,
    /// The run stopped early because every code was used.
    pub ran_out_of_codes: bool,
    /// With recording on: every acknowledged request as `(transaction key, status it answered)`.
    pub acked: Vec<(TransactionKey, &'static str)>,
    /// With retries: what every attempt was answered.
    pub attempts: Attempts,
}

/// Shared by the tills: the codes, and which one is next.
struct Shared {
    /// `targets[instance][API client]`.
    targets: Vec<Vec<Client>>,
    codes: Vec<String>,
    next: AtomicUsize,
    limit: usize,
    deadline: Option<Instant>,
    out_of_codes: AtomicBool,
    amount: i64,
    record: bool,
    retries: u32,
}

#[derive(Default)]
struct TillResult {
    flows: u64,
    errors: u64,
    latencies: Latencies,
    sample_errors: Vec<String>,
    acked: Vec<(TransactionKey, &'static str)>,
    attempts: Attempts,
}

const SAMPLE_ERRORS: usize = 5;

impl TillResult {
    fn failed(&mut self, kind: Kind, e: impl std::fmt::Display) {
        self.errors += 1;
        if self.sample_errors.len() < SAMPLE_ERRORS {
            self.sample_errors.push(format!("{}: {e}", kind.name()));
        }
    }
}

/// Runs `tills` tills until `stop`, each flow paying `amount` minor units of EUR with the next code;
/// till `i` sends to instance `i % targets.len()` and signs as API client `i % clients`, where
/// `targets[instance]` holds one SDK client per API client. With `record`, every acknowledged request is
/// kept in [`Outcome::acked`] (for the crash check: none of them may be lost). With `retries`,
/// each request is sent again up to that many times after a 503 or no answer ([`retry`]).
pub async fn run(
    targets: Vec<Vec<Client>>,
    codes: Vec<String>,
    tills: usize,
    stop: Stop,
    (amount, record, retries): (i64, bool, u32),
) -> Outcome {
    let limit = match stop {
        Stop::Flows(n) => codes.len().min(usize::try_from(n).unwrap_or(usize::MAX)),
        Stop::Seconds(_) => codes.len(),
    };
    let started = Instant::now();
    assert!(
        targets.iter().all(|t| !t.is_empty()) && !targets.is_empty(),
        "at least one instance and one API client"
    );
    let shared = Arc::new(Shared {
        targets,
        codes,
        next: AtomicUsize::new(0),
        limit,
        deadline: match stop {
            Stop::Seconds(s) => Some(started + Duration::from_secs_f64(s)),
            Stop::Flows(_) => None,
        },
        out_of_codes: AtomicBool::new(false),
        amount,
        record,
        retries,
    });
    let handles: Vec<_> = (0..tills)
        .map(|i| tokio::spawn(till(shared.clone(), i)))
        .collect();
    let mut outcome = Outcome::default();
    for h in handles {
        let r = h.await.expect("a till task panicked");
        outcome.flows += r.flows;
        outcome.errors += r.errors;
        outcome.latencies.merge(r.latencies);
        outcome.acked.extend(r.acked);
        outcome.attempts.merge(&r.attempts);
        for e in r.sample_errors {
            if outcome.sample_errors.len() < SAMPLE_ERRORS {
                outcome.sample_errors.push(e);
            }
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.ran_out_of_codes = shared.out_of_codes.load(Ordering::Relaxed);
    outcome
}

async fn till(shared: Arc<Shared>, index: usize) -> TillResult {
    let mut r = TillResult::default();
    let instance = &shared.targets[index % shared.targets.len()];
    let client = &instance[index % instance.len()];
    let payment = NewPayment {
        description: Some("load: cash-out".into()),
        price: Some(shared.amount),
        currency: "EUR".into(),
        ..NewPayment::default()
    };
    let new_tx = NewTransaction {
        payments: vec![PaymentRef::New(Box::new(payment))],
        ..NewTransaction::default()
    };
    loop {
        if shared.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= shared.limit {
            if shared.deadline.is_some() {
                shared.out_of_codes.store(true, Ordering::Relaxed);
            }
            break;
        }
        let code = &shared.codes[i];

        let t0 = Instant::now();
        let created = create(&shared, client, &new_tx, &mut r.attempts).await;
        r.latencies.record(Kind::Create, t0.elapsed());
        let key = match created {
            Ok(t) => {
                if shared.record {
                    r.acked.push((t.transaction_key.clone(), "new"));
                }
                t.transaction_key
            }
            Err(e) => {
                r.failed(Kind::Create, e);
                continue;
            }
        };

        let t1 = Instant::now();
        let reserved = reserve(&shared, client, &key, code, &mut r.attempts).await;
        r.latencies.record(Kind::Reserve, t1.elapsed());
        match reserved {
            Ok(t) if t.status == TransactionStatus::Reserved => {
                if shared.record {
                    r.acked.push((key.clone(), "reserved"));
                }
            }
            Ok(t) => {
                r.failed(Kind::Reserve, format!("answered status {:?}", t.status));
                continue;
            }
            Err(e) => {
                r.failed(Kind::Reserve, e);
                continue;
            }
        }

        let t2 = Instant::now();
        let confirmed = confirm(&shared, client, &key, &mut r.attempts).await;
        r.latencies.record(Kind::Confirm, t2.elapsed());
        match confirmed {
            Ok(t) if t.status == TransactionStatus::Confirmed => {
                r.flows += 1;
                if shared.record {
                    r.acked.push((key, "confirmed"));
                }
            }
            Ok(t) => r.failed(Kind::Confirm, format!("answered status {:?}", t.status)),
            Err(e) => r.failed(Kind::Confirm, e),
        }
    }
    r
}

/// `POST transaction`: through the SDK, or with [`retry`] when retrying.
async fn create(
    shared: &Shared,
    client: &Client,
    new_tx: &NewTransaction,
    attempts: &mut Attempts,
) -> Result<Transaction, Error> {
    if shared.retries == 0 {
        return client.create_transaction(new_tx).await;
    }
    let body = serde_json::to_vec(new_tx).map_err(|e| Error::Config(e.to_string()))?;
    let (method, retries) = (Method::POST, shared.retries);
    retry::send(
        client,
        retries,
        attempts,
        method,
        "transaction",
        Some(&body),
    )
    .await
}

/// `PUT transaction/{key}/reserve` with a reservation code.
async fn reserve(
    shared: &Shared,
    client: &Client,
    key: &TransactionKey,
    code: &str,
    attempts: &mut Attempts,
) -> Result<Transaction, Error> {
    if shared.retries == 0 {
        return client.reserve_with_code(key, code, None).await;
    }
    let request = ReserveRequest {
        reservation_code: Some(code.to_string()),
        ..ReserveRequest::default()
    };
    let body = serde_json::to_vec(&request).map_err(|e| Error::Config(e.to_string()))?;
    let path = format!("transaction/{}/reserve", key.as_str());
    retry::send(
        client,
        shared.retries,
        attempts,
        Method::PUT,
        &path,
        Some(&body),
    )
    .await
}

/// `PUT transaction/{key}/confirm`.
async fn confirm(
    shared: &Shared,
    client: &Client,
    key: &TransactionKey,
    attempts: &mut Attempts,
) -> Result<Transaction, Error> {
    if shared.retries == 0 {
        return client.confirm_transaction(key, None).await;
    }
    let path = format!("transaction/{}/confirm", key.as_str());
    retry::send(client, shared.retries, attempts, Method::PUT, &path, None).await
}
