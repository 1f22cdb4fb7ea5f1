//! `--retries N`: each request sent again after a 503 or no answer, with the same idempotency key
//! (a new nonce each time, as the SDK's own retries), and what every attempt was answered
//! counted — for the failover drill (`bench/failover.sh`), where requests during the switch must
//! get a retryable 503 or succeed, never hang, and a retry must act once.

use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};
use wallet_client::{Client, Error, Method, new_idempotency_key};

/// What the attempts of the requests were answered.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Attempts {
    /// Attempts sent.
    pub sent: u64,
    /// Answered 503 with the API's JSON error `temporarily_unavailable`: retried.
    pub unavailable: u64,
    /// No answer (refused, reset, timed out): retried.
    pub no_answer: u64,
    /// Answered otherwise but 2xx (a 503 without the JSON error among them): not retried.
    pub other: u64,
    /// Requests that succeeded after at least one retry.
    pub succeeded_after_retry: u64,
    /// The longest one attempt took, in ms.
    pub longest_attempt_ms: f64,
}

impl Attempts {
    pub fn merge(&mut self, other: &Attempts) {
        self.sent += other.sent;
        self.unavailable += other.unavailable;
        self.no_answer += other.no_answer;
        self.other += other.other;
        self.succeeded_after_retry += other.succeeded_after_retry;
        self.longest_attempt_ms = self.longest_attempt_ms.max(other.longest_attempt_ms);
    }

    /// Counts one attempt's answer; whether it may be retried.
    fn count(&mut self, took: Duration, result: &Result<serde_json::Value, Error>) -> bool {
        self.sent += 1;
        let ms = took.as_secs_f64() * 1e3;
        self.longest_attempt_ms = self.longest_attempt_ms.max((ms * 10.0).round() / 10.0);
        match result {
            Ok(_) => false,
            Err(Error::Api {
                status: 503, error, ..
            }) if error == "temporarily_unavailable" => {
                self.unavailable += 1;
                true
            }
            Err(Error::Transport(_)) => {
                self.no_answer += 1;
                true
            }
            Err(_) => {
                self.other += 1;
                false
            }
        }
    }
}

/// Sends `body` to `path` (after `/rest/v1/`) with one idempotency key, up to `retries` more
/// times after a 503 or no answer (250 ms, 500 ms, then every second), and decodes the answer.
pub async fn send<T: DeserializeOwned>(
    client: &Client,
    retries: u32,
    attempts: &mut Attempts,
    method: Method,
    path: &str,
    body: Option<&[u8]>,
) -> Result<T, Error> {
    let key = new_idempotency_key();
    let mut attempt = 0u32;
    loop {
        let started = Instant::now();
        let result = client.send(method.clone(), path, body, Some(&key)).await;
        let retryable = attempts.count(started.elapsed(), &result);
        if retryable && attempt < retries {
            let delay = Duration::from_millis(250u64 << attempt.min(2)).min(Duration::from_secs(1));
            tokio::time::sleep(delay).await;
            attempt += 1;
            continue;
        }
        if result.is_ok() && attempt > 0 {
            attempts.succeeded_after_retry += 1;
        }
        let value = result?;
        return serde_json::from_value(value)
            .map_err(|e| Error::Decode(format!("the answer to {method} {path}: {e}")));
    }
}
