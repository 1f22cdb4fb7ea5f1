//! What the API tests share, so that each test reads as its story:
//!
//! - [`app`]: `spawn_app` (a walletd on a fresh database and a random port, with a clock tests can
//!   move), `on_both!`, other servers on a database, and the `walletd` command line;
//! - [`flows`]: the steps of the flows (create, reserve with a code, confirm, read a status, fund a
//!   wallet, accept an allowance, send a FLASH SMS, read the callback outbox …);
//! - [`http`]: calls over the SDK by path, hand-signed requests, and the checks of an error answer;
//! - [`receiver`]: a callback receiver that reads each POST and answers the status asked;
//! - [`wait`]: polling until the server (its sweeper, its callback worker) has done something.

pub mod app;
pub mod flows;
pub mod http;
pub mod receiver;
pub mod wait;

pub use app::*;
pub use flows::*;
pub use http::*;
pub use receiver::*;
pub use wait::*;
