//! Row ids drawn ahead from PostgreSQL's sequences, a block at a time.
//!
//! Why: a row written at commit (a hold, a settled hold's movement, a new payment) is referred to
//! before it exists — the hold by its payment, the movement by its entries, the payment by the
//! answer to the request that creates it. With its id known in advance,
//! its `INSERT` joins the commit's last statement (`batch.rs`) as one more independent part,
//! instead of taking a round trip of its own to learn the id; a block of [`BLOCK`] ids costs one
//! round trip for that many rows.
//!
//! An id drawn is never drawn again (a sequence is not rolled back), so ids stay unique whatever
//! the transactions that use them do, and whatever the instances sharing the database. Ids are
//! no longer in the order their rows were committed, only close to it; nothing orders holds or
//! movements by id (statements are ordered by their entries, whose ids the database assigns).
//! A transaction's payments still get increasing ids (the smallest id left is handed out first,
//! and a block drawn later is above every id drawn before), so they keep their creation order.
//!
//! Failover: a sequence's advance reaches the standby with the WAL of the transaction that drew
//! it. Drawn alone (autocommit), its commit waits for the synchronous standby like any other, so
//! a promoted standby never hands those ids out again. Drawn inside a transaction that then dies
//! with the primary, the advance may be lost: the ids left of that block are shared with later
//! transactions only once it commits, else dropped — or the promoted standby would hand out
//! again ids this process still holds (a primary-key error on the hold's insert, seen in
//! `bench/failover.sh`).

use crate::{Result, Tx, db};
use std::sync::Mutex;

/// Ids drawn per round trip.
const BLOCK: i64 = 32;

/// A table whose ids are drawn ahead.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Drawn {
    Holds,
    Movements,
    Payments,
}

impl Drawn {
    fn draw_sql(self) -> &'static str {
        match self {
            Drawn::Holds => {
                "SELECT nextval(pg_get_serial_sequence('holds', 'id')) FROM generate_series(1, CAST($1 AS BIGINT))"
            }
            Drawn::Movements => {
                "SELECT nextval(pg_get_serial_sequence('movements', 'id')) FROM generate_series(1, CAST($1 AS BIGINT))"
            }
            Drawn::Payments => {
                "SELECT nextval(pg_get_serial_sequence('payments', 'id')) FROM generate_series(1, CAST($1 AS BIGINT))"
            }
        }
    }
}

/// The ids drawn and not used yet, per table; shared by the store's transactions.
#[derive(Default)]
pub(crate) struct IdBlocks {
    holds: Mutex<Vec<i64>>,
    movements: Mutex<Vec<i64>>,
    payments: Mutex<Vec<i64>>,
}

impl IdBlocks {
    fn pool(&self, table: Drawn) -> &Mutex<Vec<i64>> {
        match table {
            Drawn::Holds => &self.holds,
            Drawn::Movements => &self.movements,
            Drawn::Payments => &self.payments,
        }
    }

    /// The smallest id left, if any.
    fn take(&self, table: Drawn) -> Option<i64> {
        self.pool(table).lock().ok()?.pop()
    }

    /// Keeps `ids` for later transactions, smallest handed out first.
    fn keep(&self, table: Drawn, ids: &[i64]) {
        if let Ok(mut pool) = self.pool(table).lock() {
            pool.extend_from_slice(ids);
            pool.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    /// Moves every id of `drawn` (a committed transaction's own) into these.
    pub(crate) fn absorb(&self, drawn: &IdBlocks) {
        for table in [Drawn::Holds, Drawn::Movements, Drawn::Payments] {
            let ids = match drawn.pool(table).lock() {
                Ok(mut pool) => std::mem::take(&mut *pool),
                Err(_) => continue,
            };
            self.keep(table, &ids);
        }
    }
}

impl Tx {
    /// PostgreSQL: an id of `table` no other row has or will have; one round trip per [`BLOCK`].
    pub(crate) async fn draw_id(&mut self, table: Drawn) -> Result<i64> {
        if let Some(id) = self.id_blocks.take(table) {
            return Ok(id);
        }
        if let Some(id) = self.ids_drawn_inside.take(table) {
            return Ok(id);
        }
        // Outside the transaction if it has not begun: a sequence is not rolled back anyway.
        let inside = self.has_begun();
        let drawn = db::query_as(table.draw_sql()).with((BLOCK,));
        let ids: Vec<(i64,)> = drawn.fetch_all(self.conn_outside()).await?;
        let mut ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
        ids.sort_unstable();
        let Some((&first, rest)) = ids.split_first() else {
            return Err(crate::StoreError::Corrupt(format!(
                "no id drawn for {table:?}"
            )));
        };
        match inside {
            // Shared once this transaction commits (the module's "Failover").
            true => self.ids_drawn_inside.keep(table, rest),
            false => self.id_blocks.keep(table, rest),
        }
        Ok(first)
    }
}
