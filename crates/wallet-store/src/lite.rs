//! SQLite connections: how each is opened, and the pool of readers.
//!
//! Every statement runs on the calling task's thread (see `db.rs` for why). Readers never wait in
//! WAL mode; the one writer connection (`writer.rs`) takes the write lock with `BEGIN IMMEDIATE`
//! on tokio's blocking pool, so no statement that runs inline can wait for a lock.

use crate::db::lite_error;
use rusqlite::{Connection, OpenFlags};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Durable commits (nothing acknowledged before it is on disk), foreign keys.
const PRAGMAS: &str = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

/// A long wait for a writer in another process (an admin command) before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared statements kept per connection: more than the store has on a request's path.
const STATEMENT_CACHE: usize = 256;

/// Idle readers kept open.
const IDLE_READERS: usize = 8;

/// The SQLite URI of a `sqlite:` URL (`sqlite://path?mode=rwc` → `file:path?mode=rwc`).
pub(crate) fn uri(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    format!("file:{rest}")
}

/// Opens a connection with walletd's pragmas.
pub(crate) fn open(uri: &str) -> Result<Connection, sqlx::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags).map_err(lite_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(lite_error)?;
    conn.execute_batch(PRAGMAS).map_err(lite_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Runs one statement with no parameters and no rows (`BEGIN`, `SAVEPOINT`, …), prepared once.
pub(crate) fn exec(conn: &Connection, sql: &str) -> Result<(), sqlx::Error> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.raw_execute())
        .map(|_| ())
        .map_err(lite_error)
}

/// The readers: connections for reads and lookups, opened on demand, kept while idle.
pub(crate) struct Readers {
    uri: String,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl Readers {
    pub(crate) fn new(uri: String) -> Arc<Readers> {
        Arc::new(Readers {
            uri,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        })
    }

    /// A reader; with `snapshot`, inside a (deferred) transaction: one consistent view.
    pub(crate) fn get(self: &Arc<Self>, snapshot: bool) -> Result<Reader, sqlx::Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.uri)?,
        };
        let mut reader = Reader {
            conn: Some(conn),
            readers: self.clone(),
            in_tx: false,
        };
        if snapshot {
            exec(reader.conn(), "BEGIN")?;
            reader.in_tx = true;
        }
        Ok(reader)
    }

    /// Closes the idle readers; readers in use are closed when they are done.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A reader in use; back to the pool when dropped (its transaction, if any, rolled back).
pub(crate) struct Reader {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    in_tx: bool,
}

impl Reader {
    pub(crate) fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a reader in use has its connection")
    }

    /// Ends the reader's transaction (a read: nothing to make durable either way).
    pub(crate) fn finish(mut self) -> Result<(), sqlx::Error> {
        if self.in_tx {
            self.in_tx = false;
            exec(self.conn(), "COMMIT")?;
        }
        Ok(())
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.in_tx && exec(&conn, "ROLLBACK").is_err() {
            return; // Closed, not reused: its state is unknown.
        }
        if self.readers.closed.load(Ordering::Acquire) {
            return;
        }
        let mut idle = self.readers.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}
