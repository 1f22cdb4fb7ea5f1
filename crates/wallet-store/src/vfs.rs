//! The writer's VFS: SQLite's own OS layer, except that the WAL frames written between two syncs
//! reach the file in one `pwrite` rather than two per frame.
//!
//! SQLite writes a WAL frame with two calls, its 24-byte header and then the page, so a cash-out
//! flow's ~20 frames were ~40 system calls on the writer's serial path (docs/decisions.md,
//! "SQLite store"). Here the writes to a WAL file that each continue the last are
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
pub(crate) mod tests;
