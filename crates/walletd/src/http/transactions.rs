//! Handlers of `transaction` endpoints: parse, call the service, answer JSON.

use super::params::{KeyParam, WalletParam};
use crate::caller::Caller;
use crate::error::ApiResult;
use crate::json;
use crate::service::flash;
use crate::service::transactions::{self as svc, reserve};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use wallet_client::types::{ConfirmPrices, NewTransaction, ReserveRequest, Transaction};
use wallet_core::ids::{TransactionKey, WalletId};

/// The `transaction` routes (under MAC authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/transaction", post(create))
        .route("/rest/v1/transaction/{key}", get(get_one).delete(revoke))
        .route("/rest/v1/transaction/{key}/reserve", put(reserve))
        .route("/rest/v1/transaction/{key}/confirm", put(confirm))
        .route("/rest/v1/transaction/{key}/receipt", get(receipt))
        .route(
            "/rest/v1/transaction/{key}/reserve/{wallet}",
            put(reserve_for_wallet),
        )
        .route("/rest/v1/transaction/{key}/type/{wallet}", get(types))
        .route("/rest/v1/transaction/renew/{key}", post(renew))
        .route("/rest/v1/transactions", get(search))
        .route("/rest/v1/transaction/{key}/flash/{wallet}", put(flash))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: NewTransaction = json::parse(&body)?;
    svc::create(&state, &caller, req).await.map(Json)
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
) -> ApiResult<Json<Transaction>> {
    svc::get(&state, &caller.client, &key).await.map(Json)
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
) -> ApiResult<Json<Transaction>> {
    svc::revoke(&state, &caller.client, &key).await.map(Json)
}

pub async fn reserve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    match &req.payer {
        // `acceptTransactionUsingAllowance`/`UsingPin` with a `WalletIdentifier`.
        Some(payer) if req.reservation_code.is_none() && req.code.is_none() => {
            let wallet = reserve::payer_wallet(&state, payer).await?;
            reserve_by_wallet(&state, &caller, &key, wallet, req).await
        }
        _ => reserve::reserve_with_code(&state, &caller.client, &key, req)
            .await
            .map(Json),
    }
}

/// By PIN when the body has one, else by the wallet's active allowance.
async fn reserve_by_wallet(
    state: &AppState,
    caller: &Caller,
    key: &TransactionKey,
    wallet: WalletId,
    req: ReserveRequest,
) -> ApiResult<Json<Transaction>> {
    match req.pin.as_deref() {
        Some(pin) => reserve::reserve_with_pin(
            state,
            &caller.client,
            key,
            wallet,
            pin,
            req.payment_prices.as_ref(),
        )
        .await
        .map(Json),
        None => reserve::reserve_with_allowance(
            state,
            &caller.client,
            key,
            wallet,
            req.revoke_transactions.as_deref().unwrap_or_default(),
        )
        .await
        .map(Json),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let prices: Option<ConfirmPrices> = json::parse_optional(&body)?;
    svc::confirm(&state, &caller.client, &key, prices)
        .await
        .map(Json)
}

#[derive(Debug, serde::Deserialize)]
pub struct ReceiptQuery {
    locale: Option<String>,
    width: Option<String>,
}

pub async fn receipt(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
    Query(q): Query<ReceiptQuery>,
) -> ApiResult<Json<svc::Receipt>> {
    svc::receipt(
        &state,
        &caller.client,
        &key,
        q.locale.as_deref(),
        q.width.as_deref(),
    )
    .await
    .map(Json)
}

/// `PUT transaction/{key}/reserve/{wallet}`: with `{"pin": …}` the holder's PIN authorises the
/// reservation; without it, the active allowance of the wallet does.
pub async fn reserve_for_wallet(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    reserve_by_wallet(&state, &caller, &key, wallet, req).await
}

/// `PUT transaction/{key}/flash/{wallet}` (empty body).
pub async fn flash(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Transaction>> {
    flash::send(&state, &caller.client, &key, wallet)
        .await
        .map(Json)
}

pub async fn types(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Vec<&'static str>>> {
    svc::types(&state, &caller.client, &key, wallet)
        .await
        .map(Json)
}

pub async fn renew(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    KeyParam(key): KeyParam,
) -> ApiResult<Json<Transaction>> {
    svc::renew(&state, &caller.client, &key).await.map(Json)
}

pub async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<svc::SearchQuery>,
) -> ApiResult<Json<svc::TransactionPage>> {
    svc::search(&state, &caller.client, &q).await.map(Json)
}
