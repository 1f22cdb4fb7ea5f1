//! Handlers of `allowance` endpoints.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::service::allowances as svc;
use crate::service::tokens::wallet_in_path;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use wallet_client::types::{Allowance, AllowanceAmount, NewAllowance};

use axum::Router;
use axum::routing::{get, post};

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

fn allowance_id(text: &str) -> ApiResult<i64> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("allowance {text:?} was not found")))
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
    Path(id): Path<String>,
) -> ApiResult<Json<Allowance>> {
    svc::get(&state, &caller.client, allowance_id(&id)?)
        .await
        .map(Json)
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Allowance>> {
    svc::cancel(&state, &caller.client, allowance_id(&id)?)
        .await
        .map(Json)
}

pub async fn active(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(wallet): Path<String>,
) -> ApiResult<Json<Allowance>> {
    svc::active(
        &state,
        &caller.client,
        wallet_in_path(&state, caller.holder, &wallet).await?,
    )
    .await
    .map(Json)
}

pub async fn cancel_active(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(wallet): Path<String>,
) -> ApiResult<Json<Allowance>> {
    svc::cancel_active(
        &state,
        &caller.client,
        wallet_in_path(&state, caller.holder, &wallet).await?,
    )
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
    Path(wallet): Path<String>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<AllowanceAmount>> {
    svc::limit(
        &state,
        &caller.client,
        wallet_in_path(&state, caller.holder, &wallet).await?,
        q.currency.as_deref(),
    )
    .await
    .map(Json)
}
