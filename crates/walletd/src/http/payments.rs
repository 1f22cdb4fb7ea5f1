//! Handlers of `payment` endpoints.

use super::params::IdParam;
use crate::caller::Caller;
use crate::error::ApiResult;
use crate::json;
use crate::service::payments as svc;
use crate::service::transactions::{self as settle, SearchQuery};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use wallet_client::types::{NewPayment, Payment};
use wallet_core::ids::PaymentId;

/// The `payment` routes (under MAC authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/payment/{id}", get(get_one).delete(cancel))
        .route("/rest/v1/payment/{id}/freeze", put(freeze))
        .route("/rest/v1/payment/{id}/finalize", put(finalize))
        .route("/rest/v1/payment", post(create))
        .route("/rest/v1/payments", get(search))
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    IdParam(id): IdParam<PaymentId>,
) -> ApiResult<Json<Payment>> {
    svc::get(&state, &caller.client, id).await.map(Json)
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    IdParam(id): IdParam<PaymentId>,
) -> ApiResult<Json<Payment>> {
    settle::cancel(&state, &caller.client, id).await.map(Json)
}

pub async fn freeze(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    IdParam(id): IdParam<PaymentId>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let change: settle::FreezeChange = json::parse(&body)?;
    settle::change_freeze(&state, &caller.client, id, change)
        .await
        .map(Json)
}

pub async fn finalize(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    IdParam(id): IdParam<PaymentId>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let price: Option<settle::FinalPrice> = json::parse_optional(&body)?;
    settle::finalize(&state, &caller.client, id, price)
        .await
        .map(Json)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let payment: NewPayment = json::parse(&body)?;
    svc::create(&state, &caller, payment).await.map(Json)
}

pub async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<svc::PaymentPage>> {
    svc::search(&state, &caller.client, &q).await.map(Json)
}
