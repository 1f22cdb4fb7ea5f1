//! Callbacks to the client for changes it did not make itself (DESIGN.md "Callbacks").
//!
//! Service code calls [`enqueue_transaction`] / [`enqueue_payment`] / [`enqueue_allowance`] inside the database
//! transaction that made the change, so a callback is recorded exactly when the change is (the
//! outbox pattern: no change without its event, no event for a change that rolled back). The
//! delivery worker (`jobs::callback_worker`) then POSTs each recorded event to its URI as a form
//! `event=<json>&sign=<base64>` until the receiver answers 2xx, backing off exponentially; rows
//! live in the database, so delivery survives restarts and is shared by every instance.
//!
//! `sign` is RSA PKCS#1 v1.5 with SHA-256 over the exact `event` bytes, made with `aws-lc-rs`
//! (constant-time; the `rsa` crate is not, RUSTSEC-2023-0071). The key pair is generated on first
//! start and kept in the database, or read from a PEM file; `GET /publickey` serves the public half.
//!
//! [`outbox`] records events, [`delivery`] posts them, [`signer`] holds the key, [`admin`] is the
//! operators' view of the outbox.

pub mod admin;
pub mod delivery;
pub mod outbox;
pub mod signer;

pub use admin::{CallbackView, ProjectCallback, list, redeliver, set_project_callback};
pub use delivery::{DeliverySettings, backoff};
pub use outbox::{enqueue_allowance, enqueue_payment, enqueue_transaction};
pub use signer::CallbackSigner;
