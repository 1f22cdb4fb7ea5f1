//! Reserving a transaction's funds: by reservation code, by PIN, by the active allowance, and
//! (through `hold_funds`) by the holder answering a FLASH SMS.

use super::transactions::{Written, begin_change_with_code, lock_own, revoke_locked, settle};
use super::{allowances, payer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::collections::BTreeMap;
use wallet_client::types::{self as wire, ReserveRequest};
use wallet_core::codes::{CodeRecord, CodeRestriction, ReservationCode, check_use};
use wallet_core::money::{Currency, Money};
use wallet_core::payment::{PriceRules, select_price};
use wallet_core::{PaymentStatus, TransactionStatus, TransactionType};
use wallet_store::{ClientRow, PaymentChange, PaymentRow, TransactionRow, TransactionState, Tx};

/// A transaction opened for reservation: locked, with its payments.
pub(crate) struct Reservable {
    pub t: TransactionRow,
    /// The payments to reserve: all but the canceled ones.
    pub payments: Vec<PaymentRow>,
    /// The canceled payments, left as they are (the answer still shows them).
    pub canceled: Vec<PaymentRow>,
    pub deadline: i64,
    pub to: TransactionStatus,
}

/// Checks a locked transaction may be reserved now, and loads its payments.
pub(crate) async fn reservable(tx: &mut Tx, t: TransactionRow, now: i64) -> ApiResult<Reservable> {
    let to = t.status.apply(wallet_core::status::Event::Reserve)?;
    if !matches!(
        t.status,
        TransactionStatus::New | TransactionStatus::Waiting | TransactionStatus::WaitingFunds
    ) {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; only new transactions can be reserved",
            t.status
        )));
    }
    let deadline = t.reserve.deadline(now).map_err(|_| {
        ApiError::InvalidState(
            "the transaction's reserve.until has passed; create a new transaction".into(),
        )
    })?;
    let (canceled, payments) = tx
        .payments_of(&t.key)
        .await?
        .into_iter()
        .partition(|p| p.status == PaymentStatus::Canceled);
    Ok(Reservable {
        t,
        payments,
        canceled,
        deadline,
        to,
    })
}

/// Opens the client's change and checks the transaction is `new` and may be reserved now.
/// `code_hash`: the reservation code to lock with it, if reserving by code.
async fn open_reservable(
    state: &AppState,
    client: &ClientRow,
    key: &str,
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

/// Holds every payment's price on the payer's wallet and moves the transaction to `reserved`
/// (then `confirmed`, with `auto_confirm`). `allowance` is the active allowance it was reserved
/// under, if any. Any refusal leaves nothing written: the caller's database transaction is dropped.
/// Answers the transaction as written.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn hold_funds(
    tx: &mut Tx,
    actor: &str,
    r: Reservable,
    payer_wallet: i64,
    selected: &[i64],
    kind: TransactionType,
    allowance: Option<i64>,
    now: i64,
) -> ApiResult<Written> {
    let beneficiaries: Vec<i64> = r.payments.iter().map(|p| p.beneficiary_wallet_id).collect();
    let payer_row = tx
        .payer(payer_wallet, &beneficiaries)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {payer_wallet} was not found")))?;
    payer::check(tx, &r.t, &payer_row, &r.payments, selected, now).await?;
    let payer = payer_row.wallet;
    // Checked at commit (the payer's account row is then locked for less time) where a shortage
    // only refuses the client's request with `not_enough_funds`: reserve by code, PIN, allowance.
    // The holder's own answers (the confirmation page, where the transaction then waits for the
    // funds, and FLASH SMS) check them now.
    let at_commit = !matches!(kind, TransactionType::Page | TransactionType::Flash);
    let mut changes = Vec::with_capacity(r.payments.len());
    for (p, amount) in r.payments.iter().zip(selected) {
        check_beneficiary(tx, p, payer.id, payer_row.pays_only_active).await?;
        let account = tx.wallet_account(payer.id, p.currency).await?;
        let hold = if at_commit {
            tx.place_hold_at_commit(account, p.id, *amount, now).await?
        } else {
            tx.place_hold(account, p.id, *amount, now).await?
        };
        let hold = hold.ok_or_else(|| {
            ApiError::NotEnoughFunds(format!(
                "there is not enough {} in the wallet for this transaction",
                p.currency
            ))
        })?;
        if let Some(a) = allowance {
            tx.set_payment_allowance(p.id, a).await?;
        }
        let change = PaymentChange {
            id: p.id,
            status: r.to.into(),
            price: *amount,
            payer_wallet_id: Some(payer.id),
            hold_id: Some(hold),
            confirmed_at: None,
        };
        changes.push((p.clone(), change));
    }
    let key = &r.t.key;
    allowances::accepted_by(tx, key, payer.id).await?;
    if r.t.correlation_key.is_some() {
        tx.set_correlation_key(key, None).await?;
    }
    let reserved = TransactionState {
        status: r.to,
        kind: Some(kind),
        wallet_id: Some(payer.id),
        reserved_until: Some(r.deadline),
        confirmed_at: None,
    };
    let (t, changed) = tx
        .set_transaction_and_payments(&r.t, &reserved, &changes, now)
        .await?;
    let written = Written::new(t, r.canceled, changed);
    let detail = format!("{kind} wallet {}", payer.id);
    tx.append_event(key, now, actor, "reserved", Some(&detail))
        .await?;
    if !written.t.auto_confirm {
        return Ok(written);
    }
    let written = settle(tx, &written.t, &written.payments, &BTreeMap::new(), now).await?;
    tx.append_event(key, now, "system", "confirmed", Some("auto_confirm"))
        .await?;
    Ok(written)
}

fn actor(client: &ClientRow) -> String {
    format!("client:{}", client.mac_id)
}

/// Refuses a transaction with an allowance in it: only the holder can accept an allowance
/// (PIN, FLASH SMS or the confirmation page), never a code scanned at a till or another allowance.
async fn refuse_included_allowance(tx: &mut Tx, key: &str, how: &str) -> ApiResult<()> {
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
    key: &str,
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
    let code = ReservationCode::parse(&text).ok_or_else(|| {
        ApiError::InvalidCode("reservation code is incorrect: expected 28 digits; the holder should generate a new one".into())
    })?;
    let code_hash = code.keyed_hash(&state.code_key);
    // The code is read and locked with the transaction, checked, and marked used at commit.
    let (mut tx, r, now) = open_reservable(state, client, key, Some(&code_hash)).await?;
    refuse_included_allowance(&mut tx, key, "a reservation code").await?;
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
    let view = written.render(&mut tx).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Most PIN errors in a row before the holder is locked out (`user_error_limit_exceeded`).
pub const MAX_PIN_FAILURES: i64 = 5;

/// `PUT transaction/{key}/reserve/{wallet}` with `{"pin": …}`: the holder's PIN authorises it
/// (and accepts an allowance grouped into it).
pub async fn reserve_with_pin(
    state: &AppState,
    client: &ClientRow,
    key: &str,
    wallet_id: i64,
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
    let pin_ok = crate::service::admin::verify_secret(pin.to_string(), pin_hash).await?;
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
    let view = written.render(&mut tx).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Reserves a locked, reservable transaction under the client's active allowance for the wallet.
/// `Ok(Err(refusal))` when there is no allowance or it does not cover the transaction; nothing
/// is written then. Answers the transaction as written.
pub(crate) async fn try_with_allowance(
    tx: &mut Tx,
    client: &ClientRow,
    r: Reservable,
    wallet_id: i64,
    now: i64,
) -> ApiResult<Result<Written, ApiError>> {
    let Some(a) = tx.active_allowance(client.id, wallet_id, now).await? else {
        return Ok(Err(ApiError::NoActiveAllowance(format!(
            "wallet {wallet_id} has no active allowance for this client"
        ))));
    };
    let selected = selected_prices(&r.payments, None)?;
    if let Err(refusal) = allowances::covers(tx, &a, &r.payments, &selected, now).await? {
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
    key: &str,
    wallet_id: i64,
    revoke_transactions: &[String],
) -> ApiResult<wire::Transaction> {
    if !client.has_grant(TransactionType::Automatic.as_str()) {
        return Err(ApiError::UnsupportedGrantType(
            "this client may not reserve transactions with an allowance".into(),
        ));
    }
    if revoke_transactions.len() > super::transactions::MAX_PAYMENTS {
        return Err(ApiError::invalid(format!(
            "revoke_transactions lists at most {} keys",
            super::transactions::MAX_PAYMENTS
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
        if other == key {
            return Err(ApiError::invalid(
                "revoke_transactions lists the transaction being reserved",
            ));
        }
        let t = lock_own(&mut tx, other, client)
            .await
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
    let view = written.render(&mut tx).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// The wallet a `payer` identifier (`{"id"}`, `{"email"}`, `{"phone"}`) names: the wallet, or the
/// first wallet of the user with that email or confirmed phone.
pub async fn payer_wallet(state: &AppState, payer: &serde_json::Value) -> ApiResult<i64> {
    let mut tx = state.store.read().await?;
    let not_found = || ApiError::NotFound("the payer was not found".into());
    let user = if let Some(id) = payer.get("id") {
        return id
            .as_i64()
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

/// The beneficiary must be an active wallet other than the payer's. `all_active`: every
/// beneficiary of the transaction is active (read with the payer); if not, this one is read.
async fn check_beneficiary(
    tx: &mut Tx,
    p: &PaymentRow,
    payer: i64,
    all_active: bool,
) -> ApiResult<()> {
    if p.beneficiary_wallet_id == payer {
        return Err(ApiError::PaymentToSameAccount(format!(
            "payment {} would pay wallet {payer} from itself",
            p.id
        )));
    }
    if all_active {
        return Ok(());
    }
    match tx.wallet(p.beneficiary_wallet_id).await? {
        Some(w) if w.active => Ok(()),
        _ => Err(ApiError::BeneficiaryAccountInactive(format!(
            "the beneficiary wallet of payment {} is inactive and cannot accept payments",
            p.id
        ))),
    }
}

/// The price to reserve for each payment, applying `payment_prices` where `price_rules` allow.
pub(crate) fn selected_prices(
    payments: &[PaymentRow],
    chosen: Option<&BTreeMap<String, i64>>,
) -> ApiResult<Vec<i64>> {
    let mut chosen_by_id = BTreeMap::new();
    for (id, price) in chosen.into_iter().flatten() {
        let id: i64 = id.parse().map_err(|_| {
            ApiError::invalid(format!("payment_prices key {id:?} is not a payment id"))
        })?;
        if !payments.iter().any(|p| p.id == id) {
            return Err(ApiError::invalid(format!(
                "payment_prices names payment {id}, which is not in this transaction"
            )));
        }
        chosen_by_id.insert(id, *price);
    }
    payments
        .iter()
        .map(|p| {
            let rules: Option<PriceRules> = p
                .price_rules
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok());
            Ok(select_price(
                p.id,
                p.price,
                rules.as_ref(),
                chosen_by_id.get(&p.id).copied(),
            )?)
        })
        .collect()
}

/// `GET transaction/{key}/type/{wallet}`: the ways this client could have `wallet` reserve it now.
pub async fn types(
    state: &AppState,
    client: &ClientRow,
    key: &str,
    wallet_id: i64,
) -> ApiResult<Vec<&'static str>> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let t = tx
        .transaction(key)
        .await?
        .filter(|t| t.project_id == client.project_id)
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let wallet = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    let granted = |t: TransactionType| client.has_grant(t.as_str());
    let mut types = Vec::new();
    let included = tx.allowance_of(key).await?.is_some();
    if granted(TransactionType::Automatic) && !included && t.status == TransactionStatus::New {
        let payments: Vec<PaymentRow> = tx
            .payments_of(key)
            .await?
            .into_iter()
            .filter(|p| p.status != PaymentStatus::Canceled)
            .collect();
        if let Some(a) = tx.active_allowance(client.id, wallet_id, now).await? {
            let selected = selected_prices(&payments, None)?;
            if allowances::covers(&mut tx, &a, &payments, &selected, now)
                .await?
                .is_ok()
            {
                types.push(TransactionType::Automatic.as_str());
            }
        }
    }
    let holder = tx.holder(wallet.owner_user_id).await?;
    if granted(TransactionType::Flash) && holder.as_ref().is_some_and(|h| h.phone_confirmed) {
        types.push(TransactionType::Flash.as_str());
    }
    if granted(TransactionType::Page)
        && matches!(
            t.status,
            TransactionStatus::New | TransactionStatus::Waiting
        )
    {
        types.push(TransactionType::Page.as_str());
    }
    let pin = tx.user_pin(wallet.owner_user_id).await?;
    if granted(TransactionType::Pin)
        && pin.is_some_and(|(_, _, failures)| failures < MAX_PIN_FAILURES)
    {
        types.push(TransactionType::Pin.as_str());
    }
    if granted(TransactionType::ReservationCode) && !included {
        types.push(TransactionType::ReservationCode.as_str());
    }
    Ok(types)
}
