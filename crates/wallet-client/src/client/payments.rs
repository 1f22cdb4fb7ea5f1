//! The payment calls: a payment, and ending its freeze (cancel, finalize, move the end).

use super::{Client, Error, Method, encode};
use crate::types::Payment;
use wallet_core::ids::PaymentId;

impl Client {
    /// `GET payment/{id}`.
    pub async fn get_payment(&self, id: PaymentId) -> Result<Payment, Error> {
        self.call(Method::GET, &format!("payment/{id}"), None).await
    }

    /// `DELETE payment/{id}`: cancels a frozen payment before its freeze ends (money back to the payer).
    pub async fn cancel_payment(&self, id: PaymentId) -> Result<Payment, Error> {
        self.call(Method::DELETE, &format!("payment/{id}"), None)
            .await
    }

    /// `PUT payment/{id}/finalize`: pays a frozen payment out now, at `price` (same or lower) if given.
    pub async fn finalize_payment(
        &self,
        id: PaymentId,
        price: Option<(i64, &str)>,
    ) -> Result<Payment, Error> {
        let body = price
            .map(|(cents, currency)| {
                encode(&serde_json::json!({"price": cents, "currency": currency}))
            })
            .transpose()?;
        self.call(Method::PUT, &format!("payment/{id}/finalize"), body)
            .await
    }

    /// `PUT payment/{id}/freeze` with `{"freeze_until": until}`; `0` removes the freeze (pays out now).
    pub async fn change_freeze_until(&self, id: PaymentId, until: i64) -> Result<Payment, Error> {
        let body = encode(&serde_json::json!({ "freeze_until": until }))?;
        self.call(Method::PUT, &format!("payment/{id}/freeze"), Some(body))
            .await
    }
}
