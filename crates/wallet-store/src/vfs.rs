//! The writer's VFS: SQLite's own OS layer, except that the WAL frames written between two syncs
//! reach the file in one `pwrite` rather than two per frame.
//!
//! SQLite writes a WAL frame with two calls, its 24-byte header and then the page, so a cash-out
//! flow's ~20 frames were ~40 system calls on the writer's serial path (bench/README.md, "One
//! write per batch of WAL frames"). Here the writes to a WAL file that each continue the last are
//! gathered in memory (up to [`MAX_PENDING`] bytes) and written with one call before anything else
//! reaches the file: a sync, a read, a truncate, its size, a file control, a close, or a write
//! somewhere else in it. Every other file, and every other method, is the OS VFS's own.
//!
//! Nothing is acknowledged sooner than before: with `synchronous = FULL`, which the writer's
//! connection sets and checks (`lite::open_writer`), SQLite syncs the WAL before it makes a commit
//! visible to other connections, and a sync here first writes what is pending. A write that fails
//! fails the call that made it, and every later call on that file until it is closed, so that no
//! sync succeeds over frames that never reached the file: the writer then discards its batch and
//! opens a new connection.
//!
//! This is the store's only `unsafe` code: SQLite's VFS interface is C. The file objects are used
//! by one connection, which runs one call at a time, so they need no locking.

use rusqlite::ffi;
use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The name the writer's connection opens the VFS by.
const NAME: &CStr = c"walletd-wal";

/// The most bytes written in one call: 31 frames of 2 KiB pages. The OS VFS writes less than
/// 128 KiB a call (`seekAndWriteFd` masks the length with `0x1ffff`); SQLite's own writes are at
/// most a 64 KiB page.
const MAX_PENDING: usize = 1 << 16;
const _: () = assert!(MAX_PENDING < 0x20000);

/// The OS VFS this one wraps (the process's default, "unix" on Linux).
static OS_VFS: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

/// The VFS's name, registering it the first time (SQLite's error code if that failed).
pub(crate) fn name() -> Result<&'static CStr, c_int> {
    static REGISTERED: OnceLock<Result<(), c_int>> = OnceLock::new();
    // SAFETY: runs once; `register` only reads the OS VFS and hands SQLite a leaked, never-freed copy.
    (*REGISTERED.get_or_init(|| unsafe { register() })).map(|()| NAME)
}

/// A WAL file: SQLite sees `base`; the OS VFS's own file object lives right after this header,
/// in the same allocation (`szOsFile` covers both).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    os: *mut ffi::sqlite3_file,
    pending: *mut Pending,
}

/// Where the OS file object starts in the allocation: a multiple of 16, so that it keeps the
/// allocation's alignment (SQLite's allocations are 8-byte aligned, as the OS VFS expects).
const HEADER: usize = std::mem::size_of::<WalFile>().next_multiple_of(16);

/// Writes not yet made: `data` goes at `offset`. `failed` is the error of a write that failed.
#[derive(Default)]
struct Pending {
    offset: i64,
    data: Vec<u8>,
    failed: Option<c_int>,
}

unsafe fn register() -> Result<(), c_int> {
    // SAFETY: `sqlite3_vfs_find` initialises SQLite if needed and returns a VFS that lives as long
    // as the process (the OS VFS is never unregistered).
    let os = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
    if os.is_null() {
        return Err(ffi::SQLITE_ERROR);
    }
    // Every method and the app data as the OS VFS has them, so that they see what they expect;
    // only the name, the size of a file object and `xOpen` differ.
    // SAFETY: `os` is a valid VFS (above).
    let mut vfs = unsafe { *os };
    let os_file_size = usize::try_from(vfs.szOsFile).map_err(|_| ffi::SQLITE_ERROR)?;
    vfs.szOsFile = c_int::try_from(HEADER + os_file_size).map_err(|_| ffi::SQLITE_ERROR)?;
    vfs.pNext = ptr::null_mut();
    vfs.zName = NAME.as_ptr();
    vfs.xOpen = Some(open);
    OS_VFS.store(os, Ordering::Release);
    // SAFETY: SQLite keeps the pointer for the life of the process; it is leaked, never freed.
    match unsafe { ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 0) } {
        ffi::SQLITE_OK => Ok(()),
        rc => Err(rc),
    }
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let os = OS_VFS.load(Ordering::Acquire);
    // SAFETY: set before the VFS was registered; a valid VFS.
    let Some(os_open) = (unsafe { (*os).xOpen }) else {
        return ffi::SQLITE_ERROR;
    };
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // Any other file is the OS VFS's own object, in place: our allocation is larger.
        // SAFETY: SQLite passes an allocation of `szOsFile` bytes, more than the OS VFS needs.
        return unsafe { os_open(os, name, file, flags, out_flags) };
    }
    let wal = file.cast::<WalFile>();
    // SAFETY: the allocation holds the header and, after it, the OS file object (`register`),
    // aligned as the allocation is (`HEADER`).
    unsafe {
        let os_file = file.cast::<u8>().add(HEADER).cast::<ffi::sqlite3_file>();
        (*wal).base.pMethods = ptr::null();
        let rc = os_open(os, name, os_file, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // SQLite's contract: a failed open leaves `pMethods` null and nothing to close.
            return rc;
        }
        (*wal).os = os_file;
        (*wal).pending = Box::into_raw(Box::default());
        (*wal).base.pMethods = &WAL_METHODS;
    }
    ffi::SQLITE_OK
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// The OS file object and its methods.
///
/// # Safety
/// `file` is a `WalFile` that `open` opened and `close` has not closed.
unsafe fn os_of(
    file: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    // SAFETY: the caller's contract; the OS VFS's methods are static.
    unsafe {
        let os = (*file.cast::<WalFile>()).os;
        (os, &*(*os).pMethods)
    }
}

/// What is not yet written.
///
/// # Safety
/// As [`os_of`].
unsafe fn pending_of<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Pending {
    // SAFETY: the caller's contract; one call at a time on a file, so the borrow is unique.
    unsafe { &mut *(*file.cast::<WalFile>()).pending }
}

/// Writes what is pending, in one call. After a failure, every later call fails the same way.
///
/// # Safety
/// As [`os_of`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: the caller's contract.
    let ((os, methods), pending) = unsafe { (os_of(file), pending_of(file)) };
    if let Some(rc) = pending.failed {
        return rc;
    }
    if pending.data.is_empty() {
        return ffi::SQLITE_OK;
    }
    let Some(os_write) = methods.xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    #[cfg(test)]
    tests::OS_WRITES.with(|n| n.set(n.get() + 1));
    // The length is at most MAX_PENDING, which fits a c_int.
    let len = pending.data.len() as c_int;
    // SAFETY: `os` is open; `data` is valid for `len` bytes.
    let rc = unsafe { os_write(os, pending.data.as_ptr().cast(), len, pending.offset) };
    pending.data.clear();
    if rc != ffi::SQLITE_OK {
        pending.failed = Some(rc);
    }
    rc
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite calls this only on a file `open` opened, with `amount` readable bytes at `buf`.
    unsafe {
        let pending = pending_of(file);
        if let Some(rc) = pending.failed {
            return rc;
        }
        let Ok(len) = usize::try_from(amount) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        #[cfg(test)]
        tests::WRITES.with(|n| n.set(n.get() + 1));
        let end = pending.offset + pending.data.len() as i64;
        if pending.data.is_empty() || offset != end || pending.data.len() + len > MAX_PENDING {
            let rc = flush(file);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            pending.offset = offset;
        }
        pending
            .data
            .extend_from_slice(std::slice::from_raw_parts(buf.cast::<u8>(), len));
        if pending.data.len() > MAX_PENDING {
            // Larger than SQLite ever writes at once; never more than the OS VFS takes in a call.
            return flush(file);
        }
        ffi::SQLITE_OK
    }
}

/// Defines methods that write what is pending, then call the OS file's own.
macro_rules! flushing {
    ($($name:ident => $method:ident ($($arg:ident: $ty:ty),*);)*) => {$(
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            // SAFETY: SQLite calls this only on a file `open` opened and `close` did not close.
            unsafe {
                let rc = flush(file);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                let (os, methods) = os_of(file);
                match methods.$method {
                    Some(f) => f(os, $($arg),*),
                    None => ffi::SQLITE_IOERR,
                }
            }
        }
    )*};
}

/// Defines methods that call the OS file's own as they are (`$none` if it has none).
macro_rules! passing {
    ($($name:ident => $method:ident ($($arg:ident: $ty:ty),*) -> $ret:ty = $none:expr;)*) => {$(
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> $ret {
            // SAFETY: SQLite calls this only on a file `open` opened and `close` did not close.
            unsafe {
                let (os, methods) = os_of(file);
                match methods.$method {
                    Some(f) => f(os, $($arg),*),
                    None => $none,
                }
            }
        }
    )*};
}

flushing! {
    read => xRead(buf: *mut c_void, amount: c_int, offset: i64);
    truncate => xTruncate(size: i64);
    sync => xSync(flags: c_int);
    file_size => xFileSize(size: *mut i64);
    file_control => xFileControl(op: c_int, arg: *mut c_void);
    fetch => xFetch(offset: i64, amount: c_int, out: *mut *mut c_void);
}

passing! {
    lock => xLock(level: c_int) -> c_int = ffi::SQLITE_IOERR_LOCK;
    unlock => xUnlock(level: c_int) -> c_int = ffi::SQLITE_IOERR_UNLOCK;
    check_reserved_lock => xCheckReservedLock(out: *mut c_int) -> c_int = ffi::SQLITE_IOERR_CHECKRESERVEDLOCK;
    sector_size => xSectorSize() -> c_int = 4096;
    device_characteristics => xDeviceCharacteristics() -> c_int = 0;
    shm_map => xShmMap(page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int = ffi::SQLITE_IOERR_SHMMAP;
    shm_lock => xShmLock(offset: c_int, n: c_int, flags: c_int) -> c_int = ffi::SQLITE_IOERR_SHMLOCK;
    shm_unmap => xShmUnmap(delete: c_int) -> c_int = ffi::SQLITE_OK;
    unfetch => xUnfetch(offset: i64, page: *mut c_void) -> c_int = ffi::SQLITE_OK;
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls this only on a file `open` opened and `close` did not close.
    unsafe {
        let (os, methods) = os_of(file);
        if let Some(f) = methods.xShmBarrier {
            f(os);
        }
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls this once, last, on a file `open` opened.
    unsafe {
        let flushed = flush(file);
        let (os, methods) = os_of(file);
        let closed = methods.xClose.map_or(ffi::SQLITE_OK, |f| f(os));
        let wal = file.cast::<WalFile>();
        drop(Box::from_raw((*wal).pending));
        (*wal).pending = ptr::null_mut();
        (*wal).base.pMethods = ptr::null();
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
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

    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "walletd_vfs_{}_{}",
                std::process::id(),
                wallet_core::keys::random_base62(&mut rand::rng(), 8)
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }

        fn db(&self) -> String {
            self.0.join("t.db").display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
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
                let flags =
                    ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_READWRITE;
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

        fn try_write(&mut self, bytes: &[u8], offset: i64) -> c_int {
            let f = self.methods().xWrite.expect("xWrite");
            // SAFETY: open; `bytes` is readable.
            unsafe {
                f(
                    self.file(),
                    bytes.as_ptr().cast(),
                    bytes.len() as c_int,
                    offset,
                )
            }
        }

        fn write(&mut self, bytes: &[u8], offset: i64) {
            assert_eq!(self.try_write(bytes, offset), ffi::SQLITE_OK);
        }

        fn try_read(&mut self, buf: &mut [u8], offset: i64) -> c_int {
            let f = self.methods().xRead.expect("xRead");
            // SAFETY: open; `buf` is writable.
            unsafe {
                f(
                    self.file(),
                    buf.as_mut_ptr().cast(),
                    buf.len() as c_int,
                    offset,
                )
            }
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
        let dir = TempDir::new();
        // The OS VFS gives a WAL file its database's permissions: there must be one.
        std::fs::write(dir.db(), b"").expect("database file");
        let path = format!("{}-wal", dir.db());
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
        let dir = TempDir::new();
        let conn = writer(&dir.db());
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
        let dir = TempDir::new();
        let conn = writer(&dir.db());
        // Another connection, through the OS VFS, sees each commit at once.
        let other = Connection::open_with_flags(dir.db(), flags()).expect("open");
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
        let after = Connection::open_with_flags(dir.db(), flags()).expect("reopen");
        assert_eq!(count(&after), 20 * 37);
        assert_sound(&after);
    }

    #[test]
    fn frames_read_back_rewritten_and_rolled_back_within_a_transaction_stay_right() {
        let dir = TempDir::new();
        let conn = writer(&dir.db());
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
        let after = Connection::open_with_flags(dir.db(), flags()).expect("reopen");
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
}
