//! Rust SDK for the Wallet API as walletd implements it.
//!
//! - [`mac`]: MAC request signing, byte-compatible with the official PHP client.
//! - [`types`]: the wire types (shared with the server).
//! - [`code`]: reading a scanned reservation code.
//! - [`callback`]: verifying the signed callbacks the server POSTs (no HTTP client needed).
//! - [`Client`] (feature `http`, on by default): typed calls over HTTP. The server builds without
//!   it, so that it does not pull an HTTP client in.
//! - [`testing`] (feature `testing`): a scripted TCP server for tests of what a client sends.

pub mod callback;
pub mod code;
pub mod mac;
pub mod types;

#[cfg(feature = "http")]
pub mod client;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "http")]
pub use client::{
    CashOut, Client, Error, IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_LEN, Method,
    new_idempotency_key,
};
