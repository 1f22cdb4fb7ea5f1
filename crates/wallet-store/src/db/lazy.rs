//! PostgreSQL: a write transaction that begins with its first statement.

use super::{Conn, Statements};
use crate::{ErrorKind, Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

/// PostgreSQL: a write transaction's pooled connection, whose `BEGIN` is sent with its first
/// statement, not before.
///
/// Why: a transaction whose only statement is the one it makes at commit (creating a transaction
/// and its payments, `batch.rs`) then runs as that statement [`alone`](LazyTx::run_alone), outside
/// a transaction: one round trip instead of three (`BEGIN`, the statement, `COMMIT`). A statement
/// of PostgreSQL is atomic on its own: it is written whole or not at all. Behind a pooler
/// ([`Statements::Unnamed`]) every statement runs in the transaction: none alone or outside it.
pub(crate) struct LazyTx {
    /// The connection until the transaction begins.
    conn: Option<PoolConnection<Any>>,
    tx: Option<sqlx::Transaction<'static, Any>>,
    /// The next statement runs alone, outside a transaction.
    alone: bool,
    /// A statement ran alone: no other may run, it would not be atomic with it.
    ran_alone: bool,
    statements: Statements,
}

impl LazyTx {
    pub(crate) fn new(conn: PoolConnection<Any>, statements: Statements) -> LazyTx {
        LazyTx {
            conn: Some(conn),
            tx: None,
            alone: false,
            ran_alone: false,
            statements,
        }
    }

    pub(super) fn statements(&self) -> Statements {
        self.statements
    }

    /// True once `BEGIN` was sent.
    pub(crate) fn begun(&self) -> bool {
        self.tx.is_some()
    }

    /// Makes the next statement run alone, outside a transaction; only if none ran yet, and not
    /// behind a pooler.
    pub(crate) fn run_alone(&mut self) {
        debug_assert!(!self.begun() && !self.ran_alone);
        self.alone = !self.begun() && !self.ran_alone && self.statements == Statements::Cached;
    }

    /// The connection, in the transaction unless the statement runs alone: begins it first.
    pub(super) async fn connection(&mut self) -> Result<&mut AnyConnection> {
        if self.tx.is_none() {
            if self.ran_alone {
                return Err(StoreError::db(
                    ErrorKind::Other,
                    "a statement after the one run alone would not be atomic with it",
                ));
            }
            if std::mem::take(&mut self.alone) {
                self.ran_alone = true;
                return self.conn.as_deref_mut().ok_or_else(gone);
            }
            let conn = self.conn.take().ok_or_else(gone)?;
            let tx = sqlx::Transaction::begin(conn, None).await;
            self.tx = Some(tx.map_err(StoreError::from_sqlx)?);
        }
        match &mut self.tx {
            Some(tx) => Ok(&mut **tx),
            None => Err(gone()),
        }
    }

    /// The connection for a statement that need not be in the transaction (drawing ids from a
    /// sequence): outside it until it has begun (`BEGIN` is not sent for it), unless behind a
    /// pooler.
    pub(crate) fn outside(&mut self) -> Conn<'_> {
        if self.tx.is_none() && self.conn.is_some() && self.statements == Statements::Cached {
            let conn = self.conn.as_deref_mut().expect("checked just above");
            return Conn::Any(conn, Statements::Cached);
        }
        Conn::Lazy(self)
    }

    /// Commits what began; a statement that ran alone is committed already.
    pub(crate) async fn commit(self) -> Result<()> {
        match self.tx {
            Some(tx) => tx.commit().await.map_err(StoreError::from_sqlx),
            None => Ok(()),
        }
    }

    pub(crate) async fn rollback(self) -> Result<()> {
        match self.tx {
            Some(tx) => tx.rollback().await.map_err(StoreError::from_sqlx),
            None => Ok(()),
        }
    }
}

/// The connection of a transaction that ended (a failed `BEGIN` took it).
fn gone() -> StoreError {
    StoreError::db(
        ErrorKind::Unavailable,
        "the transaction's connection is gone",
    )
}
