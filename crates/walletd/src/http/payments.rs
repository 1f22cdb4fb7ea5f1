//! Handlers of `payment` endpoints.

use super::params::{Api, IdParam, PaymentPath, QueryParams};
use crate::apidoc::errors;
use crate::error::ApiResult;
use crate::json;
use crate::service::payments as svc;
use crate::service::transactions::{self as settle, SearchQuery};
use crate::state::AppState;
use axum::body::Bytes;

use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{FinalPrice, FreezeChange, NewPayment, Payment, PaymentPage};
use wallet_core::ids::PaymentId;

/// The `payment` routes (under MAC authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_one, cancel))
        .routes(routes!(freeze))
        .routes(routes!(finalize))
        .routes(routes!(create))
        .routes(routes!(search))
}

errors!(mac ReadErrors = [NotFound]);
errors!(mac ChangeErrors = [NotFound, InvalidState]);
errors!(mac CreateErrors = [LimitViolation]);
errors!(mac SearchErrors = []);

/// `GET payment/{id}`.
#[utoipa::path(get, path = "/rest/v1/payment/{id}", tag = "payments", params(PaymentPath),
    responses((status = 200, body = Payment), ReadErrors), security(("mac" = [])))]
pub async fn get_one(api: Api, IdParam(id): IdParam<PaymentId>) -> ApiResult<Json<Payment>> {
    svc::get(&api.state, api.client(), id).await.map(Json)
}

/// `DELETE payment/{id}`: a frozen payment canceled; the money returns to the payer.
#[utoipa::path(delete, path = "/rest/v1/payment/{id}", tag = "payments", params(PaymentPath),
    responses((status = 200, description = "the payment, `canceled`", body = Payment), ChangeErrors),
    security(("mac" = [])))]
pub async fn cancel(api: Api, IdParam(id): IdParam<PaymentId>) -> ApiResult<Json<Payment>> {
    settle::cancel(&api.state, api.client(), id).await.map(Json)
}

/// `PUT payment/{id}/freeze`: a new end of a confirmed payment's freeze (0: now).
#[utoipa::path(put, path = "/rest/v1/payment/{id}/freeze", tag = "payments", params(PaymentPath),
    request_body = FreezeChange,
    responses((status = 200, body = Payment), ChangeErrors), security(("mac" = [])))]
pub async fn freeze(
    api: Api,
    IdParam(id): IdParam<PaymentId>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let change: FreezeChange = json::parse(&body)?;
    settle::change_freeze(&api.state, api.client(), id, change)
        .await
        .map(Json)
}

/// `PUT payment/{id}/finalize`: a frozen payment paid out now, at the same or a lower price.
#[utoipa::path(put, path = "/rest/v1/payment/{id}/finalize", tag = "payments", params(PaymentPath),
    request_body = Option<FinalPrice>,
    responses((status = 200, description = "the payment, `done`", body = Payment), ChangeErrors),
    security(("mac" = [])))]
pub async fn finalize(
    api: Api,
    IdParam(id): IdParam<PaymentId>,
    body: Bytes,
) -> ApiResult<Json<Payment>> {
    let price: Option<FinalPrice> = json::parse_optional(&body)?;
    settle::finalize(&api.state, api.client(), id, price)
        .await
        .map(Json)
}

/// `POST payment`: a payment in a transaction of its own.
#[utoipa::path(post, path = "/rest/v1/payment", tag = "payments", request_body = NewPayment,
    responses((status = 200, description = "the payment, `new`", body = Payment), CreateErrors),
    security(("mac" = [])))]
pub async fn create(api: Api, body: Bytes) -> ApiResult<Json<Payment>> {
    let payment: NewPayment = json::parse(&body)?;
    svc::create(&api.state, &api.caller, payment)
        .await
        .map(Json)
}

/// `GET payments`: the project's payments, newest first.
#[utoipa::path(get, path = "/rest/v1/payments", tag = "payments", params(SearchQuery),
    responses((status = 200, body = PaymentPage), SearchErrors), security(("mac" = [])))]
pub async fn search(
    api: Api,
    QueryParams(q): QueryParams<SearchQuery>,
) -> ApiResult<Json<PaymentPage>> {
    svc::search(&api.state, api.client(), &q).await.map(Json)
}
