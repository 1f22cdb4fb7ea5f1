//! Handlers of `allowance` endpoints.

use super::params::{IdParam, WalletParam};
use crate::caller::Caller;
use crate::error::ApiResult;
use crate::json;
use crate::service::allowances as svc;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
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

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Json<Allowance>> {
    let req: NewAllowance = json::parse(&body)?;
    svc::create(&state, &caller, req).await.map(Json)
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    IdParam(id): IdParam<AllowanceId>,
) -> ApiResult<Json<Allowance>> {
    svc::get(&state, &caller.client, id).await.map(Json)
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    IdParam(id): IdParam<AllowanceId>,
) -> ApiResult<Json<Allowance>> {
    svc::cancel(&state, &caller.client, id).await.map(Json)
}

pub async fn active(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Allowance>> {
    svc::active(&state, &caller.client, wallet).await.map(Json)
}

pub async fn cancel_active(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Allowance>> {
    svc::cancel_active(&state, &caller.client, wallet)
        .await
        .map(Json)
}

#[derive(Debug, serde::Deserialize)]
pub struct LimitQuery {
    currency: Option<String>,
}

pub async fn limit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WalletParam(wallet): WalletParam,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<AllowanceAmount>> {
    svc::limit(&state, &caller.client, wallet, q.currency.as_deref())
        .await
        .map(Json)
}
