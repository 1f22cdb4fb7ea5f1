//! Searches of a project's transactions and payments, newest first, with a total for paging.

use crate::db::{Decode, Value};
use crate::{PaymentRow, Result, TransactionRow, Tx, db};
use wallet_core::ids::{HoldId, PaymentId, ProjectId, TransactionKey, WalletId};

/// Filters of `GET transactions` and `GET payments`; all optional except the project and paging.
#[derive(Debug, Clone)]
pub struct SearchFilter {
    pub project_id: ProjectId,
    pub statuses: Vec<String>,
    /// The payer's wallet.
    pub wallet: Option<WalletId>,
    /// The beneficiary's wallet (payments only).
    pub beneficiary: Option<WalletId>,
    /// `created_at >= from`.
    pub from: Option<i64>,
    /// `created_at <= to`.
    pub to: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// A WHERE clause of constant fragments with `$N` placeholders, and their values, in order.
#[derive(Default)]
struct Where {
    sql: String,
    args: Vec<Value>,
}

impl Where {
    fn next(&self) -> usize {
        self.args.len() + 1
    }

    /// `column op $N`, with `v` as `$N`.
    fn int(&mut self, column: &str, op: &str, v: impl Into<Value>) {
        self.condition(&format!("{column} {op} {{}}"), v);
    }

    /// The condition `sql` with `$N` in place of its `{}`, and `v` as `$N`.
    fn condition(&mut self, sql: &str, v: impl Into<Value>) {
        let n = self.next();
        self.sql.push_str(" AND ");
        self.sql.push_str(&sql.replace("{}", &format!("${n}")));
        self.args.push(v.into());
    }

    /// `from <= column <= to`, each bound only if given (the creation times of a search).
    fn range(&mut self, column: &str, from: Option<i64>, to: Option<i64>) {
        if let Some(from) = from {
            self.int(column, ">=", from);
        }
        if let Some(to) = to {
            self.int(column, "<=", to);
        }
    }

    fn texts_in(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = (0..values.len())
            .map(|i| format!("${}", self.next() + i))
            .collect();
        self.sql
            .push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
        self.args.extend(values.iter().map(Value::from));
    }
}

/// The search's filters; `beneficiary` is the condition on the beneficiary's wallet (`{}`).
fn filter_clause(f: &SearchFilter, payer_column: &str, beneficiary: &str) -> Where {
    let mut w = Where::default();
    w.int("project_id", "=", f.project_id);
    w.texts_in("status", &f.statuses);
    if let Some(wallet) = f.wallet {
        w.int(payer_column, "=", wallet);
    }
    if let Some(b) = f.beneficiary {
        w.condition(beneficiary, b);
    }
    w.range("created_at", f.from, f.to);
    w
}

db::row_type! {
    columns = "e.id AS id, e.amount AS amount, a.currency AS currency, m.created_at AS date, m.kind AS kind, m.transaction_key AS transaction_key, m.payment_id AS payment_id, \
         p.description AS description, p.hold_id AS transfer_id, \
         (SELECT o.wallet_id FROM entries e2 JOIN accounts o ON o.id = e2.account_id WHERE e2.movement_id = e.movement_id AND e2.id <> e.id ORDER BY e2.id LIMIT 1) AS other_wallet";
    /// One ledger entry of a wallet's account, with what the statement shows of it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct StatementRow {
        pub id: i64,
        /// Signed: positive into the wallet, negative out of it.
        pub amount: i64,
        pub currency: String,
        pub date: i64,
        /// The movement's kind: `payment`, `top_up`, …
        pub kind: String,
        pub transaction_key: Option<TransactionKey>,
        pub payment_id: Option<PaymentId>,
        pub description: Option<String>,
        /// The payment's transfer: its hold, which the movement settled.
        pub transfer_id: Option<HoldId>,
        /// The wallet on the other side, if it is a wallet (not a system account).
        pub other_wallet: Option<WalletId>,
    }
}

/// Filters of `GET wallet/{id}/statements`.
#[derive(Debug, Clone)]
pub struct StatementFilter {
    pub wallet_id: WalletId,
    pub currencies: Vec<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

impl Tx {
    /// A page of a wallet's ledger entries, newest first, and how many match in all.
    pub async fn statements(&mut self, f: &StatementFilter) -> Result<(i64, Vec<StatementRow>)> {
        self.flush_rows().await?;
        let mut w = Where::default();
        w.int("a.wallet_id", "=", f.wallet_id);
        w.texts_in("a.currency", &f.currencies);
        w.range("m.created_at", f.from, f.to);
        let from = "FROM entries e JOIN accounts a ON a.id = e.account_id JOIN movements m ON m.id = e.movement_id LEFT JOIN payments p ON p.id = m.payment_id";
        self.page(from, w, "e.id DESC", f.limit, f.offset).await
    }

    /// A page of the project's transactions matching `f`, newest first, and how many match in all.
    pub async fn search_transactions(
        &mut self,
        f: &SearchFilter,
    ) -> Result<(i64, Vec<TransactionRow>)> {
        self.flush_rows().await?;
        // A transaction's beneficiaries are its payments'.
        let beneficiary = "transaction_key IN (SELECT transaction_key FROM payments WHERE beneficiary_wallet_id = {})";
        let w = filter_clause(f, "wallet_id", beneficiary);
        let order = "created_at DESC, transaction_key DESC";
        self.page("FROM transactions", w, order, f.limit, f.offset)
            .await
    }

    /// A page of the project's payments matching `f`, newest first, and how many match in all.
    pub async fn search_payments(&mut self, f: &SearchFilter) -> Result<(i64, Vec<PaymentRow>)> {
        self.flush_rows().await?;
        let w = filter_clause(f, "payer_wallet_id", "beneficiary_wallet_id = {}");
        let order = "created_at DESC, id DESC";
        self.page("FROM payments", w, order, f.limit, f.offset)
            .await
    }

    /// The rows `from` (`FROM …`) and `w` select, in `order`, `limit` of them after `offset`; and
    /// how many there are in all.
    async fn page<T: Decode>(
        &mut self,
        from: &str,
        w: Where,
        order: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<T>)> {
        let count = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {from} WHERE 1 = 1{}", w.sql));
        let total = self.one_scalar(count, w.args.clone()).await?;
        let n = w.next();
        let page = db::select(format_args!(
            "{from} WHERE 1 = 1{} ORDER BY {order} LIMIT ${n} OFFSET ${}",
            w.sql,
            n + 1
        ));
        let mut args = w.args;
        args.extend([limit.into(), offset.into()]);
        let rows = self.all(page, args).await?;
        Ok((total, rows))
    }
}
