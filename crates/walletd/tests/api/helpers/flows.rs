//! The steps the tests' stories are made of: a transaction of one payment, reserved with a fresh
//! reservation code and confirmed; a wallet funded and its balance read; a holder's PIN accepting
//! an allowance; a FLASH SMS sent; the audit trail and the callback outbox read.

use super::app::TestApp;
use super::http::code_of;
use serde_json::{Value, json};
use wallet_client::Method;
use wallet_client::types::{
    CallbackUri, Freeze, NewPayment, NewTransaction, PaymentRef, Reserve, Transaction,
    TransactionStatus,
};
use wallet_core::ids::{TransactionKey, WalletId};
use wallet_store::{CallbackFilter, HolderUpdate};
use walletd::callbacks::CallbackView;
use walletd::service::{admin, operator};

/// A callback URI where nothing listens: callbacks are queued, and never delivered.
pub const NOWHERE: &str = "http://127.0.0.1:9/callback";

/// A transaction of one EUR payment of `cents` ("Cash withdrawal").
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

/// A new EUR payment of `cents` for "goods", frozen as `freeze` says once confirmed.
pub fn goods(cents: i64, freeze: Option<Freeze>) -> PaymentRef {
    PaymentRef::New(Box::new(NewPayment {
        description: Some("goods".into()),
        price: Some(cents),
        currency: "EUR".into(),
        freeze,
        ..Default::default()
    }))
}

/// A freeze of `seconds` from confirmation (`freeze.for`).
pub fn frozen_for(seconds: i64) -> Option<Freeze> {
    Some(Freeze {
        for_seconds: Some(seconds),
        until: None,
    })
}

/// `req`, reserved for `seconds` once reserved (`reserve.for`).
pub fn reserved_for(mut req: NewTransaction, seconds: i64) -> NewTransaction {
    req.reserve = Some(Reserve {
        for_seconds: Some(seconds),
        until: None,
    });
    req
}

/// `req`, with its callbacks sent to `uri`.
pub fn calling_back(mut req: NewTransaction, uri: &str) -> NewTransaction {
    req.callback_uri = Some(CallbackUri::Uri(uri.into()));
    req
}

impl TestApp {
    /// [`Self::another_client`] granted `grants`, and a transaction of one EUR payment of `cents`
    /// it created.
    pub async fn another_clients_transaction(
        &self,
        grants: &str,
        cents: i64,
    ) -> (wallet_client::Client, Transaction) {
        let client = self.another_client(grants).await;
        let t = client
            .create_transaction(&one_payment(cents))
            .await
            .unwrap();
        (client, t)
    }

    /// A fresh reservation code for `wallet`.
    pub async fn code(&self, wallet: WalletId) -> String {
        admin::issue_code(&self.state, wallet, None, "EUR", None)
            .await
            .unwrap()
            .reservation_code
    }

    /// A fresh reservation code for `wallet` that pays at most `max` (e.g. "10.00") EUR.
    pub async fn code_with_max(&self, wallet: WalletId, max: &str) -> String {
        admin::issue_code(&self.state, wallet, Some(max), "EUR", None)
            .await
            .unwrap()
            .reservation_code
    }

    /// Available and reserved EUR of a wallet, in cents.
    pub async fn eur(&self, wallet: WalletId) -> (i64, i64) {
        let b = admin::balance(&self.state, wallet).await.unwrap();
        b.get("EUR")
            .map(|b| (b.at_disposal, b.reserved))
            .unwrap_or((0, 0))
    }

    /// Adds `amount` (e.g. "20.00") EUR to `wallet` from the top-up source.
    pub async fn top_up(&self, wallet: WalletId, amount: &str) {
        admin::top_up(&self.state, wallet, amount, "EUR")
            .await
            .unwrap();
    }

    /// Creates a transaction of one EUR payment of `cents`.
    pub async fn create(&self, cents: i64) -> Transaction {
        self.create_with(&one_payment(cents)).await
    }

    /// Creates the transaction `req`, which must be accepted.
    pub async fn create_with(&self, req: &NewTransaction) -> Transaction {
        self.client.create_transaction(req).await.expect("create")
    }

    /// Reserves transaction `key` with a fresh code of `wallet`, which must work.
    pub async fn reserve(&self, key: &str, wallet: WalletId) -> Transaction {
        let code = self.code(wallet).await;
        self.reserve_with(key, &code).await
    }

    /// Reserves transaction `key` with `code`, which must work.
    pub async fn reserve_with(&self, key: &str, code: &str) -> Transaction {
        self.client
            .reserve_with_code(&issued(key), code, None)
            .await
            .expect("reserve")
    }

    /// The error code of reserving transaction `key` with a fresh code of `wallet`.
    pub async fn reserve_error(&self, key: &str, wallet: WalletId) -> String {
        let code = self.code(wallet).await;
        self.reserve_error_with(key, &code).await
    }

    /// The error code of reserving transaction `key` with `code`.
    pub async fn reserve_error_with(&self, key: &str, code: &str) -> String {
        code_of(
            self.client
                .reserve_with_code(&issued(key), code, None)
                .await,
        )
    }

    /// A transaction of one payment of `cents`, reserved with a code of alice's.
    pub async fn reserved(&self, cents: i64) -> Transaction {
        self.reserved_with(&one_payment(cents)).await
    }

    /// The transaction `req`, created and reserved with a code of alice's.
    pub async fn reserved_with(&self, req: &NewTransaction) -> Transaction {
        let t = self.create_with(req).await;
        self.reserve(&t.transaction_key, self.alice()).await
    }

    /// Confirms transaction `key` at its reserved prices, which must work.
    pub async fn confirm(&self, key: &str) -> Transaction {
        self.client
            .confirm_transaction(&issued(key), None)
            .await
            .expect("confirm")
    }

    /// Revokes transaction `key` (deletes it if new, releases its hold if reserved), which must
    /// work.
    pub async fn revoke(&self, key: &str) -> Transaction {
        self.client
            .revoke_transaction(&issued(key))
            .await
            .expect("revoke")
    }

    /// A transaction of one payment of `cents` from alice, reserved and confirmed.
    pub async fn confirmed(&self, cents: i64) -> Transaction {
        let t = self.reserved(cents).await;
        self.confirm(&t.transaction_key).await
    }

    /// The status of transaction `key`, as the client reads it.
    pub async fn status(&self, key: &str) -> TransactionStatus {
        self.client
            .get_transaction(&issued(key))
            .await
            .unwrap()
            .status
    }

    /// The audit trail of transaction `key`: `(at, actor, event, details)`.
    pub async fn events(&self, key: &str) -> Vec<(i64, String, String, Option<String>)> {
        walletd::service::transactions::events(&self.state, &issued(key))
            .await
            .unwrap()
    }

    /// The callbacks queued for transaction `key`, newest first.
    pub async fn callbacks_of(&self, key: &str) -> Vec<CallbackView> {
        let filter = CallbackFilter {
            undelivered: false,
            transaction_key: Some(issued(key)),
        };
        walletd::callbacks::list(&self.state, &filter, 100)
            .await
            .unwrap()
    }

    /// `POST transaction/renew/{key}`, which must work: the renewal.
    pub async fn renew(&self, key: &str) -> Value {
        let path = format!("transaction/renew/{key}");
        self.call(Method::POST, &path, None).await
    }

    /// The types of the callbacks queued for transaction `key`, oldest first.
    pub async fn callback_types(&self, key: &str) -> Vec<String> {
        let queued = self.callbacks_of(key).await;
        queued.into_iter().rev().map(|c| c.event_type).collect()
    }

    /// Sets what the operator knows of demo holder number `user` (0: alice, 1: bob).
    pub async fn set_holder(&self, user: usize, update: HolderUpdate) {
        operator::set_holder(&self.state, self.demo.users[user].user_id, update)
            .await
            .unwrap();
    }

    /// `GET transaction/{key}/type/{wallet}`: the ways `wallet` may authorise `key`.
    pub async fn types(&self, key: &str, wallet: WalletId) -> Value {
        self.call(
            Method::GET,
            &format!("transaction/{key}/type/{wallet}"),
            None,
        )
        .await
    }

    /// `PUT transaction/{key}/flash/{wallet}`: a FLASH SMS to `wallet`'s holder.
    pub async fn flash(&self, key: &str, wallet: WalletId) -> Result<Value, wallet_client::Error> {
        self.client
            .request_json(
                Method::PUT,
                &format!("transaction/{key}/flash/{wallet}"),
                None,
            )
            .await
    }

    /// The transaction `req`, created and sent to alice by FLASH SMS, waiting for her answer:
    /// `(key, correlation key)`.
    pub async fn flashed_to_alice(&self, req: &NewTransaction) -> (String, String) {
        let key = self.create_with(req).await.transaction_key;
        let w = self.flash(&key, self.alice()).await.unwrap();
        assert_eq!(w["status"], "waiting");
        (
            key.to_string(),
            w["correlation_key"].as_str().unwrap().to_string(),
        )
    }

    /// Asserts that the FLASH SMS's transaction `t` of 12.99 EUR, accepted by alice (by SMS:
    /// `kind` `flash`; in the app: `mobile_app`), is reserved on her wallet (no longer waiting: no
    /// correlation key).
    pub async fn assert_flash_reserved_on_alice(&self, t: &Transaction, kind: &str) {
        assert_eq!(t.status.as_str(), "reserved");
        assert_eq!(t.kind.map(|k| k.as_str()), Some(kind));
        assert_eq!(t.correlation_key, None);
        assert_eq!(self.eur(self.alice()).await, (98_701, 1_299));
    }

    /// `PUT transaction/{key}/reserve/{wallet}` with `wallet`'s holder's PIN, which must work.
    pub async fn reserve_by_pin(&self, key: &str, wallet: WalletId, pin: &str) -> Value {
        self.call(
            Method::PUT,
            &format!("transaction/{key}/reserve/{wallet}"),
            Some(json!({"pin": pin})),
        )
        .await
    }

    /// Creates `allowance`, has `wallet`'s holder accept it with her PIN, and confirms it: active.
    /// Returns the allowance's id.
    pub async fn activate_allowance(&self, wallet: WalletId, pin: &str, allowance: Value) -> i64 {
        let a = self.call(Method::POST, "allowance", Some(allowance)).await;
        let key = a["transaction_key"].as_str().unwrap();
        self.reserve_by_pin(key, wallet, pin).await;
        let t = self
            .call(Method::PUT, &format!("transaction/{key}/confirm"), None)
            .await;
        assert_eq!(t["status"], "confirmed");
        a["id"].as_i64().unwrap()
    }
}

/// A key as walletd gave it to the test (the API's answers are what it issued).
pub fn issued(key: &str) -> TransactionKey {
    TransactionKey::issued(key.to_string())
}
