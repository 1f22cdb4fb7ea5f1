//! Path segments parsed once, at the edge, into the domain's ids: a handler receives a
//! [`TransactionKey`], a [`WalletId`] or a payment's or allowance's id, never a string. What
//! cannot be one is `not_found`, as a path to nothing is: without a lookup. [`Api`] is the state
//! and the authenticated caller every API handler works with.

use crate::caller::Caller;
use crate::error::ApiError;
use crate::service::tokens::wallet_in_path;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use std::collections::HashMap;
use wallet_core::ids::{Id, TransactionKey, UserId, WalletId};
use wallet_store::ClientRow;

/// What every API handler works with: the shared state and the caller that authentication proved.
pub struct Api {
    pub state: AppState,
    pub caller: Caller,
}

impl Api {
    /// The API client calling.
    pub fn client(&self) -> &ClientRow {
        &self.caller.client
    }
}

impl FromRequestParts<AppState> for Api {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("an API route runs without authentication"))
        })?;
        Ok(Api {
            state: state.clone(),
            caller,
        })
    }
}

/// The text of path parameter `name` (the route declares it).
async fn segment<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<String, ApiError> {
    let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::NotFound(format!("no such path: {e}")))?;
    params
        .remove(name)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the route has no {{{name}}}")))
}

/// `{key}`: a transaction key walletd could have issued.
pub struct KeyParam(pub TransactionKey);

impl<S: Send + Sync> FromRequestParts<S> for KeyParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let text = segment(parts, state, "key").await?;
        TransactionKey::parse(&text)
            .map(KeyParam)
            .ok_or_else(|| ApiError::NotFound(format!("transaction {text:?} was not found")))
    }
}

/// `{id}` of a payment or an allowance (`T`).
pub struct IdParam<T>(pub T);

impl<S: Send + Sync, T: Id> FromRequestParts<S> for IdParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let text = segment(parts, state, "id").await?;
        text.parse()
            .map(IdParam)
            .map_err(|_| ApiError::NotFound(format!("{} {text:?} was not found", T::WHAT)))
    }
}

/// `{wallet}` (or `{id}` in `wallet/{id}` paths): a wallet id, or `me`, the first wallet of the
/// holder whose access token signed the request.
pub struct WalletParam(pub WalletId);

impl FromRequestParts<AppState> for WalletParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        wallet(parts, state, "wallet").await.map(WalletParam)
    }
}

/// `wallet/{id}` paths: the same as [`WalletParam`], under the name `id`.
pub struct WalletIdParam(pub WalletId);

impl FromRequestParts<AppState> for WalletIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        wallet(parts, state, "id").await.map(WalletIdParam)
    }
}

async fn wallet(parts: &mut Parts, state: &AppState, name: &str) -> Result<WalletId, ApiError> {
    let text = segment(parts, state, name).await?;
    let holder = parts.extensions.get::<Caller>().and_then(|c| c.holder);
    wallet_in_path(state, holder, &text).await
}

/// `{id}` of `user/{id}` paths: a user id, or `me`, the holder whose access token signed the
/// request (`not_found` with client credentials, as `me` in wallet paths).
pub struct UserParam(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for UserParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let text = segment(parts, state, "id").await?;
        if text == "me" {
            return parts
                .extensions
                .get::<Caller>()
                .and_then(|c| c.holder)
                .map(UserParam)
                .ok_or_else(|| {
                    ApiError::NotFound(
                        "user \"me\" needs a request signed with a holder's access token".into(),
                    )
                });
        }
        text.parse()
            .map(UserParam)
            .map_err(|_| ApiError::NotFound(format!("user {text:?} was not found")))
    }
}

// How the document describes the path parameters above (they are parsed by the extractors).

/// `{key}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct KeyPath {
    /// The `transaction_key` walletd issued.
    key: TransactionKey,
}

/// `{wallet}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct WalletPath {
    /// A wallet id, or `me`: the wallet of the holder whose access token signed the request.
    #[param(pattern = "^([0-9]+|me)$")]
    wallet: String,
}

/// `{id}` of `wallet/{id}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct WalletIdPath {
    /// A wallet id, or `me`: the wallet of the holder whose access token signed the request.
    #[param(pattern = "^([0-9]+|me)$")]
    id: String,
}

/// `{id}` of `user/{id}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct UserIdPath {
    /// A user id, or `me`: the holder whose access token signed the request.
    #[param(pattern = "^([0-9]+|me)$")]
    id: String,
}

/// `{id}` of `payment/{id}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct PaymentPath {
    id: wallet_core::ids::PaymentId,
}

/// `{id}` of `allowance/{id}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only
pub struct AllowancePath {
    id: wallet_core::ids::AllowanceId,
}

/// The query string as `T`: axum's `Query`, with what cannot be read (a duplicate or missing
/// parameter, a NUL) answered `invalid_request` in the API's JSON error, not in axum's plain text.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        crate::json::refuse_encoded_nul(parts.uri.query().unwrap_or("").as_bytes())?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::invalid(format!("the query string: {}", e.body_text())))
    }
}
