//! Transactions, their payments and their event log.

use crate::batch::{Event, IfUnchanged, renumber};
use crate::db::{Cols, Decode, Params, aliased};
use crate::ids::Drawn;
use crate::{
    AllowanceRow, Backend, CodeRow, NewPaymentRow, PaymentChange, PaymentRow, Result, StoreError,
    TransactionRow, TransactionState, Tx, db,
};
use std::sync::LazyLock;
use wallet_core::reserve::ReserveSpec;
use wallet_core::{HoldId, PaymentId, PaymentStatus, TransactionKey, WalletId};

/// The columns a new payment is inserted with, but its id ([`PAYMENT_VALUES`] gives their values).
macro_rules! payment_insert_columns {
    () => {
        "transaction_key, project_id, status, price, currency, description, parameters, price_rules, purpose, beneficiary_wallet_id, beneficiary_json, password_json, freeze_for, freeze_until, created_at"
    };
}

impl Tx {
    /// Inserts a new transaction.
    pub async fn insert_transaction(&mut self, t: &TransactionRow, now: i64) -> Result<()> {
        self.run(transaction_insert(t, now)).await?;
        Ok(())
    }

    /// [`Tx::insert_transaction`] and [`Tx::insert_payment_row`] for each of `payments` (which
    /// belong to it), on PostgreSQL in one statement. Answers the payments as stored, in order.
    pub async fn insert_transaction_with_payments(
        &mut self,
        t: &TransactionRow,
        payments: &[NewPaymentRow],
        now: i64,
    ) -> Result<Vec<PaymentRow>> {
        if self.backend == Backend::Sqlite || payments.is_empty() {
            self.insert_transaction(t, now).await?;
            let mut rows = Vec::with_capacity(payments.len());
            for p in payments {
                rows.push(self.insert_payment_row(p).await?);
            }
            return Ok(rows);
        }
        // PostgreSQL: the payments' ids drawn ahead, both rows are written with the commit's
        // statement, or before a statement on payments or transactions (`batch.rs`). Creating a
        // transaction then takes one round trip, not three (`db::LazyTx`).
        self.payments_of_memo = None;
        let mut rows = Vec::with_capacity(payments.len());
        for p in payments {
            rows.push(p.stored_as(PaymentId::new(self.draw_id(Drawn::Payments).await?)));
        }
        let width = PAYMENT_PARAMETERS + 1;
        // Each row: its id, then `PAYMENT_VALUES` (which opens with its parenthesis) after it.
        let values: Vec<String> = (0..rows.len())
            .map(|i| {
                let values = renumber(PAYMENT_VALUES, i * width + 1);
                format!("(${}, {}", i * width + 1, &values[1..])
            })
            .collect();
        let q = sqlx::AssertSqlSafe(format!(
            concat!(
                "INSERT INTO payments (id, ",
                payment_insert_columns!(),
                ") VALUES {}"
            ),
            values.join(", ")
        ));
        let mut args = Vec::with_capacity(rows.len() * width);
        for (p, row) in payments.iter().zip(&rows) {
            args.push(row.id.into());
            payment_params(p).push_onto(&mut args);
        }
        let insert = db::query_with(q, args);
        // The transaction's row first: the payments' foreign key is checked at the end of the
        // statement, when it is there.
        self.pending_ledger
            .push(transaction_insert(t, now), IfUnchanged::Fine);
        self.pending_ledger.push(insert, IfUnchanged::Fine);
        Ok(rows)
    }

    /// Reads a transaction by key.
    pub async fn transaction(&mut self, key: &TransactionKey) -> Result<Option<TransactionRow>> {
        self.flush_rows().await?;
        self.optional(
            db::select("FROM transactions WHERE transaction_key = $1"),
            (key,),
        )
        .await
    }

    /// Reads and locks a transaction for the rest of this database transaction. Its payments
    /// and its allowance come in the same round trip: [`Tx::payments_of`] and
    /// [`Tx::allowance_of`] answer them until this transaction writes a payment or an allowance.
    pub async fn transaction_for_update(
        &mut self,
        key: &TransactionKey,
    ) -> Result<Option<TransactionRow>> {
        self.lock_transaction(key, None).await
    }

    /// [`Tx::transaction_for_update`], and the reservation code with this keyed hash, read and
    /// locked in the same statement: [`Tx::code_for_update`] answers it (reserving by code).
    pub async fn transaction_and_code_for_update(
        &mut self,
        key: &TransactionKey,
        code_hash: &str,
    ) -> Result<Option<TransactionRow>> {
        self.lock_transaction(key, Some(code_hash)).await
    }

    async fn lock_transaction(
        &mut self,
        key: &TransactionKey,
        code_hash: Option<&str>,
    ) -> Result<Option<TransactionRow>> {
        self.flush_rows().await?;
        let (with, code_columns, code_join) = match code_hash {
            // A locking `SELECT` of its own: a row lock cannot reach into an outer join.
            Some(_) => (
                format!(
                    "WITH c AS MATERIALIZED (SELECT {} FROM reservation_codes WHERE code_hash = $2{}) ",
                    CodeRow::COLUMNS,
                    self.for_update()
                ),
                format!(", {}", *C_COLUMNS),
                " LEFT JOIN c ON true",
            ),
            None => (String::new(), String::new(), ""),
        };
        let q = sqlx::AssertSqlSafe(format!(
            "{with}SELECT {}, {}, {}{code_columns} FROM transactions t \
             LEFT JOIN payments p ON p.transaction_key = t.transaction_key \
             LEFT JOIN allowances a ON a.id = (SELECT max(id) FROM allowances WHERE transaction_key = t.transaction_key){code_join} \
             WHERE t.transaction_key = $1 ORDER BY p.id{}",
            *T_COLUMNS,
            *P_COLUMNS,
            *A_COLUMNS,
            match self.backend {
                Backend::Postgres => " FOR UPDATE OF t",
                Backend::Sqlite => "",
            }
        ));
        let q = match code_hash {
            Some(hash) => db::query_with(q, (key, hash)),
            None => db::query_with(q, (key,)),
        };
        let rows = q.fetch_all(self.conn()).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let t = first.decode()?;
        let mut payments = Vec::with_capacity(rows.len());
        for r in &rows {
            payments.extend(Cols::new(r, "p_").decode_if_any()?);
        }
        let allowance = Cols::new(first, "a_").decode_if_any()?;
        if let Some(hash) = code_hash {
            let code = Cols::new(first, "c_").decode_if_any()?;
            self.code_memo = Some((hash.to_owned(), code));
        }
        self.payments_of_memo = Some((key.clone(), payments));
        self.allowance_of_memo = Some((key.clone(), allowance));
        Ok(Some(t))
    }

    /// Writes a transaction's state: status, how and by which wallet it was reserved, until when.
    /// Answers the row as stored, so an answer built from it needs no read back.
    pub async fn set_transaction_state(
        &mut self,
        key: &TransactionKey,
        state: &TransactionState,
        now: i64,
    ) -> Result<TransactionRow> {
        self.flush_rows().await?;
        let params = state_params(state, now, key);
        self.optional(db::returning(UPDATE_TRANSACTION), params)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("transaction {key} is gone")))
    }

    /// Changes a transaction's state and some of its payments (`changes`: each payment as it is
    /// now, with its change), like [`Tx::update_payment`] for each and [`Tx::set_transaction_state`],
    /// but written at commit: on PostgreSQL inside the commit's last statement (`batch.rs`), where
    /// it took a round trip of its own. Until then the change waits in this `Tx`; a later call for
    /// the same transaction replaces it, and any statement of this `Tx` that reads or changes
    /// transactions or payments writes it first (`Tx::flush_rows`), so no read sees the rows
    /// as they were. Answers the rows as they will be: the transaction, and the changed payments
    /// in id order.
    pub async fn set_transaction_and_payments(
        &mut self,
        t: &TransactionRow,
        state: &TransactionState,
        changes: &[(PaymentRow, PaymentChange)],
        now: i64,
    ) -> Result<(TransactionRow, Vec<PaymentRow>)> {
        if self
            .pending_rows
            .as_ref()
            .is_some_and(|r| r.key != t.transaction_key)
        {
            self.flush_rows().await?;
        }
        self.payments_of_memo = None;
        let pending = self.pending_rows.get_or_insert_with(|| PendingRows {
            key: t.transaction_key.clone(),
            state: *state,
            now,
            changes: Vec::with_capacity(changes.len()),
        });
        pending.state = *state;
        pending.now = now;
        let mut payments = Vec::with_capacity(changes.len());
        for (p, c) in changes {
            if p.id != c.id || p.transaction_key != t.transaction_key {
                return Err(StoreError::Corrupt(format!(
                    "payment {} is not payment {} of transaction {}",
                    p.id, c.id, t.transaction_key
                )));
            }
            match pending.changes.iter_mut().find(|w| w.id == c.id) {
                Some(w) => *w = *c,
                None => pending.changes.push(*c),
            }
            payments.push(c.applied_to(p));
        }
        payments.sort_by_key(|p| p.id);
        Ok((state.applied_to(t), payments))
    }

    /// Keys of transactions holding funds past their deadline, oldest deadline first.
    pub async fn due_reservations(&mut self, now: i64, limit: i64) -> Result<Vec<TransactionKey>> {
        self.flush_rows().await?;
        let keys = self
            .all_scalars(
                "SELECT transaction_key FROM transactions WHERE status IN ('reserved', 'waiting_registration', 'waiting_password', 'waiting', 'waiting_funds') AND reserved_until <= $1 ORDER BY reserved_until LIMIT $2",
                (now, limit),
            )
            .await?;
        Ok(keys)
    }

    /// Inserts a payment and returns its id.
    pub async fn insert_payment(&mut self, p: &NewPaymentRow) -> Result<PaymentId> {
        Ok(self.insert_payment_row(p).await?.id)
    }

    /// [`Tx::insert_payment`], answering the row as stored (no read back).
    pub async fn insert_payment_row(&mut self, p: &NewPaymentRow) -> Result<PaymentRow> {
        // Its transaction's row first, if it waits for commit (a foreign key).
        self.flush_rows().await?;
        self.payments_of_memo = None;
        let q = db::returning(format_args!("{PAYMENT_INSERT} VALUES {PAYMENT_VALUES}"));
        self.one(q, payment_params(p)).await
    }

    /// The payments of a transaction, in creation order.
    pub async fn payments_of(&mut self, key: &TransactionKey) -> Result<Vec<PaymentRow>> {
        self.flush_rows().await?;
        if let Some((memo_key, payments)) = &self.payments_of_memo
            && memo_key == key
        {
            return Ok(payments.clone());
        }
        self.all(
            db::select("FROM payments WHERE transaction_key = $1 ORDER BY id"),
            (key,),
        )
        .await
    }

    /// Writes a payment's mutable state. Answers the row as stored (no read back).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_payment(
        &mut self,
        id: PaymentId,
        status: PaymentStatus,
        price: i64,
        payer_wallet_id: Option<WalletId>,
        hold_id: Option<HoldId>,
        confirmed_at: Option<i64>,
    ) -> Result<PaymentRow> {
        self.change_payment(&PaymentChange {
            id,
            status,
            price,
            payer_wallet_id,
            hold_id,
            confirmed_at,
        })
        .await
    }

    async fn change_payment(&mut self, c: &PaymentChange) -> Result<PaymentRow> {
        self.flush_rows().await?;
        self.payments_of_memo = None;
        self.optional(db::returning(UPDATE_PAYMENT), change_params(c))
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("payment {} is gone", c.id)))
    }

    /// Appends to a transaction's audit trail: who did what, when. Written at commit, with the
    /// transaction's other events in one statement (`batch.rs`): nothing reads the trail back
    /// before then, and on PostgreSQL that saves a round trip per event.
    pub async fn append_event(
        &mut self,
        key: &TransactionKey,
        at: i64,
        actor: &str,
        event: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.queue_event(Event {
            key: key.to_owned(),
            at,
            actor: actor.to_owned(),
            event: event.to_owned(),
            detail: detail.map(str::to_owned),
        })
        .await
    }

    /// A transaction's audit trail as `(at, actor, event, detail)`, oldest first.
    pub async fn events_of(
        &mut self,
        key: &TransactionKey,
    ) -> Result<Vec<(i64, String, String, Option<String>)>> {
        let rows = self
            .all(
                "SELECT at, actor, event, detail FROM transaction_events WHERE transaction_key = $1 ORDER BY id",
                (key,),
            )
            .await?;
        Ok(rows)
    }

    /// Reads and locks a payment by id.
    pub async fn payment_for_update(&mut self, id: PaymentId) -> Result<Option<PaymentRow>> {
        self.flush_rows().await?;
        self.optional(self.select_for_update("FROM payments WHERE id = $1"), (id,))
            .await
    }

    /// Moves a payment into another transaction (a payment belongs to exactly one).
    pub async fn move_payment(
        &mut self,
        id: PaymentId,
        transaction_key: &TransactionKey,
    ) -> Result<()> {
        let sql = "UPDATE payments SET transaction_key = $1 WHERE id = $2";
        self.write_payments(sql, (transaction_key, id)).await
    }

    /// Reads a payment by id.
    pub async fn payment(&mut self, id: PaymentId) -> Result<Option<PaymentRow>> {
        self.flush_rows().await?;
        self.optional(db::select("FROM payments WHERE id = $1"), (id,))
            .await
    }

    /// Sets when a payment's freeze ends.
    pub async fn set_freeze_until(
        &mut self,
        id: PaymentId,
        freeze_until: Option<i64>,
    ) -> Result<()> {
        let sql = "UPDATE payments SET freeze_until = $1 WHERE id = $2";
        self.write_payments(sql, (freeze_until, id)).await
    }

    /// Runs `sql`, a change of payments, after the changes that wait for commit
    /// ([`Tx::flush_rows`]); the payments read before ([`Tx::payments_of`]) are read again.
    pub(crate) async fn write_payments(
        &mut self,
        sql: &'static str,
        params: impl Params,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.payments_of_memo = None;
        self.exec(sql, params).await
    }

    /// Ids of frozen payments whose freeze has ended.
    pub async fn freezes_due(&mut self, now: i64, limit: i64) -> Result<Vec<PaymentId>> {
        self.flush_rows().await?;
        self.all_scalars(
            "SELECT id FROM payments WHERE status = 'confirmed' AND freeze_until <= $1 ORDER BY freeze_until LIMIT $2",
            (now, limit),
        )
        .await
    }
}

/// The joined columns of [`Tx::transaction_for_update`] and [`Tx::set_transaction_and_payments`]
/// (see [`aliased`]), built once.
static T_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased::<TransactionRow>("t", ""));
static P_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased::<PaymentRow>("p", "p_"));
static A_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased::<AllowanceRow>("a", "a_"));
static C_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased::<CodeRow>("c", "c_"));

fn transaction_insert(t: &TransactionRow, now: i64) -> db::Query {
    let (reserve_for, reserve_until, flat) = match t.reserve {
        ReserveSpec::Default => (None, None, false),
        ReserveSpec::For { seconds, flat } => (Some(seconds), None, flat),
        ReserveSpec::Until { at, flat } => (None, Some(at), flat),
    };
    db::query_with(
        "INSERT INTO transactions (transaction_key, project_id, client_id, status, kind, wallet_id, created_at, confirmed_at, reserve_for, reserve_until, reserve_flat, reserved_until, use_allowance, suggest_allowance, auto_confirm, redirect_uri, callback_uri, callbacks_disabled, user_json, inquiries_json, updated_at, restrictions_json, manager_id, location_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
        (
            &t.transaction_key,
            t.project_id,
            t.client_id,
            t.status.as_str(),
            t.kind.map(|k| k.as_str()),
            t.wallet_id,
            t.created_at,
            t.confirmed_at,
            reserve_for,
            reserve_until,
            i64::from(flat),
            t.reserved_until,
            i64::from(t.use_allowance),
            i64::from(t.suggest_allowance),
            i64::from(t.auto_confirm),
            t.redirect_uri.as_deref(),
            t.callback_uri.as_deref(),
            i64::from(t.callbacks_disabled),
            t.user_json.as_deref(),
            t.inquiries_json.as_deref(),
            now,
            t.restrictions_json.as_deref(),
            t.manager_id,
            t.location_id,
        ),
    )
}

const PAYMENT_INSERT: &str = concat!("INSERT INTO payments (", payment_insert_columns!(), ")");
/// One payment's row of [`PAYMENT_INSERT`], its parameters [`payment_params`].
const PAYMENT_VALUES: &str = "($1, $2, 'new', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
const PAYMENT_PARAMETERS: usize = 14;

fn payment_params(p: &NewPaymentRow) -> impl Params + '_ {
    (
        &p.transaction_key,
        p.project_id,
        p.price,
        p.currency.code(),
        p.description.as_deref(),
        p.parameters.as_deref(),
        p.price_rules.as_deref(),
        p.purpose.as_deref(),
        p.beneficiary_wallet_id,
        p.beneficiary_json.as_deref(),
        p.password_json.as_deref(),
        p.freeze_for,
        p.freeze_until,
        p.created_at,
    )
}

/// A transaction's state and its payments' changes waiting for commit
/// ([`Tx::set_transaction_and_payments`]).
pub(crate) struct PendingRows {
    pub key: TransactionKey,
    state: TransactionState,
    now: i64,
    /// The latest change of each payment.
    changes: Vec<PaymentChange>,
}

impl PendingRows {
    /// The `UPDATE`s, the payments in id order, then the transaction (the order every change of a
    /// transaction locks them in); each must change one row.
    pub(crate) fn writes(&self) -> Vec<db::Query> {
        let mut changes = self.changes.clone();
        changes.sort_by_key(|c| c.id);
        let mut writes: Vec<db::Query> = changes
            .iter()
            .map(|c| db::query_with(UPDATE_PAYMENT, change_params(c)))
            .collect();
        let state = state_params(&self.state, self.now, &self.key);
        writes.push(db::query_with(UPDATE_TRANSACTION, state));
        writes
    }
}

const UPDATE_PAYMENT: &str = "UPDATE payments SET status = $1, price = $2, payer_wallet_id = $3, hold_id = $4, confirmed_at = $5 WHERE id = $6";
const UPDATE_TRANSACTION: &str = "UPDATE transactions SET status = $1, kind = $2, wallet_id = $3, reserved_until = $4, confirmed_at = $5, updated_at = $6 WHERE transaction_key = $7";

/// [`UPDATE_TRANSACTION`]'s parameters: the state, `updated_at = now`, and the key.
fn state_params<'a>(
    state: &TransactionState,
    now: i64,
    key: &'a TransactionKey,
) -> impl Params + 'a {
    let kind = state.kind.map(|k| k.as_str());
    (
        state.status.as_str(),
        kind,
        state.wallet_id,
        state.reserved_until,
        state.confirmed_at,
        now,
        key,
    )
}

/// [`UPDATE_PAYMENT`]'s parameters.
fn change_params(c: &PaymentChange) -> impl Params {
    (
        c.status.as_str(),
        c.price,
        c.payer_wallet_id,
        c.hold_id,
        c.confirmed_at,
        c.id,
    )
}
