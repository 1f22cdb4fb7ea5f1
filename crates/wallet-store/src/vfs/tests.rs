//! The writer's VFS against what reaches the file, and when.

use super::*;
use crate::temp::TempDir;
use rusqlite::{Connection, OpenFlags};
use std::cell::Cell;

thread_local! {
    /// Writes SQLite made to WAL files through this VFS on this thread…
    pub(super) static WRITES: Cell<u64> = const { Cell::new(0) };
    /// …and the writes that reached the OS.
    pub(super) static OS_WRITES: Cell<u64> = const { Cell::new(0) };
}

fn counts() -> (u64, u64) {
    (WRITES.with(Cell::get), OS_WRITES.with(Cell::get))
}

/// A directory of its own for a test, and its database's path.
fn temp_db() -> (TempDir, String) {
    let dir = TempDir::new("vfs");
    let db = dir.path("t.db").display().to_string();
    (dir, db)
}

fn flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// A connection through this VFS, as the writer's (WAL, durable commits, 2 KiB pages), to a
/// new database with a table `t`.
fn writer(path: &str) -> Connection {
    let conn = Connection::open_with_flags_and_vfs(path, flags(), name().expect("registered"))
        .expect("open");
    conn.execute_batch(
        "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB);",
    )
    .expect("pragmas and table");
    conn
}

fn assert_sound(conn: &Connection) {
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .expect("count")
}

fn insert(conn: &Connection, rows: std::ops::Range<i64>) {
    let tx = conn.unchecked_transaction().expect("begin");
    for i in rows {
        tx.execute(
            "INSERT INTO t (id, body) VALUES (?1, randomblob(1500))",
            [i],
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
}

/// A WAL file opened through the VFS directly, as SQLite opens one.
struct RawWal {
    // The file object, in memory aligned for any of its fields.
    mem: Vec<u64>,
}

impl RawWal {
    fn open(path: &str) -> RawWal {
        name().expect("registered");
        let path = std::ffi::CString::new(path).expect("path");
        // SAFETY: a registered VFS; SQLite's calling convention for xOpen (a zeroed allocation
        // of szOsFile bytes, a name that outlives the file: leaked here).
        unsafe {
            let vfs = ffi::sqlite3_vfs_find(NAME.as_ptr());
            let words = (*vfs).szOsFile as usize / 8 + 1;
            let mut raw = RawWal {
                mem: vec![0; words],
            };
            let flags = ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_READWRITE;
            let mut out = 0;
            let rc =
                (*vfs).xOpen.expect("xOpen")(vfs, path.into_raw(), raw.file(), flags, &mut out);
            assert_eq!(rc, ffi::SQLITE_OK);
            raw
        }
    }

    fn file(&mut self) -> *mut ffi::sqlite3_file {
        self.mem.as_mut_ptr().cast()
    }

    fn methods(&mut self) -> &'static ffi::sqlite3_io_methods {
        // SAFETY: open.
        unsafe { &*(*self.file()).pMethods }
    }

    /// `xRead` or `xWrite` (`f`) of the `len` bytes at `buf`, at `offset`.
    ///
    /// # Safety
    /// `buf` points to `len` bytes, writable for `xRead`, readable for `xWrite`.
    unsafe fn io<B>(
        &mut self,
        f: unsafe extern "C" fn(*mut ffi::sqlite3_file, B, c_int, ffi::sqlite3_int64) -> c_int,
        buf: B,
        len: usize,
        offset: i64,
    ) -> c_int {
        // SAFETY: open; the caller's `buf` is as `f` needs it.
        unsafe { f(self.file(), buf, len as c_int, offset) }
    }

    fn try_write(&mut self, bytes: &[u8], offset: i64) -> c_int {
        let f = self.methods().xWrite.expect("xWrite");
        // SAFETY: `bytes` is readable.
        unsafe { self.io(f, bytes.as_ptr().cast(), bytes.len(), offset) }
    }

    fn write(&mut self, bytes: &[u8], offset: i64) {
        assert_eq!(self.try_write(bytes, offset), ffi::SQLITE_OK);
    }

    fn try_read(&mut self, buf: &mut [u8], offset: i64) -> c_int {
        let f = self.methods().xRead.expect("xRead");
        // SAFETY: `buf` is writable.
        unsafe { self.io(f, buf.as_mut_ptr().cast(), buf.len(), offset) }
    }

    fn read(&mut self, len: usize, offset: i64) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        assert_eq!(self.try_read(&mut buf, offset), ffi::SQLITE_OK);
        buf
    }

    fn size(&mut self) -> i64 {
        let f = self.methods().xFileSize.expect("xFileSize");
        let mut size = 0;
        // SAFETY: open.
        assert_eq!(unsafe { f(self.file(), &mut size) }, ffi::SQLITE_OK);
        size
    }

    fn sync(&mut self) -> c_int {
        let f = self.methods().xSync.expect("xSync");
        // SAFETY: open.
        unsafe { f(self.file(), ffi::SQLITE_SYNC_NORMAL) }
    }

    fn close(mut self) -> c_int {
        let f = self.methods().xClose.expect("xClose");
        // SAFETY: open, closed once.
        unsafe { f(self.file()) }
    }
}

#[test]
fn after_a_failed_write_no_call_on_the_file_succeeds() {
    // A WAL file every write to which fails: the disk is full.
    let mut wal = RawWal::open("/dev/full");
    wal.write(&[1; 24], 0);
    wal.write(&[2; 2048], 24);
    assert_eq!(wal.sync(), ffi::SQLITE_FULL, "the kept frames failed");
    // Nothing after it succeeds, so no sync can make a commit over the lost frames durable.
    assert_eq!(wal.sync(), ffi::SQLITE_FULL);
    assert_eq!(wal.try_write(&[3; 24], 2072), ffi::SQLITE_FULL);
    assert_eq!(wal.try_read(&mut [0; 24], 0), ffi::SQLITE_FULL);
    assert_eq!(wal.close(), ffi::SQLITE_FULL);
}

#[test]
fn reads_and_sizes_see_every_write_before_them_and_writes_keep_their_order() {
    let (_dir, db) = temp_db();
    // The OS VFS gives a WAL file its database's permissions: there must be one.
    std::fs::write(&db, b"").expect("database file");
    let path = format!("{db}-wal");
    let mut wal = RawWal::open(&path);
    let os_writes = || OS_WRITES.with(Cell::get);
    let start = os_writes();
    // A frame: its header, then its page, continuing it: kept, then written at once.
    wal.write(&[1; 24], 0);
    wal.write(&[2; 2048], 24);
    assert_eq!(os_writes(), start, "kept in memory");
    assert_eq!(wal.size(), 2072);
    assert_eq!(os_writes(), start + 1, "one write for both");
    // A read of what is kept writes it first.
    wal.write(&[3; 24], 2072);
    assert_eq!(wal.read(24, 2072), [3; 24]);
    // A write elsewhere (a frame rewritten in place) comes after what is kept; a gap stays one.
    wal.write(&[4; 100], 3000);
    wal.write(&[5; 10], 10);
    wal.write(&[6; 10], 6000);
    let all = wal.read(6010, 0);
    assert_eq!(&all[..10], [1; 10]);
    assert_eq!(&all[10..20], [5; 10]);
    assert_eq!(&all[20..24], [1; 4]);
    assert_eq!(&all[24..2072], [2; 2048]);
    assert_eq!(&all[3000..3100], [4; 100]);
    assert_eq!(&all[3100..6000], [0; 2900]);
    assert_eq!(&all[6000..], [6; 10]);
    // A close writes what is kept.
    wal.write(&[7; 5], 6010);
    assert_eq!(wal.close(), ffi::SQLITE_OK);
    assert_eq!(std::fs::read(&path).expect("read").len(), 6015);
}

#[test]
fn a_commits_frames_reach_the_wal_in_a_few_writes() {
    let (_dir, db) = temp_db();
    let conn = writer(&db);
    let before = counts();
    insert(&conn, 0..200);
    let (writes, os_writes) = counts();
    let (writes, os_writes) = (writes - before.0, os_writes - before.1);
    // 200 rows of 1.5 KB: at least 150 pages, each a frame written with two calls.
    assert!(writes >= 300, "SQLite wrote {writes} times");
    // Written in calls of up to 31 frames (MAX_PENDING): at most one for every 20 of SQLite's.
    assert!(
        os_writes * 20 <= writes,
        "{os_writes} writes reached the file for SQLite's {writes}"
    );
}

#[test]
fn what_a_commit_wrote_is_on_disk_when_it_returns() {
    let (_dir, db) = temp_db();
    let conn = writer(&db);
    // Another connection, through the OS VFS, sees each commit at once.
    let other = Connection::open_with_flags(&db, flags()).expect("open");
    for n in 1..=20 {
        insert(&conn, (n - 1) * 37..n * 37);
        assert_eq!(count(&other), n * 37);
    }
    // A transaction left open keeps its frames pending; the process "dies" with them: the
    // connection is never closed, and a new one finds every commit and nothing else.
    conn.execute_batch("BEGIN; INSERT INTO t (id, body) VALUES (-1, zeroblob(100));")
        .expect("uncommitted");
    std::mem::forget(conn);
    drop(other);
    let after = Connection::open_with_flags(&db, flags()).expect("reopen");
    assert_eq!(count(&after), 20 * 37);
    assert_sound(&after);
}

#[test]
fn frames_read_back_rewritten_and_rolled_back_within_a_transaction_stay_right() {
    let (_dir, db) = temp_db();
    let conn = writer(&db);
    // A page cache of 10 pages: a big transaction spills frames to the WAL before its commit,
    // reads them back, and writes some of them again in place.
    conn.execute_batch("PRAGMA cache_size = 10")
        .expect("cache size");
    conn.execute_batch("BEGIN").expect("begin");
    for i in 0..500 {
        conn.execute("INSERT INTO t (id, body) VALUES (?1, randomblob(700))", [i])
            .expect("insert");
    }
    conn.execute_batch(
        "UPDATE t SET body = zeroblob(700) WHERE id % 3 = 0; SAVEPOINT s; \
         DELETE FROM t WHERE id < 250; ROLLBACK TO s; RELEASE s; COMMIT;",
    )
    .expect("update, roll back, commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    insert(&conn, 500..600);
    drop(conn);
    let after = Connection::open_with_flags(&db, flags()).expect("reopen");
    assert_eq!(count(&after), 600);
    let zeroed: i64 = after
        .query_row(
            "SELECT count(*) FROM t WHERE body = zeroblob(700)",
            [],
            |r| r.get(0),
        )
        .expect("zeroed");
    assert_eq!(zeroed, 167);
    assert_sound(&after);
}
