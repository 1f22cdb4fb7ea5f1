//! The steps the tests' stories are made of: a transaction of one payment, a fresh reservation
//! code, a wallet's balance.

use super::app::TestApp;
use wallet_client::types::{NewPayment, NewTransaction, PaymentRef, Transaction};
use walletd::service::admin;

pub fn one_payment(cents: i64) -> NewTransaction {
    NewTransaction {
        payments: vec![PaymentRef::New(Box::new(NewPayment {
            description: Some("Cash withdrawal".into()),
            price: Some(cents),
            currency: "EUR".into(),
            ..Default::default()
        }))],
        ..Default::default()
    }
}

impl TestApp {
    /// A fresh reservation code for `wallet`.
    pub async fn code(&self, wallet: i64) -> String {
        admin::issue_code(&self.state, wallet, None, "EUR", None)
            .await
            .unwrap()
            .reservation_code
    }

    pub async fn code_with_max(&self, wallet: i64, max: &str) -> String {
        admin::issue_code(&self.state, wallet, Some(max), "EUR", None)
            .await
            .unwrap()
            .reservation_code
    }

    /// Creates a transaction of one EUR payment of `cents`.
    pub async fn create(&self, cents: i64) -> Transaction {
        self.client
            .create_transaction(&one_payment(cents))
            .await
            .expect("create")
    }

    /// Available and reserved EUR of a wallet, in cents.
    pub async fn eur(&self, wallet: i64) -> (i64, i64) {
        let b = admin::balance(&self.state, wallet).await.unwrap();
        b.get("EUR")
            .map(|b| (b.at_disposal, b.reserved))
            .unwrap_or((0, 0))
    }
}
