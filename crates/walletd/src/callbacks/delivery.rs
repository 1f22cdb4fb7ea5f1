//! Delivering recorded callbacks: claim a due row (a lease, so several instances share the work),
//! POST it as a form `event=<json>&sign=<base64>`, record the outcome, back off exponentially
//! until the receiver answers 2xx. The worker loop is `jobs::callback_worker`.

use super::signer::CallbackSigner;
use crate::clock::wall_now;
use crate::state::AppState;
use anyhow::Context as _;
use std::time::Duration;
use wallet_store::CallbackRow;

/// First retry delay; each further failure doubles it (`WALLETD_CALLBACK_RETRY_BASE_MS`).
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(10);
/// Longest wait between two attempts: a receiver that is down for a day is tried hourly.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Attempts before the worker gives up (about three days at the defaults); an operator can
/// re-queue with `walletd admin callbacks redeliver`.
pub const MAX_ATTEMPTS: i64 = 80;
/// Time one POST may take, connection included.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed callback is reserved for the instance that claimed it. Longer than
/// [`DELIVERY_TIMEOUT`], so a live worker never loses its row; a crashed one's row is retried after.
pub const LEASE_SECS: i64 = 60;
/// Deliveries in flight at once per instance, so one slow receiver does not hold up the others.
pub const CONCURRENCY: usize = 8;

/// How the delivery worker behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    /// How often an idle worker looks for due callbacks.
    pub poll: Duration,
    /// First retry delay (doubled per failure, at most [`MAX_BACKOFF`]).
    pub retry_base: Duration,
    pub timeout: Duration,
    pub concurrency: usize,
}

impl DeliverySettings {
    pub fn new(poll: Duration, retry_base: Duration) -> DeliverySettings {
        DeliverySettings {
            poll,
            retry_base,
            timeout: DELIVERY_TIMEOUT,
            concurrency: CONCURRENCY,
        }
    }
}

/// Delay before the next attempt after `attempts` failed ones: `base · 2^(attempts−1)`, capped.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    base.saturating_mul(1u32 << doublings).min(MAX_BACKOFF)
}

/// The HTTP side of delivery.
#[derive(Debug, Clone)]
pub struct Deliverer {
    http: reqwest::Client,
    settings: DeliverySettings,
}

/// Why an attempt failed: the receiver's status (if it answered) and a short description.
struct Failure {
    status: Option<u16>,
    error: String,
}

impl Deliverer {
    pub fn new(settings: DeliverySettings) -> anyhow::Result<Deliverer> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect is not an acknowledgement; following it could post the event elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("walletd-callbacks/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the callback HTTP client")?;
        Ok(Deliverer { http, settings })
    }

    pub fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    /// One POST; `Ok(status)` on 2xx.
    async fn post(&self, signer: &CallbackSigner, row: &CallbackRow) -> Result<u16, Failure> {
        let sign = signer.sign(&row.event).map_err(|e| Failure {
            status: None,
            error: e.to_string(),
        })?;
        let response = self
            .http
            .post(&row.uri)
            .form(&[("event", row.event.as_str()), ("sign", sign.as_str())])
            .send()
            .await
            .map_err(|e| Failure {
                status: None,
                error: transport_error(&e),
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(Failure {
                status: Some(status.as_u16()),
                error: format!("the receiver answered {status}"),
            })
        }
    }
}

/// A short description of a transport error (the URI is logged beside it already).
fn transport_error(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_builder() {
        "invalid callback URI"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    }
}

/// A callback URI as the log shows it: without its query, fragment and user information, where
/// receivers put the tokens that authenticate their callbacks.
fn loggable(uri: &str) -> String {
    match reqwest::Url::parse(uri) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// Claims the next due callback for this instance (see `Tx::claim_callback`).
pub async fn claim_next(state: &AppState) -> anyhow::Result<Option<CallbackRow>> {
    let now = wall_now();
    let mut tx = state.store.write().await?;
    let row = tx.claim_callback(now, now + LEASE_SECS).await?;
    tx.commit().await?;
    Ok(row)
}

/// Makes one attempt at a claimed callback and records the outcome. A failure to record leaves
/// the row leased; it is attempted again when the lease ends (delivery is at least once).
pub async fn attempt(state: &AppState, deliverer: &Deliverer, row: CallbackRow) {
    let outcome = deliverer.post(&state.callbacks, &row).await;
    let now = wall_now();
    let recorded = async {
        let mut tx = state.store.write().await?;
        match &outcome {
            Ok(status) => {
                tx.callback_delivered(row.id, i64::from(*status), now)
                    .await?;
            }
            Err(failure) => {
                let next = (row.attempts < MAX_ATTEMPTS).then(|| {
                    let delay = backoff(deliverer.settings.retry_base, row.attempts);
                    now + (delay.as_millis().div_ceil(1000) as i64).max(1)
                });
                tx.callback_failed(row.id, failure.status.map(i64::from), &failure.error, next)
                    .await?;
            }
        }
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    use crate::telemetry::{Delivery, callback_delivery};
    match &outcome {
        Ok(status) => {
            callback_delivery(Delivery::Delivered);
            tracing::info!(
                callback_id = row.id,
                uri = %loggable(&row.uri),
                status,
                attempts = row.attempts,
                "callback delivered"
            )
        }
        Err(f) => {
            let (delivery, next) = if row.attempts >= MAX_ATTEMPTS {
                let next = "giving up (walletd admin callbacks redeliver re-queues it)";
                (Delivery::GaveUp, next)
            } else {
                (Delivery::Failed, "will retry")
            };
            callback_delivery(delivery);
            tracing::warn!(
                callback_id = row.id,
                uri = %loggable(&row.uri),
                status = f.status,
                error = %f.error,
                attempts = row.attempts,
                "callback failed; {next}"
            )
        }
    }
    if let Err(e) = recorded {
        tracing::warn!(callback_id = row.id, error = %e, "could not record the callback attempt; it will be retried");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_callback_uris_carry_no_credentials() {
        let uri = "https://shop:pw-9x@example.com/cb/7?token=tk-3q#frag";
        assert_eq!(loggable(uri), "https://example.com/cb/7");
        assert_eq!(loggable("not a uri"), "(not a URL)");
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 1), Duration::from_secs(10));
        assert_eq!(backoff(base, 2), Duration::from_secs(20));
        assert_eq!(backoff(base, 4), Duration::from_secs(80));
        assert_eq!(backoff(base, 9), Duration::from_secs(2560));
        assert_eq!(backoff(base, 10), MAX_BACKOFF);
        assert_eq!(backoff(base, MAX_ATTEMPTS), MAX_BACKOFF);
        assert_eq!(backoff(base, i64::MAX), MAX_BACKOFF);
    }
}
