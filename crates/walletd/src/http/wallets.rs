//! Handlers of `wallet` endpoints.

use super::params::{Api, QueryParams, WalletIdParam, WalletIdPath};
use crate::apidoc::errors;
use crate::error::ApiResult;
use crate::service::lookups;
use crate::service::wallets as svc;
use crate::state::AppState;

use axum::Json;
use axum::extract::RawQuery;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{
    CurrencyBalance, StatementPage, SufficientAmount, Wallet, WalletBalance, WalletBarcode,
    WalletsByContact,
};

/// The `wallet` routes (under MAC authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wallet))
        .routes(routes!(balance))
        .routes(routes!(statements))
        .routes(routes!(sufficient_amount))
        .routes(routes!(wallets_by_contacts))
        .routes(routes!(wallet_by))
        .routes(routes!(barcode_by))
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

/// The query of `GET wallets` (each parameter comma-separated; `email[]=` and repeated names too).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct ContactsQuery {
    /// E-mail addresses.
    email: Option<String>,
    /// Phone numbers (their digits are compared).
    phone: Option<String>,
    /// Lower-case hex SHA-1s of lower-cased e-mail addresses.
    email_hash: Option<String>,
    /// Lower-case hex SHA-1s of phone numbers' digits.
    phone_hash: Option<String>,
}

/// The query of `GET wallet` and `GET wallet/barcode`: exactly one criterion.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct WalletQuery {
    email: Option<String>,
    /// A confirmed phone (its digits are compared).
    phone: Option<String>,
    user_id: Option<i64>,
    /// `EVP` and 13 digits.
    account_number: Option<String>,
    /// What `GET wallet/barcode` gave.
    barcode: Option<String>,
}

errors!(mac LookupErrors = [NotFound]);

/// `GET wallets?email=…&phone=…&email_hash=…&phone_hash=…`: the wallets of up to 100 contacts,
/// each under the contact as asked; contacts of no wallet the client may find are left out.
#[utoipa::path(get, path = "/rest/v1/wallets", tag = "wallets", params(ContactsQuery),
    responses((status = 200, description = "contact as asked → wallet", body = BTreeMap<String, Wallet>), LookupErrors),
    security(("mac" = [])))]
pub async fn wallets_by_contacts(
    api: Api,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<WalletsByContact>> {
    lookups::wallets_by_contacts(&api.state, &api.caller, query.as_deref())
        .await
        .map(Json)
}

/// `GET wallet?email=…|phone=…|user_id=…|account_number=…|barcode=…`: the wallet one criterion names.
#[utoipa::path(get, path = "/rest/v1/wallet", tag = "wallets", params(WalletQuery),
    responses((status = 200, body = Wallet), LookupErrors), security(("mac" = [])))]
pub async fn wallet_by(api: Api, RawQuery(query): RawQuery) -> ApiResult<Json<Wallet>> {
    lookups::wallet_by(&api.state, &api.caller, query.as_deref())
        .await
        .map(Json)
}

/// `GET wallet/barcode?…` (the criteria of `GET wallet`): digits that identify the wallet.
#[utoipa::path(get, path = "/rest/v1/wallet/barcode", tag = "wallets", params(WalletQuery),
    responses((status = 200, body = WalletBarcode), LookupErrors), security(("mac" = [])))]
pub async fn barcode_by(api: Api, RawQuery(query): RawQuery) -> ApiResult<Json<WalletBarcode>> {
    lookups::barcode_by(&api.state, &api.caller, query.as_deref())
        .await
        .map(|barcode| Json(WalletBarcode { barcode }))
}
