//! Opening a client's change: its transaction locked (another project's does not exist for it),
//! and one past its deadline failed first, so that no change acts on it.

use super::expire::{expire_locked, expired_error, is_due};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_core::ids::TransactionKey;
use wallet_store::{ClientRow, TransactionRow, Tx};

/// Locks the caller's transaction; another project's transaction does not exist for the caller.
pub(crate) async fn lock_own(
    tx: &mut Tx,
    key: &TransactionKey,
    client: &ClientRow,
) -> ApiResult<TransactionRow> {
    lock_own_with_code(tx, key, client, None).await
}

/// [`lock_own`], and with `code_hash` the reservation code with that keyed hash too, in the
/// same statement ([`Tx::code_for_update`] then answers it).
async fn lock_own_with_code(
    tx: &mut Tx,
    key: &TransactionKey,
    client: &ClientRow,
    code_hash: Option<&str>,
) -> ApiResult<TransactionRow> {
    let t = match code_hash {
        Some(hash) => tx.transaction_and_code_for_update(key, hash).await?,
        None => tx.transaction_for_update(key).await?,
    };
    match t {
        Some(t) if t.project_id == client.project_id => Ok(t),
        _ => Err(ApiError::not_found_transaction(key)),
    }
}

/// Opens the write transaction of a client's change to its transaction `key`, with the row locked.
/// A reservation past its deadline is failed first (and that is committed), so no change acts on it.
pub(crate) async fn begin_change(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
) -> ApiResult<(Tx, TransactionRow, i64)> {
    begin_change_with_code(state, client, key, None).await
}

/// [`begin_change`], locking the reservation code with keyed hash `code_hash` with the
/// transaction (see [`lock_own_with_code`]).
pub(crate) async fn begin_change_with_code(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    code_hash: Option<&str>,
) -> ApiResult<(Tx, TransactionRow, i64)> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let t = lock_own_with_code(&mut tx, key, client, code_hash).await?;
    unless_due(tx, t, now).await
}

/// Opens the write transaction of a change to transaction `key` that is not its client's (a
/// holder's), with the row locked; one past its deadline is failed first, as in [`begin_change`].
/// Whether the caller may change it is the caller's to check.
pub(crate) async fn begin_other_change(
    state: &AppState,
    key: &TransactionKey,
) -> ApiResult<(Tx, TransactionRow, i64)> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let t = tx
        .transaction_for_update(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    unless_due(tx, t, now).await
}

/// The locked transaction `t`, unless its deadline passed: then it is failed (and that is
/// committed), and the change is refused.
async fn unless_due(
    mut tx: Tx,
    t: TransactionRow,
    now: i64,
) -> ApiResult<(Tx, TransactionRow, i64)> {
    if is_due(&t, now) {
        expire_locked(&mut tx, &t, now).await?;
        tx.commit().await?;
        return Err(expired_error());
    }
    Ok((tx, t, now))
}
