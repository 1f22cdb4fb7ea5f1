//! Storage of walletd: one SQL set over SQLite (embedded default) and PostgreSQL.
//!
//! Every API call is one database transaction: [`Store::write`] opens it
//! (`BEGIN IMMEDIATE` on SQLite, behind an in-process writer gate so that
//! concurrent writers queue instead of spinning on `SQLITE_BUSY`; a plain
//! `BEGIN` on PostgreSQL, where rows are locked with `FOR UPDATE`), the typed
//! methods of [`Tx`] read and write, and [`Tx::commit`] makes it durable.
//! Dropping a `Tx` without committing rolls everything back.

mod accounts;
mod allowances;
mod directory;
mod holders;
mod lifecycle;
mod migrate;
mod outbox;
mod rows;
mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod transactions;

pub use accounts::{AccountRow, LedgerCheck};
pub use allowances::{ALLOWANCE_STATUSES, AllowanceRow, NewAllowanceRow};
pub use directory::{ClientRow, CodeRow, ProjectRow, UserRow, WalletRow};
pub use holders::{HolderRow, HolderUpdate, LimitKind, SmsRow, TokenRow};
pub use lifecycle::IdempotentAnswer;
pub use outbox::{CallbackFilter, CallbackRow, NewCallback};
pub use rows::{NewPaymentRow, NewTransactionRow, PaymentRow, TransactionRow, TransactionState};
pub use search::{SearchFilter, StatementFilter, StatementRow};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A storage failure. Domain refusals are not errors here: methods return `Ok(false)`/`None`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("a row with the same unique value exists")]
    Conflict,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: expected sqlite://… or postgres://…")]
    Url(String),
}

impl StoreError {
    /// Maps unique violations to `Conflict`, the one database error callers act on.
    pub(crate) fn from_db(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                StoreError::Conflict
            }
            _ => StoreError::Db(e),
        }
    }

    /// True when the pool could not hand out a connection in time (overload, not a bug).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Db(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store: a connection pool and what differs between the two backends.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer; queueing writers here keeps them off the busy-retry path.
    write_gate: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// `sqlite://walletd.db` is created when missing (`mode=rwc`) unless a mode is given.
fn normalize_url(url: &str) -> Result<(String, Backend)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
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
        return Ok((url, Backend::Sqlite));
    }
    Err(StoreError::Url(url.to_string()))
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let (url, backend) = normalize_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // Durable commits (nothing acknowledged before it is on disk), and a long
                            // busy wait for writers in other processes (admin commands).
                            conn.execute("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(&url).await?,
        };
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let store = Store {
            pool,
            backend,
            write_gate: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Opens a read-write transaction: one per API call.
    pub async fn write(&self) -> Result<Tx> {
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner,
            backend: self.backend,
            _gate: gate,
        })
    }

    /// Opens a transaction for reading only (a consistent snapshot, no writer lock).
    pub async fn read(&self) -> Result<Tx> {
        let inner = self.pool.begin().await?;
        Ok(Tx {
            inner,
            backend: self.backend,
            _gate: None,
        })
    }

    /// Closes the pool (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One database transaction with walletd's typed reads and writes.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    backend: Backend,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    /// Makes every write of this transaction durable, all at once.
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }

    /// Undoes every write of this transaction (dropping does the same).
    pub async fn rollback(self) -> Result<()> {
        self.inner.rollback().await?;
        Ok(())
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

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}
