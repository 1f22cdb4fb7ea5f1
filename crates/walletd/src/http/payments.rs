//! Handlers of `payment` endpoints.

use super::params::{Api, IdParam};
use crate::error::ApiResult;
use crate::json;
use crate::service::payments as svc;
use crate::service::transactions::{self as settle, SearchQuery};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::Query;
use axum::routing::{get, post, put};
use axum::{Json, Router};
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

pub async fn get_one(api: Api, IdParam(id): IdParam<PaymentId>) -> ApiResult<Json<Payment>> {
    svc::get(&api.state, api.client(), id).await.map(Json)
}

pub async fn cancel(api: Api, IdParam(id): IdParam<PaymentId>) -> ApiResult<Json<Payment>> {
    settle::cancel(&api.state, api.client(), id).await.map(Json)
}

pub async fn freeze(
    api: Api,
    IdParam(id): IdParam<PaymentId>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let change: settle::FreezeChange = json::parse(&body)?;
    settle::change_freeze(&api.state, api.client(), id, change)
        .await
        .map(Json)
}

pub async fn finalize(
    api: Api,
    IdParam(id): IdParam<PaymentId>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let price: Option<settle::FinalPrice> = json::parse_optional(&body)?;
    settle::finalize(&api.state, api.client(), id, price)
        .await
        .map(Json)
}

pub async fn create(api: Api, body: Bytes) -> ApiResult<Json<Payment>> {
    let payment: NewPayment = json::parse(&body)?;
    svc::create(&api.state, &api.caller, payment)
        .await
        .map(Json)
}

pub async fn search(api: Api, Query(q): Query<SearchQuery>) -> ApiResult<Json<svc::PaymentPage>> {
    svc::search(&api.state, api.client(), &q).await.map(Json)
}
