//! Wallets as the API shows them: `GET wallet/{id}` and `GET wallet/{id}/balance`.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_client::types::{Account, CurrencyBalance, Wallet, WalletBalance};
use wallet_core::money::format_decimal;
use wallet_store::{ClientRow, Tx};

/// The account number shown for a wallet.
pub fn account_number(wallet_id: i64) -> String {
    format!("EVP{wallet_id:013}")
}

/// A client may read its own project's wallet; others are the holders' business.
async fn check_access(tx: &mut Tx, client: &ClientRow, wallet_id: i64) -> ApiResult<()> {
    let project = tx
        .project(client.project_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("client without project")))?;
    if project.wallet_id == wallet_id {
        return Ok(());
    }
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    Err(ApiError::Forbidden(format!(
        "wallet {wallet_id} is not this project's wallet; a holder's wallet needs the holder's authorisation"
    )))
}

/// Balance of every currency of a wallet, without an access check (admin).
pub async fn balance_unchecked(tx: &mut Tx, wallet_id: i64) -> ApiResult<WalletBalance> {
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    Ok(tx
        .wallet_accounts(wallet_id)
        .await?
        .into_iter()
        .map(|a| {
            let available = a.balance.available();
            // Frozen incoming money is shown as reserved: the holder sees it but cannot spend it.
            let reserved = a.balance.reserved + a.incoming;
            (
                a.currency.code().to_string(),
                CurrencyBalance {
                    at_disposal: available,
                    at_disposal_decimal: format_decimal(available, a.currency),
                    reserved,
                    reserved_decimal: format_decimal(reserved, a.currency),
                },
            )
        })
        .collect())
}

/// `GET wallet/{id}/balance`.
pub async fn balance(
    state: &AppState,
    client: &ClientRow,
    wallet_id: i64,
) -> ApiResult<WalletBalance> {
    let mut tx = state.store.read().await?;
    check_access(&mut tx, client, wallet_id).await?;
    balance_unchecked(&mut tx, wallet_id).await
}

/// `GET wallet/{id}`.
pub async fn wallet(state: &AppState, client: &ClientRow, wallet_id: i64) -> ApiResult<Wallet> {
    let mut tx = state.store.read().await?;
    check_access(&mut tx, client, wallet_id).await?;
    let w = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    Ok(Wallet {
        id: w.id,
        owner: w.owner_user_id,
        account: Account {
            number: account_number(w.id),
            owner_title: None,
            owner_display_name: None,
            description: None,
            kind: None,
            user_id: Some(w.owner_user_id),
        },
    })
}
