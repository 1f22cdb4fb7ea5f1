//! Handlers of `transaction` endpoints: parse, call the service, answer JSON.

use super::params::{Api, KeyParam, QueryParams, WalletParam};
use crate::apidoc::errors;
use crate::error::ApiResult;
use crate::json;
use crate::service::flash;
use crate::service::transactions::{self as svc, reserve};
use crate::state::AppState;
use axum::body::Bytes;

use super::params::{KeyPath, WalletPath};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{
    ConfirmPrice, ConfirmPrices, InquiredInformation, NewTransaction, PasswordRequest, Receipt,
    ReserveRequest, Transaction, TransactionPage,
};
use wallet_core::ids::{TransactionKey, WalletId};

/// The `transaction` routes (under MAC authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get_one, revoke))
        .routes(routes!(reserve))
        .routes(routes!(confirm))
        .routes(routes!(password))
        .routes(routes!(receipt))
        .routes(routes!(inquired_information))
        .routes(routes!(reserve_for_wallet))
        .routes(routes!(types))
        .routes(routes!(renew))
        .routes(routes!(search))
        .routes(routes!(flash))
}

errors!(mac CreateErrors = [InvalidState, LimitViolation]);
errors!(mac ReadErrors = [NotFound]);
errors!(mac ChangeErrors = [NotFound, InvalidState]);
// Reserving checks the payer (`payer::check`) and holds the money (`hold::hold_funds`).
errors!(mac ReserveErrors = [
    NotFound, InvalidState, UnsupportedGrantType, InvalidCode, CodeExpired,
    CodeRestrictionViolation, UserErrorLimitExceeded, NoActiveAllowance, AllowanceExceeded,
    ClientRestricted, NoRights, PayerAccountInactive, ClientNotVerified, RestrictionViolation,
    RestrictionLimitsExceeded, LimitsExceeded, PaymentToSameAccount, BeneficiaryAccountInactive,
    NotEnoughFunds,
]);
errors!(mac ReserveForWalletErrors = [
    NotFound, InvalidState, UnsupportedGrantType, InvalidCode, UserErrorLimitExceeded,
    NoActiveAllowance, AllowanceExceeded, ClientRestricted, NoRights, PayerAccountInactive,
    ClientNotVerified, RestrictionViolation, RestrictionLimitsExceeded, LimitsExceeded,
    PaymentToSameAccount, BeneficiaryAccountInactive, NotEnoughFunds,
]);
errors!(mac PasswordErrors = [NotFound, InvalidState, InvalidCode, UserErrorLimitExceeded]);
errors!(mac ReceiptErrors = [Forbidden, NotFound, InvalidState]);
// With `use_allowance` and an allowance that covers it, FLASH reserves at once.
errors!(mac FlashErrors = [
    NotFound, InvalidState, UnsupportedGrantType, PhoneNotConfirmed, ClientRestricted, NoRights,
    PayerAccountInactive, ClientNotVerified, RestrictionViolation, RestrictionLimitsExceeded,
    LimitsExceeded, PaymentToSameAccount, BeneficiaryAccountInactive, NotEnoughFunds,
]);
errors!(mac SearchErrors = []);

/// `POST transaction`: a new transaction of payments, with how it may be authorised.
#[utoipa::path(post, path = "/rest/v1/transaction", tag = "transactions",
    request_body = NewTransaction,
    responses((status = 200, description = "the transaction, `new`", body = Transaction), CreateErrors),
    security(("mac" = [])))]
pub async fn create(api: Api, body: Bytes) -> ApiResult<Json<Transaction>> {
    let req: NewTransaction = json::parse(&body)?;
    svc::create(&api.state, &api.caller, req).await.map(Json)
}

/// `GET transaction/{key}`: a reservation past its deadline is failed first.
#[utoipa::path(get, path = "/rest/v1/transaction/{key}", tag = "transactions", params(KeyPath),
    responses((status = 200, body = Transaction), ReadErrors), security(("mac" = [])))]
pub async fn get_one(api: Api, KeyParam(key): KeyParam) -> ApiResult<Json<Transaction>> {
    svc::get(&api.state, api.client(), &key).await.map(Json)
}

/// `GET transaction/{key}/inquired-information`: what the holder gave for the inquiries
/// (`{"items": []}` until she answered them on the confirmation page).
#[utoipa::path(get, path = "/rest/v1/transaction/{key}/inquired-information", tag = "transactions",
    params(KeyPath), responses((status = 200, body = InquiredInformation), ReadErrors),
    security(("mac" = [])))]
pub async fn inquired_information(
    api: Api,
    KeyParam(key): KeyParam,
) -> ApiResult<Json<InquiredInformation>> {
    svc::inquired_information(&api.state, api.client(), &key)
        .await
        .map(Json)
}

/// `DELETE transaction/{key}`: revoked; what was reserved is released.
#[utoipa::path(delete, path = "/rest/v1/transaction/{key}", tag = "transactions", params(KeyPath),
    responses((status = 200, description = "the transaction, `revoked`", body = Transaction), ChangeErrors),
    security(("mac" = [])))]
pub async fn revoke(api: Api, KeyParam(key): KeyParam) -> ApiResult<Json<Transaction>> {
    svc::revoke(&api.state, api.client(), &key).await.map(Json)
}

/// `PUT transaction/{key}/reserve`: reserved with a reservation code (`reservation_code` or
/// `code`), or for the `payer` by PIN (`pin`) or by its active allowance.
#[utoipa::path(put, path = "/rest/v1/transaction/{key}/reserve", tag = "transactions",
    params(KeyPath), request_body = Option<ReserveRequest>,
    responses((status = 200, description = "the transaction, `reserved` (or waiting)", body = Transaction), ReserveErrors),
    security(("mac" = [])))]
pub async fn reserve(
    api: Api,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    match &req.payer {
        // `acceptTransactionUsingAllowance`/`UsingPin` with a `WalletIdentifier`.
        Some(payer) if req.reservation_code.is_none() && req.code.is_none() => {
            let wallet = reserve::payer_wallet(&api.state, payer).await?;
            reserve_by_wallet(&api, &key, wallet, req).await
        }
        _ => reserve::reserve_with_code(&api.state, api.client(), &key, req)
            .await
            .map(Json),
    }
}

/// `PUT transaction/{key}/password`: the password of one payment of a transaction that waits
/// for it (`waiting_password`); once every awaited password is given it is `reserved` (or
/// `confirmed` with `auto_confirm`). A wrong password is `invalid_code` and counts; after 5 for
/// a payment every attempt is `user_error_limit_exceeded`.
#[utoipa::path(put, path = "/rest/v1/transaction/{key}/password", tag = "transactions",
    params(KeyPath), request_body = PasswordRequest,
    responses((status = 200, description = "the transaction, `reserved` (or still `waiting_password`)", body = Transaction), PasswordErrors),
    security(("mac" = [])))]
pub async fn password(
    api: Api,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: PasswordRequest = json::parse(&body)?;
    svc::give_password(&api.state, api.client(), &key, req)
        .await
        .map(Json)
}

/// By PIN when the body has one, else by the wallet's active allowance.
async fn reserve_by_wallet(
    api: &Api,
    key: &TransactionKey,
    wallet: WalletId,
    req: ReserveRequest,
) -> ApiResult<Json<Transaction>> {
    match req.pin.as_deref() {
        Some(pin) => reserve::reserve_with_pin(
            &api.state,
            api.client(),
            key,
            wallet,
            pin,
            req.payment_prices.as_ref(),
        )
        .await
        .map(Json),
        None => reserve::reserve_with_allowance(
            &api.state,
            api.client(),
            key,
            wallet,
            req.revoke_transactions.as_deref().unwrap_or_default(),
        )
        .await
        .map(Json),
    }
}

/// `PUT transaction/{key}/confirm`: the reserved money moves; prices may be lowered per payment.
#[utoipa::path(put, path = "/rest/v1/transaction/{key}/confirm", tag = "transactions",
    params(KeyPath), request_body = Option<BTreeMap<String, ConfirmPrice>>,
    responses((status = 200, description = "the transaction, `confirmed`", body = Transaction), ChangeErrors),
    security(("mac" = [])))]
pub async fn confirm(
    api: Api,
    KeyParam(key): KeyParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let prices: Option<ConfirmPrices> = json::parse_optional(&body)?;
    svc::confirm(&api.state, api.client(), &key, prices)
        .await
        .map(Json)
}

/// Query of `GET transaction/{key}/receipt`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// `en` (default), `lt` or `ru`.
    #[param(pattern = "^(en|lt|ru)$")]
    locale: Option<String>,
    /// Characters per line, 10 to 500.
    #[param(value_type = Option<i64>, minimum = 10, maximum = 500)]
    width: Option<String>,
}

/// `GET transaction/{key}/receipt`: texts to print, for confirmed transactions of clients granted
/// receipts.
#[utoipa::path(get, path = "/rest/v1/transaction/{key}/receipt", tag = "transactions",
    params(KeyPath, ReceiptQuery),
    responses((status = 200, body = Receipt), ReceiptErrors), security(("mac" = [])))]
pub async fn receipt(
    api: Api,
    KeyParam(key): KeyParam,
    QueryParams(q): QueryParams<ReceiptQuery>,
) -> ApiResult<Json<Receipt>> {
    svc::receipt(
        &api.state,
        api.client(),
        &key,
        q.locale.as_deref(),
        q.width.as_deref(),
    )
    .await
    .map(Json)
}

/// `PUT transaction/{key}/reserve/{wallet}`: with `{"pin": …}` the holder's PIN authorises the
/// reservation; without it, the active allowance of the wallet does.
#[utoipa::path(put, path = "/rest/v1/transaction/{key}/reserve/{wallet}", tag = "transactions",
    params(KeyPath, WalletPath), request_body = Option<ReserveRequest>,
    responses((status = 200, description = "the transaction, `reserved`", body = Transaction), ReserveForWalletErrors),
    security(("mac" = [])))]
pub async fn reserve_for_wallet(
    api: Api,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
    body: Bytes,
) -> ApiResult<Json<Transaction>> {
    let req: ReserveRequest = json::parse_optional(&body)?.unwrap_or_default();
    reserve_by_wallet(&api, &key, wallet, req).await
}

/// `PUT transaction/{key}/flash/{wallet}` (empty body): a FLASH SMS asks the holder to confirm.
#[utoipa::path(put, path = "/rest/v1/transaction/{key}/flash/{wallet}", tag = "transactions",
    params(KeyPath, WalletPath),
    responses((status = 200, description = "the transaction, waiting for the holder's answer", body = Transaction), FlashErrors),
    security(("mac" = [])))]
pub async fn flash(
    api: Api,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Transaction>> {
    flash::send(&api.state, api.client(), &key, wallet)
        .await
        .map(Json)
}

/// `GET transaction/{key}/type/{wallet}`: the ways the wallet could reserve the transaction now.
#[utoipa::path(get, path = "/rest/v1/transaction/{key}/type/{wallet}", tag = "transactions",
    params(KeyPath, WalletPath),
    responses((status = 200, description = "`allowance`, `pin`, … in order of preference", body = Vec<String>), ReadErrors),
    security(("mac" = [])))]
pub async fn types(
    api: Api,
    KeyParam(key): KeyParam,
    WalletParam(wallet): WalletParam,
) -> ApiResult<Json<Vec<&'static str>>> {
    svc::types(&api.state, api.client(), &key, wallet)
        .await
        .map(Json)
}

/// `POST transaction/renew/{key}`: a new transaction like a failed or revoked one.
#[utoipa::path(post, path = "/rest/v1/transaction/renew/{key}", tag = "transactions", params(KeyPath),
    responses((status = 200, description = "the new transaction, `new`", body = Transaction), ChangeErrors),
    security(("mac" = [])))]
pub async fn renew(api: Api, KeyParam(key): KeyParam) -> ApiResult<Json<Transaction>> {
    svc::renew(&api.state, api.client(), &key).await.map(Json)
}

/// `GET transactions`: the project's transactions, newest first.
#[utoipa::path(get, path = "/rest/v1/transactions", tag = "transactions", params(svc::SearchQuery),
    responses((status = 200, body = TransactionPage), SearchErrors), security(("mac" = [])))]
pub async fn search(
    api: Api,
    QueryParams(q): QueryParams<svc::SearchQuery>,
) -> ApiResult<Json<TransactionPage>> {
    svc::search(&api.state, api.client(), &q).await.map(Json)
}
