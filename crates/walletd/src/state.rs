//! What every request handler and job shares.

use crate::clock::SharedClock;
use std::sync::Arc;
use wallet_store::Store;

/// Shared application state: the store, the clock and server-held keys.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    /// Key of the keyed hash under which reservation codes are stored.
    pub code_key: Arc<Vec<u8>>,
    /// Port assumed in MAC checks when the `Host` header has none (80, or 443 behind TLS).
    pub default_port: u16,
    pub callbacks: std::sync::Arc<crate::callbacks::signer::CallbackSigner>,
    /// Bearer token of the `/admin/v1/` endpoints; none disables them.
    pub admin_token: Option<Arc<String>>,
    /// Requests one API client may make per minute before `rate_limit_exceeded` (429).
    pub rate_limit_per_minute: i64,
    /// Where FLASH SMS go (by default, the operators' outbox).
    pub sms: Arc<dyn crate::sms::SmsGateway>,
    /// The metrics `GET /metrics` renders.
    pub telemetry: crate::telemetry::Telemetry,
    /// Bearer token `GET /metrics` requires; none: it is open (bind to a private interface).
    pub metrics_token: Option<Arc<String>>,
    /// Limits on abuse (body size, timeouts, connections, failed logins and codes).
    pub limits: Arc<crate::limits::Limits>,
    /// The randomness of keys, codes and tokens (the OS's CSPRNG; a seed in simulations).
    pub entropy: crate::entropy::Entropy,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Loads (or creates, on first start) the key for reservation-code hashes.
pub async fn load_code_key(store: &Store) -> anyhow::Result<Vec<u8>> {
    let mut tx = store.write().await?;
    let fresh = wallet_core::keys::random_base62(&mut rand::rng(), 43);
    let key = tx.setting_or_insert("code_hash_key", &fresh).await?;
    tx.commit().await?;
    Ok(key.into_bytes())
}
