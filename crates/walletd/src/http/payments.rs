//! Handlers of `payment` endpoints.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::service::payments as svc;
use crate::service::transactions::{self as settle, SearchQuery};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use wallet_client::types::Payment;

use axum::Router;
use axum::routing::{get, post, put};

/// The `payment` routes (under MAC authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/payment/{id}", get(get_one).delete(cancel))
        .route("/rest/v1/payment/{id}/freeze", put(freeze))
        .route("/rest/v1/payment/{id}/finalize", put(finalize))
        .route("/rest/v1/payment", post(create))
        .route("/rest/v1/payments", get(search))
}

fn payment_id(text: &str) -> ApiResult<i64> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("payment {text:?} was not found")))
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Payment>> {
    svc::get(&state, &caller.client, payment_id(&id)?)
        .await
        .map(Json)
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Payment>> {
    settle::cancel(&state, &caller.client, payment_id(&id)?)
        .await
        .map(Json)
}

pub async fn freeze(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let change: settle::FreezeChange = json::parse(&body)?;
    settle::change_freeze(&state, &caller.client, payment_id(&id)?, change)
        .await
        .map(Json)
}

pub async fn finalize(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let price: Option<settle::FinalPrice> = json::parse_optional(&body)?;
    settle::finalize(&state, &caller.client, payment_id(&id)?, price)
        .await
        .map(Json)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let payment: wallet_client::types::NewPayment = json::parse(&body)?;
    svc::create(&state, &caller, payment).await.map(Json)
}

pub async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Query(q): axum::extract::Query<SearchQuery>,
) -> ApiResult<Json<svc::PaymentPage>> {
    svc::search(&state, &caller.client, &q).await.map(Json)
}
