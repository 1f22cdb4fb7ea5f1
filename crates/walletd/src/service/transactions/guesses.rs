//! Reservation codes guessed: a client's wrong codes (well-formed, but unknown or used) are
//! counted per wall-clock minute in a commit of their own, and past
//! `Limits::code_failures_per_minute` reserving by code is `rate_limit_exceeded` for the rest of
//! the minute, a right code too, so that the code space cannot be walked.

use crate::clock::wall_now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_core::ids::ClientId;
use wallet_store::Tx;

/// The counter of a client's wrong codes (beside the holders' failed logins).
fn key(client_id: ClientId) -> String {
    format!("code:{client_id}")
}

/// Start of the wall-clock minute holding `now`.
fn minute_of(now: i64) -> i64 {
    now - now.rem_euclid(60)
}

/// `rate_limit_exceeded` when the client got too many codes wrong this minute.
pub async fn refuse_past_limit(
    tx: &mut Tx,
    state: &AppState,
    client_id: ClientId,
) -> ApiResult<()> {
    let now = wall_now();
    let minute = minute_of(now);
    let wrong = tx.login_failures(&key(client_id), minute).await?;
    let limit = state.limits.code_failures_per_minute;
    if wrong >= limit {
        return Err(ApiError::RateLimitExceeded(format!(
            "more than {limit} wrong reservation codes in a minute from this client; retry after {} s",
            minute + 60 - now
        )));
    }
    Ok(())
}

/// Counts one wrong code of the client, in a commit of its own (the call failed: its own
/// transaction wrote nothing).
pub async fn count_failure(state: &AppState, client_id: ClientId) -> ApiResult<()> {
    let mut tx = state.store.write().await?;
    tx.record_login_failure(&key(client_id), minute_of(wall_now()))
        .await?;
    tx.commit().await?;
    Ok(())
}
