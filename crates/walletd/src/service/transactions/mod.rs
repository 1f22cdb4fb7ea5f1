//! Transactions from creation to their end, one module per operation or tight group:
//!
//! - [`create`]: `POST transaction` (and `renew`); [`validate`] checks every request first;
//! - [`reserve`]: the client reserves (reservation code, PIN, allowance; [`guesses`] limits wrong
//!   codes); [`hold`] holds the funds,
//!   after the [`payer`] checks, for every way of reserving (also the holder's page and FLASH);
//! - [`settle`]: confirm and revoke; [`freeze`]: frozen payments finalized, canceled, re-frozen;
//! - [`expire`]: deadlines and age; [`release`]: holds released, or a wait with none placed;
//! - [`beneficiary`]: a payment's beneficiary as given; [`people`]: payments to people who
//!   may not have a wallet yet (`waiting_registration`);
//! - [`password`]: a payment's password as given and shown; [`unlock`]: the password given by
//!   the client or the beneficiary (`waiting_password`); [`waits`]: a held transaction moving
//!   on once what it waited for happened;
//! - [`read`]: `GET transaction`, receipts, searches, reservation types; [`inquiries`]: the
//!   data the client asks the holder for, answered on the confirmation page;
//! - [`lock`] opens a client's change; [`view`] renders the answer; [`allowance`] is the
//!   allowance grouped into a transaction; [`events`] the audit trail.
//!
//! Every operation is one database transaction: it locks what it changes, asks `wallet_core`
//! what may happen, writes the answer, and commits it with its idempotent answer
//! (`idempotency::commit_answer`) — all of it, or nothing.

pub mod allowance;
pub mod beneficiary;
pub mod create;
pub mod events;
pub mod expire;
pub mod freeze;
pub mod guesses;
pub mod hold;
pub mod inquiries;
pub mod lock;
pub mod password;
pub mod payer;
pub mod people;
pub mod read;
pub mod release;
pub mod reserve;
pub mod settle;
pub mod unlock;
pub mod validate;
pub mod view;
pub mod waits;

pub use create::{create, renew};
pub(crate) use create::{create_unanswered, delete_if_empty};
pub(crate) use events::actor;
pub use events::events;
pub use expire::{NEW_TRANSACTION_LIFETIME_SECS, delete_if_aged, due_reservations, expire_if_due};
pub use freeze::{cancel, change_freeze, finalize, finalize_due_freezes};
pub use inquiries::inquired_information;
pub use read::{get, receipt, search, types};
pub use reserve::{
    MAX_PIN_FAILURES, payer_wallet, reserve_with_allowance, reserve_with_code, reserve_with_pin,
};
pub use settle::{confirm, revoke};
pub use unlock::{
    AwaitedPassword, MAX_PASSWORD_FAILURES, awaited_by, give_password, give_password_as_beneficiary,
};
pub use validate::{MAX_PAYMENTS, MAX_TEXT, SearchQuery, search_filter};
pub use wallet_client::types::Metadata;
