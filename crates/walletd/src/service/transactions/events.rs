//! The audit trail of a transaction: who did what, when (`client:{mac_id}`, `holder:…`, `system`).

use crate::error::ApiResult;
use crate::state::AppState;
use wallet_core::ids::TransactionKey;
use wallet_store::ClientRow;

/// How the event log names a client acting on its transaction.
pub(crate) fn actor(client: &ClientRow) -> String {
    format!("client:{}", client.mac_id)
}

/// Audit trail of a transaction (admin and tests).
pub async fn events(
    state: &AppState,
    key: &TransactionKey,
) -> ApiResult<Vec<(i64, String, String, Option<String>)>> {
    let mut tx = state.store.read().await?;
    Ok(tx.events_of(key).await?)
}
