//! Handlers of `transaction` endpoints: parse, call the service, answer JSON.

use super::params::{Api, KeyParam, WalletParam};
use crate::error::ApiResult;
use crate::json;
use crate::service::flash;
use crate::service::transactions::{self as svc, reserve};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::Query;
use axum::routing::{get, post, put};
use axum::{Json, Router};
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

pub async fn create(api: Api, body: Bytes) -> ApiResult<Json<Transaction>> {
    let req: NewTransaction = json::parse(&body)?;
    svc::create(&api.state, &api.caller, req).await.map(Json)
}

pub async fn get_one(api: Api, KeyParam(key): KeyParam) -> ApiResult<Json<Transaction>> {
    svc::get(&api.state, api.client(), &key).await.map(Json)
}

pub async fn revoke(api: Api, KeyParam(key): KeyParam) -> ApiResult<Json<Transaction>> {
    svc::revoke(&api.state, api.client(), &key).await.map(Json)
}

pub async fn reserve(
    api: Api,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    match &req.payer {
        // `acceptTransactionUsingAllowance`/`UsingPin` with a `WalletIdentifier`.
        Some(payer) if req.reservation_code.is_none() && req.code.is_none() => {
            let wallet = reserve::payer_wallet(&api.state, payer).await?;
            reserve_by_wallet(&api, &key, wallet, req).await
        }
        _ => reserve::reserve_with_code(&api.state, api.client(), &key, req)
            .await
            .map(Json),
    }
}

/// By PIN when the body has one, else by the wallet's active allowance.
async fn reserve_by_wallet(
    api: &Api,
    key: &TransactionKey,
    wallet: WalletId,
    req: ReserveRequest,
) -> ApiResult<Json<Transaction>> {
    match req.pin.as_deref() {
        Some(pin) => reserve::reserve_with_pin(
            &api.state,
            api.client(),
            key,
            wallet,
            pin,
            req.payment_prices.as_ref(),
        )
        .await
        .map(Json),
        None => reserve::reserve_with_allowance(
            &api.state,
            api.client(),
            key,
            wallet,
            req.revoke_transactions.as_deref().unwrap_or_default(),
        )
        .await
        .map(Json),
    }
}

pub async fn confirm(
    api: Api,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let prices: Option<ConfirmPrices> = json::parse_optional(&body)?;
    svc::confirm(&api.state, api.client(), &key, prices)
        .await
        .map(Json)
}

#[derive(Debug, serde::Deserialize)]
pub struct ReceiptQuery {
    locale: Option<String>,
    width: Option<String>,
}

pub async fn receipt(
    api: Api,
    KeyParam(key): KeyParam,
    Query(q): Query<ReceiptQuery>,
) -> ApiResult<Json<svc::Receipt>> {
    svc::receipt(
        &api.state,
        api.client(),
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
    api: Api,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    reserve_by_wallet(&api, &key, wallet, req).await
}

/// `PUT transaction/{key}/flash/{wallet}` (empty body).
pub async fn flash(
    api: Api,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Transaction>> {
    flash::send(&api.state, api.client(), &key, wallet)
        .await
        .map(Json)
}

pub async fn types(
    api: Api,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Vec<&'static str>>> {
    svc::types(&api.state, api.client(), &key, wallet)
        .await
        .map(Json)
}

pub async fn renew(api: Api, KeyParam(key): KeyParam) -> ApiResult<Json<Transaction>> {
    svc::renew(&api.state, api.client(), &key).await.map(Json)
}

pub async fn search(
    api: Api,
    Query(q): Query<svc::SearchQuery>,
) -> ApiResult<Json<svc::TransactionPage>> {
    svc::search(&api.state, api.client(), &q).await.map(Json)
}
