//! The ledger in SQL: accounts, holds, movements and their entries.
//!
//! Each method is the SQL mirror of a rule in `wallet_core::ledger`. Debits are
//! guarded in the `UPDATE` itself (`… AND balance - reserved >= amount`), so no
//! interleaving of concurrent requests can overdraw an account; a hold leaves
//! `active` through a guarded `UPDATE … WHERE status = 'active'`, so it is
//! resolved at most once.
//!
//! Only a hold changes an account's row as it is made. Every other change (a credit, a settled
//! debit, a release, a top-up) raises or keeps the money available, and is appended to
//! `account_changes` instead: a busy account (a cash-out point's, credited by every confirm; a
//! payer paying at many tills) is then not one row that every transaction queues for. An
//! account's money is its row plus its changes (the view `account_totals`); the row alone is a
//! lower bound of what is available, so a guard that reads the row never overdraws. When it
//! refuses and changes are waiting, they are folded into the row ([`Tx::fold_account`]) and the
//! guard runs again; the sweeper folds them too ([`Tx::fold_account_changes`]).

use crate::batch::IfUnchanged;
use crate::db::{Cols, Decode};
use crate::ids::Drawn;
use crate::{Backend, Result, StoreError, Tx, db};
use wallet_core::Currency;
use wallet_core::ledger::AccountBalance;

/// PostgreSQL: a movement of `$6` from account `$5` to `$7` (two entries) in one statement, one
/// round trip instead of two; answers the movement's id. (SQLite runs the two `INSERT`s: it has
/// no data-modifying `WITH`, and in process a statement costs no round trip.)
const RECORD_MOVEMENT_PG: &str = "WITH m AS (INSERT INTO movements (kind, transaction_key, payment_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id), \
     e AS (INSERT INTO entries (movement_id, account_id, amount) SELECT id, $5, -$6 FROM m UNION ALL SELECT id, $7, $6 FROM m) \
     SELECT id FROM m";

/// PostgreSQL: [`Tx::settle_hold`] in one statement, one round trip instead of three: the hold
/// `$2` leaves `active` (at most once), and only if it did, `$5` moves from its account to `$6`
/// as one movement of payment `$4` of transaction `$3`. Answers the hold's account and amount,
/// no row if it was not active.
const SETTLE_HOLD_PG: &str = "WITH h AS (UPDATE holds SET status = 'settled', resolved_at = $1 WHERE id = $2 AND status = 'active' RETURNING account_id, amount), \
     m AS (INSERT INTO movements (kind, transaction_key, payment_id, created_at) SELECT 'payment', $3, $4, $1 FROM h RETURNING id), \
     e AS (INSERT INTO entries (movement_id, account_id, amount) SELECT m.id, h.account_id, -$5 FROM m, h UNION ALL SELECT m.id, $6, $5 FROM m) \
     SELECT account_id, amount FROM h";

/// One account: a wallet's (or a system's) money in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    pub currency: Currency,
    pub balance: AccountBalance,
    /// Money confirmed to this account but frozen (not yet in `balance`).
    pub incoming: i64,
}

impl Decode for AccountRow {
    const COLUMNS: &'static str = "id, currency, balance, reserved, incoming";

    fn decode(c: Cols<'_>) -> Result<AccountRow> {
        Ok(AccountRow {
            id: c.get("id")?,
            currency: c.parsed("currency")?,
            balance: AccountBalance {
                balance: c.get("balance")?,
                reserved: c.get("reserved")?,
            },
            incoming: c.get("incoming")?,
        })
    }
}

/// The ledger's invariants as measured in the database (see [`Tx::ledger_check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCheck {
    /// Sum of all balances, per currency: zero when money is neither created nor lost.
    pub totals: Vec<(String, i64)>,
    /// Accounts whose balance differs from the sum of their entries.
    pub balance_mismatches: i64,
    /// Movements whose entries do not sum to zero.
    pub unbalanced_movements: i64,
    /// Accounts whose `reserved` differs from their active holds.
    pub reserved_mismatches: i64,
    /// Wallet accounts with negative available money.
    pub negative_available: i64,
    /// Accounts whose `incoming` differs from the frozen payments to them.
    pub incoming_mismatches: i64,
}

impl LedgerCheck {
    /// True when every invariant holds.
    pub fn is_sound(&self) -> bool {
        self.totals.iter().all(|(_, t)| *t == 0)
            && self.balance_mismatches == 0
            && self.unbalanced_movements == 0
            && self.reserved_mismatches == 0
            && self.negative_available == 0
            && self.incoming_mismatches == 0
    }
}

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
    pub account: i64,
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
        db::query(
            "UPDATE accounts SET balance = balance + $1, reserved = reserved + $2 WHERE id = $3 AND balance - reserved >= $4",
        )
        .bind(self.balance)
        .bind(self.reserved)
        .bind(self.account)
        .bind(self.guard)
    }

    /// The `INSERT` appending changes that need no guard to `account_changes`, one row each.
    pub(crate) fn append(deltas: &[Delta]) -> db::Query {
        let rows: Vec<String> = (0..deltas.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let mut q = db::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO account_changes (account_id, balance, reserved) VALUES {}",
            rows.join(", ")
        )));
        for d in deltas {
            debug_assert!(d.reserved <= 0, "only a hold raises reserved");
            q = q.bind(d.account).bind(d.balance).bind(d.reserved);
        }
        q
    }
}

/// Whose an account is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum AccountOwner {
    Wallet(i64),
    System(String),
}

impl AccountOwner {
    /// Binds `$1` (the owner) and `$2` (the currency) of an account lookup or insert.
    fn bind<Q: db::Bind>(&self, q: Q, currency: Currency) -> Q {
        let owner = match self {
            AccountOwner::Wallet(id) => db::Value::from(*id),
            AccountOwner::System(name) => db::Value::from(name.as_str()),
        };
        q.bind_value(owner).bind_value(currency.code().into())
    }
}

/// The ids of accounts, by owner and currency, as committed: an account is never deleted nor
/// given to another owner, so a committed id stays true. Saves a lookup per payment on the hot
/// path (the cash-out point's account on every confirm). Bounded: cleared when full.
#[derive(Default)]
pub(crate) struct AccountIds(
    std::sync::Mutex<std::collections::HashMap<(AccountOwner, Currency), i64>>,
);

/// Most ids [`AccountIds`] keeps (a few MB).
const MAX_ACCOUNT_IDS: usize = 65_536;

impl AccountIds {
    fn get(&self, key: &(AccountOwner, Currency)) -> Option<i64> {
        self.0.lock().ok()?.get(key).copied()
    }

    /// Remembers ids read or written by a transaction that committed.
    pub(crate) fn learn(&self, ids: Vec<((AccountOwner, Currency), i64)>) {
        if ids.is_empty() {
            return;
        }
        if let Ok(mut known) = self.0.lock() {
            if known.len() + ids.len() > MAX_ACCOUNT_IDS {
                known.clear();
            }
            known.extend(ids);
        }
    }
}

impl Tx {
    /// The account of `wallet_id` in `currency`, created empty if missing. Looked up first and
    /// inserted only when missing: an `INSERT … ON CONFLICT` on an existing row waits, on
    /// PostgreSQL, for every transaction updating it (a busy beneficiary's).
    pub async fn wallet_account(&mut self, wallet_id: i64, currency: Currency) -> Result<i64> {
        self.account_of(
            "SELECT id FROM accounts WHERE wallet_id = $1 AND currency = $2",
            "INSERT INTO accounts (wallet_id, currency, balance, reserved) VALUES ($1, $2, 0, 0) ON CONFLICT (wallet_id, currency) DO NOTHING",
            AccountOwner::Wallet(wallet_id),
            currency,
        )
        .await
    }

    /// A system account (`topup`, …) in `currency`, created if missing (looked up first, as
    /// [`Tx::wallet_account`]). It may go negative.
    pub async fn system_account(&mut self, name: &str, currency: Currency) -> Result<i64> {
        self.account_of(
            "SELECT id FROM accounts WHERE system_name = $1 AND currency = $2",
            "INSERT INTO accounts (system_name, currency, balance, reserved) VALUES ($1, $2, 0, 0) ON CONFLICT (system_name, currency) DO NOTHING",
            AccountOwner::System(name.to_string()),
            currency,
        )
        .await
    }

    /// The account `select` finds for `(owner, currency)`; `insert` creates it first if missing.
    /// Known ids come from the store's [`AccountIds`]; the ones this transaction learns go there
    /// once it commits.
    async fn account_of(
        &mut self,
        select: &'static str,
        insert: &'static str,
        owner: AccountOwner,
        currency: Currency,
    ) -> Result<i64> {
        let key = (owner, currency);
        if let Some(id) = self.account_ids.get(&key) {
            return Ok(id);
        }
        let found = key.0.bind(db::query_scalar::<i64>(select), currency);
        let id = match found.fetch_optional(self.conn()).await? {
            Some(id) => id,
            None => {
                key.0
                    .bind(db::query(insert), currency)
                    .execute(self.conn())
                    .await?;
                key.0
                    .bind(db::query_scalar::<i64>(select), currency)
                    .fetch_one(self.conn())
                    .await?
            }
        };
        self.learned_accounts.push((key, id));
        Ok(id)
    }

    /// Every account of a wallet, by currency code.
    pub async fn wallet_accounts(&mut self, wallet_id: i64) -> Result<Vec<AccountRow>> {
        self.flush_deltas().await?;
        db::select("FROM account_totals WHERE wallet_id = $1 ORDER BY currency")
            .bind(wallet_id)
            .fetch_all(self.conn())
            .await
    }

    /// Current balance of one account.
    pub async fn account_balance(&mut self, account_id: i64) -> Result<AccountBalance> {
        self.flush_deltas().await?;
        let (balance, reserved): (i64, i64) =
            db::query_as("SELECT balance, reserved FROM account_totals WHERE id = $1")
                .bind(account_id)
                .fetch_one(self.conn())
                .await?;
        Ok(AccountBalance { balance, reserved })
    }

    /// Holds `amount` on an account for a payment. `None` when available funds are short.
    pub async fn place_hold(
        &mut self,
        account_id: i64,
        payment_id: i64,
        amount: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        self.flush_deltas().await?;
        let hold = Delta {
            account: account_id,
            balance: 0,
            reserved: amount,
            guard: amount,
        };
        if !self.update_guarded(&hold, None).await? {
            return Ok(None);
        }
        let id = self
            .insert_hold(account_id, payment_id, amount, now)
            .await?;
        Ok(Some(id))
    }

    /// Holds `amount` on an account for a payment, with the funds checked at commit: the hold is
    /// recorded now, and the guarded `UPDATE` of the account (`… AND balance - reserved >= amount`)
    /// runs with the other balance changes just before `COMMIT`. If the funds are short then, the
    /// whole transaction fails with [`StoreError::NotEnoughFunds`] and nothing is written.
    ///
    /// For a caller that answers a shortage with an error anyway (an API reserve): the payer's
    /// account row, hot when one wallet pays at many tills, is then locked on PostgreSQL only for
    /// the commit, not from the middle of the transaction to its end. When this transaction has
    /// already changed the account (a credit may cover the hold), the funds are checked now, as
    /// [`Tx::place_hold`] does; `None` then means they are short.
    pub async fn place_hold_at_commit(
        &mut self,
        account_id: i64,
        payment_id: i64,
        amount: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        if self.deltas.iter().any(|d| d.0 == account_id && d.3 == 0) {
            return self.place_hold(account_id, payment_id, amount, now).await;
        }
        let id = match self.backend {
            // The hold's row is written at commit too, in the commit's last statement
            // (`batch.rs`), with an id drawn ahead (`ids.rs`): no round trip of its own.
            Backend::Postgres => {
                let id = self.draw_id(Drawn::Holds).await?;
                self.pending_ledger.place(
                    id,
                    db::query(
                        "INSERT INTO holds (id, account_id, payment_id, amount, status, created_at) VALUES ($1, $2, $3, $4, 'active', $5)",
                    )
                    .bind(id)
                    .bind(account_id)
                    .bind(payment_id)
                    .bind(amount)
                    .bind(now),
                );
                id
            }
            Backend::Sqlite => {
                self.insert_hold(account_id, payment_id, amount, now)
                    .await?
            }
        };
        self.deltas.push((account_id, 0, amount, amount));
        Ok(Some(id))
    }

    /// Records an active hold (its money is added to `reserved` by the caller).
    async fn insert_hold(
        &mut self,
        account_id: i64,
        payment_id: i64,
        amount: i64,
        now: i64,
    ) -> Result<i64> {
        db::query_scalar(
            "INSERT INTO holds (account_id, payment_id, amount, status, created_at) VALUES ($1, $2, $3, 'active', $4) RETURNING id",
        )
        .bind(account_id)
        .bind(payment_id)
        .bind(amount)
        .bind(now)
        .fetch_one(self.conn())
        .await
    }

    /// Resolves an active hold (`settled` or `released`); returns `(account_id, amount)`,
    /// or `None` if the hold was already resolved.
    async fn resolve_hold(
        &mut self,
        hold_id: i64,
        to: &'static str,
        now: i64,
    ) -> Result<Option<(i64, i64)>> {
        self.flush_ledger().await?;
        let row: Option<(i64, i64)> = db::query_as(
            "UPDATE holds SET status = $1, resolved_at = $2 WHERE id = $3 AND status = 'active' RETURNING account_id, amount",
        )
        .bind(to)
        .bind(now)
        .bind(hold_id)
        .fetch_optional(self.conn())
        .await?;
        Ok(row)
    }

    /// Releases a hold without moving money. `false` if it was already resolved.
    pub async fn release_hold(&mut self, hold_id: i64, now: i64) -> Result<bool> {
        let Some((account_id, amount)) = self.resolve_hold(hold_id, "released", now).await? else {
            return Ok(false);
        };
        self.defer(account_id, 0, -amount);
        Ok(true)
    }

    /// Settles a hold: `settled` (at most the held amount) moves from the payer to
    /// `to_account` as one balanced movement, and the whole hold leaves `reserved`.
    /// `false` if the hold was already resolved.
    pub async fn settle_hold(
        &mut self,
        hold_id: i64,
        to_account: i64,
        settled: i64,
        transaction_key: &str,
        payment_id: i64,
        now: i64,
    ) -> Result<bool> {
        let resolved = match self.backend {
            // One round trip (see [`SETTLE_HOLD_PG`]).
            Backend::Postgres => {
                self.flush_ledger().await?;
                db::query_as(SETTLE_HOLD_PG)
                    .bind(now)
                    .bind(hold_id)
                    .bind(transaction_key)
                    .bind(payment_id)
                    .bind(settled)
                    .bind(to_account)
                    .fetch_optional(self.conn())
                    .await?
            }
            Backend::Sqlite => {
                self.settle_now(
                    hold_id,
                    to_account,
                    settled,
                    transaction_key,
                    payment_id,
                    now,
                )
                .await?
            }
        };
        let Some((payer_account, held)) = resolved else {
            return Ok(false);
        };
        // Past this, an error: the caller drops the transaction, and the movement with it.
        if !(0..=held).contains(&settled) {
            return Err(StoreError::Corrupt(format!(
                "settling {settled} of a hold of {held}"
            )));
        }
        self.defer(payer_account, -settled, -held);
        self.defer(to_account, settled, 0);
        Ok(true)
    }

    /// SQLite: the hold `hold_id` leaves `active` and, only if it did, `settled` moves from its
    /// account to `to_account` as one movement; answers the hold's account and amount. (Balances
    /// are the caller's.)
    async fn settle_now(
        &mut self,
        hold_id: i64,
        to_account: i64,
        settled: i64,
        transaction_key: &str,
        payment_id: i64,
        now: i64,
    ) -> Result<Option<(i64, i64)>> {
        let resolved = self.resolve_hold(hold_id, "settled", now).await?;
        if let Some((payer_account, _)) = resolved {
            self.record_movement(
                "payment",
                Some(transaction_key),
                Some(payment_id),
                payer_account,
                to_account,
                settled,
                now,
            )
            .await?;
        }
        Ok(resolved)
    }

    /// Settles, at commit, the active hold `hold_id` of `held` on `payer_account`, as the caller
    /// knows it from the hold's payment: `settled` (at most `held`) moves from the payer to
    /// `to_account` as one balanced movement, and the whole hold leaves `reserved`. If the hold
    /// is not so (resolved meanwhile, another amount or account), the commit is refused with
    /// [`StoreError::Corrupt`] and nothing is written.
    ///
    /// For a confirm: on PostgreSQL the hold's change, the movement and its entries join the
    /// commit's last statement (`batch.rs`; the movement's id is drawn ahead, `ids.rs`) instead
    /// of a statement of their own. SQLite settles now ([`Tx::settle_hold`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn settle_hold_at_commit(
        &mut self,
        hold_id: i64,
        payer_account: i64,
        held: i64,
        to_account: i64,
        settled: i64,
        transaction_key: &str,
        payment_id: i64,
        now: i64,
    ) -> Result<()> {
        if !(0..=held).contains(&settled) {
            return Err(StoreError::Corrupt(format!(
                "settling {settled} of a hold of {held}"
            )));
        }
        if self.backend == Backend::Sqlite {
            // Past an error the caller drops the transaction, and the movement with it.
            let resolved = self
                .settle_now(
                    hold_id,
                    to_account,
                    settled,
                    transaction_key,
                    payment_id,
                    now,
                )
                .await?;
            if resolved != Some((payer_account, held)) {
                return Err(StoreError::Corrupt(format!(
                    "hold {hold_id} is not an active hold of {held} on account {payer_account}"
                )));
            }
        } else {
            // A hold placed by this transaction is written first: the parts of one statement do
            // not see each other's rows (reserve and confirm in one call, `auto_confirm`).
            if self.pending_ledger.placed(hold_id) {
                self.flush_ledger().await?;
            }
            let movement = self.draw_id(Drawn::Movements).await?;
            let writes = [
                (
                    db::query(
                        "UPDATE holds SET status = 'settled', resolved_at = $1 WHERE id = $2 AND status = 'active' AND account_id = $3 AND amount = $4",
                    )
                    .bind(now)
                    .bind(hold_id)
                    .bind(payer_account)
                    .bind(held),
                    IfUnchanged::Corrupt("a hold settled at commit is not active as its payment says"),
                ),
                (
                    db::query(
                        "INSERT INTO movements (id, kind, transaction_key, payment_id, created_at) VALUES ($1, 'payment', $2, $3, $4)",
                    )
                    .bind(movement)
                    .bind(transaction_key)
                    .bind(payment_id)
                    .bind(now),
                    IfUnchanged::Fine,
                ),
                (
                    db::query(
                        "INSERT INTO entries (movement_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)",
                    )
                    .bind(movement)
                    .bind(payer_account)
                    .bind(-settled)
                    .bind(to_account)
                    .bind(settled),
                    IfUnchanged::Fine,
                ),
            ];
            for (write, if_unchanged) in writes {
                self.pending_ledger.push(write, if_unchanged);
            }
        }
        self.defer(payer_account, -settled, -held);
        self.defer(to_account, settled, 0);
        Ok(())
    }

    /// Adds `balance` and `reserved` to an account at commit (or before this transaction next
    /// reads a balance or places a hold), not now, as a row appended to `account_changes` (see
    /// the module documentation). These changes never need a guard and never lower the money
    /// available: debits are covered by a hold, releases only lower `reserved`.
    fn defer(&mut self, account_id: i64, balance: i64, reserved: i64) {
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
            Delta::append(&appended).execute(self.conn()).await?;
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
        let currency: Option<String> =
            db::query_scalar("SELECT currency FROM accounts WHERE id = $1")
                .bind(delta.account)
                .fetch_optional(self.conn())
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
    async fn update_guarded(&mut self, delta: &Delta, updated: Option<u64>) -> Result<bool> {
        self.count_request_first().await?;
        let updated = match updated {
            Some(n) => n,
            None => delta.update().execute(self.conn()).await?,
        };
        if updated > 0 {
            return Ok(true);
        }
        // Again even if this fold found nothing: a concurrent one may have folded them meanwhile.
        self.fold_account(delta.account).await?;
        let updated = delta.update().execute(self.conn()).await?;
        Ok(updated > 0)
    }

    /// Folds the changes waiting for one account into its row; answers how many there were.
    pub(crate) async fn fold_account(&mut self, account_id: i64) -> Result<u64> {
        self.fold("id = $1", account_id).await
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
            let (folded, _rows): (i64, i64) = db::query_as(sqlx::AssertSqlSafe(sql))
                .bind(arg)
                .fetch_one(self.conn())
                .await?;
            return Ok(folded.max(0) as u64);
        }
        let [update, delete] = FOLD_SQLITE.map(|sql| sql.replace("{accounts}", accounts));
        db::query(sqlx::AssertSqlSafe(update))
            .bind(arg)
            .execute(self.conn())
            .await?;
        let folded = db::query(sqlx::AssertSqlSafe(delete))
            .bind(arg)
            .execute(self.conn())
            .await?;
        Ok(folded)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_movement(
        &mut self,
        kind: &str,
        transaction_key: Option<&str>,
        payment_id: Option<i64>,
        from: i64,
        to: i64,
        amount: i64,
        now: i64,
    ) -> Result<i64> {
        if self.backend == Backend::Postgres {
            // One round trip (see [`RECORD_MOVEMENT_PG`]).
            let movement: i64 = db::query_scalar(RECORD_MOVEMENT_PG)
                .bind(kind)
                .bind(transaction_key)
                .bind(payment_id)
                .bind(now)
                .bind(from)
                .bind(amount)
                .bind(to)
                .fetch_one(self.conn())
                .await?;
            return Ok(movement);
        }
        let movement: i64 = db::query_scalar(
            "INSERT INTO movements (kind, transaction_key, payment_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(kind)
        .bind(transaction_key)
        .bind(payment_id)
        .bind(now)
        .fetch_one(self.conn())
        .await?;
        db::query("INSERT INTO entries (movement_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)")
            .bind(movement)
            .bind(from)
            .bind(-amount)
            .bind(to)
            .bind(amount)
            .execute(self.conn())
            .await?;
        Ok(movement)
    }

    /// Moves `amount` from a system account (which may go negative) to `to_account`: a top-up.
    pub async fn transfer_from_system(
        &mut self,
        from_system: i64,
        to_account: i64,
        amount: i64,
        kind: &str,
        now: i64,
    ) -> Result<()> {
        self.defer(from_system, -amount, 0);
        self.defer(to_account, amount, 0);
        self.record_movement(kind, None, None, from_system, to_account, amount, now)
            .await?;
        Ok(())
    }

    /// Adds `delta` (negative to remove) to the frozen money shown as incoming on an account.
    pub async fn add_incoming(&mut self, account_id: i64, delta: i64) -> Result<()> {
        db::query("UPDATE accounts SET incoming = incoming + $1 WHERE id = $2")
            .bind(delta)
            .bind(account_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Shrinks an active hold to `amount` (never grows it), releasing the difference.
    /// `false` if the hold is not active or smaller than `amount`.
    pub async fn reduce_hold(&mut self, hold_id: i64, amount: i64) -> Result<bool> {
        self.flush_ledger().await?;
        let row: Option<(i64, i64)> = db::query_as(
            "SELECT account_id, amount FROM holds WHERE id = $1 AND status = 'active' AND amount >= $2",
        )
        .bind(hold_id)
        .bind(amount)
        .fetch_optional(self.conn())
        .await?;
        let Some((account_id, held)) = row else {
            return Ok(false);
        };
        db::query("UPDATE holds SET amount = $1 WHERE id = $2")
            .bind(amount)
            .bind(hold_id)
            .execute(self.conn())
            .await?;
        self.defer(account_id, 0, -(held - amount));
        Ok(true)
    }

    /// Measures every ledger invariant over the whole database.
    pub async fn ledger_check(&mut self) -> Result<LedgerCheck> {
        self.flush_rows().await?;
        self.flush_deltas().await?;
        let totals: Vec<(String, i64)> = db::query_as(
            "SELECT currency, CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM account_totals GROUP BY currency ORDER BY currency",
        )
        .fetch_all(self.conn())
        .await?;
        let balance_mismatches: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM account_totals a WHERE a.balance <> (SELECT CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) FROM entries e WHERE e.account_id = a.id)",
        )
        .fetch_one(self.conn())
        .await?;
        let unbalanced_movements: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM (SELECT movement_id FROM entries GROUP BY movement_id HAVING SUM(amount) <> 0) u",
        )
        .fetch_one(self.conn())
        .await?;
        let reserved_mismatches: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM account_totals a WHERE a.reserved <> (SELECT CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) FROM holds h WHERE h.account_id = a.id AND h.status = 'active')",
        )
        .fetch_one(self.conn())
        .await?;
        let negative_available: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM account_totals WHERE wallet_id IS NOT NULL AND balance - reserved < 0",
        )
        .fetch_one(self.conn())
        .await?;
        let incoming_mismatches: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM accounts a WHERE a.wallet_id IS NOT NULL AND a.incoming <> (SELECT CAST(COALESCE(SUM(p.price), 0) AS BIGINT) FROM payments p WHERE p.status = 'confirmed' AND p.beneficiary_wallet_id = a.wallet_id AND p.currency = a.currency)",
        )
        .fetch_one(self.conn())
        .await?;
        Ok(LedgerCheck {
            totals,
            balance_mismatches,
            unbalanced_movements,
            reserved_mismatches,
            negative_available,
            incoming_mismatches,
        })
    }
}
