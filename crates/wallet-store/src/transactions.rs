//! Transactions, their payments and their event log.

use crate::allowances::{COLUMNS as ALLOWANCE_COLUMNS, allowance_from};
use crate::batch::Event;
use crate::rows::{
    Cols, PAYMENT_COLUMNS, TRANSACTION_COLUMNS, aliased, payment_from, payment_from_row,
    transaction_from_row,
};
use crate::{
    Backend, NewPaymentRow, PaymentChange, PaymentRow, Result, StoreError, TransactionRow,
    TransactionState, Tx, db,
};
use std::sync::LazyLock;
use wallet_core::PaymentStatus;
use wallet_core::reserve::ReserveSpec;

impl Tx {
    /// Inserts a new transaction.
    pub async fn insert_transaction(&mut self, t: &TransactionRow, now: i64) -> Result<()> {
        let (reserve_for, reserve_until, flat) = match t.reserve {
            ReserveSpec::Default => (None, None, false),
            ReserveSpec::For { seconds, flat } => (Some(seconds), None, flat),
            ReserveSpec::Until { at, flat } => (None, Some(at), flat),
        };
        db::query(
            "INSERT INTO transactions (transaction_key, project_id, client_id, status, kind, wallet_id, created_at, confirmed_at, reserve_for, reserve_until, reserve_flat, reserved_until, use_allowance, suggest_allowance, auto_confirm, redirect_uri, callback_uri, callbacks_disabled, user_json, inquiries_json, updated_at, restrictions_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(&t.key)
        .bind(t.project_id)
        .bind(t.client_id)
        .bind(t.status.as_str())
        .bind(t.kind.map(|k| k.as_str()))
        .bind(t.wallet_id)
        .bind(t.created_at)
        .bind(t.confirmed_at)
        .bind(reserve_for)
        .bind(reserve_until)
        .bind(i64::from(flat))
        .bind(t.reserved_until)
        .bind(i64::from(t.use_allowance))
        .bind(i64::from(t.suggest_allowance))
        .bind(i64::from(t.auto_confirm))
        .bind(t.redirect_uri.as_deref())
        .bind(t.callback_uri.as_deref())
        .bind(i64::from(t.callbacks_disabled))
        .bind(t.user_json.as_deref())
        .bind(t.inquiries_json.as_deref())
        .bind(now)
        .bind(t.restrictions_json.as_deref())
        .execute(self.conn())
        .await
        .map_err(StoreError::from_db)?;
        Ok(())
    }

    /// Reads a transaction by key.
    pub async fn transaction(&mut self, key: &str) -> Result<Option<TransactionRow>> {
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE transaction_key = $1"
        ));
        let row = db::query(q).bind(key).fetch_optional(self.conn()).await?;
        row.as_ref().map(transaction_from_row).transpose()
    }

    /// Reads and locks a transaction for the rest of this database transaction. Its payments
    /// and its allowance come in the same round trip: [`Tx::payments_of`] and
    /// [`Tx::allowance_of`] answer them until this transaction writes a payment or an allowance.
    pub async fn transaction_for_update(&mut self, key: &str) -> Result<Option<TransactionRow>> {
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT {}, {}, {} FROM transactions t \
             LEFT JOIN payments p ON p.transaction_key = t.transaction_key \
             LEFT JOIN allowances a ON a.id = (SELECT max(id) FROM allowances WHERE transaction_key = t.transaction_key) \
             WHERE t.transaction_key = $1 ORDER BY p.id{}",
            *T_COLUMNS,
            *P_COLUMNS,
            *A_COLUMNS,
            match self.backend {
                Backend::Postgres => " FOR UPDATE OF t",
                Backend::Sqlite => "",
            }
        ));
        let rows = db::query(q).bind(key).fetch_all(self.conn()).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let t = transaction_from_row(first)?;
        let mut payments = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.try_get::<Option<i64>, _>("p_id")?.is_some() {
                payments.push(payment_from(Cols::new(r, "p_"))?);
            }
        }
        let allowance = match first.try_get::<Option<i64>, _>("a_id")? {
            Some(_) => Some(allowance_from(Cols::new(first, "a_"))?),
            None => None,
        };
        self.payments_of_memo = Some((key.to_owned(), payments));
        self.allowance_of_memo = Some((key.to_owned(), allowance));
        Ok(Some(t))
    }

    /// Writes a transaction's state: status, how and by which wallet it was reserved, until when.
    /// Answers the row as stored, so an answer built from it needs no read back.
    pub async fn set_transaction_state(
        &mut self,
        key: &str,
        state: &TransactionState,
        now: i64,
    ) -> Result<TransactionRow> {
        let q = sqlx::AssertSqlSafe(format!(
            "UPDATE transactions SET status = $1, kind = $2, wallet_id = $3, reserved_until = $4, confirmed_at = $5, updated_at = $6 WHERE transaction_key = $7 RETURNING {TRANSACTION_COLUMNS}"
        ));
        let row = bind_state(db::query(q), state, now)
            .bind(key)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("transaction {key} is gone")))?;
        transaction_from_row(&row)
    }

    /// [`Tx::update_payment`] for each of `changes`, then [`Tx::set_transaction_state`]: on
    /// PostgreSQL in one statement, one round trip where it took one per row. Answers the rows
    /// as stored: the transaction, and the changed payments in id order.
    pub async fn set_transaction_and_payments(
        &mut self,
        key: &str,
        state: &TransactionState,
        changes: &[PaymentChange],
        now: i64,
    ) -> Result<(TransactionRow, Vec<PaymentRow>)> {
        if self.backend == Backend::Sqlite || changes.is_empty() {
            let mut payments = Vec::with_capacity(changes.len());
            for c in changes {
                payments.push(self.change_payment(c).await?);
            }
            payments.sort_by_key(|p| p.id);
            let t = self.set_transaction_state(key, state, now).await?;
            return Ok((t, payments));
        }
        self.payments_of_memo = None;
        let mut parts = Vec::with_capacity(changes.len() + 1);
        for i in 0..changes.len() {
            let n = 6 * i;
            parts.push(format!(
                "p{i} AS (UPDATE payments SET status = ${}, price = ${}, payer_wallet_id = ${}, hold_id = ${}, confirmed_at = ${} WHERE id = ${} RETURNING {PAYMENT_COLUMNS})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
        }
        let n = 6 * changes.len();
        parts.push(format!(
            "t AS (UPDATE transactions SET status = ${}, kind = ${}, wallet_id = ${}, reserved_until = ${}, confirmed_at = ${}, updated_at = ${} WHERE transaction_key = ${} RETURNING {TRANSACTION_COLUMNS})",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7
        ));
        let payments: Vec<String> = (0..changes.len())
            .map(|i| format!("SELECT * FROM p{i}"))
            .collect();
        let q = sqlx::AssertSqlSafe(format!(
            "WITH {} SELECT {}, {} FROM t CROSS JOIN ({}) p ORDER BY p.id",
            parts.join(", "),
            *T_COLUMNS,
            *P_COLUMNS,
            payments.join(" UNION ALL ")
        ));
        let q = changes.iter().fold(db::query(q), bind_change);
        let rows = bind_state(q, state, now)
            .bind(key)
            .fetch_all(self.conn())
            .await?;
        if rows.len() != changes.len() {
            return Err(StoreError::Corrupt(format!(
                "transaction {key}: {} of {} payments changed",
                rows.len(),
                changes.len()
            )));
        }
        let t = transaction_from_row(&rows[0])?;
        let payments = rows
            .iter()
            .map(|r| payment_from(Cols::new(r, "p_")))
            .collect::<Result<Vec<_>>>()?;
        Ok((t, payments))
    }

    /// Keys of transactions holding funds past their deadline, oldest deadline first.
    pub async fn due_reservations(&mut self, now: i64, limit: i64) -> Result<Vec<String>> {
        let keys = db::query_scalar(
            "SELECT transaction_key FROM transactions WHERE status IN ('reserved', 'waiting_registration', 'waiting_password', 'waiting', 'waiting_funds') AND reserved_until <= $1 ORDER BY reserved_until LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        Ok(keys)
    }

    /// Inserts a payment and returns its id.
    pub async fn insert_payment(&mut self, p: &NewPaymentRow) -> Result<i64> {
        Ok(self.insert_payment_row(p).await?.id)
    }

    /// [`Tx::insert_payment`], answering the row as stored (no read back).
    pub async fn insert_payment_row(&mut self, p: &NewPaymentRow) -> Result<PaymentRow> {
        self.payments_of_memo = None;
        let q = sqlx::AssertSqlSafe(format!(
            "INSERT INTO payments (transaction_key, project_id, status, price, currency, description, parameters, price_rules, purpose, beneficiary_wallet_id, beneficiary_json, freeze_for, freeze_until, created_at) VALUES ($1, $2, 'new', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {PAYMENT_COLUMNS}"
        ));
        let row = db::query(q)
            .bind(&p.transaction_key)
            .bind(p.project_id)
            .bind(p.price)
            .bind(p.currency.code())
            .bind(p.description.as_deref())
            .bind(p.parameters.as_deref())
            .bind(p.price_rules.as_deref())
            .bind(p.purpose.as_deref())
            .bind(p.beneficiary_wallet_id)
            .bind(p.beneficiary_json.as_deref())
            .bind(p.freeze_for)
            .bind(p.freeze_until)
            .bind(p.created_at)
            .fetch_one(self.conn())
            .await?;
        payment_from_row(&row)
    }

    /// The payments of a transaction, in creation order.
    pub async fn payments_of(&mut self, key: &str) -> Result<Vec<PaymentRow>> {
        if let Some((memo_key, payments)) = &self.payments_of_memo
            && memo_key == key
        {
            return Ok(payments.clone());
        }
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE transaction_key = $1 ORDER BY id"
        ));
        let rows = db::query(q).bind(key).fetch_all(self.conn()).await?;
        rows.iter().map(payment_from_row).collect()
    }

    /// Writes a payment's mutable state. Answers the row as stored (no read back).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_payment(
        &mut self,
        id: i64,
        status: PaymentStatus,
        price: i64,
        payer_wallet_id: Option<i64>,
        hold_id: Option<i64>,
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
        self.payments_of_memo = None;
        let q = sqlx::AssertSqlSafe(format!(
            "UPDATE payments SET status = $1, price = $2, payer_wallet_id = $3, hold_id = $4, confirmed_at = $5 WHERE id = $6 RETURNING {PAYMENT_COLUMNS}"
        ));
        let row = bind_change(db::query(q), c)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("payment {} is gone", c.id)))?;
        payment_from_row(&row)
    }

    /// Appends to a transaction's audit trail: who did what, when. Written at commit, with the
    /// transaction's other events in one statement (`batch.rs`): nothing reads the trail back
    /// before then, and on PostgreSQL that saves a round trip per event.
    pub async fn append_event(
        &mut self,
        key: &str,
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
        key: &str,
    ) -> Result<Vec<(i64, String, String, Option<String>)>> {
        let rows = db::query_as(
            "SELECT at, actor, event, detail FROM transaction_events WHERE transaction_key = $1 ORDER BY id",
        )
        .bind(key)
        .fetch_all(self.conn())
        .await?;
        Ok(rows)
    }

    /// Reads and locks a payment by id.
    pub async fn payment_for_update(&mut self, id: i64) -> Result<Option<PaymentRow>> {
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{}",
            self.for_update()
        ));
        let row = db::query(q).bind(id).fetch_optional(self.conn()).await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    /// Moves a payment into another transaction (a payment belongs to exactly one).
    pub async fn move_payment(&mut self, id: i64, transaction_key: &str) -> Result<()> {
        self.payments_of_memo = None;
        db::query("UPDATE payments SET transaction_key = $1 WHERE id = $2")
            .bind(transaction_key)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Reads a payment by id.
    pub async fn payment(&mut self, id: i64) -> Result<Option<PaymentRow>> {
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1"
        ));
        let row = db::query(q).bind(id).fetch_optional(self.conn()).await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    /// Sets when a payment's freeze ends.
    pub async fn set_freeze_until(&mut self, id: i64, freeze_until: Option<i64>) -> Result<()> {
        self.payments_of_memo = None;
        db::query("UPDATE payments SET freeze_until = $1 WHERE id = $2")
            .bind(freeze_until)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Ids of frozen payments whose freeze has ended.
    pub async fn freezes_due(&mut self, now: i64, limit: i64) -> Result<Vec<i64>> {
        Ok(db::query_scalar(
            "SELECT id FROM payments WHERE status = 'confirmed' AND freeze_until <= $1 ORDER BY freeze_until LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.conn())
        .await?)
    }
}

/// The joined columns of [`Tx::transaction_for_update`] and [`Tx::set_transaction_and_payments`]
/// (see [`aliased`]), built once.
static T_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased("t", TRANSACTION_COLUMNS, ""));
static P_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased("p", PAYMENT_COLUMNS, "p_"));
static A_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased("a", ALLOWANCE_COLUMNS, "a_"));

/// Binds a transaction state's `status, kind, wallet_id, reserved_until, confirmed_at` and
/// `updated_at = now`, in that order.
fn bind_state(q: db::Query, state: &TransactionState, now: i64) -> db::Query {
    q.bind(state.status.as_str())
        .bind(state.kind.map(|k| k.as_str()))
        .bind(state.wallet_id)
        .bind(state.reserved_until)
        .bind(state.confirmed_at)
        .bind(now)
}

/// Binds a payment change's `status, price, payer_wallet_id, hold_id, confirmed_at, id`, in
/// that order.
fn bind_change(q: db::Query, c: &PaymentChange) -> db::Query {
    q.bind(c.status.as_str())
        .bind(c.price)
        .bind(c.payer_wallet_id)
        .bind(c.hold_id)
        .bind(c.confirmed_at)
        .bind(c.id)
}
