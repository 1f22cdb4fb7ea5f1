//! Reading transactions: `GET transaction/{key}` (a reservation past its deadline is failed
//! first), receipts, `GET transactions`, and the ways a wallet could reserve one now.

use super::allowance;
use super::expire::{expire_if_due, is_due};
use super::reserve::MAX_PIN_FAILURES;
use super::validate::{SearchQuery, search_filter, selected_prices};
use super::view::{render_row, view};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_client::types::{self as wire, Metadata, Receipt, TransactionPage};
use wallet_core::{PaymentStatus, TransactionKey, TransactionStatus, TransactionType, WalletId};
use wallet_store::{ClientRow, PaymentRow, SearchFilter, TransactionRow, Tx};

/// `GET transaction/{key}`: a reservation past its deadline is failed first, so a read never shows it reserved.
pub async fn get(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
) -> ApiResult<wire::Transaction> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let t = own(&mut tx, key, client).await?;
    if is_due(&t, now) {
        drop(tx);
        expire_if_due(state, key).await?;
        tx = state.store.read().await?;
    }
    view(&mut tx, key).await
}

/// The caller's transaction `key`, read (another project's does not exist for the caller).
async fn own(tx: &mut Tx, key: &TransactionKey, client: &ClientRow) -> ApiResult<TransactionRow> {
    tx.transaction(key)
        .await?
        .filter(|t| t.project_id == client.project_id)
        .ok_or_else(|| ApiError::not_found_transaction(key))
}

/// `GET transaction/{key}/receipt`: only for clients granted `receipt`, only for confirmed transactions.
pub async fn receipt(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    locale: Option<&str>,
    width: Option<&str>,
) -> ApiResult<Receipt> {
    if !client.has_grant("receipt") {
        return Err(ApiError::Forbidden(
            "receipts are not enabled for this client".into(),
        ));
    }
    let locale = match locale {
        None => crate::receipt::Locale::En,
        Some(l) => crate::receipt::Locale::parse(l)
            .ok_or_else(|| ApiError::invalid(format!("locale {l:?} is not one of en, lt, ru")))?,
    };
    let width = width
        .map(|w| w.parse::<usize>().ok().filter(|w| (10..=500).contains(w)))
        .map(|w| w.ok_or_else(|| ApiError::invalid("width must be a whole number from 10 to 500")))
        .transpose()?;
    let t = get(state, client, key).await?;
    if t.status != TransactionStatus::Confirmed {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; receipts exist for confirmed transactions",
            t.status
        )));
    }
    let (text_for_customer, text_for_merchant) = crate::receipt::texts(&t, locale, width);
    Ok(Receipt {
        text_for_customer,
        text_for_merchant,
    })
}

/// `GET transactions`: the caller's project's transactions, newest first.
pub async fn search(
    state: &AppState,
    client: &ClientRow,
    q: &SearchQuery,
) -> ApiResult<TransactionPage> {
    let valid: Vec<&str> = TransactionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = search_filter(client, q, &valid, Some(state.now()))?;
    let mut tx = state.store.read().await?;
    let (total, rows) = tx.search_transactions(&filter).await?;
    let mut transactions = Vec::with_capacity(rows.len());
    for t in rows {
        transactions.push(render_row(&mut tx, &t).await?);
    }
    Ok(TransactionPage {
        transactions,
        metadata: metadata(total, &filter),
    })
}

/// The `_metadata` of a page of search results.
pub(crate) fn metadata(total: i64, filter: &SearchFilter) -> Metadata {
    Metadata {
        total,
        offset: filter.offset,
        limit: filter.limit,
    }
}

/// `GET transaction/{key}/type/{wallet}`: the ways this client could have `wallet` reserve it now.
pub async fn types(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    wallet_id: WalletId,
) -> ApiResult<Vec<&'static str>> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let t = own(&mut tx, key, client).await?;
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
            if allowance::covers(&mut tx, &a, &payments, &selected, now)
                .await?
                .is_ok()
            {
                types.push(TransactionType::Automatic.as_str());
            }
        }
    }
    let holder = tx.holder(wallet.owner_user_id).await?;
    if granted(TransactionType::Flash) && holder.as_ref().is_some_and(|h| h.phone_confirmed) {
        // What FLASH sends waits in her holder app too, where accepting it is `mobile_app`.
        types.push(TransactionType::Flash.as_str());
        types.push(TransactionType::MobileApp.as_str());
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
