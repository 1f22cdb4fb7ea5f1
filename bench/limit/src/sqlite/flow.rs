//! What the two SQLite drivers share: the statements of one flow (`flow.sql`'s, in SQLite's
//! dialect), the seeded ids they bind, and a till's loop over the flow's three API calls.

use crate::code_hash;
use std::time::Instant;
use walletd_load::report::{Kind, Latencies};

// The statements of one flow, numbered parameters in order of first use (both drivers bind them
// by position). They are flow.sql's, without `FOR UPDATE`.
pub(super) const INSERT_TRANSACTION: &str = "INSERT INTO transactions (transaction_key, project_id, client_id, status, created_at, use_allowance, suggest_allowance, auto_confirm, updated_at) VALUES ($1, $2, $3, 'new', $4, 1, 0, 0, $4)";
pub(super) const INSERT_PAYMENT: &str = "INSERT INTO payments (transaction_key, project_id, status, price, currency, description, beneficiary_wallet_id, created_at) VALUES ($1, $2, 'new', $3, 'EUR', 'limit: cash-out', $4, $5) RETURNING id";
pub(super) const TRANSACTION_STATUS: &str =
    "SELECT status FROM transactions WHERE transaction_key = $1";
pub(super) const PAYMENTS_TO_RESERVE: &str =
    "SELECT id, price, currency FROM payments WHERE transaction_key = $1";
pub(super) const CODE: &str =
    "SELECT id, wallet_id, expires_at, used_at FROM reservation_codes WHERE code_hash = $1";
pub(super) const HOLD_FUNDS: &str = "UPDATE accounts SET reserved = reserved + $1 WHERE wallet_id = $2 AND currency = 'EUR' AND balance - reserved >= $1 RETURNING id";
pub(super) const INSERT_HOLD: &str = "INSERT INTO holds (account_id, payment_id, amount, status, created_at) VALUES ($1, $2, $3, 'active', $4) RETURNING id";
pub(super) const PAYMENT_RESERVED: &str =
    "UPDATE payments SET status = 'reserved', payer_wallet_id = $1, hold_id = $2 WHERE id = $3";
pub(super) const USE_CODE: &str = "UPDATE reservation_codes SET used_at = $1, transaction_key = $2 WHERE id = $3 AND used_at IS NULL";
pub(super) const TRANSACTION_RESERVED: &str = "UPDATE transactions SET status = 'reserved', kind = 'reservation_code', wallet_id = $1, reserved_until = $2, updated_at = $3 WHERE transaction_key = $4";
pub(super) const PAYMENTS_TO_CONFIRM: &str =
    "SELECT id, hold_id, price, beneficiary_wallet_id FROM payments WHERE transaction_key = $1";
pub(super) const SETTLE_HOLD: &str = "UPDATE holds SET status = 'settled', resolved_at = $1 WHERE id = $2 AND status = 'active' RETURNING account_id, amount";
pub(super) const DEBIT_PAYER: &str =
    "UPDATE accounts SET balance = balance - $1, reserved = reserved - $1 WHERE id = $2";
pub(super) const CREDIT_HOT: &str = "UPDATE accounts SET balance = balance + $1 WHERE id = $2";
pub(super) const INSERT_MOVEMENT: &str = "INSERT INTO movements (kind, transaction_key, payment_id, created_at) VALUES ('payment', $1, $2, $3) RETURNING id";
pub(super) const INSERT_ENTRIES: &str =
    "INSERT INTO entries (movement_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)";
pub(super) const PAYMENT_DONE: &str =
    "UPDATE payments SET status = 'done', confirmed_at = $1 WHERE id = $2";
pub(super) const TRANSACTION_CONFIRMED: &str = "UPDATE transactions SET status = 'confirmed', confirmed_at = $1, updated_at = $1 WHERE transaction_key = $2";

/// What the seed created, and what every flow binds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ids {
    pub project_id: i64,
    pub api_client: i64,
    pub hot_wallet: i64,
    pub hot_account: i64,
    pub amount: i64,
    pub now: i64,
}

/// What the tills add up to.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub latencies: Latencies,
    pub flows: u64,
    pub errors: u64,
    pub out_of_codes: bool,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.latencies.merge(other.latencies);
        self.flows += other.flows;
        self.errors += other.errors;
        self.out_of_codes |= other.out_of_codes;
    }
}

/// The flow's three API calls on one driver, each its own `BEGIN IMMEDIATE … COMMIT` behind the
/// one writer, as walletd's store queues them.
pub(super) trait Calls {
    /// `POST transaction`: the transaction and its payment.
    async fn create(&self) -> anyhow::Result<(String, i64)>;
    /// `PUT transaction/{key}/reserve` with a code; returns the hold.
    async fn reserve(&self, key: &str, payment_id: i64, code_hash: &str) -> anyhow::Result<i64>;
    /// `PUT transaction/{key}/confirm`.
    async fn confirm(&self, key: &str, payment_id: i64, hold_id: i64) -> anyhow::Result<()>;
}

/// One till: flows back to back until `deadline`, or until its `codes_per_till` codes are used;
/// each call timed, a failed call ending its flow.
pub(super) async fn till_loop(
    calls: &impl Calls,
    till: usize,
    codes_per_till: u64,
    deadline: Instant,
) -> Tally {
    let mut t = Tally::default();
    let mut n = 0u64;
    while Instant::now() < deadline {
        if n >= codes_per_till {
            t.out_of_codes = true;
            break;
        }
        let code = code_hash(till, n);
        n += 1;

        let t0 = Instant::now();
        let created = calls.create().await;
        t.latencies.record(Kind::Create, t0.elapsed());
        let Some((key, payment_id)) = ok_or_count(created, Kind::Create, &mut t.errors) else {
            continue;
        };
        let t1 = Instant::now();
        let reserved = calls.reserve(&key, payment_id, &code).await;
        t.latencies.record(Kind::Reserve, t1.elapsed());
        let Some(hold_id) = ok_or_count(reserved, Kind::Reserve, &mut t.errors) else {
            continue;
        };
        let t2 = Instant::now();
        let confirmed = calls.confirm(&key, payment_id, hold_id).await;
        t.latencies.record(Kind::Confirm, t2.elapsed());
        if ok_or_count(confirmed, Kind::Confirm, &mut t.errors).is_some() {
            t.flows += 1;
        }
    }
    t
}

/// The value, or `None` after counting the error (and printing the first three).
fn ok_or_count<T>(r: anyhow::Result<T>, kind: Kind, errors: &mut u64) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            *errors += 1;
            if *errors <= 3 {
                eprintln!("walletd-limit: {}: {e:#}", kind.name());
            }
            None
        }
    }
}
