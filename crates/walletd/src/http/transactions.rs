//! Handlers of `transaction` endpoints: parse, call the service, answer JSON.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::service::flash;
use crate::service::tokens::wallet_in_path;
use crate::service::transactions::{self as svc, reserve};
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use wallet_client::types::{ConfirmPrices, NewTransaction, ReserveRequest, Transaction};
use wallet_core::keys::is_plausible_key;

use axum::Router;
use axum::routing::{get, post, put};

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

fn key_or_404(key: &str) -> ApiResult<()> {
    if is_plausible_key(key) {
        Ok(())
    } else {
        Err(ApiError::not_found_transaction(key))
    }
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
    Path(key): Path<String>,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
    svc::get(&state, &caller.client, &key).await.map(Json)
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
    svc::revoke(&state, &caller.client, &key).await.map(Json)
}

pub async fn reserve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
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
    key: &str,
    wallet: i64,
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
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
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
    Path(key): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReceiptQuery>,
) -> ApiResult<Json<svc::Receipt>> {
    key_or_404(&key)?;
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
    Path((key, wallet)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
    let wallet = wallet_in_path(&state, caller.holder, &wallet).await?;
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    reserve_by_wallet(&state, &caller, &key, wallet, req).await
}

/// `PUT transaction/{key}/flash/{wallet}` (empty body).
pub async fn flash(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, wallet)): Path<(String, String)>,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
    let wallet = wallet_in_path(&state, caller.holder, &wallet).await?;
    flash::send(&state, &caller.client, &key, wallet)
        .await
        .map(Json)
}

pub async fn types(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, wallet)): Path<(String, String)>,
) -> ApiResult<Json<Vec<&'static str>>> {
    key_or_404(&key)?;
    let wallet = wallet_in_path(&state, caller.holder, &wallet).await?;
    svc::types(&state, &caller.client, &key, wallet)
        .await
        .map(Json)
}

pub async fn renew(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> ApiResult<Json<Transaction>> {
    key_or_404(&key)?;
    svc::renew(&state, &caller.client, &key).await.map(Json)
}

pub async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Query(q): axum::extract::Query<svc::SearchQuery>,
) -> ApiResult<Json<svc::TransactionPage>> {
    svc::search(&state, &caller.client, &q).await.map(Json)
}
