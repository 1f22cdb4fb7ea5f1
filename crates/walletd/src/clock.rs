//! The one source of business time (deadlines, expiry, `created_at`).
//!
//! Production uses the system clock; tests use [`ManualClock`] and move it to
//! make deadlines pass without waiting. MAC timestamps are checked against real
//! wall time instead (see `auth`), because clients sign with their own clocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Business time in UNIX seconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;

    /// Takes the sandbox offset stored in the database (the sweeper passes it every tick).
    /// Clocks that tests move by hand ignore it.
    fn sync_offset(&self, _offset_seconds: i64) {}
}

/// The production clock: wall time plus the sandbox offset an operator has moved it by
/// (`walletd admin clock advance`), so that expiries, freeze ends and deletions can be tested
/// without waiting. The offset lives in the database; this copy is refreshed every sweep.
#[derive(Debug, Clone, Default)]
pub struct SandboxClock(Arc<AtomicI64>);

impl Clock for SandboxClock {
    fn now(&self) -> i64 {
        wall_now() + self.0.load(Ordering::SeqCst)
    }

    fn sync_offset(&self, offset_seconds: i64) {
        self.0.store(offset_seconds, Ordering::SeqCst);
    }
}

/// Real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

/// Current wall-clock UNIX seconds.
pub fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Current wall-clock milliseconds since the UNIX epoch: the time part of a new `transaction_key`
/// (`wallet_core::keys::new_transaction_key`), which orders keys for the store, not business time.
pub fn wall_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        wall_now()
    }
}

/// A clock that starts at real time and moves only when told.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock(Arc::new(AtomicI64::new(wall_now())))
    }
}

impl ManualClock {
    /// Moves time forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn set(&self, at: i64) {
        self.0.store(at, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;
