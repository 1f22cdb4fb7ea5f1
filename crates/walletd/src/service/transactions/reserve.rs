//! The client reserves: `PUT transaction/{key}/reserve` with a reservation code scanned at a till,
//! `PUT transaction/{key}/reserve/{wallet}` with the holder's PIN or under her active allowance.

use super::allowance;
use super::events::actor;
use super::guesses;
use super::hold::{Reservable, hold_funds, reservable};
use super::lock::{begin_change_with_code, lock_own};
use super::settle::revoke_locked;
use super::validate::{MAX_PAYMENTS, selected_prices};
use super::view::Written;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::collections::BTreeMap;
use wallet_client::types::{self as wire, ReserveRequest};
use wallet_core::codes::{CodeRecord, CodeRestriction, ReservationCode, check_use};
use wallet_core::money::{Currency, Money};
use wallet_core::{TransactionKey, TransactionStatus, TransactionType, WalletId};
use wallet_store::{ClientRow, Tx};

/// Opens the client's change and checks the transaction is `new` and may be reserved now.
/// `code_hash`: the reservation code to lock with it, if reserving by code.
async fn open_reservable(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    code_hash: Option<&str>,
) -> ApiResult<(Tx, Reservable, i64)> {
    let (mut tx, t, now) = begin_change_with_code(state, client, key, code_hash).await?;
    if t.status != TransactionStatus::New {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; only new transactions can be reserved",
            t.status
        )));
    }
    let r = reservable(&mut tx, t, now).await?;
    Ok((tx, r, now))
}

/// Refuses a transaction with an allowance in it: only the holder can accept an allowance
/// (PIN, FLASH SMS or the confirmation page), never a code scanned at a till or another allowance.
async fn refuse_included_allowance(tx: &mut Tx, key: &TransactionKey, how: &str) -> ApiResult<()> {
    if tx.allowance_of(key).await?.is_some() {
        return Err(ApiError::InvalidState(format!(
            "the transaction includes an allowance, which {how} cannot accept; the holder accepts it with a PIN, a FLASH SMS or on the confirmation page"
        )));
    }
    Ok(())
}

/// `PUT transaction/{key}/reserve` with a reservation code.
pub async fn reserve_with_code(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    req: ReserveRequest,
) -> ApiResult<wire::Transaction> {
    let text = match (&req.reservation_code, &req.code) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "reservation_code and code differ; give one of them",
            ));
        }
        (Some(c), _) | (None, Some(c)) => c.clone(),
        (None, None) => {
            return Err(ApiError::invalid(if req.pin.is_some() {
                "reserving with a PIN needs the wallet in the path: PUT transaction/{key}/reserve/{wallet}"
            } else {
                "reservation_code is required"
            }));
        }
    };
    if !client.has_grant(TransactionType::ReservationCode.as_str()) {
        return Err(ApiError::UnsupportedGrantType(
            "this client may not reserve transactions with reservation codes".into(),
        ));
    }
    // A malformed code is refused uncounted: it cannot be anyone's.
    let code = ReservationCode::parse(&text).ok_or_else(|| {
        ApiError::InvalidCode("reservation code is incorrect: expected 28 digits; the holder should generate a new one".into())
    })?;
    let reserved = reserve_parsed(state, client, key, &code, &req).await;
    if matches!(reserved, Err(ApiError::InvalidCode(_))) {
        guesses::count_failure(state, client.id).await?;
    }
    reserved
}

/// Reserves with a well-formed code, unless the client got too many wrong this minute.
async fn reserve_parsed(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    code: &ReservationCode,
    req: &ReserveRequest,
) -> ApiResult<wire::Transaction> {
    let code_hash = code.keyed_hash(&state.code_key);
    // The code is read and locked with the transaction, checked, and marked used at commit.
    let (mut tx, r, now) = open_reservable(state, client, key, Some(&code_hash)).await?;
    refuse_included_allowance(&mut tx, key, "a reservation code").await?;
    guesses::refuse_past_limit(&mut tx, state, client.id).await?;
    let stored = tx.code_for_update(&code_hash).await?.ok_or_else(|| {
        ApiError::InvalidCode(
            "reservation code is incorrect; the holder should generate a new one".into(),
        )
    })?;
    let selected = selected_prices(&r.payments, req.payment_prices.as_ref())?;
    let restriction_currency = stored
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()?;
    let record = CodeRecord {
        wallet_id: stored.wallet_id,
        restriction: CodeRestriction {
            max_amount: stored
                .max_amount
                .zip(restriction_currency.or(r.payments.first().map(|p| p.currency)))
                .map(|(m, c)| Money::new(m, c)),
            currency: restriction_currency,
        },
        expires_at: stored.expires_at,
        used: stored.used_at.is_some(),
    };
    let prices: Vec<Money> = r
        .payments
        .iter()
        .zip(&selected)
        .map(|(p, amount)| Money::new(*amount, p.currency))
        .collect();
    check_use(&record, now, &prices)?;
    tx.use_code_at_commit(stored.id, key, now);
    let written = hold_funds(
        &mut tx,
        &actor(client),
        r,
        record.wallet_id,
        &selected,
        TransactionType::ReservationCode,
        None,
        now,
    )
    .await?;
    written.commit(tx).await
}

/// Most PIN errors in a row before the holder is locked out (`user_error_limit_exceeded`).
pub const MAX_PIN_FAILURES: i64 = 5;

/// `PUT transaction/{key}/reserve/{wallet}` with `{"pin": …}`: the holder's PIN authorises it
/// (and accepts an allowance grouped into it).
pub async fn reserve_with_pin(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    wallet_id: WalletId,
    pin: &str,
    payment_prices: Option<&BTreeMap<String, i64>>,
) -> ApiResult<wire::Transaction> {
    if !client.has_grant(TransactionType::Pin.as_str()) {
        return Err(ApiError::UnsupportedGrantType(
            "this client may not reserve transactions with a PIN".into(),
        ));
    }
    let holder = {
        let mut tx = state.store.read().await?;
        let wallet = tx
            .wallet(wallet_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
        tx.user_pin(wallet.owner_user_id).await?
    };
    let Some((user_id, pin_hash, failures)) = holder else {
        return Err(ApiError::InvalidCode("the wallet holder has no PIN".into()));
    };
    if failures >= MAX_PIN_FAILURES {
        return Err(ApiError::UserErrorLimitExceeded(
            "the holder is blocked after too many wrong PINs; the holder must reset the PIN".into(),
        ));
    }
    let pin_ok = crate::credentials::verify_secret(pin.to_string(), pin_hash).await?;
    if !pin_ok {
        let mut tx = state.store.write().await?;
        let failures = tx.record_pin_failure(user_id).await?;
        tx.commit().await?;
        let left = (MAX_PIN_FAILURES - failures).max(0);
        return Err(ApiError::InvalidCode(format!(
            "the PIN is incorrect; {left} attempts left"
        )));
    }
    let (mut tx, r, now) = open_reservable(state, client, key, None).await?;
    let selected = selected_prices(&r.payments, payment_prices)?;
    tx.reset_pin_failures(user_id).await?;
    let written = hold_funds(
        &mut tx,
        &actor(client),
        r,
        wallet_id,
        &selected,
        TransactionType::Pin,
        None,
        now,
    )
    .await?;
    written.commit(tx).await
}

/// Reserves a locked, reservable transaction under the client's active allowance for the wallet.
/// `Ok(Err(refusal))` when there is no allowance or it does not cover the transaction; nothing
/// is written then. Answers the transaction as written.
pub(crate) async fn try_with_allowance(
    tx: &mut Tx,
    client: &ClientRow,
    r: Reservable,
    wallet_id: WalletId,
    now: i64,
) -> ApiResult<Result<Written, ApiError>> {
    let Some(a) = tx.active_allowance(client.id, wallet_id, now).await? else {
        return Ok(Err(ApiError::NoActiveAllowance(format!(
            "wallet {wallet_id} has no active allowance for this client"
        ))));
    };
    let selected = selected_prices(&r.payments, None)?;
    if let Err(refusal) = allowance::covers(tx, &a, &r.payments, &selected, now).await? {
        return Ok(Err(refusal));
    }
    let written = hold_funds(
        tx,
        &actor(client),
        r,
        wallet_id,
        &selected,
        TransactionType::Automatic,
        Some(a.id),
        now,
    )
    .await?;
    Ok(Ok(written))
}

/// `PUT transaction/{key}/reserve/{wallet}` without a PIN: the wallet's active allowance for
/// this client authorises it. `revoke_transactions` are revoked in the same database
/// transaction first: all of it happens, or none.
pub async fn reserve_with_allowance(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    wallet_id: WalletId,
    revoke_transactions: &[String],
) -> ApiResult<wire::Transaction> {
    if !client.has_grant(TransactionType::Automatic.as_str()) {
        return Err(ApiError::UnsupportedGrantType(
            "this client may not reserve transactions with an allowance".into(),
        ));
    }
    if revoke_transactions.len() > MAX_PAYMENTS {
        return Err(ApiError::invalid(format!(
            "revoke_transactions lists at most {} keys",
            MAX_PAYMENTS
        )));
    }
    let (mut tx, r, now) = open_reservable(state, client, key, None).await?;
    refuse_included_allowance(&mut tx, key, "an allowance").await?;
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    for other in revoke_transactions {
        if other.as_str() == key.as_str() {
            return Err(ApiError::invalid(
                "revoke_transactions lists the transaction being reserved",
            ));
        }
        let t = match TransactionKey::parse(other) {
            Some(other) => lock_own(&mut tx, &other, client).await,
            None => Err(ApiError::NotFound(format!(
                "transaction {other:?} was not found"
            ))),
        }
        .map_err(|e| match e {
            ApiError::NotFound(m) => ApiError::NotFound(format!("revoke_transactions: {m}")),
            other => other,
        })?;
        revoke_locked(&mut tx, &t, &actor(client), now)
            .await
            .map_err(|e| match e {
                ApiError::InvalidState(m) => {
                    ApiError::InvalidState(format!("revoke_transactions: {other}: {m}"))
                }
                e => e,
            })?;
    }
    let written = try_with_allowance(&mut tx, client, r, wallet_id, now).await??;
    written.commit(tx).await
}

/// The wallet a `payer` identifier (`{"id"}`, `{"email"}`, `{"phone"}`) names: the wallet, or the
/// first wallet of the user with that email or confirmed phone.
pub async fn payer_wallet(state: &AppState, payer: &serde_json::Value) -> ApiResult<WalletId> {
    let mut tx = state.store.read().await?;
    let not_found = || ApiError::NotFound("the payer was not found".into());
    let user = if let Some(id) = payer.get("id") {
        return id
            .as_i64()
            .map(WalletId::new)
            .ok_or_else(|| ApiError::invalid("payer.id must be a wallet id"));
    } else if let Some(email) = payer.get("email").and_then(|e| e.as_str()) {
        tx.user_by_email(email).await?.map(|u| u.id)
    } else if let Some(phone) = payer.get("phone").and_then(|p| p.as_str()) {
        tx.user_by_phone(phone).await?
    } else {
        return Err(ApiError::invalid(
            "payer must be {\"id\": wallet}, {\"email\": …} or {\"phone\": …}; cards are not supported",
        ));
    };
    let user = user.ok_or_else(not_found)?;
    tx.wallets_of_user(user)
        .await?
        .first()
        .copied()
        .ok_or_else(not_found)
}
