//! Handlers of `allowance` endpoints.

use super::params::{Api, IdParam, WalletParam};
use crate::error::ApiResult;
use crate::json;
use crate::service::allowances as svc;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::Query;
use axum::routing::{get, post};
use axum::{Json, Router};
use wallet_client::types::{Allowance, AllowanceAmount, NewAllowance};
use wallet_core::ids::AllowanceId;

/// The `allowance` routes (under MAC authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/allowance", post(create))
        .route("/rest/v1/allowance/{id}", get(get_one).delete(cancel))
        .route(
            "/rest/v1/allowance/active/{wallet}",
            get(active).delete(cancel_active),
        )
        .route("/rest/v1/allowance/limit/{wallet}", get(limit))
}

pub async fn create(api: Api, body: Bytes) -> ApiResult<Json<Allowance>> {
    let req: NewAllowance = json::parse(&body)?;
    svc::create(&api.state, &api.caller, req).await.map(Json)
}

pub async fn get_one(api: Api, IdParam(id): IdParam<AllowanceId>) -> ApiResult<Json<Allowance>> {
    svc::get(&api.state, api.client(), id).await.map(Json)
}

pub async fn cancel(api: Api, IdParam(id): IdParam<AllowanceId>) -> ApiResult<Json<Allowance>> {
    svc::cancel(&api.state, api.client(), id).await.map(Json)
}

pub async fn active(api: Api, WalletParam(wallet): WalletParam) -> ApiResult<Json<Allowance>> {
    svc::active(&api.state, api.client(), wallet)
        .await
        .map(Json)
}

pub async fn cancel_active(
    api: Api,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Allowance>> {
    svc::cancel_active(&api.state, api.client(), wallet)
        .await
        .map(Json)
}

#[derive(Debug, serde::Deserialize)]
pub struct LimitQuery {
    currency: Option<String>,
}

pub async fn limit(
    api: Api,
    WalletParam(wallet): WalletParam,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<AllowanceAmount>> {
    svc::limit(&api.state, api.client(), wallet, q.currency.as_deref())
        .await
        .map(Json)
}
