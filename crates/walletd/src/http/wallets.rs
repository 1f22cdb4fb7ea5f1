//! Handlers of `wallet` endpoints.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::service::wallets as svc;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use wallet_client::types::{StatementPage, SufficientAmount, Wallet, WalletBalance};

fn wallet_id(text: &str) -> ApiResult<i64> {
    text.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "wallet {text:?} was not found (`me` needs a holder's access token)"
        ))
    })
}

pub async fn wallet(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Wallet>> {
    svc::wallet(&state, &caller.client, wallet_id(&id)?)
        .await
        .map(Json)
}

pub async fn balance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<WalletBalance>> {
    svc::balance(&state, &caller.client, wallet_id(&id)?)
        .await
        .map(Json)
}

pub async fn statements(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<svc::StatementQuery>,
) -> ApiResult<Json<StatementPage>> {
    svc::statements(&state, &caller.client, wallet_id(&id)?, &q)
        .await
        .map(Json)
}

pub async fn sufficient_amount(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<svc::AmountQuery>,
) -> ApiResult<Json<SufficientAmount>> {
    svc::sufficient_amount(&state, &caller.client, wallet_id(&id)?, &q)
        .await
        .map(Json)
}
