//! Operator settings behind `walletd admin user|wallet|project|sms`: what a wallet operator knows
//! and decides about holders, wallets and projects, and the SMS outbox.

use crate::error::{ApiError, ApiResult};
use crate::service::transactions::beneficiary::normalize_phone;
use crate::service::transactions::people::resolve_for_user;
use crate::state::AppState;
use serde::Serialize;
use wallet_core::allowance::{MAX_WINDOW_SECS, WindowLimit};
use wallet_core::ids::{ProjectId, TransactionKey, UserId, WalletId};
use wallet_core::money::{Currency, format_decimal, parse_decimal};
use wallet_store::{HolderUpdate, LimitKind};

/// A holder as `walletd admin user set` prints it.
#[derive(Debug, Serialize)]
pub struct HolderView {
    pub user_id: UserId,
    pub email: String,
    pub phone: Option<String>,
    pub phone_confirmed: bool,
    pub identity_verified: bool,
    pub restricted: bool,
    pub person_type: String,
}

/// Changes a holder's phone, verification, restriction or person type.
pub async fn set_holder(
    state: &AppState,
    user_id: UserId,
    u: HolderUpdate,
) -> ApiResult<HolderView> {
    if let Some(t) = &u.person_type
        && t != "natural"
        && t != "legal"
    {
        return Err(ApiError::invalid("person type must be natural or legal"));
    }
    let mut tx = state.store.write().await?;
    if !tx.update_holder(user_id, &u).await? {
        return Err(ApiError::NotFound(format!("user {user_id} was not found")));
    }
    let h = tx
        .holder(user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {user_id} was not found")))?;
    // A phone confirmed now: payments waiting for that person go to the holder's wallet.
    let confirmed = h.phone.as_deref().filter(|_| h.phone_confirmed);
    if let Some(phone) = confirmed.and_then(|p| normalize_phone(p).ok())
        && let Some(wallet) = tx.wallets_of_user(user_id).await?.first().copied()
    {
        resolve_for_user(&mut tx, None, Some(&phone), wallet, state.now()).await?;
    }
    tx.commit().await?;
    Ok(HolderView {
        user_id: h.user_id,
        email: h.email,
        phone: h.phone,
        phone_confirmed: h.phone_confirmed,
        identity_verified: h.identity_verified,
        restricted: h.restricted,
        person_type: h.person_type,
    })
}

/// A wallet's flags as `walletd admin wallet set` prints them.
#[derive(Debug, Serialize)]
pub struct WalletFlags {
    pub wallet_id: WalletId,
    pub active: bool,
    pub can_pay: bool,
}

/// Activates or deactivates a wallet, or lets or stops its holder spend from it.
pub async fn set_wallet(
    state: &AppState,
    wallet_id: WalletId,
    active: Option<bool>,
    can_pay: Option<bool>,
) -> ApiResult<WalletFlags> {
    let mut tx = state.store.write().await?;
    let w = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    if let Some(a) = active {
        tx.set_wallet_active(w.id, a).await?;
    }
    if let Some(c) = can_pay {
        tx.set_wallet_can_pay(w.id, c).await?;
    }
    let w = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    tx.commit().await?;
    Ok(WalletFlags {
        wallet_id: w.id,
        active: w.active,
        can_pay: w.can_pay,
    })
}

/// One spending limit, as the admin commands print it.
#[derive(Debug, Serialize)]
pub struct LimitView {
    pub currency: String,
    pub kind: &'static str,
    pub max_amount: String,
    pub period_seconds: i64,
}

/// Sets (`max_amount` given) or removes a wallet's spending limit per rolling `period` seconds:
/// the holder's own, or with `restriction` the operator's temporary one.
pub async fn set_wallet_limit(
    state: &AppState,
    wallet_id: WalletId,
    currency: &str,
    max_amount: Option<&str>,
    period: i64,
    restriction: bool,
) -> ApiResult<Vec<LimitView>> {
    let currency = Currency::parse(currency)?;
    let kind = if restriction {
        LimitKind::Restriction
    } else {
        LimitKind::Holder
    };
    let limit = max_amount
        .map(|m| parse_decimal(m, currency))
        .transpose()?
        .map(|max_price| WindowLimit {
            max_price,
            time: period,
        });
    if limit.is_some() && !(1..=MAX_WINDOW_SECS).contains(&period) {
        return Err(ApiError::invalid(format!(
            "period must be from 1 to {MAX_WINDOW_SECS} seconds"
        )));
    }
    let mut tx = state.store.write().await?;
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    tx.set_wallet_limit(wallet_id, currency, kind, limit)
        .await?;
    let limits = tx.wallet_limits(wallet_id, currency).await?;
    tx.commit().await?;
    Ok(limits
        .into_iter()
        .map(|(k, l)| LimitView {
            currency: currency.code().to_string(),
            kind: k.as_str(),
            max_amount: format_decimal(l.max_price, currency),
            period_seconds: l.time,
        })
        .collect())
}

/// A project's limit per transaction, as `walletd admin project set-limit` prints it.
#[derive(Debug, Serialize)]
pub struct ProjectLimitView {
    pub project_id: ProjectId,
    pub currency: String,
    pub max_amount: Option<String>,
}

/// Sets or removes the most one transaction of a project may total in a currency.
pub async fn set_project_limit(
    state: &AppState,
    project_id: ProjectId,
    currency: &str,
    max_amount: Option<&str>,
) -> ApiResult<ProjectLimitView> {
    let currency = Currency::parse(currency)?;
    let max = max_amount.map(|m| parse_decimal(m, currency)).transpose()?;
    if max.is_some_and(|m| m <= 0) {
        return Err(ApiError::invalid("the limit must be positive"));
    }
    let mut tx = state.store.write().await?;
    if tx.project(project_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "project {project_id} was not found"
        )));
    }
    tx.set_project_limit(project_id, currency, max).await?;
    tx.commit().await?;
    Ok(ProjectLimitView {
        project_id,
        currency: currency.code().to_string(),
        max_amount: max.map(|m| format_decimal(m, currency)),
    })
}

/// A message of the SMS outbox.
#[derive(Debug, Serialize)]
pub struct SmsView {
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub transaction_key: Option<TransactionKey>,
    pub created_at: i64,
}

/// The SMS outbox, newest first.
pub async fn sms_list(
    state: &AppState,
    phone: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<SmsView>> {
    let mut tx = state.store.read().await?;
    Ok(tx
        .sms_messages(phone, limit.clamp(1, 1000))
        .await?
        .into_iter()
        .map(|m| SmsView {
            id: m.id,
            phone: m.phone,
            body: m.body,
            transaction_key: m.transaction_key,
            created_at: m.created_at,
        })
        .collect())
}
