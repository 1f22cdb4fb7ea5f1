//! What the API tests share, so that each test reads as its story:
//!
//! - [`app`]: `spawn_app` (a walletd on a fresh database and a random port, with a clock tests can
//!   move) and `on_both!`;
//! - [`flows`]: the steps of the flows (create a transaction, issue a code, read a balance …);
//! - [`http`]: hand-signed requests, and the error code of a failed call.

pub mod app;
pub mod flows;
pub mod http;

pub use app::*;
pub use flows::*;
pub use http::*;
