//! Wallets as the API shows them: `GET wallet/{id}` and `GET wallet/{id}/balance`.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::service::transactions::validate::{int_param, paging};
use crate::state::AppState;
use wallet_client::types::{
    Account, CurrencyBalance, Metadata, OtherParty, Statement, StatementPage, SufficientAmount,
    Wallet, WalletBalance,
};
use wallet_core::ids::{HoldId, UserId, WalletId};
use wallet_core::money::{Currency, format_decimal};
use wallet_store::Tx;

/// The account number shown for a wallet.
pub fn account_number(wallet_id: WalletId) -> String {
    format!("EVP{wallet_id:013}")
}

/// Whether the caller may read the wallet of `owner`: a client its own project's wallet, a holder
/// (through her access token) her own wallets; others are the holders' business.
pub(crate) async fn readable(
    tx: &mut Tx,
    caller: &Caller,
    wallet_id: WalletId,
    owner: UserId,
) -> ApiResult<bool> {
    if caller.holder == Some(owner) {
        return Ok(true);
    }
    let project_wallet = match caller.project {
        Some(p) => p.wallet_id,
        None => {
            tx.project(caller.client.project_id)
                .await?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("client without project")))?
                .wallet_id
        }
    };
    Ok(project_wallet == wallet_id)
}

/// [`readable`], or the refusal: `not_found` for no wallet, `forbidden` for another's.
async fn check_access(tx: &mut Tx, caller: &Caller, wallet_id: WalletId) -> ApiResult<()> {
    let w = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    if readable(tx, caller, wallet_id, w.owner_user_id).await? {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "wallet {wallet_id} is not this project's wallet; a holder's wallet needs the holder's authorisation"
    )))
}

/// A wallet as the API shows it: its id, owner and account number.
pub(crate) fn view(id: WalletId, owner: UserId) -> Wallet {
    Wallet {
        id,
        owner,
        account: Account {
            number: account_number(id),
            owner_title: None,
            owner_display_name: None,
            description: None,
            kind: None,
            user_id: Some(owner),
        },
    }
}

/// Balance of every currency of a wallet, without an access check (admin).
pub async fn balance_unchecked(tx: &mut Tx, wallet_id: WalletId) -> ApiResult<WalletBalance> {
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
    caller: &Caller,
    wallet_id: WalletId,
) -> ApiResult<WalletBalance> {
    let mut tx = state.store.read().await?;
    check_access(&mut tx, caller, wallet_id).await?;
    balance_unchecked(&mut tx, wallet_id).await
}

/// `GET wallet/{id}`.
pub async fn wallet(state: &AppState, caller: &Caller, wallet_id: WalletId) -> ApiResult<Wallet> {
    let mut tx = state.store.read().await?;
    check_access(&mut tx, caller, wallet_id).await?;
    let w = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    Ok(view(w.id, w.owner_user_id))
}

/// Query of `GET wallet/{id}/statements`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// 1 to 200 (20 by default).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Comma-separated currencies.
    pub currency: Option<String>,
    /// UNIX time.
    #[param(value_type = Option<i64>)]
    pub from: Option<String>,
    /// UNIX time.
    #[param(value_type = Option<i64>)]
    pub to: Option<String>,
}

/// `GET wallet/{id}/statements`: the wallet's ledger entries, newest first.
pub async fn statements(
    state: &AppState,
    caller: &Caller,
    wallet_id: WalletId,
    q: &StatementQuery,
) -> ApiResult<StatementPage> {
    let filter = statement_filter(wallet_id, q)?;
    let mut tx = state.store.read().await?;
    check_access(&mut tx, caller, wallet_id).await?;
    statement_page(&mut tx, &filter).await
}

/// The statements of a wallet whose access the caller has already checked (the holder app).
pub(crate) async fn statements_of(
    tx: &mut Tx,
    wallet_id: WalletId,
    q: &StatementQuery,
) -> ApiResult<StatementPage> {
    let filter = statement_filter(wallet_id, q)?;
    statement_page(tx, &filter).await
}

/// Reads the query's parameters (before any access check: a bad query is a 400 for anyone).
fn statement_filter(
    wallet_id: WalletId,
    q: &StatementQuery,
) -> ApiResult<wallet_store::StatementFilter> {
    let (limit, offset) = paging(&q.limit, &q.offset)?;
    let currencies = q
        .currency
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| Currency::parse(c).map(|c| c.code().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(wallet_store::StatementFilter {
        wallet_id,
        currencies,
        from: int_param("from", &q.from)?,
        to: int_param("to", &q.to)?,
        limit,
        offset,
    })
}

/// One page of a wallet's ledger entries as the API shows them.
async fn statement_page(
    tx: &mut Tx,
    filter: &wallet_store::StatementFilter,
) -> ApiResult<StatementPage> {
    let (total, rows) = tx.statements(filter).await?;
    let statements = rows
        .into_iter()
        .map(|r| {
            let currency = Currency::parse(&r.currency).ok();
            let amount = currency
                .map(|c| format_decimal(r.amount.abs(), c))
                .unwrap_or_else(|| r.amount.abs().to_string());
            let details = match (&r.description, r.kind.as_str()) {
                (Some(d), _) => d.clone(),
                (None, "payment") => format!(
                    "Payment of transaction {}",
                    r.transaction_key.as_deref().unwrap_or("-")
                ),
                (None, kind) => kind.replace('_', " "),
            };
            Statement {
                id: r.id,
                amount,
                currency: r.currency,
                date: r.date,
                details,
                direction: if r.amount < 0 { "out" } else { "in" }.to_string(),
                kind: Some(r.kind),
                other_party: r.other_wallet.map(|w| OtherParty {
                    name: None,
                    account_number: Some(account_number(w)),
                    display_name: None,
                }),
                transfer_id: r.transfer_id.map(HoldId::get),
            }
        })
        .collect();
    Ok(StatementPage {
        statements,
        metadata: Metadata {
            total,
            offset: filter.offset,
            limit: filter.limit,
        },
    })
}

/// Query of `GET wallet/{id}/sufficient-amount`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AmountQuery {
    /// Minor units.
    #[param(value_type = i64, minimum = 0)]
    pub amount: Option<String>,
    /// ISO 4217.
    #[param(value_type = String)]
    pub currency: Option<String>,
}

/// `GET wallet/{id}/sufficient-amount?amount=<cents>&currency=`: whether the wallet has that much
/// at its disposal. Only for the project's own wallet and wallets whose holder gave this client an
/// active allowance: a yes/no oracle on anyone's balance would leak it.
pub async fn sufficient_amount(
    state: &AppState,
    caller: &Caller,
    wallet_id: WalletId,
    q: &AmountQuery,
) -> ApiResult<SufficientAmount> {
    let amount = int_param("amount", &q.amount)?
        .filter(|a| *a >= 0)
        .ok_or_else(|| ApiError::invalid("amount (minor units, not negative) is required"))?;
    let currency = Currency::parse(
        q.currency
            .as_deref()
            .ok_or_else(|| ApiError::invalid("currency is required"))?,
    )?;
    let now = state.now();
    let mut tx = state.store.read().await?;
    if tx
        .active_allowance(caller.client.id, wallet_id, now)
        .await?
        .is_none()
    {
        check_access(&mut tx, caller, wallet_id).await?;
    }
    let available = tx
        .wallet_accounts(wallet_id)
        .await?
        .into_iter()
        .find(|a| a.currency == currency)
        .map(|a| a.balance.available())
        .unwrap_or(0);
    Ok(SufficientAmount {
        is_sufficient: available >= amount,
    })
}
