//! The cash-out at a till: create, reserve with the scanned code, confirm, and the clean-up after
//! a failed step, so that an `Err` always means: do not hand out cash.

use super::{Client, Error};
use crate::code;
use crate::types::{NewPayment, NewTransaction, PaymentRef, Transaction, TransactionStatus};
use wallet_core::ids::TransactionKey;
use wallet_core::money::Currency;

/// The three answers of a successful [`Client::cash_out`], kept so that the till can log each step.
#[derive(Debug, Clone, PartialEq)]
pub struct CashOut {
    /// Answer of `POST transaction` (status `new`).
    pub created: Transaction,
    /// Answer of `PUT transaction/{key}/reserve` (status `reserved`, with the payer's `wallet`).
    pub reserved: Transaction,
    /// The confirmed transaction: hand out the cash only once this exists.
    pub confirmed: Transaction,
}

impl Client {
    /// Cash-out at a till: creates a transaction paying `amount_minor` of `currency` to the
    /// project, reserves it with the scanned `code`, and confirms it.
    ///
    /// The code is checked before anything is created. If the reservation fails, the new
    /// transaction is revoked (best effort) and the reservation's error is returned. If the
    /// confirmation fails, the transaction is looked up: when it is confirmed after all (the answer
    /// was lost) this succeeds; otherwise it is revoked (best effort) and the confirmation's error is
    /// returned. If the server cannot be reached at all after the reservation, the reservation is
    /// left to expire on the server. Either way an `Err` means: do not hand out cash.
    pub async fn cash_out(
        &self,
        code: &str,
        amount_minor: i64,
        currency: Currency,
        description: &str,
    ) -> Result<CashOut, Error> {
        let bare = code::parse_scanned(code).ok_or(Error::InvalidCode)?;
        let payment = NewPayment {
            description: Some(description.to_string()),
            price: Some(amount_minor),
            currency: currency.code().to_string(),
            ..NewPayment::default()
        };
        let created = self
            .create_transaction(&NewTransaction {
                payments: vec![PaymentRef::New(Box::new(payment))],
                ..NewTransaction::default()
            })
            .await?;
        let key = created.transaction_key.clone();
        let reserved = match self.reserve_with_code(&key, &bare, None).await {
            Ok(t) => t,
            Err(e) => {
                let _ = self.revoke_transaction(&key).await;
                return Err(e);
            }
        };
        let confirmed = match self.confirm_transaction(&key, None).await {
            Ok(t) => t,
            Err(e) => match self.settle_failed_confirm(&key).await {
                Some(t) => t,
                None => return Err(e),
            },
        };
        Ok(CashOut {
            created,
            reserved,
            confirmed,
        })
    }

    /// After a failed confirm: the transaction if it is confirmed after all, else `None` once a
    /// revoke was attempted (a revoke cannot undo a confirmation, so trying it is always safe).
    async fn settle_failed_confirm(&self, key: &TransactionKey) -> Option<Transaction> {
        let confirmed = |t: Result<Transaction, Error>| {
            t.ok().filter(|t| t.status == TransactionStatus::Confirmed)
        };
        if let Some(t) = confirmed(self.get_transaction(key).await) {
            return Some(t);
        }
        match self.revoke_transaction(key).await {
            Ok(_) => None,
            // Refused: maybe because a late confirmation won the race. Look once more.
            Err(_) => confirmed(self.get_transaction(key).await),
        }
    }
}
