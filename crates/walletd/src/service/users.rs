//! Users as their own access tokens show them: `GET user/{id|me}` and its `email`, `phone`,
//! `confirmed-phones`, `address`, `identity` and `wallets`.
//!
//! A user's data is hers (docs/decisions.md, "Users"): only a request signed with her access
//! token reads it, and only what the token's scope names (`email`, `phone`, `wallet_list`,
//! `address`, `identity`, or their `_offline` forms). Client credentials, or another holder's
//! token, are `forbidden` (an unknown user `not_found`, as for wallets).

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

/// Refuses unless the caller's token has `scope`.
fn need(caller: &Caller, scope: &str) -> ApiResult<()> {
    if caller.has_scope(scope) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "the access token has no scope {scope}"
        )))
    }
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
    need(caller, "email")?;
    Ok(h.email)
}

/// `GET user/{id}/phone`: her confirmed phone (`not_found` if she has none).
pub async fn phone(state: &AppState, caller: &Caller, user: UserId) -> ApiResult<String> {
    let mut tx = state.store.read().await?;
    let h = own(&mut tx, caller, user).await?;
    need(caller, "phone")?;
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
    need(caller, "phone")?;
    Ok(confirmed_phone(&h).into_iter().collect())
}

/// `GET user/{id}/wallets`: her wallets, oldest first.
pub async fn wallets(state: &AppState, caller: &Caller, user: UserId) -> ApiResult<Vec<Wallet>> {
    let mut tx = state.store.read().await?;
    own(&mut tx, caller, user).await?;
    need(caller, "wallet_list")?;
    let ids = tx.wallets_of_user(user).await?;
    Ok(ids.into_iter().map(|w| view(w, user)).collect())
}

/// `GET user/{id}/address` and `GET user/{id}/identity`: walletd keeps neither, so after the
/// checks every one is `not_found` (never an empty object: the PHP client reads an address's
/// fields without checking they are there).
pub async fn unkept(
    state: &AppState,
    caller: &Caller,
    user: UserId,
    what: &str,
) -> ApiResult<std::convert::Infallible> {
    let mut tx = state.store.read().await?;
    own(&mut tx, caller, user).await?;
    need(caller, what)?;
    Err(ApiError::NotFound(format!(
        "walletd keeps no {what} of its users"
    )))
}
