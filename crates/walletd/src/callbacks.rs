//! Callbacks to the client for changes it did not make itself (DESIGN.md "Callbacks").
//!
//! Service code calls [`enqueue_transaction`] / [`enqueue_payment`] inside the database
//! transaction that made the change, so a callback is recorded exactly when the change is (the
//! outbox pattern: no change without its event, no event for a change that rolled back). The
//! delivery worker (`jobs::callback_worker`) then POSTs each recorded event to its URI as a form
//! `event=<json>&sign=<base64>` until the receiver answers 2xx, backing off exponentially; rows
//! live in the database, so delivery survives restarts and is shared by every instance.
//!
//! `sign` is RSA PKCS#1 v1.5 with SHA-256 over the exact `event` bytes, made with `aws-lc-rs`
//! (constant-time; the `rsa` crate is not, RUSTSEC-2023-0071). The key pair is generated on first
//! start and kept in the database, or read from a PEM file; `GET /publickey` serves the public half.

use crate::clock::wall_now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anyhow::Context as _;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use wallet_client::types as wire;
use wallet_store::{CallbackFilter, CallbackRow, NewCallback, Store, TransactionRow, Tx};

/// Setting that holds the generated signing key (PKCS#8 DER, base64).
pub const SIGNING_KEY_SETTING: &str = "callback_signing_key_pkcs8_b64";
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

/// The signing key pair of callbacks. `Debug` shows only the public key.
pub struct CallbackSigner {
    key: KeyPair,
    public_key_pem: String,
}

impl std::fmt::Debug for CallbackSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSigner")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

impl CallbackSigner {
    /// The key of `pem_file` when given (a `PRIVATE KEY` or `RSA PRIVATE KEY` PEM), else the one
    /// stored in the database, generated and stored on first start. Concurrent first starts agree:
    /// the first stored key wins and every instance uses it.
    pub async fn load(store: &Store, pem_file: Option<&Path>) -> anyhow::Result<CallbackSigner> {
        if let Some(path) = pem_file {
            let text = tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("reading the callback key {}", path.display()))?;
            return CallbackSigner::from_pem(&text)
                .with_context(|| format!("callback key {}", path.display()));
        }
        let mut tx = store.read().await?;
        let stored = tx.setting(SIGNING_KEY_SETTING).await?;
        drop(tx);
        let b64 = match stored {
            Some(v) => v,
            None => {
                // Generated outside the write transaction: RSA key generation takes a moment, and
                // on SQLite the writer lock would stop every other write meanwhile.
                let fresh = tokio::task::spawn_blocking(generate_pkcs8).await??;
                let mut tx = store.write().await?;
                let v = tx
                    .setting_or_insert(SIGNING_KEY_SETTING, &B64.encode(fresh))
                    .await?;
                tx.commit().await?;
                tracing::info!("generated the callback signing key");
                v
            }
        };
        let der = B64
            .decode(b64.trim())
            .context("stored callback key is not base64")?;
        CallbackSigner::from_pkcs8(&der)
    }

    /// A key pair from PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> anyhow::Result<CallbackSigner> {
        let key = KeyPair::from_pkcs8(der)
            .map_err(|e| anyhow::anyhow!("not an RSA PKCS#8 private key: {e}"))?;
        CallbackSigner::new(key)
    }

    /// A key pair from PEM text: `-----BEGIN PRIVATE KEY-----` (PKCS#8, what `openssl genpkey`
    /// writes) or `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1, older `openssl genrsa`).
    pub fn from_pem(text: &str) -> anyhow::Result<CallbackSigner> {
        if let Some(der) = pem_block(text, "PRIVATE KEY") {
            return CallbackSigner::from_pkcs8(&der?);
        }
        if let Some(der) = pem_block(text, "RSA PRIVATE KEY") {
            let key = KeyPair::from_der(&der?)
                .map_err(|e| anyhow::anyhow!("not an RSA private key: {e}"))?;
            return CallbackSigner::new(key);
        }
        anyhow::bail!("no PRIVATE KEY or RSA PRIVATE KEY block in the PEM text")
    }

    fn new(key: KeyPair) -> anyhow::Result<CallbackSigner> {
        if key.public_modulus_len() < 256 {
            anyhow::bail!("the callback key must have at least 2048 bits");
        }
        let spki = AsDer::<PublicKeyX509Der>::as_der(key.public_key())
            .map_err(|_| anyhow::anyhow!("cannot encode the callback public key"))?;
        let public_key_pem = pem_encode("PUBLIC KEY", spki.as_ref());
        Ok(CallbackSigner {
            key,
            public_key_pem,
        })
    }

    /// The public key as `GET /publickey` serves it (SubjectPublicKeyInfo PEM).
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// `sign`: base64 of the RSA PKCS#1 v1.5 SHA-256 signature of `event`'s bytes.
    pub fn sign(&self, event: &str) -> anyhow::Result<String> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                event.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("signing the callback failed"))?;
        Ok(B64.encode(signature))
    }
}

/// A fresh RSA 2048 key, PKCS#8 DER.
fn generate_pkcs8() -> anyhow::Result<Vec<u8>> {
    let key = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("generating the callback key failed"))?;
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key)
        .map_err(|_| anyhow::anyhow!("encoding the callback key failed"))?;
    Ok(der.as_ref().to_vec())
}

/// The DER inside the first `-----BEGIN {label}-----` block, if there is one.
fn pem_block(text: &str, label: &str) -> Option<anyhow::Result<Vec<u8>>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let Some(len) = text[start..].find(&end) else {
        return Some(Err(anyhow::anyhow!("{begin} without {end}")));
    };
    let body: String = text[start..start + len]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Some(B64.decode(body).context("the PEM body is not base64"))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `GET /publickey`: unauthenticated, outside `/rest/v1`, as the PHP client fetches it.
pub async fn public_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        state.callbacks.public_key_pem().to_string(),
    )
}

/// The `event` field: `{"type", "object", "data"}` in that order, `data` exactly as GET returns it.
#[derive(Serialize)]
struct EventBody<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    object: &'a str,
    data: &'a T,
}

/// Where callbacks of `t` go: its own URI, else its project's default; none when it was created
/// with `callback_uri: false` or neither names one.
async fn destination(tx: &mut Tx, t: &TransactionRow) -> ApiResult<Option<String>> {
    if t.callbacks_disabled {
        return Ok(None);
    }
    if let Some(uri) = &t.callback_uri {
        return Ok(Some(uri.clone()));
    }
    Ok(tx
        .project(t.project_id)
        .await?
        .and_then(|p| p.callback_uri)
        .filter(|u| !u.is_empty()))
}

async fn enqueue<T: Serialize>(
    tx: &mut Tx,
    t: &TransactionRow,
    object: &str,
    kind: &str,
    data: &T,
) -> ApiResult<()> {
    let Some(uri) = destination(tx, t).await? else {
        return Ok(());
    };
    let event = serde_json::to_string(&EventBody { kind, object, data })
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("callback event: {e}")))?;
    // Wall time, not business time: delivery happens in the real world, and the sandbox clock
    // may be far ahead of it.
    let id = tx
        .insert_callback(
            &NewCallback {
                project_id: t.project_id,
                transaction_key: Some(&t.key),
                object,
                event_type: kind,
                uri: &uri,
                event: &event,
            },
            wall_now(),
        )
        .await?;
    tracing::debug!(callback_id = id, transaction_key = %t.key, object, kind, "callback queued");
    Ok(())
}

/// Records a `transaction` callback of type `data.status` (e.g. `failed`) for the transaction's
/// callback URI (its own, else the project's default; none when it was created with `false`).
/// `now` is the change's business time; the outbox is scheduled on wall time instead.
pub async fn enqueue_transaction(
    tx: &mut Tx,
    t: &TransactionRow,
    data: &wire::Transaction,
    now: i64,
) -> ApiResult<()> {
    let _ = now;
    enqueue(tx, t, "transaction", data.status.as_str(), data).await
}

/// Records a `payment` callback of type `data.status` (e.g. `done`) for the payment's transaction.
pub async fn enqueue_payment(
    tx: &mut Tx,
    t: &TransactionRow,
    data: &wire::Payment,
    now: i64,
) -> ApiResult<()> {
    let _ = now;
    enqueue(tx, t, "payment", data.status.as_str(), data).await
}

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
    match &outcome {
        Ok(status) => tracing::info!(
            callback_id = row.id,
            uri = %row.uri,
            status,
            attempts = row.attempts,
            "callback delivered"
        ),
        Err(f) if row.attempts >= MAX_ATTEMPTS => tracing::warn!(
            callback_id = row.id,
            uri = %row.uri,
            status = f.status,
            error = %f.error,
            attempts = row.attempts,
            "callback failed; giving up (walletd admin callbacks redeliver re-queues it)"
        ),
        Err(f) => tracing::warn!(
            callback_id = row.id,
            uri = %row.uri,
            status = f.status,
            error = %f.error,
            attempts = row.attempts,
            "callback failed; will retry"
        ),
    }
    if let Err(e) = recorded {
        tracing::warn!(callback_id = row.id, error = %e, "could not record the callback attempt; it will be retried");
    }
}

/// One line of `walletd admin callbacks list`.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackView {
    pub id: i64,
    pub project_id: i64,
    pub transaction_key: Option<String>,
    pub object: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub uri: String,
    /// `delivered`, `pending` (will be attempted) or `failed` (given up: redeliver to retry).
    pub state: &'static str,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

impl From<CallbackRow> for CallbackView {
    fn from(r: CallbackRow) -> Self {
        let state = match (r.delivered_at, r.next_attempt_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "pending",
            (None, None) => "failed",
        };
        CallbackView {
            id: r.id,
            project_id: r.project_id,
            transaction_key: r.transaction_key,
            object: r.object,
            event_type: r.event_type,
            uri: r.uri,
            state,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            last_attempt_at: r.last_attempt_at,
            delivered_at: r.delivered_at,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
        }
    }
}

/// `walletd admin callbacks list`: newest first.
pub async fn list(
    state: &AppState,
    filter: &CallbackFilter,
    limit: i64,
) -> ApiResult<Vec<CallbackView>> {
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 10000"));
    }
    let mut tx = state.store.read().await?;
    let rows = tx.callbacks(filter, limit).await?;
    Ok(rows.into_iter().map(CallbackView::from).collect())
}

/// `walletd admin callbacks redeliver --id N`: due now, even if it was delivered.
pub async fn redeliver(state: &AppState, id: i64) -> ApiResult<CallbackView> {
    let mut tx = state.store.write().await?;
    if !tx.requeue_callback(id, wall_now()).await? {
        return Err(ApiError::NotFound(format!("callback {id} was not found")));
    }
    let row = tx
        .callback(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("callback {id} was not found")))?;
    tx.commit().await?;
    Ok(row.into())
}

/// `{"project_id", "callback_uri"}`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectCallback {
    pub project_id: i64,
    pub callback_uri: Option<String>,
}

/// `walletd admin project set-callback --project ID (--uri URI | --none)`: the default URI of
/// callbacks for the project's transactions that name none.
pub async fn set_project_callback(
    state: &AppState,
    project_id: i64,
    uri: Option<&str>,
) -> ApiResult<ProjectCallback> {
    if let Some(u) = uri {
        let absolute = u.starts_with("http://") || u.starts_with("https://");
        if !absolute || u.len() > 2048 || u.chars().any(char::is_whitespace) {
            return Err(ApiError::invalid(
                "the callback URI must be an absolute http:// or https:// URI of at most 2048 characters",
            ));
        }
    }
    let mut tx = state.store.write().await?;
    if !tx.set_project_callback_uri(project_id, uri).await? {
        return Err(ApiError::NotFound(format!(
            "project {project_id} was not found"
        )));
    }
    tx.commit().await?;
    Ok(ProjectCallback {
        project_id,
        callback_uri: uri.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn signatures_verify_with_the_sdk_and_pem_keys_load() {
        let der = generate_pkcs8().unwrap();
        let signer = CallbackSigner::from_pkcs8(&der).unwrap();
        let event = r#"{"type":"failed","object":"transaction","data":{"transaction_key":"k"}}"#;
        let sign = signer.sign(event).unwrap();
        let verified =
            wallet_client::callback::verify_callback(event, &sign, signer.public_key_pem())
                .unwrap();
        assert_eq!(verified.name(), "transaction.failed");
        assert!(
            wallet_client::callback::verify_callback(
                &event.replace("failed", "reserved"),
                &sign,
                signer.public_key_pem()
            )
            .is_err()
        );

        // The same key from a PKCS#8 PEM file signs identically (PKCS#1 v1.5 is deterministic).
        let from_pem = CallbackSigner::from_pem(&pem_encode("PRIVATE KEY", &der)).unwrap();
        assert_eq!(from_pem.public_key_pem(), signer.public_key_pem());
        assert_eq!(from_pem.sign(event).unwrap(), sign);
        assert!(CallbackSigner::from_pem("-----BEGIN CERTIFICATE-----\n").is_err());
        assert!(!format!("{signer:?}").contains(&B64.encode(&der)));
    }
}
