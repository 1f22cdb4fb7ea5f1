//! The ledger's holds and movements in SQL: each method is the SQL mirror of a rule in
//! `wallet_core::ledger`.
//!
//! A hold is guarded in the `UPDATE` of its account itself (`… AND balance - reserved >= amount`,
//! `deltas.rs`), so no interleaving of concurrent requests can overdraw an account; a hold leaves
//! `active` through a guarded `UPDATE … WHERE status = 'active'`, so it is resolved at most once.
//! A movement is balanced: its two entries sum to zero.

use crate::batch::IfUnchanged;
use crate::deltas::Delta;
use crate::ids::Drawn;
use crate::{Backend, Result, StoreError, Tx, db};
use wallet_core::ids::{AccountId, HoldId, PaymentId, TransactionKey};

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

impl Tx {
    /// Holds `amount` on an account for a payment. `None` when available funds are short.
    pub async fn place_hold(
        &mut self,
        account_id: AccountId,
        payment_id: PaymentId,
        amount: i64,
        now: i64,
    ) -> Result<Option<HoldId>> {
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
        account_id: AccountId,
        payment_id: PaymentId,
        amount: i64,
        now: i64,
    ) -> Result<Option<HoldId>> {
        if self.deltas.iter().any(|d| d.0 == account_id && d.3 == 0) {
            return self.place_hold(account_id, payment_id, amount, now).await;
        }
        let id = match self.backend {
            // The hold's row is written at commit too, in the commit's last statement
            // (`batch.rs`), with an id drawn ahead (`ids.rs`): no round trip of its own.
            Backend::Postgres => {
                let id = HoldId::new(self.draw_id(Drawn::Holds).await?);
                self.pending_ledger.place(
                    id,
                    db::query_with(
                        "INSERT INTO holds (id, account_id, payment_id, amount, status, created_at) VALUES ($1, $2, $3, $4, 'active', $5)",
                        (id, account_id, payment_id, amount, now),
                    ),
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
        account_id: AccountId,
        payment_id: PaymentId,
        amount: i64,
        now: i64,
    ) -> Result<HoldId> {
        self.one_scalar(
            "INSERT INTO holds (account_id, payment_id, amount, status, created_at) VALUES ($1, $2, $3, 'active', $4) RETURNING id",
            (account_id, payment_id, amount, now),
        )
        .await
    }

    /// Resolves an active hold (`settled` or `released`); returns `(account_id, amount)`,
    /// or `None` if the hold was already resolved.
    async fn resolve_hold(
        &mut self,
        hold_id: HoldId,
        to: &'static str,
        now: i64,
    ) -> Result<Option<(AccountId, i64)>> {
        self.flush_ledger().await?;
        let row: Option<(AccountId, i64)> = self
            .optional(
                "UPDATE holds SET status = $1, resolved_at = $2 WHERE id = $3 AND status = 'active' RETURNING account_id, amount",
                (to, now, hold_id),
            )
            .await?;
        Ok(row)
    }

    /// Releases a hold without moving money. `false` if it was already resolved.
    pub async fn release_hold(&mut self, hold_id: HoldId, now: i64) -> Result<bool> {
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
        hold_id: HoldId,
        to_account: AccountId,
        settled: i64,
        transaction_key: &TransactionKey,
        payment_id: PaymentId,
        now: i64,
    ) -> Result<bool> {
        let resolved = match self.backend {
            // One round trip (see [`SETTLE_HOLD_PG`]).
            Backend::Postgres => {
                self.flush_ledger().await?;
                self.optional(
                    SETTLE_HOLD_PG,
                    (
                        now,
                        hold_id,
                        transaction_key,
                        payment_id,
                        settled,
                        to_account,
                    ),
                )
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
        hold_id: HoldId,
        to_account: AccountId,
        settled: i64,
        transaction_key: &TransactionKey,
        payment_id: PaymentId,
        now: i64,
    ) -> Result<Option<(AccountId, i64)>> {
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
        hold_id: HoldId,
        payer_account: AccountId,
        held: i64,
        to_account: AccountId,
        settled: i64,
        transaction_key: &TransactionKey,
        payment_id: PaymentId,
        now: i64,
    ) -> Result<()> {
        if !(0..=held).contains(&settled) {
            return Err(StoreError::Corrupt(format!(
                "settling {settled} of a hold of {held}"
            )));
        }
        if self.backend == Backend::Sqlite {
            // Past an error the caller drops the transaction, and the movement with it.
            let (key, payment) = (transaction_key, payment_id);
            let resolved = self
                .settle_now(hold_id, to_account, settled, key, payment, now)
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
            let hold = db::query_with(
                "UPDATE holds SET status = 'settled', resolved_at = $1 WHERE id = $2 AND status = 'active' AND account_id = $3 AND amount = $4",
                (now, hold_id, payer_account, held),
            );
            let not_as_said = "a hold settled at commit is not active as its payment says";
            self.pending_ledger
                .push(hold, IfUnchanged::Corrupt(not_as_said));
            let row = db::query_with(
                "INSERT INTO movements (id, kind, transaction_key, payment_id, created_at) VALUES ($1, 'payment', $2, $3, $4)",
                (movement, transaction_key, payment_id, now),
            );
            self.pending_ledger.push(row, IfUnchanged::Fine);
            let entries = entries_insert(movement, payer_account, to_account, settled);
            self.pending_ledger.push(entries, IfUnchanged::Fine);
        }
        self.defer(payer_account, -settled, -held);
        self.defer(to_account, settled, 0);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_movement(
        &mut self,
        kind: &str,
        transaction_key: Option<&TransactionKey>,
        payment_id: Option<PaymentId>,
        from: AccountId,
        to: AccountId,
        amount: i64,
        now: i64,
    ) -> Result<i64> {
        if self.backend == Backend::Postgres {
            // One round trip (see [`RECORD_MOVEMENT_PG`]).
            let movement: i64 = self
                .one_scalar(
                    RECORD_MOVEMENT_PG,
                    (kind, transaction_key, payment_id, now, from, amount, to),
                )
                .await?;
            return Ok(movement);
        }
        let movement: i64 = self
            .one_scalar(
                "INSERT INTO movements (kind, transaction_key, payment_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                (kind, transaction_key, payment_id, now),
            )
            .await?;
        self.run(entries_insert(movement, from, to, amount)).await?;
        Ok(movement)
    }

    /// Moves `amount` from a system account (which may go negative) to `to_account`: a top-up.
    pub async fn transfer_from_system(
        &mut self,
        from_system: AccountId,
        to_account: AccountId,
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

    /// Shrinks an active hold to `amount` (never grows it), releasing the difference.
    /// `false` if the hold is not active or smaller than `amount`.
    pub async fn reduce_hold(&mut self, hold_id: HoldId, amount: i64) -> Result<bool> {
        self.flush_ledger().await?;
        let row: Option<(AccountId, i64)> = self
            .optional(
                "SELECT account_id, amount FROM holds WHERE id = $1 AND status = 'active' AND amount >= $2",
                (hold_id, amount),
            )
            .await?;
        let Some((account_id, held)) = row else {
            return Ok(false);
        };
        self.exec(
            "UPDATE holds SET amount = $1 WHERE id = $2",
            (amount, hold_id),
        )
        .await?;
        self.defer(account_id, 0, -(held - amount));
        Ok(true)
    }
}

/// The two entries of movement `movement`: `amount` from account `from` to account `to`.
fn entries_insert(movement: i64, from: AccountId, to: AccountId, amount: i64) -> db::Query {
    db::query_with(
        "INSERT INTO entries (movement_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)",
        (movement, from, -amount, to, amount),
    )
}
