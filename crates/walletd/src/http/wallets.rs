//! Handlers of `wallet` endpoints.

use super::params::WalletIdParam;
use crate::caller::Caller;
use crate::error::ApiResult;
use crate::service::wallets as svc;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use wallet_client::types::{StatementPage, SufficientAmount, Wallet, WalletBalance};

/// The `wallet` routes (under MAC authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/wallet/{id}", get(wallet))
        .route("/rest/v1/wallet/{id}/balance", get(balance))
        .route("/rest/v1/wallet/{id}/statements", get(statements))
        .route(
            "/rest/v1/wallet/{id}/sufficient-amount",
            get(sufficient_amount),
        )
}

pub async fn wallet(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletIdParam(wallet): WalletIdParam,
) -> ApiResult<Json<Wallet>> {
    svc::wallet(&state, &caller.client, caller.holder, wallet)
        .await
        .map(Json)
}

pub async fn balance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletIdParam(wallet): WalletIdParam,
) -> ApiResult<Json<WalletBalance>> {
    svc::balance(&state, &caller.client, caller.holder, wallet)
        .await
        .map(Json)
}

pub async fn statements(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletIdParam(wallet): WalletIdParam,
    Query(q): Query<svc::StatementQuery>,
) -> ApiResult<Json<StatementPage>> {
    svc::statements(&state, &caller.client, caller.holder, wallet, &q)
        .await
        .map(Json)
}

pub async fn sufficient_amount(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletIdParam(wallet): WalletIdParam,
    Query(q): Query<svc::AmountQuery>,
) -> ApiResult<Json<SufficientAmount>> {
    svc::sufficient_amount(&state, &caller.client, caller.holder, wallet, &q)
        .await
        .map(Json)
}
