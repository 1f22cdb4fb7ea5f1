//! Handlers of `wallet` endpoints.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::service::wallets as svc;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use wallet_client::types::{Wallet, WalletBalance};

fn wallet_id(text: &str) -> ApiResult<i64> {
    text.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "wallet {text:?} was not found (`me` needs a holder's access token)"
        ))
    })
}

pub async fn wallet(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Wallet>> {
    svc::wallet(&state, &caller.client, wallet_id(&id)?)
        .await
        .map(Json)
}

pub async fn balance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<WalletBalance>> {
    svc::balance(&state, &caller.client, wallet_id(&id)?)
        .await
        .map(Json)
}
