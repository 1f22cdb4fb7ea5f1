//! Rust SDK for the Wallet API as walletd implements it.
//!
//! - [`mac`]: MAC request signing, byte-compatible with the official PHP client.
//! - [`types`]: the wire types (shared with the server).
//! - [`code`]: reading a scanned reservation code.
//! - `Client` (feature `http`, on by default): typed calls over HTTP.

pub mod code;
pub mod mac;
pub mod types;
