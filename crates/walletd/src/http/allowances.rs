//! Handlers of `allowance` endpoints.

use super::params::{AllowancePath, Api, IdParam, QueryParams, WalletParam, WalletPath};
use crate::apidoc::errors;
use crate::error::ApiResult;
use crate::json;
use crate::service::allowances as svc;
use crate::state::AppState;
use axum::body::Bytes;

use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{Allowance, AllowanceAmount, NewAllowance};
use wallet_core::ids::AllowanceId;

/// The `allowance` routes (under MAC authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get_one, cancel))
        .routes(routes!(active, cancel_active))
        .routes(routes!(limit))
}

errors!(mac CreateErrors = []);
errors!(mac ReadErrors = [NotFound]);
errors!(mac CancelErrors = [NotFound, InvalidState]);
errors!(mac ActiveErrors = [NotFound, NoActiveAllowance]);

/// `POST allowance`: a new allowance, for a holder to accept on the confirmation page.
#[utoipa::path(post, path = "/rest/v1/allowance", tag = "allowances", request_body = NewAllowance,
    responses((status = 200, description = "the allowance, `new`", body = Allowance), CreateErrors),
    security(("mac" = [])))]
pub async fn create(api: Api, body: Bytes) -> ApiResult<Json<Allowance>> {
    let req: NewAllowance = json::parse(&body)?;
    svc::create(&api.state, &api.caller, req).await.map(Json)
}

/// `GET allowance/{id}`.
#[utoipa::path(get, path = "/rest/v1/allowance/{id}", tag = "allowances", params(AllowancePath),
    responses((status = 200, body = Allowance), ReadErrors), security(("mac" = [])))]
pub async fn get_one(api: Api, IdParam(id): IdParam<AllowanceId>) -> ApiResult<Json<Allowance>> {
    svc::get(&api.state, api.client(), id).await.map(Json)
}

/// `DELETE allowance/{id}`: the allowance canceled.
#[utoipa::path(delete, path = "/rest/v1/allowance/{id}", tag = "allowances", params(AllowancePath),
    responses((status = 200, body = Allowance), CancelErrors), security(("mac" = [])))]
pub async fn cancel(api: Api, IdParam(id): IdParam<AllowanceId>) -> ApiResult<Json<Allowance>> {
    svc::cancel(&api.state, api.client(), id).await.map(Json)
}

/// `GET allowance/active/{wallet}`: the wallet's active allowance for this client.
#[utoipa::path(get, path = "/rest/v1/allowance/active/{wallet}", tag = "allowances", params(WalletPath),
    responses((status = 200, body = Allowance), ActiveErrors), security(("mac" = [])))]
pub async fn active(api: Api, WalletParam(wallet): WalletParam) -> ApiResult<Json<Allowance>> {
    svc::active(&api.state, api.client(), wallet)
        .await
        .map(Json)
}

/// `DELETE allowance/active/{wallet}`: the wallet's active allowance canceled.
#[utoipa::path(delete, path = "/rest/v1/allowance/active/{wallet}", tag = "allowances", params(WalletPath),
    responses((status = 200, body = Allowance), ActiveErrors), security(("mac" = [])))]
pub async fn cancel_active(
    api: Api,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Allowance>> {
    svc::cancel_active(&api.state, api.client(), wallet)
        .await
        .map(Json)
}

/// Query of `GET allowance/limit/{wallet}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// ISO 4217; the allowance's currency by default.
    currency: Option<String>,
}

/// `GET allowance/limit/{wallet}`: what the active allowance lets through now.
#[utoipa::path(get, path = "/rest/v1/allowance/limit/{wallet}", tag = "allowances",
    params(WalletPath, LimitQuery),
    responses((status = 200, body = AllowanceAmount), ActiveErrors), security(("mac" = [])))]
pub async fn limit(
    api: Api,
    WalletParam(wallet): WalletParam,
    QueryParams(q): QueryParams<LimitQuery>,
) -> ApiResult<Json<AllowanceAmount>> {
    svc::limit(&api.state, api.client(), wallet, q.currency.as_deref())
        .await
        .map(Json)
}
