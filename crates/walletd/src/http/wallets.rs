//! Handlers of `wallet` endpoints.

use super::params::{Api, QueryParams, WalletIdParam, WalletIdPath};
use crate::apidoc::errors;
use crate::error::ApiResult;
use crate::service::wallets as svc;
use crate::state::AppState;

use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{
    CurrencyBalance, StatementPage, SufficientAmount, Wallet, WalletBalance,
};

/// The `wallet` routes (under MAC authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wallet))
        .routes(routes!(balance))
        .routes(routes!(statements))
        .routes(routes!(sufficient_amount))
}

errors!(mac ReadErrors = [NotFound, Forbidden]);

/// `GET wallet/{id}`.
#[utoipa::path(get, path = "/rest/v1/wallet/{id}", tag = "wallets", params(WalletIdPath),
    responses((status = 200, body = Wallet), ReadErrors), security(("mac" = [])))]
pub async fn wallet(api: Api, WalletIdParam(wallet): WalletIdParam) -> ApiResult<Json<Wallet>> {
    svc::wallet(&api.state, &api.caller, wallet).await.map(Json)
}

/// `GET wallet/{id}/balance`: per currency, at disposal and reserved.
#[utoipa::path(get, path = "/rest/v1/wallet/{id}/balance", tag = "wallets", params(WalletIdPath),
    responses((status = 200, description = "currency code → balance", body = BTreeMap<String, CurrencyBalance>), ReadErrors),
    security(("mac" = [])))]
pub async fn balance(
    api: Api,
    WalletIdParam(wallet): WalletIdParam,
) -> ApiResult<Json<WalletBalance>> {
    svc::balance(&api.state, &api.caller, wallet)
        .await
        .map(Json)
}

/// `GET wallet/{id}/statements`: the wallet's ledger entries, newest first.
#[utoipa::path(get, path = "/rest/v1/wallet/{id}/statements", tag = "wallets",
    params(WalletIdPath, svc::StatementQuery),
    responses((status = 200, body = StatementPage), ReadErrors), security(("mac" = [])))]
pub async fn statements(
    api: Api,
    WalletIdParam(wallet): WalletIdParam,
    QueryParams(q): QueryParams<svc::StatementQuery>,
) -> ApiResult<Json<StatementPage>> {
    svc::statements(&api.state, &api.caller, wallet, &q)
        .await
        .map(Json)
}

/// `GET wallet/{id}/sufficient-amount`: whether the wallet has that much at its disposal.
#[utoipa::path(get, path = "/rest/v1/wallet/{id}/sufficient-amount", tag = "wallets",
    params(WalletIdPath, svc::AmountQuery),
    responses((status = 200, body = SufficientAmount), ReadErrors), security(("mac" = [])))]
pub async fn sufficient_amount(
    api: Api,
    WalletIdParam(wallet): WalletIdParam,
    QueryParams(q): QueryParams<svc::AmountQuery>,
) -> ApiResult<Json<SufficientAmount>> {
    svc::sufficient_amount(&api.state, &api.caller, wallet, &q)
        .await
        .map(Json)
}
