//! The wallet calls: a wallet, its balance, whether it has enough, and the lookups.

use super::{Client, Error, Method, segment};
use crate::types::{SufficientAmount, Wallet, WalletBalance, WalletBarcode, WalletsByContact};
use wallet_core::contacts::{contact_hash, email_key, phone_key};
use wallet_core::ids::WalletId;

/// `name=value&…`, each value percent-encoded.
fn query(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(name, value)| format!("{}={}", segment(name), segment(value)))
        .collect::<Vec<_>>()
        .join("&")
}

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

    /// `GET wallet/{id}/sufficient-amount`: whether `amount` minor units of `currency` are at
    /// the wallet's disposal.
    pub async fn has_sufficient_amount(
        &self,
        id: WalletId,
        amount: i64,
        currency: &str,
    ) -> Result<bool, Error> {
        let q = query(&[("amount", &amount.to_string()), ("currency", currency)]);
        let answer: SufficientAmount = self
            .call(
                Method::GET,
                &format!("wallet/{id}/sufficient-amount?{q}"),
                None,
            )
            .await?;
        Ok(answer.is_sufficient)
    }

    /// `GET wallets?…`, as the PHP client's `getWalletsByContacts`: each contact with an `@` is
    /// an e-mail, any other a phone; with `private`, only their SHA-1s are sent. The answer is
    /// keyed by the contacts as given (only those found).
    pub async fn get_wallets_by_contacts(
        &self,
        contacts: &[&str],
        private: bool,
    ) -> Result<WalletsByContact, Error> {
        if contacts.is_empty() {
            return Ok(WalletsByContact::new());
        }
        let mut asked = std::collections::HashMap::new();
        let (mut emails, mut phones) = (Vec::new(), Vec::new());
        for contact in contacts {
            let is_email = contact.contains('@');
            let mut sent = if is_email {
                email_key(contact)
            } else {
                phone_key(contact)
            };
            if private {
                sent = contact_hash(&sent);
            }
            let list = if is_email { &mut emails } else { &mut phones };
            list.push(sent.clone());
            asked.insert(sent, contact.to_string());
        }
        let (email, phone) = if private {
            ("email_hash", "phone_hash")
        } else {
            ("email", "phone")
        };
        let (emails, phones) = (emails.join(","), phones.join(","));
        let mut params = Vec::new();
        if !emails.is_empty() {
            params.push((email, emails.as_str()));
        }
        if !phones.is_empty() {
            params.push((phone, phones.as_str()));
        }
        let found: WalletsByContact = self
            .call(Method::GET, &format!("wallets?{}", query(&params)), None)
            .await?;
        Ok(found
            .into_iter()
            .map(|(sent, wallet)| (asked.get(&sent).cloned().unwrap_or(sent), wallet))
            .collect())
    }

    /// `GET wallet?{name}={value}`: the wallet one criterion names (`email`, `phone`, `user_id`,
    /// `account_number`, `barcode`).
    pub async fn get_wallet_by(&self, name: &str, value: &str) -> Result<Wallet, Error> {
        let path = format!("wallet?{}", query(&[(name, value)]));
        self.call(Method::GET, &path, None).await
    }

    /// `GET wallet/barcode?{name}={value}`: the barcode of the wallet one criterion names.
    pub async fn get_wallet_barcode_by(&self, name: &str, value: &str) -> Result<String, Error> {
        let path = format!("wallet/barcode?{}", query(&[(name, value)]));
        let answer: WalletBarcode = self.call(Method::GET, &path, None).await?;
        Ok(answer.barcode)
    }
}
