//! SQLite connections: how each is opened, and the pool of readers.
//!
//! Every statement runs on the calling task's thread (see `db.rs` for why). Readers never wait in
//! WAL mode; the one writer connection (`writer.rs`) takes the write lock with `BEGIN IMMEDIATE`
//! on tokio's blocking pool, so no statement that runs inline can wait for a lock.

use crate::{ErrorKind, Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Durable commits (nothing acknowledged before it is on disk), foreign keys.
const PRAGMAS: &str = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

/// The writer's settings (docs/decisions.md, "SQLite store"):
/// - pages of 2 KiB, on a database this creates (an existing one keeps its own): a request dirties
///   about 20 pages at random places (keys, nonces, idempotency records), each written whole to the
///   WAL at `COMMIT`; halving the page halves those bytes, and measured 1.2× the flows;
/// - WAL mode: readers never wait for the writer;
/// - a checkpoint every 32000 pages (64 MiB of WAL) rather than SQLite's 1000: a page rewritten by
///   many batches is copied back to the database once per checkpoint, and a checkpoint costs about
///   its distinct pages, which grow far slower than its frames. Measured 1.2× the flows of 4000
///   pages, and a lower p99 (7 ms, not 22: a checkpoint now stalls the requests in flight twice a
///   second rather than about 12 times; the longest request, 75 ms, is one of them);
/// - temporary files in memory: each logical transaction of a group commit is a savepoint, and
///   SQLite keeps the first version of every page a savepoint changes in a sub-journal, a temporary
///   file that spilled to disk past 64 KiB: 9 writes of a page per cash-out flow, on the writer's
///   serial path, for a file no one ever reads back unless a savepoint rolls back.
pub(crate) const WRITER_PRAGMAS: &str = "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; \
     PRAGMA wal_autocheckpoint = 32000; PRAGMA temp_store = MEMORY;";

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

const OPEN_FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_CREATE)
    .union(OpenFlags::SQLITE_OPEN_URI)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// Opens a connection with walletd's pragmas.
pub(crate) fn open(uri: &str) -> Result<Connection> {
    configure(Connection::open_with_flags(uri, OPEN_FLAGS).map_err(StoreError::from_sqlite)?)
}

/// Opens the writer's connection: through the VFS that writes a batch's WAL frames at once
/// (`vfs.rs`), with the writer's pragmas too. That VFS counts on SQLite syncing the WAL before it
/// publishes a commit, which `synchronous = FULL` does: checked here, so that no change of the
/// pragmas can make a commit visible before it is written.
pub(crate) fn open_writer(uri: &str) -> Result<Connection> {
    let vfs = crate::vfs::name().map_err(|rc| {
        StoreError::db(
            ErrorKind::Other,
            format!("registering the writer's VFS failed: SQLite error {rc}"),
        )
    })?;
    let conn = configure(
        Connection::open_with_flags_and_vfs(uri, OPEN_FLAGS, vfs)
            .map_err(StoreError::from_sqlite)?,
    )?;
    conn.execute_batch(WRITER_PRAGMAS)
        .map_err(StoreError::from_sqlite)?;
    let synchronous: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .map_err(StoreError::from_sqlite)?;
    if synchronous < 2 {
        return Err(StoreError::db(
            ErrorKind::Other,
            "the writer needs synchronous = FULL: its VFS writes WAL frames at the sync",
        ));
    }
    Ok(conn)
}

fn configure(conn: Connection) -> Result<Connection> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(StoreError::from_sqlite)?;
    conn.execute_batch(PRAGMAS)
        .map_err(StoreError::from_sqlite)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Runs one statement with no parameters and no rows (`BEGIN`, `SAVEPOINT`, …), prepared once.
pub(crate) fn exec(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.raw_execute())
        .map(|_| ())
        .map_err(StoreError::from_sqlite)
}

/// `BEGIN IMMEDIATE` if the write lock is free now: `Ok(false)` if another process holds it, and
/// then nothing was begun. Walletd's own writes share one connection, so only another process (an
/// admin command) ever holds the lock: the common case needs no wait, and so no hand-off to a
/// blocking thread (docs/decisions.md, "Performance choices").
pub(crate) fn try_begin_immediate(conn: &Connection) -> Result<bool> {
    conn.busy_timeout(Duration::ZERO)
        .map_err(StoreError::from_sqlite)?;
    let begun = conn
        .prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut stmt| stmt.raw_execute());
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(StoreError::from_sqlite)?;
    match begun {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(e) => Err(StoreError::from_sqlite(e)),
    }
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
    pub(crate) fn get(self: &Arc<Self>, snapshot: bool) -> Result<Reader> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::db(
                ErrorKind::Unavailable,
                "the store is closed",
            ));
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
    pub(crate) fn finish(mut self) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .expect(name)
    }

    #[test]
    fn new_databases_are_durable_wal_with_small_pages_and_old_ones_keep_their_pages() {
        let dir = crate::temp::TempDir::new("lite");
        let fresh = uri(&format!(
            "sqlite://{}?mode=rwc",
            dir.path("new.db").display()
        ));
        let conn = open_writer(&fresh).expect("open");
        conn.execute_batch("CREATE TABLE t (x)").expect("create");
        for (name, value, why) in [
            ("page_size", "2048", "small pages"),
            ("journal_mode", "wal", "WAL"),
            ("synchronous", "2", "FULL: an fsync per commit"),
            ("foreign_keys", "1", "foreign keys checked"),
            ("wal_autocheckpoint", "32000", "checkpoints are rare"),
            ("temp_store", "2", "MEMORY: sub-journals never hit the disk"),
        ] {
            assert_eq!(pragma(&conn, name), value, "{name}: {why}");
        }

        let old_path = dir.path("old.db");
        let old = Connection::open(&old_path).expect("open");
        old.execute_batch("CREATE TABLE t (x)").expect("create");
        drop(old);
        let conn = open_writer(&uri(&format!("sqlite://{}", old_path.display()))).expect("open");
        assert_eq!(pragma(&conn, "page_size"), "4096");
        assert_eq!(pragma(&conn, "journal_mode"), "wal");
    }
}
