//! Users as their own access tokens show them: `GET user/{id|me}` and its `email`, `phone`,
//! `confirmed-phones`, `address`, `identity`, `pes` and `wallets`.
//!
//! A user's data is hers (docs/decisions.md, "Users"): only a request signed with her access
//! token reads it, and only what the token's scope names (`email`, `phone`, `wallet_list`,
//! `address`, `identity`, `pep`, or their `_offline` forms: each route's scope is checked before
//! it runs, `http::scope`). Client credentials, or another holder's token, are `forbidden` (an
//! unknown user `not_found`, as for wallets).

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::service::wallets::view;
use crate::state::AppState;
use wallet_client::types::{User, Wallet};
use wallet_core::contacts::phone_key;
use wallet_core::ids::UserId;
use wallet_store::{HolderRow, Tx};

/// The user, if the caller is her access token; else the refusal.
async fn own(tx: &mut Tx, caller: &Caller, user: UserId) -> ApiResult<HolderRow> {
    let holder = tx
        .holder(user)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {user} was not found")))?;
    if caller.holder != Some(user) {
        return Err(ApiError::Forbidden(format!(
            "user {user}'s data is read only with her own access token"
        )));
    }
    Ok(holder)
}

/// Her confirmed phone, digits only (as the API's phones are written).
fn confirmed_phone(h: &HolderRow) -> Option<String> {
    h.phone
        .as_deref()
        .filter(|_| h.phone_confirmed)
        .map(phone_key)
}

/// `GET user/{id}`: her id, and what the token's scopes show.
pub async fn user(state: &AppState, caller: &Caller, user: UserId) -> ApiResult<User> {
    let mut tx = state.store.read().await?;
    let h = own(&mut tx, caller, user).await?;
    let wallets = if caller.has_scope("wallet_list") {
        Some(tx.wallets_of_user(user).await?)
    } else {
        None
    };
    Ok(User {
        id: user,
        email: caller.has_scope("email").then(|| h.email.clone()),
        phone: confirmed_phone(&h).filter(|_| caller.has_scope("phone")),
        wallets,
    })
}

/// `GET user/{id}/email`.
pub async fn email(state: &AppState, caller: &Caller, user: UserId) -> ApiResult<String> {
    let mut tx = state.store.read().await?;
    let h = own(&mut tx, caller, user).await?;
    Ok(h.email)
}

/// `GET user/{id}/phone`: her confirmed phone (`not_found` if she has none).
pub async fn phone(state: &AppState, caller: &Caller, user: UserId) -> ApiResult<String> {
    let mut tx = state.store.read().await?;
    let h = own(&mut tx, caller, user).await?;
    confirmed_phone(&h)
        .ok_or_else(|| ApiError::NotFound(format!("user {user} has no confirmed phone")))
}

/// `GET user/{id}/confirmed-phones`: her confirmed phones (walletd keeps one at most).
pub async fn confirmed_phones(
    state: &AppState,
    caller: &Caller,
    user: UserId,
) -> ApiResult<Vec<String>> {
    let mut tx = state.store.read().await?;
    let h = own(&mut tx, caller, user).await?;
    Ok(confirmed_phone(&h).into_iter().collect())
}

/// `GET user/{id}/wallets`: her wallets, oldest first.
pub async fn wallets(state: &AppState, caller: &Caller, user: UserId) -> ApiResult<Vec<Wallet>> {
    let mut tx = state.store.read().await?;
    own(&mut tx, caller, user).await?;
    let ids = tx.wallets_of_user(user).await?;
    Ok(ids.into_iter().map(|w| view(w, user)).collect())
}

/// `GET user/{id}/address`, `/identity` and `/pes` (her politically exposed persons): walletd keeps
/// none of them, so after the checks every one is `not_found` (never an empty object or list: the
/// PHP client reads an address's fields without checking they are there, and an empty `pes` would
/// say she declared none).
pub async fn unkept(
    state: &AppState,
    caller: &Caller,
    user: UserId,
    what: &str,
) -> ApiResult<std::convert::Infallible> {
    let mut tx = state.store.read().await?;
    own(&mut tx, caller, user).await?;
    Err(ApiError::NotFound(format!(
        "walletd keeps no {what} of its users"
    )))
}
