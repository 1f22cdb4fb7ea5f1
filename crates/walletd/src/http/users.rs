//! Handlers of `user/{id}` endpoints: a holder's data, through her own access token.

use super::params::{Api, UserIdPath, UserParam};
use crate::apidoc::errors;
use crate::error::ApiResult;
use crate::service::users as svc;
use crate::state::AppState;

use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{PoliticallyExposedPerson, User, UserAddress, UserIdentity, Wallet};

/// The `user` routes (under MAC authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user))
        .routes(routes!(email))
        .routes(routes!(phone))
        .routes(routes!(confirmed_phones))
        .routes(routes!(address))
        .routes(routes!(identity))
        .routes(routes!(pes))
        .routes(routes!(wallets))
}

errors!(mac UserErrors = [NotFound, Forbidden]);

/// `GET user/{id}`: the user's id, and her `email`, `phone` and `wallets` as the token's scopes allow.
#[utoipa::path(get, path = "/rest/v1/user/{id}", tag = "users", params(UserIdPath),
    responses((status = 200, body = User), UserErrors), security(("mac" = [])))]
pub async fn user(api: Api, UserParam(user): UserParam) -> ApiResult<Json<User>> {
    svc::user(&api.state, &api.caller, user).await.map(Json)
}

/// `GET user/{id}/email` (scope `email`): a JSON string.
#[utoipa::path(get, path = "/rest/v1/user/{id}/email", tag = "users", params(UserIdPath),
    responses((status = 200, body = String), UserErrors), security(("mac" = [])))]
pub async fn email(api: Api, UserParam(user): UserParam) -> ApiResult<Json<String>> {
    svc::email(&api.state, &api.caller, user).await.map(Json)
}

/// `GET user/{id}/phone` (scope `phone`): her confirmed phone, digits only, as a JSON string.
#[utoipa::path(get, path = "/rest/v1/user/{id}/phone", tag = "users", params(UserIdPath),
    responses((status = 200, body = String), UserErrors), security(("mac" = [])))]
pub async fn phone(api: Api, UserParam(user): UserParam) -> ApiResult<Json<String>> {
    svc::phone(&api.state, &api.caller, user).await.map(Json)
}

/// `GET user/{id}/confirmed-phones` (scope `phone`): her confirmed phones.
#[utoipa::path(get, path = "/rest/v1/user/{id}/confirmed-phones", tag = "users", params(UserIdPath),
    responses((status = 200, body = Vec<String>), UserErrors), security(("mac" = [])))]
pub async fn confirmed_phones(
    api: Api,
    UserParam(user): UserParam,
) -> ApiResult<Json<Vec<String>>> {
    svc::confirmed_phones(&api.state, &api.caller, user)
        .await
        .map(Json)
}

/// `GET user/{id}/wallets` (scope `wallet_list`): her wallets.
#[utoipa::path(get, path = "/rest/v1/user/{id}/wallets", tag = "users", params(UserIdPath),
    responses((status = 200, body = Vec<Wallet>), UserErrors), security(("mac" = [])))]
pub async fn wallets(api: Api, UserParam(user): UserParam) -> ApiResult<Json<Vec<Wallet>>> {
    svc::wallets(&api.state, &api.caller, user).await.map(Json)
}

/// `GET user/{id}/address` (scope `address`): walletd keeps no addresses, so `not_found`.
#[utoipa::path(get, path = "/rest/v1/user/{id}/address", tag = "users", params(UserIdPath),
    responses((status = 200, description = "the real API's shape; walletd keeps none, so never sent", body = UserAddress),
        UserErrors), security(("mac" = [])))]
pub async fn address(api: Api, UserParam(user): UserParam) -> ApiResult<Json<UserAddress>> {
    let never = svc::unkept(&api.state, &api.caller, user, "address").await?;
    match never {}
}

/// `GET user/{id}/identity` (scope `identity`): walletd keeps no identities, so `not_found`.
#[utoipa::path(get, path = "/rest/v1/user/{id}/identity", tag = "users", params(UserIdPath),
    responses((status = 200, description = "the real API's shape; walletd keeps none, so never sent", body = UserIdentity),
        UserErrors), security(("mac" = [])))]
pub async fn identity(api: Api, UserParam(user): UserParam) -> ApiResult<Json<UserIdentity>> {
    let never = svc::unkept(&api.state, &api.caller, user, "identity").await?;
    match never {}
}

/// `GET user/{id}/pes` (scope `pep`): walletd keeps no politically exposed persons, so `not_found`.
#[utoipa::path(get, path = "/rest/v1/user/{id}/pes", tag = "users", params(UserIdPath),
    responses((status = 200, description = "the real API's shape; walletd keeps none, so never sent", body = Vec<PoliticallyExposedPerson>),
        UserErrors), security(("mac" = [])))]
pub async fn pes(
    api: Api,
    UserParam(user): UserParam,
) -> ApiResult<Json<Vec<PoliticallyExposedPerson>>> {
    let never = svc::unkept(&api.state, &api.caller, user, "politically exposed persons").await?;
    match never {}
}
