//! The pure domain of walletd: no I/O, no clock, no database, and no random source of its own
//! (the functions that draw take the caller's RNG, so that a test can fix the seed).
//!
//! Everything that decides whether money may move lives here so that it can be
//! property-tested and reasoned about on its own; the server and the store are
//! thin shells that load state, ask this crate, and write down the answer.

pub mod allowance;
pub mod codes;
pub mod contacts;
pub mod ids;
pub mod inquiries;
pub mod keys;
pub mod ledger;
pub mod money;
pub mod password;
pub mod payment;
pub mod reserve;
pub mod status;

pub use ids::{
    AccountId, AllowanceId, ClientId, HoldId, LocationId, PaymentId, ProjectId, TransactionKey,
    UserId, WalletId,
};
pub use money::{Currency, Money, MoneyError};
pub use status::{PaymentStatus, TransactionStatus, TransactionType};
