//! Storage of walletd: one SQL set over SQLite (embedded default) and PostgreSQL.
//!
//! Every API call is one database transaction: [`Store::write`] opens it, the
//! typed methods of [`Tx`] read and write, and [`Tx::commit`] makes it durable
//! (it returns only once it is on disk). Dropping a `Tx` without committing
//! rolls everything back.
//!
//! On PostgreSQL a write transaction is a `BEGIN` on a pooled connection, sent with its first
//! statement (rows are locked with `FOR UPDATE`); one whose only statement is the one its commit
//! makes runs that statement alone, without `BEGIN` and `COMMIT` (`db::LazyTx`). On SQLite, which has one writer, write
//! transactions are *logical*: savepoints, one after the other, in a physical
//! `BEGIN IMMEDIATE` transaction on one dedicated writer connection, committed
//! together by one `COMMIT` (one fsync) — group commit, see `writer.rs`. Reads
//! ([`Store::read`]) use other connections and see only what is committed. SQLite is called
//! directly (rusqlite), PostgreSQL through sqlx: one query interface over both (`db.rs`), and one
//! error type, [`StoreError`], that each driver's errors become in one place (`error.rs`).

mod accounts;
mod allowances;
mod batch;
mod contacts;
mod db;
mod deltas;
mod directory;
mod error;
mod fault;
mod holders;
mod holds;
mod ids;
mod inquiries;
mod lifecycle;
mod lite;
mod migrate;
mod oauth;
mod outbox;
mod payment_contacts;
mod payment_passwords;
mod request;
mod rows;
mod search;
#[cfg(test)]
mod temp;
#[cfg(feature = "testing")]
pub mod testing;
mod transactions;
mod vfs;
mod web;
mod writer;

pub use accounts::{AccountRow, LedgerCheck};
pub use allowances::{ALLOWANCE_STATUSES, AllowanceRow, NewAllowanceRow};
pub use contacts::ContactKind;
pub use directory::{ClientLookup, ClientRow, CodeRow, ProjectRow, UserRow, WalletRow};
pub use error::{ErrorKind, Result, StoreError};
pub use holders::{HolderRow, HolderUpdate, LimitKind, PayerRow, SmsRow, TokenRow};
pub use lifecycle::IdempotentAnswer;
pub use oauth::{CodeGrantRow, OAuthSessionRow};
pub use outbox::{CallbackFilter, CallbackRow, NewCallback};
pub use payment_contacts::PaymentContact;
pub use request::{RequestRecord, serve_request};
pub use rows::{
    NewPaymentRow, NewTransactionRow, PaymentChange, PaymentRow, TransactionRow, TransactionState,
};
pub use search::{SearchFilter, StatementFilter, StatementRow};
pub use web::SessionRow;
pub use writer::CommitStats;
pub use writer::GROUP_COMMIT_SIZE;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool};
use std::sync::Arc;
use std::time::Duration;
use wallet_core::ids::{AccountId, TransactionKey};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: its connections, which differ between the two backends.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    conns: Conns,
    account_ids: Arc<accounts::AccountIds>,
    /// Ids drawn ahead for rows written at commit (PostgreSQL, `ids.rs`).
    id_blocks: Arc<ids::IdBlocks>,
    /// PostgreSQL: how statements are sent (unnamed behind a pooler, `?pgbouncer=true`).
    statements: db::Statements,
    commit_faults: fault::CommitFaults,
}

#[derive(Clone)]
enum Conns {
    /// PostgreSQL: a pool, for reads and writes.
    Postgres(AnyPool),
    /// SQLite: the one writer connection with its group commit, and the readers.
    Sqlite {
        writer: Arc<writer::Writer>,
        readers: Arc<lite::Readers>,
    },
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// `sqlite://walletd.db` is created when missing (`mode=rwc`) unless a mode is given. A PostgreSQL
/// URL may say `pgbouncer=true` (walletd's own parameter, taken out before sqlx reads the URL):
/// the server is reached through a pooler in transaction mode ([`db::Statements::Unnamed`]).
fn normalize_url(url: &str) -> Result<(String, Backend, db::Statements)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (url, statements) = take_pgbouncer(url)?;
        return Ok((url, Backend::Postgres, statements));
    }
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") {
            return Err(StoreError::Url(format!(
                "{url}: an in-memory SQLite database is per connection; use a file"
            )));
        }
        let url = if url.contains("mode=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        return Ok((url, Backend::Sqlite, db::Statements::Cached));
    }
    Err(StoreError::Url(url.to_string()))
}

/// The URL without its `pgbouncer=true|false` parameter, and what that parameter says.
fn take_pgbouncer(url: &str) -> Result<(String, db::Statements)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), db::Statements::Cached));
    };
    let mut statements = db::Statements::Cached;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("pgbouncer", "true")) => statements = db::Statements::Unnamed,
            Some(("pgbouncer", "false")) => statements = db::Statements::Cached,
            Some(("pgbouncer", other)) => {
                return Err(StoreError::Url(format!(
                    "{base}: pgbouncer={other}: expected pgbouncer=true or pgbouncer=false"
                )));
            }
            _ => kept.push(pair),
        }
    }
    let url = match kept.is_empty() {
        true => base.to_string(),
        false => format!("{base}?{}", kept.join("&")),
    };
    Ok((url, statements))
}

/// PostgreSQL connections a store keeps by default. More is slower on a small server: on the
/// 2-vCPU benchmark machine, with 32 tills, 8 connections served 328 flows/s (p99 54 ms), 16 served
/// 310 (p99 67 ms) and 32 served 216 (p99 357 ms): the backends compete for the CPUs and for the
/// hot rows (bench/README.md).
pub const DEFAULT_POSTGRES_POOL: u32 = 8;

/// The longest a PostgreSQL transaction waits for a connection, opening one included; then it
/// fails as unavailable (503, retryable). Short, so that a server down (a failover under way)
/// gives a prompt answer, not a hang: sqlx retries a refused connection until this runs out.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Connects and brings the schema up to date (PostgreSQL: [`DEFAULT_POSTGRES_POOL`] connections).
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with_pool(url, DEFAULT_POSTGRES_POOL).await
    }

    /// [`Store::connect`] with at most `postgres_pool` connections to PostgreSQL (SQLite: ignored;
    /// it has one writer connection and opens readers as needed).
    pub async fn connect_with_pool(url: &str, postgres_pool: u32) -> Result<Store> {
        let (url, backend, statements) = normalize_url(url)?;
        let conns = match backend {
            Backend::Sqlite => {
                let uri = lite::uri(&url);
                // The writer first: it turns WAL on, which the readers then find.
                let writer = writer::Writer::connect(&uri).await?;
                Conns::Sqlite {
                    writer,
                    readers: lite::Readers::new(uri),
                }
            }
            Backend::Postgres => {
                install_default_drivers();
                let pool = AnyPoolOptions::new()
                    .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                    .max_connections(postgres_pool.max(1))
                    .connect(&url)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                Conns::Postgres(pool)
            }
        };
        let store = Store {
            backend,
            conns,
            account_ids: Arc::default(),
            id_blocks: Arc::default(),
            statements,
            commit_faults: fault::CommitFaults::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Opens a read-write transaction: one per API call. On SQLite, writers queue (FIFO) for the
    /// one writer connection.
    ///
    /// Inside [`serve_request`], the first write transaction also records the request at commit:
    /// its nonce ([`StoreError::ReusedNonce`] if a committed request used it; then nothing is
    /// written) and its rate count (see `request.rs`).
    pub async fn write(&self) -> Result<Tx> {
        let inner = match &self.conns {
            Conns::Sqlite { writer, .. } => TxInner::Logical(writer.begin().await?),
            Conns::Postgres(pool) => TxInner::Lazy(db::LazyTx::new(
                pool.acquire().await.map_err(StoreError::from_sqlx)?,
                self.statements,
            )),
        };
        let mut tx = Tx::new(inner, self);
        tx.request = request::unrecorded();
        Ok(tx)
    }

    /// Opens a transaction for reading only (a consistent snapshot of what is committed, no writer lock).
    pub async fn read(&self) -> Result<Tx> {
        self.reader(true).await
    }

    /// A connection for lookups that need no snapshot: each statement sees what is committed when
    /// it runs, with no `BEGIN`/`COMMIT` around it (two round trips fewer than [`Store::read`]).
    /// For single-row lookups on every request (credentials, rate counts, idempotency records).
    pub async fn lookup(&self) -> Result<Tx> {
        self.reader(false).await
    }

    /// A reader: in a transaction of its own if `snapshot` ([`Store::read`]), else outside any
    /// ([`Store::lookup`]; behind a pooler, in one too: see [`db::Statements::Unnamed`]).
    async fn reader(&self, snapshot: bool) -> Result<Tx> {
        let inner = match &self.conns {
            Conns::Sqlite { readers, .. } => TxInner::Reader(readers.get(snapshot)?),
            Conns::Postgres(pool) if snapshot || self.statements == db::Statements::Unnamed => {
                TxInner::Pooled(pool.begin().await.map_err(StoreError::from_sqlx)?)
            }
            Conns::Postgres(pool) => {
                TxInner::Autocommit(pool.acquire().await.map_err(StoreError::from_sqlx)?)
            }
        };
        Ok(Tx::new(inner, self))
    }

    /// Group-commit counters (SQLite; all zero on PostgreSQL).
    pub fn commit_stats(&self) -> CommitStats {
        match &self.conns {
            Conns::Sqlite { writer, .. } => writer.stats(),
            Conns::Postgres(_) => CommitStats::default(),
        }
    }

    /// PostgreSQL: the pool's connections open and, of them, idle now (`None` on SQLite).
    pub fn pool_use(&self) -> Option<(u32, usize)> {
        match &self.conns {
            Conns::Postgres(pool) => Some((pool.size(), pool.num_idle())),
            Conns::Sqlite { .. } => None,
        }
    }

    /// Ends the open write batch and closes the connections (graceful shutdown).
    pub async fn close(&self) {
        match &self.conns {
            Conns::Sqlite { writer, readers } => {
                writer.close().await;
                readers.close();
            }
            Conns::Postgres(pool) => pool.close().await,
        }
    }
}

enum TxInner {
    /// PostgreSQL reads: a transaction of its own on a pooled connection.
    Pooled(sqlx::Transaction<'static, Any>),
    /// PostgreSQL writes: the same, begun by its first statement (`db::LazyTx`).
    Lazy(db::LazyTx),
    /// SQLite writes: a savepoint in the writer's shared physical transaction.
    Logical(writer::LogicalTx),
    /// PostgreSQL lookups outside any transaction ([`Store::lookup`]).
    Autocommit(sqlx::pool::PoolConnection<Any>),
    /// SQLite reads (in a transaction) and lookups (outside one).
    Reader(lite::Reader),
}

/// One database transaction with walletd's typed reads and writes.
pub struct Tx {
    inner: TxInner,
    backend: Backend,
    /// The API request whose nonce this transaction recorded: counted at commit.
    request: Option<std::sync::Arc<RequestRecord>>,
    /// PostgreSQL: the request's rate count is written already ([`Tx::count_request_first`]).
    rate_counted: bool,
    /// Balance changes applied at commit (see `Tx::defer`, `Tx::place_hold_at_commit`):
    /// `(account, balance, reserved, guard)`, where `guard` is money held that must be available.
    deltas: Vec<(AccountId, i64, i64, i64)>,
    /// Writes made at commit, after the balance changes (`batch.rs`).
    at_commit: batch::AtCommit,
    /// What [`Tx::allowance_of`] read, until this transaction writes an allowance.
    allowance_of_memo: Option<(TransactionKey, Option<AllowanceRow>)>,
    /// What [`Tx::transaction_for_update`] read of a transaction's payments, until this
    /// transaction writes a payment.
    payments_of_memo: Option<(TransactionKey, Vec<PaymentRow>)>,
    /// A transaction's and its payments' changes, written at commit or before the next statement
    /// on those rows ([`Tx::set_transaction_and_payments`]).
    pending_rows: Option<transactions::PendingRows>,
    /// The reservation code [`Tx::transaction_and_code_for_update`] read and locked, by its hash.
    code_memo: Option<(String, Option<CodeRow>)>,
    /// The store's known account ids, and those this transaction learned (known at commit).
    account_ids: Arc<accounts::AccountIds>,
    learned_accounts: Vec<((accounts::AccountOwner, wallet_core::Currency), AccountId)>,
    /// PostgreSQL: rows written at commit or before the next statement that reads holds,
    /// payments or transactions (a hold placed at commit, a settled hold's movement, a new
    /// transaction and its payments), with what their changing no row means (`batch.rs`).
    pending_ledger: batch::PendingLedger,
    id_blocks: Arc<ids::IdBlocks>,
    /// Ids drawn inside this transaction, shared with the others once it commits (`ids.rs`).
    ids_drawn_inside: ids::IdBlocks,
    statements: db::Statements,
    commit_faults: fault::CommitFaults,
}

impl Tx {
    fn new(inner: TxInner, store: &Store) -> Tx {
        Tx {
            inner,
            backend: store.backend,
            request: None,
            rate_counted: false,
            deltas: Vec::new(),
            at_commit: batch::AtCommit::default(),
            allowance_of_memo: None,
            payments_of_memo: None,
            pending_rows: None,
            code_memo: None,
            account_ids: store.account_ids.clone(),
            learned_accounts: Vec::new(),
            pending_ledger: batch::PendingLedger::default(),
            id_blocks: store.id_blocks.clone(),
            ids_drawn_inside: ids::IdBlocks::default(),
            statements: store.statements,
            commit_faults: store.commit_faults.clone(),
        }
    }

    /// Makes every write of this transaction durable, all at once: returns `Ok` only once it is on
    /// disk (on SQLite, once the group commit holding it succeeded).
    pub async fn commit(mut self) -> Result<()> {
        // The hot rows last, just before `COMMIT`: on PostgreSQL their locks are held only for it.
        // Then the request's nonce and rate count and the other deferred writes (`batch.rs`).
        let request = self.request.take();
        if let Some(r) = &request {
            self.at_commit.push(
                directory::nonce_insert(&r.mac_id, &r.nonce, r.now),
                batch::IfUnchanged::ReusedNonce,
            );
            if !self.rate_counted {
                let shard = request::next_shard(self.backend);
                self.at_commit.push(
                    lifecycle::counts_upsert(r.client_id, r.window_start, shard, 1, 0),
                    batch::IfUnchanged::Fine,
                );
            }
        }
        let deltas = self.merged_deltas();
        // Nothing ran yet, and what is left is one statement that moves no money and changes no
        // row read before: it runs alone, outside a transaction (`db::LazyTx`).
        if let TxInner::Lazy(l) = &mut self.inner
            && !l.begun()
            && deltas.is_empty()
            && self.pending_rows.is_none()
        {
            l.run_alone();
        }
        let flushed = self.run_at_commit(deltas).await;
        if let Err(e) = flushed {
            // A refusal (funds short at commit, a replay, an answer stored meanwhile) or a
            // failure: nothing of this transaction stays — unless its last statement ran alone
            // and was its commit (`db::LazyTx::run_alone`).
            let _ = self.rollback().await;
            return Err(request::in_doubt_after(request.as_deref(), e));
        }
        let learned = std::mem::take(&mut self.learned_accounts);
        let committed = match self.inner {
            TxInner::Pooled(tx) => tx.commit().await.map_err(StoreError::from_sqlx),
            TxInner::Lazy(tx) => tx.commit().await,
            TxInner::Logical(tx) => tx.commit().await,
            TxInner::Autocommit(_) => Ok(()),
            TxInner::Reader(r) => r.finish(),
        };
        let committed = match &request {
            Some(_) => committed.and_then(|()| self.commit_faults.after_commit()),
            None => committed,
        };
        if let Err(e) = committed {
            // Whether `COMMIT` took effect is unknown when the connection failed meanwhile.
            return Err(request::in_doubt_after(request.as_deref(), e));
        }
        if let Some(r) = request {
            r.mark_recorded();
        }
        self.account_ids.learn(learned);
        self.id_blocks.absorb(&self.ids_drawn_inside);
        Ok(())
    }

    /// Undoes every write of this transaction (dropping does the same, without waiting). On SQLite,
    /// also waits until the changes of other transactions it may have read are committed (an error
    /// if they were not), so an answer built from what it read is not given before that is durable.
    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            TxInner::Pooled(tx) => tx.rollback().await.map_err(StoreError::from_sqlx)?,
            TxInner::Lazy(tx) => tx.rollback().await?,
            TxInner::Logical(tx) => tx.rollback().await?,
            TxInner::Autocommit(_) | TxInner::Reader(_) => {}
        }
        Ok(())
    }

    /// Runs SQL as given (tests: statements the typed methods never issue).
    #[cfg(feature = "testing")]
    pub async fn execute_unchecked(&mut self, sql: &str) -> Result<u64> {
        self.flush_rows().await?;
        self.allowance_of_memo = None;
        self.payments_of_memo = None;
        self.conn().execute_batch(sql).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// ` FOR UPDATE` where the backend locks rows (PostgreSQL); SQLite's writer lock already covers it.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// [`db::select`] of rows this transaction locks: `rest` then [`Tx::for_update`].
    pub(crate) fn select_for_update<T: db::Decode>(&self, rest: &str) -> db::QueryAs<T> {
        db::select(format_args!("{rest}{}", self.for_update()))
    }

    /// Whether a statement now runs inside a database transaction already open (then what it
    /// changes is durable only with that transaction's commit).
    pub(crate) fn has_begun(&self) -> bool {
        match &self.inner {
            TxInner::Lazy(tx) => tx.begun(),
            TxInner::Pooled(_) | TxInner::Logical(_) => true,
            TxInner::Autocommit(_) | TxInner::Reader(_) => false,
        }
    }

    /// [`Tx::conn`] for a statement that need not be in the transaction (`db::LazyTx::outside`).
    pub(crate) fn conn_outside(&mut self) -> db::Conn<'_> {
        self.connection(true)
    }

    pub(crate) fn conn(&mut self) -> db::Conn<'_> {
        self.connection(false)
    }

    fn connection(&mut self, outside: bool) -> db::Conn<'_> {
        match &mut self.inner {
            TxInner::Pooled(tx) => db::Conn::Any(tx, self.statements),
            TxInner::Lazy(tx) => match outside {
                true => tx.outside(),
                false => db::Conn::Lazy(tx),
            },
            TxInner::Logical(tx) => db::Conn::Lite(tx.conn()),
            TxInner::Autocommit(conn) => db::Conn::Any(conn, self.statements),
            TxInner::Reader(r) => db::Conn::Lite(r.conn()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use db::Statements::{Cached, Unnamed};

    #[test]
    fn pgbouncer_true_is_taken_out_of_the_url_and_sends_statements_unnamed() {
        let base = "postgres://u@h:6432/db";
        let cases = [
            (base.to_string(), base, Cached),
            (format!("{base}?pgbouncer=true"), base, Unnamed),
            (format!("{base}?pgbouncer=false"), base, Cached),
            (
                format!("{base}?sslmode=disable&pgbouncer=true&application_name=w"),
                "postgres://u@h:6432/db?sslmode=disable&application_name=w",
                Unnamed,
            ),
        ];
        for (url, kept, statements) in cases {
            let (normal, backend, s) = normalize_url(&url).expect("a PostgreSQL URL");
            assert_eq!(
                (normal.as_str(), backend, s),
                (kept, Backend::Postgres, statements)
            );
        }
        let e = normalize_url(&format!("{base}?pgbouncer=yes")).expect_err("not a boolean");
        assert!(e.to_string().contains("pgbouncer=yes"), "{e}");
        let (_, _, sqlite) = normalize_url("sqlite://w.db?pgbouncer=true").expect("SQLite");
        assert_eq!(sqlite, Cached);
    }
}
