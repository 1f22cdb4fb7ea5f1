//! Handlers of `wallet` endpoints.

use super::params::{Api, WalletIdParam};
use crate::error::ApiResult;
use crate::service::wallets as svc;
use crate::state::AppState;
use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
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

pub async fn wallet(api: Api, WalletIdParam(wallet): WalletIdParam) -> ApiResult<Json<Wallet>> {
    svc::wallet(&api.state, &api.caller, wallet).await.map(Json)
}

pub async fn balance(
    api: Api,
    WalletIdParam(wallet): WalletIdParam,
) -> ApiResult<Json<WalletBalance>> {
    svc::balance(&api.state, &api.caller, wallet)
        .await
        .map(Json)
}

pub async fn statements(
    api: Api,
    WalletIdParam(wallet): WalletIdParam,
    Query(q): Query<svc::StatementQuery>,
) -> ApiResult<Json<StatementPage>> {
    svc::statements(&api.state, &api.caller, wallet, &q)
        .await
        .map(Json)
}

pub async fn sufficient_amount(
    api: Api,
    WalletIdParam(wallet): WalletIdParam,
    Query(q): Query<svc::AmountQuery>,
) -> ApiResult<Json<SufficientAmount>> {
    svc::sufficient_amount(&api.state, &api.caller, wallet, &q)
        .await
        .map(Json)
}
