//! What walletd does, independent of HTTP: each operation is one database
//! transaction that loads state, asks `wallet_core` what may happen, and writes
//! the answer. Handlers and admin commands both call these.

pub mod admin;
pub mod allowances;
pub mod flash;
pub mod lifecycle;
pub mod logins;
pub mod lookups;
pub mod oauth;
pub mod offers;
pub mod operator;
pub mod page;
pub mod payments;
pub mod scopes;
pub mod tokens;
pub mod transactions;
pub mod users;
pub mod wallets;
