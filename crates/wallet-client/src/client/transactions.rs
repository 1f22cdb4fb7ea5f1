//! The transaction calls: create, look up, reserve with a code, confirm, revoke, FLASH, a
//! payment's password.

use super::{Client, Error, Method, encode, segment};
use crate::code;
use crate::types::{
    ConfirmPrices, InquiredInformation, NewTransaction, PasswordRequest, ReserveRequest,
    Transaction,
};
use std::collections::BTreeMap;
use wallet_core::ids::{PaymentId, TransactionKey, WalletId};

impl Client {
    /// `POST transaction`: creates a transaction (status `new`) with its payments.
    pub async fn create_transaction(&self, tx: &NewTransaction) -> Result<Transaction, Error> {
        self.call(Method::POST, "transaction", Some(encode(tx)?))
            .await
    }

    /// `GET transaction/{key}`.
    pub async fn get_transaction(&self, key: &TransactionKey) -> Result<Transaction, Error> {
        self.call(Method::GET, &at(key, ""), None).await
    }

    /// `GET transaction/{key}/inquired-information`: what the holder gave for its inquiries.
    pub async fn get_inquired_information(
        &self,
        key: &TransactionKey,
    ) -> Result<InquiredInformation, Error> {
        self.call(
            Method::GET,
            &format!("transaction/{}/inquired-information", segment(key.as_str())),
            None,
        )
        .await
    }

    /// `DELETE transaction/{key}`: revokes a waiting or reserved transaction (releasing the
    /// reservation), or deletes a new one.
    pub async fn revoke_transaction(&self, key: &TransactionKey) -> Result<Transaction, Error> {
        self.call(Method::DELETE, &at(key, ""), None).await
    }

    /// `PUT transaction/{key}/reserve` with a reservation code the wallet holder showed.
    ///
    /// `code` may be what the scanner read (`PAYSERA$…` QR text, `9999…` barcode text) or the bare
    /// 28 digits; anything else is refused with [`Error::InvalidCode`] before a request is made, so
    /// a misread never costs the holder one of the server's failed-attempt allowance.
    /// `payment_prices` selects prices (minor units, by payment id) for payments with `price_rules`.
    pub async fn reserve_with_code(
        &self,
        key: &TransactionKey,
        code: &str,
        payment_prices: Option<BTreeMap<String, i64>>,
    ) -> Result<Transaction, Error> {
        let bare = code::parse_scanned(code).ok_or(Error::InvalidCode)?;
        let body = ReserveRequest {
            reservation_code: Some(bare),
            payment_prices,
            ..ReserveRequest::default()
        };
        self.call(Method::PUT, &at(key, "/reserve"), Some(encode(&body)?))
            .await
    }

    /// `PUT transaction/{key}/confirm`: takes the reserved money. With `None` no body is sent and
    /// every payment is confirmed at its reserved price; with prices, each listed payment is
    /// confirmed at the given (lower or equal) price.
    pub async fn confirm_transaction(
        &self,
        key: &TransactionKey,
        prices: Option<&ConfirmPrices>,
    ) -> Result<Transaction, Error> {
        let body = prices.map(encode).transpose()?;
        self.call(Method::PUT, &at(key, "/confirm"), body).await
    }

    /// `PUT transaction/{key}/password`: gives the password of payment `payment_id` of a
    /// transaction that waits for it (`waiting_password`).
    pub async fn give_password(
        &self,
        key: &TransactionKey,
        payment_id: PaymentId,
        password: &str,
    ) -> Result<Transaction, Error> {
        let body = PasswordRequest {
            payment_id: Some(payment_id),
            password: Some(password.to_string()),
        };
        self.call(
            Method::PUT,
            &format!("transaction/{}/password", segment(key.as_str())),
            Some(encode(&body)?),
        )
        .await
    }

    /// `PUT transaction/{key}/flash/{wallet}`: asks the server to send the holder of `wallet` a
    /// FLASH SMS; the transaction then waits (`waiting`, with a `correlation_key` the holder sees)
    /// until the holder answers — or is reserved at once when an active allowance covers it.
    pub async fn flash_transaction(
        &self,
        key: &TransactionKey,
        wallet: WalletId,
    ) -> Result<Transaction, Error> {
        self.call(Method::PUT, &at(key, &format!("/flash/{wallet}")), None)
            .await
    }
}

/// `transaction/{key}` and then `rest`, the key escaped as a path segment.
fn at(key: &TransactionKey, rest: &str) -> String {
    format!("transaction/{}{rest}", segment(key.as_str()))
}
