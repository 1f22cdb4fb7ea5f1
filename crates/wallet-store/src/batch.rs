//! Writes a transaction makes at commit, just before `COMMIT`: its request's MAC nonce and rate
//! count (`request.rs`), its idempotent answer ([`crate::Tx::answer_at_commit`]), the events
//! it appended to audit trails ([`crate::Tx::append_event`]) and, on PostgreSQL, the ledger rows
//! of a hold placed or settled at commit ([`PendingLedger`]; written earlier if a statement reads
//! them first, see [`crate::Tx::flush_rows`]).
//!
//! Why at commit: none of them is read by the transaction itself, so they need not be written
//! before its other statements; at the end they can all go to PostgreSQL as *one* statement
//! (data-modifying `WITH` parts, one per write), one round trip where there were three — on a
//! small server each round trip costs both processes a wake-up (bench/README.md). SQLite runs
//! them one after the other (it is in process). A write that must change a row and does not (the
//! nonce or the idempotency key is taken) refuses the whole transaction: nothing is written.

use crate::db::{self, Params, Query, Value};
use crate::deltas::Delta;
use crate::error::{ANSWERED_MEANWHILE, CORRUPT, REUSED_NONCE};
use crate::{Backend, Result, StoreError, Tx};
use sqlx::AssertSqlSafe;
use wallet_core::ids::{HoldId, TransactionKey};

/// What a deferred write that changed no row means.
///
/// On PostgreSQL a write that refuses makes its statement fail ([`combined`]), so the parts
/// before it are not written either, even by a statement that runs outside a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfUnchanged {
    /// Nothing: it may change no row.
    Fine,
    /// The request's nonce was used by a committed request ([`StoreError::ReusedNonce`]).
    ReusedNonce,
    /// Another request with the same idempotency key was answered ([`StoreError::AnsweredMeanwhile`]).
    AnsweredMeanwhile,
    /// A row this transaction locked changed meanwhile: [`StoreError::Corrupt`], saying which.
    Corrupt(&'static str),
}

impl IfUnchanged {
    /// Why the write refuses the transaction when it changes no row, as `walletd_refuse` raises
    /// it and [`StoreError::from_sqlx`] reads it back; `None` if it does not refuse.
    fn refusal(self) -> Option<String> {
        match self {
            IfUnchanged::Fine => None,
            IfUnchanged::ReusedNonce => Some(REUSED_NONCE.to_owned()),
            IfUnchanged::AnsweredMeanwhile => Some(ANSWERED_MEANWHILE.to_owned()),
            IfUnchanged::Corrupt(what) => Some(format!("{CORRUPT}{what}")),
        }
    }
}

/// An event of a transaction's audit trail, waiting for commit.
pub(crate) struct Event {
    pub key: TransactionKey,
    pub at: i64,
    pub actor: String,
    pub event: String,
    pub detail: Option<String>,
}

/// Most events waiting for commit: more are written at once, in one `INSERT` (5 parameters each,
/// well below either database's limit, with room for the other writes of the commit).
const EVENTS_PER_INSERT: usize = 1000;

/// The deferred writes of one transaction, in order.
#[derive(Default)]
pub(crate) struct AtCommit {
    writes: Vec<(Query, IfUnchanged)>,
    events: Vec<Event>,
}

impl AtCommit {
    pub(crate) fn push(&mut self, write: Query, if_unchanged: IfUnchanged) {
        self.writes.push((write, if_unchanged));
    }

    /// The writes, the waiting events first as one multi-row `INSERT`: its rows get their ids in
    /// the order given, so a trail keeps the order its events were appended in.
    fn take(&mut self) -> Vec<(Query, IfUnchanged)> {
        let mut writes = Vec::with_capacity(self.writes.len() + 1);
        if !self.events.is_empty() {
            writes.push((events_insert(&self.events), IfUnchanged::Fine));
            self.events.clear();
        }
        writes.append(&mut self.writes);
        writes
    }
}

/// PostgreSQL: ledger rows waiting for commit ([`Tx::pending_ledger`]).
#[derive(Default)]
pub(crate) struct PendingLedger {
    writes: Vec<(Query, IfUnchanged)>,
    /// The holds among them placed by this transaction, not yet written.
    placed: Vec<HoldId>,
}

impl PendingLedger {
    /// A hold placed: its `INSERT`.
    pub(crate) fn place(&mut self, hold_id: HoldId, insert: Query) {
        self.writes.push((insert, IfUnchanged::Fine));
        self.placed.push(hold_id);
    }

    pub(crate) fn push(&mut self, write: Query, if_unchanged: IfUnchanged) {
        self.writes.push((write, if_unchanged));
    }

    /// True when `hold_id` was placed by this transaction and is not written yet.
    pub(crate) fn placed(&self, hold_id: HoldId) -> bool {
        self.placed.contains(&hold_id)
    }

    fn take(&mut self) -> Vec<(Query, IfUnchanged)> {
        self.placed.clear();
        std::mem::take(&mut self.writes)
    }
}

impl Tx {
    /// Queues `event` for commit; writes the queue now once it is full (see [`EVENTS_PER_INSERT`]).
    pub(crate) async fn queue_event(&mut self, event: Event) -> Result<()> {
        self.at_commit.events.push(event);
        if self.at_commit.events.len() >= EVENTS_PER_INSERT {
            let events = std::mem::take(&mut self.at_commit.events);
            self.run(events_insert(&events)).await?;
        }
        Ok(())
    }
}

fn events_insert(events: &[Event]) -> Query {
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let n = 5 * i;
            format!(
                "(${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            )
        })
        .collect();
    let mut args = Vec::with_capacity(5 * events.len());
    for e in events {
        let (key, actor, event) = (e.key.as_str(), e.actor.as_str(), e.event.as_str());
        (key, e.at, actor, event, e.detail.as_deref()).push_onto(&mut args);
    }
    let sql = format!(
        "INSERT INTO transaction_events (transaction_key, at, actor, event, detail) VALUES {}",
        rows.join(", ")
    );
    db::query_with(AssertSqlSafe(sql), args)
}

impl Tx {
    /// Writes now the transaction and payment changes waiting for commit
    /// ([`Tx::set_transaction_and_payments`]): before a statement that reads or changes
    /// transactions or payments. On PostgreSQL in one statement.
    pub(crate) async fn flush_rows(&mut self) -> Result<()> {
        self.flush_ledger().await?;
        let Some(rows) = self.pending_rows.take() else {
            return Ok(());
        };
        let writes = rows.writes();
        let changed = if self.backend == Backend::Postgres && writes.len() > 1 {
            self.run_combined(writes, Vec::new(), &[]).await?
        } else {
            self.execute_each(writes).await?
        };
        each_changed_one(Some(&rows.key), &changed)
    }

    /// Writes now the ledger rows waiting for commit ([`Tx::pending_ledger`]: holds placed, holds
    /// settled with their movements), on PostgreSQL in one statement: called by
    /// [`Tx::flush_rows`], so before any statement that reads holds, payments or transactions.
    pub(crate) async fn flush_ledger(&mut self) -> Result<()> {
        if self.pending_ledger.writes.is_empty() {
            return Ok(());
        }
        let (queries, checks): (Vec<Query>, Vec<IfUnchanged>) =
            self.pending_ledger.take().into_iter().unzip();
        let written = self.run_statements(Vec::new(), queries, &checks).await?;
        each_as_expected(&written, checks)
    }

    /// Makes the transaction and payment changes waiting for commit, the account changes `deltas`
    /// (in their order, see [`Tx::merged_deltas`]: the held ones on their rows, the others
    /// appended) and the deferred writes (see the module documentation). `Err` when one refuses
    /// the transaction; the caller then rolls back.
    pub(crate) async fn run_at_commit(&mut self, deltas: Vec<Delta>) -> Result<()> {
        let pending = self.pending_rows.take();
        let rows = pending.as_ref().map(|r| r.writes()).unwrap_or_default();
        let row_key = pending.map(|r| r.key);
        let (guarded, appended): (Vec<Delta>, Vec<Delta>) =
            deltas.into_iter().partition(Delta::is_guarded);
        let ledger = self.pending_ledger.take();
        let writes = self.at_commit.take();
        // The transaction's rows first (the payments, then the transaction: the order they are
        // locked in by every change of a transaction), then the appended changes and the writes.
        // On PostgreSQL all in one statement, so the locks of the rows changed last are held only
        // for it and the `COMMIT`.
        //
        // With holds (a reserve), the held accounts' guarded `UPDATE`s come last, in a statement
        // of their own after the writes, so that the payer's row (hot when one wallet pays at
        // every till) is locked only for that statement and the `COMMIT`. The ledger's rows (a
        // hold's `INSERT`) and the writes go in the statement before. A guard that refused runs
        // again after a fold (`Tx::ensure_delta`), which waits for the account's row while this
        // transaction holds its rate-count row: no transaction waits for a rate-count row while
        // it holds an account's, because every one that has both (a reserve of an API request)
        // takes the rate count first. (Holds placed at once, by the confirmation page and FLASH
        // answers, lock the account early, but those requests count no rate.)
        let n_rows = rows.len();
        let chain: Vec<Query> = rows
            .into_iter()
            .chain(guarded.iter().map(Delta::update))
            .collect();
        let appends = usize::from(!appended.is_empty());
        let (queries, checks): (Vec<Query>, Vec<IfUnchanged>) =
            ledger.into_iter().chain(writes).unzip();
        let parts: Vec<Query> = (!appended.is_empty())
            .then(|| Delta::append(&appended))
            .into_iter()
            .chain(queries)
            .collect();
        // What each part's changing no row means, in the order the parts run.
        let parts_checks: Vec<IfUnchanged> = std::iter::repeat_n(IfUnchanged::Fine, appends)
            .chain(checks.iter().copied())
            .collect();
        if guarded.is_empty() {
            let mut all_checks = vec![IfUnchanged::Fine; chain.len()];
            all_checks.extend(&parts_checks);
            let changed = self.run_statements(chain, parts, &all_checks).await?;
            let (rows, written) = changed.split_at(n_rows);
            each_changed_one(row_key.as_ref(), rows)?;
            return each_as_expected(&written[appends..], checks);
        }
        // With holds: the ledger's rows and the writes, then the transaction's rows and the guards.
        let written = self
            .run_statements(Vec::new(), parts, &parts_checks)
            .await?;
        each_as_expected(&written[appends..], checks)?;
        let chain_checks = vec![IfUnchanged::Fine; chain.len()];
        let chained = self
            .run_statements(chain, Vec::new(), &chain_checks)
            .await?;
        let (rows, held) = chained.split_at(n_rows);
        each_changed_one(row_key.as_ref(), rows)?;
        for (d, n) in guarded.iter().zip(held) {
            // A guard that refused may be retried once the account's appended changes are in.
            self.ensure_delta(d, Some(*n)).await?;
        }
        Ok(())
    }
}

/// `Err` for the first write that changed no row where that refuses the transaction.
fn each_as_expected(written: &[u64], checks: Vec<IfUnchanged>) -> Result<()> {
    for (n, check) in written.iter().zip(checks) {
        match (n, check) {
            (0, IfUnchanged::ReusedNonce) => return Err(StoreError::ReusedNonce),
            (0, IfUnchanged::AnsweredMeanwhile) => return Err(StoreError::AnsweredMeanwhile),
            (0, IfUnchanged::Corrupt(what)) => return Err(StoreError::Corrupt(what.into())),
            _ => {}
        }
    }
    Ok(())
}

impl Tx {
    /// Runs `chain`, then `parts`: on PostgreSQL as one statement ([`combined`]) when there is
    /// more than one, else one after the other; answers the rows each changed, in that order.
    /// `checks`: what each one's changing no row means, in that order (missing: fine).
    async fn run_statements(
        &mut self,
        chain: Vec<Query>,
        parts: Vec<Query>,
        checks: &[IfUnchanged],
    ) -> Result<Vec<u64>> {
        if self.backend == Backend::Postgres && chain.len() + parts.len() > 1 {
            self.run_combined(chain, parts, checks).await
        } else {
            let all = chain.into_iter().chain(parts);
            self.execute_each(all.collect()).await
        }
    }

    /// Runs `queries` one after the other; answers the rows each changed.
    async fn execute_each(&mut self, queries: Vec<Query>) -> Result<Vec<u64>> {
        let mut changed = Vec::with_capacity(queries.len());
        for q in queries {
            changed.push(self.run(q).await?);
        }
        Ok(changed)
    }

    /// PostgreSQL: `chain`, then `parts`, as one statement ([`combined`], no main part);
    /// answers the rows each changed, in that order.
    async fn run_combined(
        &mut self,
        chain: Vec<Query>,
        parts: Vec<Query>,
        checks: &[IfUnchanged],
    ) -> Result<Vec<u64>> {
        let n = chain.len() + parts.len();
        let row = combined(chain, parts, checks)
            .fetch_one(self.conn())
            .await?;
        counts_of(&row, n)
    }
}

/// `Err` unless each of a transaction's row changes changed its one row.
fn each_changed_one(key: Option<&TransactionKey>, changed: &[u64]) -> Result<()> {
    if changed.iter().any(|n| *n != 1) {
        let key = key.map_or("", TransactionKey::as_str);
        return Err(StoreError::Corrupt(format!(
            "transaction {key}: a payment or the transaction itself to change is gone"
        )));
    }
    Ok(())
}

fn counts_of(row: &db::Row, n: usize) -> Result<Vec<u64>> {
    (0..n)
        .map(|i| row.try_get::<i64, _>(i).map(|n| n.max(0) as u64))
        .collect()
}

/// PostgreSQL: the writes as one statement, `WITH a0 AS (… RETURNING 1), …, w0 AS (… RETURNING
/// 1), … SELECT (SELECT count(*) FROM a0), …, (SELECT count(*) FROM w0), …`: one column per
/// write, the rows it changed. Each `$N` is renumbered after the parameters before it. The parts
/// must not change the same row (the parts of one statement do not see each other's changes);
/// they do not: each writes a table of its own, or inserts rows, or (`chain`) changes one row
/// each: a payment, the transaction, an account.
///
/// `chain` (`UPDATE … WHERE …`, answered first) runs in order: each part after the first has
/// `AND (SELECT count(*) FROM a{i-1}) >= 0` added to its `WHERE`, always true, but a condition it
/// cannot decide before the part before it has run to completion; so each part's rows are locked
/// before the next part's. (Without it, the order in which the parts of one statement run is not
/// defined.) The `SELECT` has the same condition on the last part, so the writes `parts` run
/// after the whole chain, when the `SELECT` reads them.
///
/// A part whose `checks` entry refuses the transaction when it changes no row is answered as
/// `CASE WHEN (SELECT count(*) FROM w{i}) = 0 THEN walletd_refuse($k) ELSE … END`, the reason
/// bound as `$k`: the statement then fails, and none of its parts is written, even outside a
/// transaction (`db::LazyTx`).
fn combined(chain: Vec<Query>, parts: Vec<Query>, checks: &[IfUnchanged]) -> Query {
    let n = chain.len() + parts.len();
    let mut with = Vec::with_capacity(n);
    let mut counts = Vec::with_capacity(n);
    let mut args: Vec<Value> = Vec::new();
    let chained = chain.len();
    for (name, group) in [("a", chain), ("w", parts)] {
        for (i, part) in group.into_iter().enumerate() {
            let (sql, part_args) = part.into_parts();
            let wait = match (name, i) {
                ("a", 1..) => format!(" AND (SELECT count(*) FROM a{}) >= 0", i - 1),
                _ => String::new(),
            };
            with.push(format!(
                "{name}{i} AS ({}{wait} RETURNING 1)",
                renumber(&sql, args.len())
            ));
            let count = format!("(SELECT count(*) FROM {name}{i})");
            args.extend(part_args);
            match checks.get(counts.len()).and_then(|c| c.refusal()) {
                Some(reason) => {
                    args.push(Value::from(reason));
                    counts.push(format!(
                        "CASE WHEN {count} = 0 THEN walletd_refuse(${}) ELSE {count} END",
                        args.len()
                    ));
                }
                None => counts.push(count),
            }
        }
    }
    if counts.is_empty() {
        counts.push("1".to_owned());
    }
    let body = match chained {
        0 => format!("SELECT {}", counts.join(", ")),
        n => format!(
            "SELECT {} WHERE (SELECT count(*) FROM a{}) >= 0",
            counts.join(", "),
            n - 1
        ),
    };
    let sql = if with.is_empty() {
        body
    } else {
        format!("WITH {} {body}", with.join(", "))
    };
    db::query_with(AssertSqlSafe(sql), args)
}

/// `sql` with every parameter `$N` written `$(N + offset)`. The store's SQL has no `$` in literals.
pub(crate) fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some(&(_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
            n.push(d);
            chars.next();
        }
        match n.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&n),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_after_the_earlier_writes() {
        assert_eq!(
            renumber(
                "INSERT INTO t (a, b) VALUES ($1, $12) ON CONFLICT DO UPDATE SET a = $1",
                3
            ),
            "INSERT INTO t (a, b) VALUES ($4, $15) ON CONFLICT DO UPDATE SET a = $4"
        );
        assert_eq!(renumber("SELECT 1", 5), "SELECT 1");
    }

    #[test]
    fn events_are_inserted_in_order_in_one_statement() {
        let event = |n: i64| Event {
            key: TransactionKey::issued("k".into()),
            at: n,
            actor: "a".into(),
            event: format!("e{n}"),
            detail: (n == 2).then(|| "d".into()),
        };
        let (sql, args) = events_insert(&[event(1), event(2)]).into_parts();
        assert_eq!(
            sql,
            "INSERT INTO transaction_events (transaction_key, at, actor, event, detail) \
             VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)"
        );
        assert_eq!(args.len(), 10);
        assert_eq!(args[4], Value::Text(None));
        assert_eq!(
            args[5..],
            [
                Value::from("k"),
                Value::from(2i64),
                Value::from("a"),
                Value::from("e2"),
                Value::from("d")
            ]
        );
    }

    /// `INSERT INTO a (x) VALUES ($1)`, with `x` as `$1`.
    fn insert_a(x: i64) -> Query {
        db::query_with("INSERT INTO a (x) VALUES ($1)", (x,))
    }

    #[test]
    fn writes_combine_into_one_statement_with_a_count_each() {
        let update = db::query_with("UPDATE b SET y = $2 WHERE z = $1", (2i64, "two"));
        let (sql, args) = combined(Vec::new(), vec![insert_a(1), update], &[]).into_parts();
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a (x) VALUES ($1) RETURNING 1), \
             w1 AS (UPDATE b SET y = $3 WHERE z = $2 RETURNING 1) \
             SELECT (SELECT count(*) FROM w0), (SELECT count(*) FROM w1)"
        );
        assert_eq!(
            args,
            vec![Value::from(1i64), Value::from(2i64), Value::from("two")]
        );
    }

    #[test]
    fn chained_updates_run_in_order_before_the_writes() {
        let update = |id: i64| db::query_with("UPDATE c SET v = v + $1 WHERE id = $2", (1i64, id));
        let q = combined(
            vec![update(30), update(20)],
            vec![insert_a(7)],
            &[IfUnchanged::Fine; 3],
        );
        let (sql, args) = q.into_parts();
        assert_eq!(
            sql,
            "WITH a0 AS (UPDATE c SET v = v + $1 WHERE id = $2 RETURNING 1), \
             a1 AS (UPDATE c SET v = v + $3 WHERE id = $4 AND (SELECT count(*) FROM a0) >= 0 RETURNING 1), \
             w0 AS (INSERT INTO a (x) VALUES ($5) RETURNING 1) \
             SELECT (SELECT count(*) FROM a0), (SELECT count(*) FROM a1), (SELECT count(*) FROM w0) \
             WHERE (SELECT count(*) FROM a1) >= 0"
        );
        let ids: Vec<&Value> = args.iter().skip(1).step_by(2).take(2).collect();
        assert_eq!(ids, [&Value::from(30i64), &Value::from(20i64)]);
        assert_eq!(args.len(), 5);
        assert_eq!(args[4], Value::from(7i64));
    }

    #[test]
    fn a_write_that_refuses_makes_the_statement_fail_with_its_reason() {
        let nonce = db::query_with(
            "INSERT INTO n (x) VALUES ($1) ON CONFLICT DO NOTHING",
            (2i64,),
        );
        let row = db::query_with("INSERT INTO c (x) VALUES ($1)", (3i64,));
        let checks = [
            IfUnchanged::Fine,
            IfUnchanged::ReusedNonce,
            IfUnchanged::Corrupt("row"),
        ];
        let (sql, args) = combined(Vec::new(), vec![insert_a(1), nonce, row], &checks).into_parts();
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a (x) VALUES ($1) RETURNING 1), \
             w1 AS (INSERT INTO n (x) VALUES ($2) ON CONFLICT DO NOTHING RETURNING 1), \
             w2 AS (INSERT INTO c (x) VALUES ($4) RETURNING 1) \
             SELECT (SELECT count(*) FROM w0), \
             CASE WHEN (SELECT count(*) FROM w1) = 0 THEN walletd_refuse($3) ELSE (SELECT count(*) FROM w1) END, \
             CASE WHEN (SELECT count(*) FROM w2) = 0 THEN walletd_refuse($5) ELSE (SELECT count(*) FROM w2) END"
        );
        assert_eq!(
            args,
            vec![
                Value::from(1i64),
                Value::from(2i64),
                Value::from(REUSED_NONCE),
                Value::from(3i64),
                Value::from("corrupt: row"),
            ]
        );
    }
}
