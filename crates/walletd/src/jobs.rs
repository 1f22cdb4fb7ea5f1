//! Background work: failing reservations past their deadline, forgetting old nonces.

use crate::clock::wall_now;
use crate::service::transactions;
use crate::state::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the sweeper every `interval` until `shutdown` turns true.
pub async fn sweeper(state: AppState, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = sweep_once(&state).await {
            tracing::warn!(error = %e, "sweep failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One pass: expire every due reservation (in batches) and drop nonces past the replay window.
pub async fn sweep_once(state: &AppState) -> anyhow::Result<usize> {
    let mut expired = 0;
    loop {
        let due = transactions::due_reservations(state, 100).await?;
        if due.is_empty() {
            break;
        }
        let batch = due.len();
        for key in due {
            if transactions::expire_if_due(state, &key).await? {
                expired += 1;
            }
        }
        if batch < 100 {
            break;
        }
    }
    let mut tx = state.store.write().await?;
    tx.forget_nonces(wall_now() - 10 * crate::auth::TIMESTAMP_WINDOW_SECS)
        .await?;
    tx.commit().await?;
    Ok(expired)
}
