//! Wallets: `GET wallet/{id}`, its balance, its statements and `sufficient-amount`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wallet_core::{UserId, WalletId};

/// One currency of `GET wallet/{id}/balance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyBalance {
    pub at_disposal: i64,
    pub at_disposal_decimal: String,
    pub reserved: i64,
    pub reserved_decimal: String,
}

/// `GET wallet/{id}/balance`: currency code → balance.
pub type WalletBalance = BTreeMap<String, CurrencyBalance>;

wire_struct! {
    /// The account of a wallet.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Account {
        pub number: String,
        pub owner_title: Option<String>,
        pub owner_display_name: Option<String>,
        pub description: Option<String>,
        #[serde(rename = "type")]
        pub kind: Option<String>,
        pub user_id: Option<UserId>,
    }
}

/// `GET wallet/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wallet {
    pub id: WalletId,
    pub owner: UserId,
    pub account: Account,
}

wire_struct! {
    /// The other side of a statement line.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OtherParty {
        pub name: Option<String>,
        pub account_number: Option<String>,
        pub display_name: Option<String>,
    }
}

wire_struct! {
    /// One line of `GET wallet/{id}/statements`: money into (`in`) or out of (`out`) the wallet.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Statement {
        pub id: i64,
        /// Decimal, never negative: `direction` tells the sign.
        pub amount: String,
        pub currency: String,
        pub date: i64,
        pub details: String,
        /// `in` or `out`.
        pub direction: String,
        #[serde(rename = "type")]
        pub kind: Option<String>,
        pub other_party: Option<OtherParty>,
        /// The transfer of the payment whose money this line moved (`transfer_id` of the payment).
        pub transfer_id: Option<i64>,
    }
}

/// `{"total", "offset", "limit"}` of a search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metadata {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// `GET wallet/{id}/statements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementPage {
    pub statements: Vec<Statement>,
    #[serde(rename = "_metadata")]
    pub metadata: Metadata,
}

/// `GET wallet/{id}/sufficient-amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SufficientAmount {
    pub is_sufficient: bool,
}
