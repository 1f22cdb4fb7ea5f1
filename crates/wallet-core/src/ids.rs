//! The identities that cross layers — from an HTTP path or body through the operations down to
//! the SQL — each its own type, named in the spec's words, so that a wallet id is never passed
//! where a user id is meant. They are parsed once at the edge; on the wire and in the database
//! they are what the spec says: integers, and the `transaction_key` a string.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A text that is not an id of the kind asked for (what it names: `"wallet"`, `"payment"` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a {0} id")]
pub struct ParseIdError(pub &'static str);

/// An integer id of the domain: what it is of, for messages and parsing.
pub trait Id: Copy + FromStr<Err = ParseIdError> + fmt::Display {
    /// What the id is of, for messages (`"wallet 7 was not found"`).
    const WHAT: &'static str;
}

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(i64);

        /// As the integer: logs, events and messages show ids as the API does.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl Id for $name {
            const WHAT: &'static str = $what;
        }

        impl $name {
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The integer, as JSON and SQL carry it.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                s.parse().map(Self).map_err(|_| ParseIdError($what))
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

int_id!(
    /// A wallet: a holder's, or a project's (where its payments go by default).
    WalletId,
    "wallet"
);
int_id!(
    /// A wallet holder (a user of the wallet service).
    UserId,
    "user"
);
int_id!(
    /// A project: a merchant or cash-out point, with its own wallet.
    ProjectId,
    "project"
);
int_id!(
    /// An API client of a project (its MAC credentials).
    ClientId,
    "client"
);
int_id!(
    /// A payment of a transaction.
    PaymentId,
    "payment"
);
int_id!(
    /// An allowance.
    AllowanceId,
    "allowance"
);
int_id!(
    /// An account of the ledger: a wallet's in one currency, or a system account.
    AccountId,
    "account"
);
int_id!(
    /// Money held on an account for a payment, until it is settled or released.
    HoldId,
    "hold"
);
int_id!(
    /// A project's location (a shop, a till's place) as the client names it in the MAC `ext`.
    LocationId,
    "location"
);

/// A `transaction_key`: issued by walletd, URL-safe (base62), unguessable (`keys`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct TransactionKey(String);

/// As the string: logs, events and messages show keys as the API does.
impl fmt::Debug for TransactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl TransactionKey {
    /// A key from a client (a path, a body): `None` unless it could be one walletd issued, so an
    /// implausible key costs no lookup.
    pub fn parse(text: &str) -> Option<TransactionKey> {
        let plausible =
            !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric());
        plausible.then(|| TransactionKey(text.to_string()))
    }

    /// A key as walletd issued it: made by `keys::new_transaction_key`, or read back from the
    /// database or from walletd's own answers.
    pub fn issued(key: String) -> TransactionKey {
        TransactionKey(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A key from a command line: checked as [`TransactionKey::parse`] checks it.
impl FromStr for TransactionKey {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, ParseIdError> {
        TransactionKey::parse(s).ok_or(ParseIdError("transaction"))
    }
}

impl fmt::Display for TransactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read as the text it is (a key never changes; only making one is checked).
impl std::ops::Deref for TransactionKey {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TransactionKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for TransactionKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TransactionKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TransactionKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_integers_on_the_wire_and_parse_once() {
        let w: WalletId = "42".parse().unwrap();
        assert_eq!(w, WalletId::new(42));
        assert_eq!(serde_json::to_string(&w).unwrap(), "42");
        assert_eq!(serde_json::from_str::<WalletId>("42").unwrap(), w);
        assert_eq!("x".parse::<PaymentId>(), Err(ParseIdError("payment")));
        assert_eq!(ParseIdError("payment").to_string(), "not a payment id");
        assert_eq!(w.to_string(), "42");
        assert_eq!(format!("{w:?}"), "42", "as the API shows it");
    }

    #[test]
    fn keys_from_clients_must_be_plausible() {
        let key = "0Tn6zXaB3kLmNpQrStUv";
        let parsed = TransactionKey::parse(key).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            format!("\"{key}\"")
        );
        assert_eq!(format!("{parsed:?}"), format!("{key:?}"));
        assert!(TransactionKey::parse("../etc").is_none());
        assert!(TransactionKey::parse("").is_none());
    }
}
