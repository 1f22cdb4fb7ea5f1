//! Handlers of `wallet` endpoints.

use crate::caller::Caller;
use crate::error::ApiResult;
use crate::service::tokens::wallet_in_path;
use crate::service::wallets as svc;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use wallet_client::types::{StatementPage, SufficientAmount, Wallet, WalletBalance};

use axum::Router;
use axum::routing::get;

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
    Path(id): Path<String>,
) -> ApiResult<Json<Wallet>> {
    let wallet = wallet_in_path(&state, caller.holder, &id).await?;
    svc::wallet(&state, &caller.client, caller.holder, wallet)
        .await
        .map(Json)
}

pub async fn balance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<WalletBalance>> {
    let wallet = wallet_in_path(&state, caller.holder, &id).await?;
    svc::balance(&state, &caller.client, caller.holder, wallet)
        .await
        .map(Json)
}

pub async fn statements(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<svc::StatementQuery>,
) -> ApiResult<Json<StatementPage>> {
    let wallet = wallet_in_path(&state, caller.holder, &id).await?;
    svc::statements(&state, &caller.client, caller.holder, wallet, &q)
        .await
        .map(Json)
}

pub async fn sufficient_amount(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<svc::AmountQuery>,
) -> ApiResult<Json<SufficientAmount>> {
    let wallet = wallet_in_path(&state, caller.holder, &id).await?;
    svc::sufficient_amount(&state, &caller.client, caller.holder, wallet, &q)
        .await
        .map(Json)
}
