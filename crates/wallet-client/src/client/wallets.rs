//! The wallet calls: a wallet and its balance.

use super::{Client, Error, Method};
use crate::types::{Wallet, WalletBalance};
use wallet_core::ids::WalletId;

impl Client {
    /// `GET wallet/{id}`.
    pub async fn get_wallet(&self, id: WalletId) -> Result<Wallet, Error> {
        self.call(Method::GET, &format!("wallet/{id}"), None).await
    }

    /// `GET wallet/{id}/balance`: per currency, what is at disposal and what is reserved.
    pub async fn get_wallet_balance(&self, id: WalletId) -> Result<WalletBalance, Error> {
        self.call(Method::GET, &format!("wallet/{id}/balance"), None)
            .await
    }
}
