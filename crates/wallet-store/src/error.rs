//! The store's one error type, and the one place each driver's errors become it.
//!
//! Callers act on what went wrong, never on which driver said so: a unique value taken
//! ([`ErrorKind::Conflict`]), a store too busy or out of reach to answer now
//! ([`StoreError::is_unavailable`]), a refusal at commit. The driver's own error is kept inside
//! as the source, for the log.

/// A driver's error (or the store's own message), kept for the log.
type Source = Box<dyn std::error::Error + Send + Sync>;

/// A storage failure. Domain refusals are not errors here: methods return `Ok(false)`/`None`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database or its driver failed; [`StoreError::kind`] says how.
    #[error("database error ({kind:?}): {source}")]
    Db {
        kind: ErrorKind,
        #[source]
        source: Source,
    },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: expected sqlite://… or postgres://…")]
    Url(String),
    /// SQLite: the group commit holding this transaction failed (and every transaction of its
    /// batch with it), or this transaction read changes of its batch that were then not committed.
    #[error("not committed: {0}")]
    CommitFailed(String),
    /// The API request being served (see [`crate::serve_request`]) carries a MAC nonce that a
    /// committed request already used: a replay. Nothing was written.
    #[error("the request's nonce was already used")]
    ReusedNonce,
    /// A hold checked at commit ([`crate::Tx::place_hold_at_commit`]) is not covered by the
    /// available money of the account (in this currency). Nothing was written.
    #[error("there is not enough {0} in the wallet")]
    NotEnoughFunds(String),
    /// The answer stored at commit ([`crate::Tx::answer_at_commit`]) lost to another request with
    /// the same idempotency key, answered meanwhile. Nothing was written.
    #[error("a request with this idempotency key was answered meanwhile")]
    AnsweredMeanwhile,
}

/// How the database or its driver failed, as far as a caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A statement that must answer a row answered none.
    NotFound,
    /// A unique value is taken (a unique or primary-key violation).
    Conflict,
    /// The database gave up the transaction to keep transactions apart (a serialization
    /// failure, a deadlock): the same transaction run again may commit.
    Serialization,
    /// A lock was not had in time: SQLite busy or locked past its busy timeout, PostgreSQL's
    /// lock timeout.
    Busy,
    /// No connection to run on: the pool timed out or is closed, the server refused or dropped
    /// the connection.
    Unavailable,
    /// Anything else: a bug, a broken disk, a constraint other than a unique one.
    Other,
}

impl StoreError {
    /// A failure of kind `kind` that no driver reported (`source` says what happened).
    pub(crate) fn db(kind: ErrorKind, source: impl Into<Source>) -> StoreError {
        StoreError::Db {
            kind,
            source: source.into(),
        }
    }

    /// How the database failed; `None` for the store's own errors and refusals.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            StoreError::Db { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// True when the store could not serve the call now (busy, or no connection): overload or an
    /// outage, not a bug; the same call may succeed later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.kind(), Some(ErrorKind::Busy | ErrorKind::Unavailable))
    }

    /// Every error of PostgreSQL (through sqlx) becomes a [`StoreError`] here. A statement refused
    /// by `walletd_refuse` (SQLSTATE `WD001`, `batch.rs`) becomes its refusal.
    pub(crate) fn from_sqlx(e: sqlx::Error) -> StoreError {
        let kind = match &e {
            sqlx::Error::Database(d) => {
                if d.code().as_deref() == Some(REFUSED) {
                    return refused(d.message());
                }
                match d.code().as_deref().unwrap_or("") {
                    "23505" => ErrorKind::Conflict,
                    "40001" | "40P01" => ErrorKind::Serialization,
                    "55P03" => ErrorKind::Busy,
                    // A write refused by a read-only server: a standby reached during a failover
                    // (the proxy not yet switched); the promoted primary takes the retry.
                    "25006" => ErrorKind::Unavailable,
                    // Connection exceptions; the server shutting down or starting.
                    code if code.starts_with("08") || code.starts_with("57P") => {
                        ErrorKind::Unavailable
                    }
                    _ => ErrorKind::Other,
                }
            }
            sqlx::Error::RowNotFound => ErrorKind::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        };
        StoreError::db(kind, e)
    }

    /// Every error of SQLite (through rusqlite) becomes a [`StoreError`] here.
    pub(crate) fn from_sqlite(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        use rusqlite::ffi;
        let kind = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match (f.code, f.extended_code) {
                (ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked, _) => ErrorKind::Busy,
                (_, ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                    ErrorKind::Conflict
                }
                (ErrorCode::CannotOpen, _) => ErrorKind::Unavailable,
                _ => ErrorKind::Other,
            },
            rusqlite::Error::QueryReturnedNoRows => ErrorKind::NotFound,
            _ => ErrorKind::Other,
        };
        StoreError::db(kind, e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The SQLSTATE of `walletd_refuse` (migration 10).
const REFUSED: &str = "WD001";

/// The reasons a combined statement gives `walletd_refuse` (`batch.rs`), read back by [`refused`].
pub(crate) const REUSED_NONCE: &str = "reused nonce";
pub(crate) const ANSWERED_MEANWHILE: &str = "answered meanwhile";
pub(crate) const CORRUPT: &str = "corrupt: ";

/// The refusal a combined statement raised through `walletd_refuse`.
fn refused(reason: &str) -> StoreError {
    match reason {
        REUSED_NONCE => StoreError::ReusedNonce,
        ANSWERED_MEANWHILE => StoreError::AnsweredMeanwhile,
        other => StoreError::Corrupt(other.strip_prefix(CORRUPT).unwrap_or(other).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_locked_out_is_busy_and_busy_is_unavailable() {
        let dir = crate::temp::TempDir::new("error");
        let path = dir.path("t.db");
        let holder = rusqlite::Connection::open(&path).expect("open");
        holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let other = rusqlite::Connection::open(&path).expect("open");
        other
            .busy_timeout(std::time::Duration::ZERO)
            .expect("timeout");
        let e = StoreError::from_sqlite(other.execute_batch("BEGIN IMMEDIATE").unwrap_err());
        assert_eq!(e.kind(), Some(ErrorKind::Busy), "{e}");
        assert!(e.is_unavailable());
        drop((holder, other));
    }

    #[test]
    fn a_pool_out_of_connections_is_unavailable_and_refusals_are_not_database_errors() {
        let e = StoreError::from_sqlx(sqlx::Error::PoolTimedOut);
        assert_eq!(e.kind(), Some(ErrorKind::Unavailable));
        assert!(e.is_unavailable());
        assert_eq!(StoreError::ReusedNonce.kind(), None);
        assert!(matches!(refused(REUSED_NONCE), StoreError::ReusedNonce));
        assert!(matches!(refused("corrupt: row"), StoreError::Corrupt(w) if w == "row"));
    }
}
