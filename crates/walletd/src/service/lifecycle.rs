//! What happens with time: the sandbox clock, and the sweep that fires what became due
//! (reservation deadlines, deletion of old `new` transactions, freeze ends, money arrived for
//! `waiting_funds`), folds appended account changes, and forgets old nonces, idempotency
//! records, rate counts and sessions.

use crate::clock::wall_now;
use crate::error::{ApiError, ApiResult};
use crate::service::transactions::{self, NEW_TRANSACTION_LIFETIME_SECS};
use crate::state::AppState;
use serde::Serialize;

/// Idempotency records are kept at least 24 hours (a little more, so a day-old retry still matches).
pub const IDEMPOTENCY_RETENTION_SECS: i64 = 25 * 3_600;

/// How far the sandbox clock may run ahead of the wall clock: a century, far past any deadline
/// (a freeze is at most a year), and far from where UNIX times in `i64` would wrap.
pub const MAX_CLOCK_OFFSET_SECS: i64 = 100 * 365 * 86_400;

/// `{"offset_seconds", "now"}`: where the sandbox clock stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClockReading {
    pub offset_seconds: i64,
    pub now: i64,
}

/// Loads the stored sandbox offset into the running clock.
pub async fn sync_clock(state: &AppState) -> ApiResult<i64> {
    let mut tx = state.store.read().await?;
    let offset = tx.clock_offset().await?;
    drop(tx);
    state.clock.sync_offset(offset);
    Ok(offset)
}

/// Moves the sandbox clock forward by `seconds` and fires everything that became due.
pub async fn advance_clock(state: &AppState, seconds: i64) -> ApiResult<ClockReading> {
    if seconds <= 0 {
        return Err(ApiError::invalid(
            "seconds must be a positive number (the clock only moves forward)",
        ));
    }
    let mut tx = state.store.write().await?;
    let ahead = tx.clock_offset().await?.checked_add(seconds);
    if ahead.is_none_or(|ahead| ahead > MAX_CLOCK_OFFSET_SECS) {
        return Err(ApiError::invalid(format!(
            "the sandbox clock may run at most {MAX_CLOCK_OFFSET_SECS} s (a century) ahead"
        )));
    }
    let offset = tx.advance_clock(seconds).await?;
    tx.commit().await?;
    state.clock.sync_offset(offset);
    sweep(state).await.map_err(ApiError::Internal)?;
    Ok(ClockReading {
        offset_seconds: offset,
        now: state.now(),
    })
}

/// Where the clock stands.
pub async fn read_clock(state: &AppState) -> ApiResult<ClockReading> {
    let offset_seconds = sync_clock(state).await?;
    Ok(ClockReading {
        offset_seconds,
        now: state.now(),
    })
}

/// Changes the sweeper folds into account rows per database transaction (see
/// `wallet_store::Tx::fold_account_changes`): those of the accounts of the oldest this many.
const FOLD_CHANGES: i64 = 1000;

/// Most folds per sweep: under a load that appends changes faster than this, the rest wait for the
/// next sweep (an account's money is right either way; only summing it takes longer).
const FOLDS_PER_SWEEP: usize = 10;

/// Folds the changes appended to accounts into their rows, a bounded share per sweep.
async fn fold_account_changes(state: &AppState) -> anyhow::Result<()> {
    for _ in 0..FOLDS_PER_SWEEP {
        let mut tx = state.store.write().await?;
        let folded = tx.fold_account_changes(FOLD_CHANGES).await?;
        tx.commit().await?;
        if folded < FOLD_CHANGES as u64 {
            break;
        }
    }
    Ok(())
}

/// One pass over everything time-driven; returns how many objects changed.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    sync_clock(state).await?;
    let mut changed = 0;
    loop {
        let due = transactions::due_reservations(state, 100).await?;
        let batch = due.len();
        for key in due {
            changed += usize::from(transactions::expire_if_due(state, &key).await?);
        }
        if batch < 100 {
            break;
        }
    }
    loop {
        let aged = {
            let mut tx = state.store.read().await?;
            tx.aged_new_transactions(state.now() - NEW_TRANSACTION_LIFETIME_SECS, 100)
                .await?
        };
        let batch = aged.len();
        for key in aged {
            changed += usize::from(transactions::delete_if_aged(state, &key).await?);
        }
        if batch < 100 {
            break;
        }
    }
    changed += transactions::finalize_due_freezes(state).await?;
    changed += transactions::allowance::expire_due(&state.store, state.now()).await?;
    // Money may have arrived by any way (top-up, incoming payment, released reservation).
    changed += super::page::resume_waiting_funds(&state.store, state.now(), None).await?;
    fold_account_changes(state).await?;
    let mut tx = state.store.write().await?;
    tx.forget_nonces(wall_now() - 10 * crate::auth::TIMESTAMP_WINDOW_SECS)
        .await?;
    tx.forget_idempotent_answers(wall_now() - IDEMPOTENCY_RETENTION_SECS)
        .await?;
    tx.forget_request_counts(wall_now() - 120).await?;
    tx.forget_sessions(wall_now().max(state.now())).await?;
    // Kept a day past their expiry, so that a code used again still revokes its tokens.
    tx.forget_oauth_grants(wall_now() - 86_400).await?;
    tx.commit().await?;
    Ok(changed)
}
