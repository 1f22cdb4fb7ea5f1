//! The balance changes of a transaction, made at commit (or before it reads a balance).
//!
//! Only a hold changes an account's row as it is made. Every other change (a credit, a settled
//! debit, a release, a top-up) raises or keeps the money available, and is appended to
//! `account_changes` instead: a busy account (a cash-out point's, credited by every confirm; a
//! payer paying at many tills) is then not one row that every transaction queues for. An
//! account's money is its row plus its changes (the view `account_totals`); the row alone is a
//! lower bound of what is available, so a guard that reads the row never overdraws. When it
//! refuses and changes are waiting, they are folded into the row ([`Tx::fold_account`]) and the
//! guard runs again; the sweeper folds them too ([`Tx::fold_account_changes`]).

use crate::db::Params;
use crate::{Backend, Result, StoreError, Tx, db};
use wallet_core::ids::AccountId;

/// Folds the waiting changes of the accounts `{accounts}` selects (a condition on `id`) into their
/// rows, on PostgreSQL in one statement: the rows are locked first (`l`, newest account first, the
/// order every transaction locks accounts in; `FOR NO KEY UPDATE`, the lock of an `UPDATE`, which
/// lets the foreign-key checks of concurrent inserts through), then their changes are deleted, and
/// each row gets the sum of the changes *this* statement deleted, so two folds never count a change
/// twice. Answers the changes folded and the rows updated.
const FOLD_PG: &str = "WITH l AS MATERIALIZED (SELECT id FROM accounts WHERE {accounts} ORDER BY id DESC FOR NO KEY UPDATE), \
     d AS (DELETE FROM account_changes WHERE account_id IN (SELECT id FROM l) RETURNING account_id, balance, reserved), \
     s AS (SELECT account_id, CAST(SUM(balance) AS BIGINT) AS balance, CAST(SUM(reserved) AS BIGINT) AS reserved FROM d GROUP BY account_id), \
     u AS (UPDATE accounts a SET balance = a.balance + s.balance, reserved = a.reserved + s.reserved FROM s WHERE a.id = s.account_id RETURNING 1) \
     SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u)";

/// SQLite: [`FOLD_PG`] as two statements (the writer is alone, so both see the same changes).
const FOLD_SQLITE: [&str; 2] = [
    "UPDATE accounts SET balance = accounts.balance + s.balance, reserved = accounts.reserved + s.reserved \
     FROM (SELECT account_id, SUM(balance) AS balance, SUM(reserved) AS reserved FROM account_changes \
     WHERE account_id IN (SELECT id FROM accounts WHERE {accounts}) GROUP BY account_id) s WHERE accounts.id = s.account_id",
    "DELETE FROM account_changes WHERE account_id IN (SELECT id FROM accounts WHERE {accounts})",
];

/// The accounts the sweeper folds at once: those of the oldest `$1` changes.
const OLDEST_CHANGES: &str = "id IN (SELECT account_id FROM account_changes ORDER BY id LIMIT $1)";

/// The deferred changes to one account (see [`Tx::flush_deltas`]).
pub(crate) struct Delta {
    pub account: AccountId,
    pub balance: i64,
    pub reserved: i64,
    /// Money held that must be available.
    pub guard: i64,
}

impl Delta {
    /// True when it holds money: made on the account's row, guarded. The others are appended.
    pub(crate) fn is_guarded(&self) -> bool {
        self.guard > 0
    }

    /// The guarded `UPDATE` of the account's row that makes it (a held change).
    pub(crate) fn update(&self) -> db::Query {
        db::query_with(
            "UPDATE accounts SET balance = balance + $1, reserved = reserved + $2 WHERE id = $3 AND balance - reserved >= $4",
            (self.balance, self.reserved, self.account, self.guard),
        )
    }

    /// The `INSERT` appending changes that need no guard to `account_changes`, one row each.
    pub(crate) fn append(deltas: &[Delta]) -> db::Query {
        let rows: Vec<String> = (0..deltas.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let mut args = Vec::with_capacity(3 * deltas.len());
        for d in deltas {
            debug_assert!(d.reserved <= 0, "only a hold raises reserved");
            (d.account, d.balance, d.reserved).push_onto(&mut args);
        }
        let sql = format!(
            "INSERT INTO account_changes (account_id, balance, reserved) VALUES {}",
            rows.join(", ")
        );
        db::query_with(sqlx::AssertSqlSafe(sql), args)
    }
}

impl Tx {
    /// Adds `balance` and `reserved` to an account at commit (or before this transaction next
    /// reads a balance or places a hold), not now, as a row appended to `account_changes` (see
    /// the module documentation). These changes never need a guard and never lower the money
    /// available: debits are covered by a hold, releases only lower `reserved`.
    pub(crate) fn defer(&mut self, account_id: AccountId, balance: i64, reserved: i64) {
        self.deltas.push((account_id, balance, reserved, 0));
    }

    /// Applies the deferred changes: one guarded `UPDATE` per account with holds checked at
    /// commit ([`Tx::place_hold_at_commit`]), newest account first (see [`Tx::merged_deltas`]),
    /// made only if its available money, before this transaction's changes, covers them all
    /// ([`StoreError::NotEnoughFunds`] if not); then the other changes, appended in one `INSERT`.
    pub(crate) async fn flush_deltas(&mut self) -> Result<()> {
        let (guarded, appended): (Vec<Delta>, Vec<Delta>) = self
            .merged_deltas()
            .into_iter()
            .partition(Delta::is_guarded);
        for d in &guarded {
            self.ensure_delta(d, None).await?;
        }
        if !appended.is_empty() {
            self.run(Delta::append(&appended)).await?;
        }
        Ok(())
    }

    /// Takes the deferred changes, one per account, in the one global order they are made in:
    /// descending account ids, so that two transactions changing the same accounts lock them in
    /// the same order (no deadlock); descending because the oldest accounts are the busiest (a
    /// cash-out point's, the system's; payers come and go), and the last one changed is locked
    /// for the shortest time. (On PostgreSQL the commit makes them all in its last statement,
    /// in this order: `batch.rs`.)
    pub(crate) fn merged_deltas(&mut self) -> Vec<Delta> {
        let mut deltas = std::mem::take(&mut self.deltas);
        deltas.sort_unstable_by_key(|d| std::cmp::Reverse(d.0));
        let mut merged: Vec<Delta> = Vec::with_capacity(deltas.len());
        for (account, balance, reserved, guard) in deltas {
            match merged.last_mut() {
                Some(d) if d.account == account => {
                    d.balance += balance;
                    d.reserved += reserved;
                    d.guard += guard;
                }
                _ => merged.push(Delta {
                    account,
                    balance,
                    reserved,
                    guard,
                }),
            }
        }
        merged
    }

    /// Makes sure the guarded change `delta` is made ([`Tx::update_guarded`]; `updated`: the rows
    /// its `UPDATE` changed if it already ran). [`StoreError::NotEnoughFunds`] when the account's
    /// money falls short of its guard.
    pub(crate) async fn ensure_delta(&mut self, delta: &Delta, updated: Option<u64>) -> Result<()> {
        if self.update_guarded(delta, updated).await? {
            return Ok(());
        }
        let currency: Option<String> = self
            .optional_scalar(
                "SELECT currency FROM accounts WHERE id = $1",
                (delta.account,),
            )
            .await?;
        match currency {
            Some(currency) => Err(StoreError::NotEnoughFunds(currency)),
            None => Err(StoreError::Corrupt(format!(
                "account {} is missing",
                delta.account
            ))),
        }
    }

    /// Runs the guarded `UPDATE` of `delta` (unless it ran and changed `updated` rows); when its
    /// guard refuses, folds the changes waiting for the account into its row
    /// ([`Tx::fold_account`]) and runs it once more. True when the change is made.
    pub(crate) async fn update_guarded(
        &mut self,
        delta: &Delta,
        updated: Option<u64>,
    ) -> Result<bool> {
        self.count_request_first().await?;
        let updated = match updated {
            Some(n) => n,
            None => self.run(delta.update()).await?,
        };
        if updated > 0 {
            return Ok(true);
        }
        // Again even if this fold found nothing: a concurrent one may have folded them meanwhile.
        self.fold_account(delta.account).await?;
        let updated = self.run(delta.update()).await?;
        Ok(updated > 0)
    }

    /// Folds the changes waiting for one account into its row; answers how many there were.
    pub(crate) async fn fold_account(&mut self, account_id: AccountId) -> Result<u64> {
        self.fold("id = $1", account_id.get()).await
    }

    /// Folds into their rows the waiting changes of the accounts of the oldest `changes` changes
    /// (all of each account's changes, so at least that many if there are); answers how many
    /// changes it folded. The sweeper calls it, so that summing an account's changes stays short.
    pub async fn fold_account_changes(&mut self, changes: i64) -> Result<u64> {
        self.flush_deltas().await?;
        self.fold(OLDEST_CHANGES, changes).await
    }

    /// Folds the changes of the accounts `accounts` selects (see [`FOLD_PG`]), `$1` bound to `arg`.
    async fn fold(&mut self, accounts: &str, arg: i64) -> Result<u64> {
        if self.backend == Backend::Postgres {
            let sql = FOLD_PG.replace("{accounts}", accounts);
            let (folded, _rows): (i64, i64) = self.one(sqlx::AssertSqlSafe(sql), (arg,)).await?;
            return Ok(folded.max(0) as u64);
        }
        let [update, delete] = FOLD_SQLITE.map(|sql| sql.replace("{accounts}", accounts));
        self.exec(sqlx::AssertSqlSafe(update), (arg,)).await?;
        let folded = self.changed(sqlx::AssertSqlSafe(delete), (arg,)).await?;
        Ok(folded)
    }
}
