//! walletd-load: drives a running walletd like the tills of one cash-out point do, and reports
//! throughput and per-request latency as one JSON line (see `bench/README.md`).
//!
//! [`setup`] writes the project, payers and codes before the timed run; [`drive`] runs the tills;
//! [`report`] is the JSON line (shared with `walletd-limit`); [`procfs`] reads the server's memory
//! and CPU time; [`acked`] is the crash check (no acknowledged request lost); [`retry`] sends a
//! request again after a 503 or no answer, counting the answers (the failover drill).

pub mod acked;
pub mod drive;
pub mod procfs;
pub mod report;
pub mod retry;
pub mod setup;
