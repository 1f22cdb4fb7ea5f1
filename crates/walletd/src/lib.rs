//! walletd: an open implementation of the Wallet API.
//!
//! Layers, outside in: [`cli`] (commands) → [`server`] and [`http`] (routes,
//! [`auth`]) → [`service`] (one database transaction per operation) →
//! `wallet_store` (SQL) and `wallet_core` (the pure domain).

pub mod apidoc;
pub mod auth;
pub mod callbacks;
pub mod caller;
pub mod cli;
pub mod clock;
pub mod conn;
pub mod credentials;
pub mod entropy;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod json;
pub mod limits;
pub mod receipt;
pub mod render;
pub mod server;
pub mod service;
pub mod sms;
pub mod state;
pub mod telemetry;
pub mod web;
