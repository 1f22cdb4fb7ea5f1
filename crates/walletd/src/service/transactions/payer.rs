//! Whether the payer may pay: the checks every way of reserving runs before holding funds,
//! each answered with the spec's own error (`authorising-transactions.txt`, "Errors").

use crate::error::{ApiError, ApiResult};
use serde_json::Value;
use std::collections::BTreeMap;
use wallet_core::Currency;
use wallet_core::allowance::Terms;
use wallet_core::money::format_decimal;
use wallet_store::{LimitKind, PayerRow, PaymentRow, TransactionRow, Tx};

/// Refuses the payment when the payer's holder or wallet may not make it, in this order:
/// `client_restricted`, `no_rights`, `payer_account_inactive`, `client_not_verified`,
/// `restriction_violation`, `restriction_limits_exceeded`, `limits_exceeded`.
pub(crate) async fn check(
    tx: &mut Tx,
    t: &TransactionRow,
    payer_row: &PayerRow,
    payments: &[PaymentRow],
    selected: &[i64],
    now: i64,
) -> ApiResult<()> {
    let payer = &payer_row.wallet;
    let holder = payer_row
        .holder
        .as_ref()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("wallet {} has no holder", payer.id)))?;
    if holder.restricted {
        return Err(ApiError::ClientRestricted(
            "the payer's account is restricted: no transactions until the restriction is removed"
                .into(),
        ));
    }
    if !payer.can_pay {
        return Err(ApiError::NoRights(
            "the holder has no rights to make transfers from this wallet".into(),
        ));
    }
    if !payer.active {
        return Err(ApiError::PayerAccountInactive(
            "the payer's wallet is inactive and cannot make payments".into(),
        ));
    }
    if let Some(owner) = t
        .restrictions_json
        .as_deref()
        .and_then(|r| serde_json::from_str::<Value>(r).ok())
        .and_then(|r| r.get("account_owner").cloned())
    {
        let needs_identity = owner
            .get("requirements")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "identity"));
        if needs_identity && !holder.identity_verified {
            return Err(ApiError::ClientNotVerified(
                "the payer of this transaction must have a verified identity".into(),
            ));
        }
        if let Some(kind) = owner.get("type").and_then(Value::as_str)
            && kind != holder.person_type
        {
            return Err(ApiError::RestrictionViolation(format!(
                "the transaction may only be paid from a {kind} person's account"
            )));
        }
    }
    check_limits(tx, payer_row, payments, selected, now).await
}

/// `restriction_limits_exceeded` or `limits_exceeded` when the payer's spending limits in a
/// currency of the payments do not leave room for the `selected` prices.
async fn check_limits(
    tx: &mut Tx,
    payer_row: &PayerRow,
    payments: &[PaymentRow],
    selected: &[i64],
    now: i64,
) -> ApiResult<()> {
    let payer = &payer_row.wallet;
    let mut totals: BTreeMap<Currency, i64> = BTreeMap::new();
    for (p, amount) in payments.iter().zip(selected) {
        *totals.entry(p.currency).or_default() += amount;
    }
    for (currency, total) in totals {
        let limits = payer_row.limits_in(currency);
        if limits.is_empty() {
            continue;
        }
        // Serialise concurrent reservations from this account before reading what it spent.
        let account = tx.wallet_account(payer.id, currency).await?;
        tx.lock_account(account).await?;
        let longest = limits.iter().map(|(_, l)| l.time).max().unwrap_or(0);
        let spent = tx.wallet_spends(payer.id, currency, now - longest).await?;
        // The operator's restriction first: it needs support, the holder's own limit does not.
        for kind in [LimitKind::Restriction, LimitKind::Holder] {
            for (_, l) in limits.iter().filter(|(k, _)| *k == kind) {
                let terms = Terms {
                    max_price: None,
                    limits: vec![*l],
                };
                if terms.check(&spent, now, total).is_err() {
                    let msg = format!(
                        "{} {currency} in {} seconds; {} {currency} is left",
                        format_decimal(l.max_price, currency),
                        l.time,
                        format_decimal(terms.remaining(&spent, now), currency),
                    );
                    return Err(match kind {
                        LimitKind::Restriction => ApiError::RestrictionLimitsExceeded(format!(
                            "a temporary restriction limits the payer to {msg}; the holder should contact support"
                        )),
                        LimitKind::Holder => {
                            ApiError::LimitsExceeded(format!("the payer's spending limit is {msg}"))
                        }
                    });
                }
            }
        }
    }
    Ok(())
}
