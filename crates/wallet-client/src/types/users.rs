//! Users and wallet lookups: `GET user/{id}`, `GET wallets?…` and `GET wallet/barcode?…`.

use super::Wallet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wallet_core::{UserId, WalletId};

wire_struct! {
    /// `GET user/{id}`: the user's id, and what the access token's scopes show of her.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct User {
        pub id: UserId,
        /// With scope `email`.
        pub email: Option<String>,
        /// Her confirmed phone, digits only, with scope `phone`.
        pub phone: Option<String>,
        /// Her wallets' ids, with scope `wallet_list`.
        pub wallets: Option<Vec<WalletId>>,
    }
}

/// `GET wallets?email=…&phone=…` (or `email_hash`, `phone_hash`): the wallets found, each under
/// the contact (or hash) as it was asked; contacts of nobody are left out.
pub type WalletsByContact = BTreeMap<String, Wallet>;

/// `GET wallet/barcode?…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletBarcode {
    /// Digits that identify the wallet (`GET wallet?barcode=`), for a Code128 barcode.
    pub barcode: String,
}

wire_struct! {
    /// `GET user/{id}/address`, as the PHP client reads it (walletd keeps no addresses: it answers
    /// `not_found`).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct UserAddress {
        pub country: String,
        pub city: String,
        pub street: String,
        pub post_index: Option<String>,
    }
}

wire_struct! {
    /// `GET user/{id}/identity`, as the PHP client reads it (walletd keeps no identities: it
    /// answers `not_found`).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct UserIdentity {
        pub name: Option<String>,
        pub surname: Option<String>,
        pub nationality: Option<String>,
        pub code: Option<String>,
    }
}

wire_struct! {
    /// One of `GET user/{id}/pes`, her politically exposed persons, as the PHP client reads them
    /// (walletd keeps none: it answers `not_found`).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PoliticallyExposedPerson {
        pub name: String,
        /// How the person is related to the user.
        pub relation: String,
        pub positions: Vec<String>,
    }
}
