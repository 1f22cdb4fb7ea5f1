//! A VFS that can lose power: the OS VFS, with every change to a file in a watched directory
//! also recorded on a [`Disk`], which the test cuts at a call of its choosing.
//!
//! Installed as the process's default VFS before any store is opened, so that walletd's writer
//! VFS (`src/vfs.rs`), which wraps the default, sits above it: what this sees of the WAL is what
//! that shim let through, when it let it through. The readers, which open the default VFS, write
//! through it too (a checkpoint when the last connection closes). Files elsewhere (the store
//! opened after the "reboot") are the OS VFS's own, untouched.
//!
//! The real files stay the page cache every connection reads; a sync does not reach the real
//! disk (nothing here needs it to) but makes the file's changes durable on the [`Disk`]. Once the
//! power is cut, every change, sync, read, deletion and open in the directory fails.

use super::disk::{Disk, Power};
use rusqlite::ffi;
use std::ffi::{CStr, c_int, c_void};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

const NAME: &CStr = c"walletd-power-loss";

/// The OS VFS ("unix").
static OS_VFS: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

/// The machines running now: each watches one directory.
static MACHINES: Mutex<Vec<(PathBuf, Arc<Mutex<Disk>>)>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes this the default VFS, once; before any store is opened in the process (walletd's writer
/// VFS wraps whatever is the default when it registers).
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find` initialises SQLite and returns VFSes that live as long as
        // the process; `register` hands SQLite a leaked copy of the OS VFS.
        unsafe {
            assert!(
                ffi::sqlite3_vfs_find(c"walletd-wal".as_ptr()).is_null(),
                "install the power-loss VFS before opening any store"
            );
            register();
        }
    });
}

unsafe fn register() {
    // SAFETY: the default VFS (the OS's), valid for the life of the process.
    let os = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
    assert!(!os.is_null(), "no OS VFS");
    // SAFETY: as above.
    let mut vfs = unsafe { *os };
    vfs.szOsFile = c_int::try_from(HEADER + vfs.szOsFile as usize).expect("file size");
    vfs.pNext = ptr::null_mut();
    vfs.zName = NAME.as_ptr();
    vfs.xOpen = Some(open);
    vfs.xDelete = Some(delete);
    OS_VFS.store(os, Ordering::Release);
    // SAFETY: leaked: SQLite keeps the pointer for the life of the process.
    let rc = unsafe { ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 1) };
    assert_eq!(rc, ffi::SQLITE_OK, "registering the power-loss VFS");
}

/// A machine: the files of `dir` are on its [`Disk`] while it runs (until dropped).
pub struct Machine {
    disk: Arc<Mutex<Disk>>,
}

impl Machine {
    pub fn start(dir: &Path, disk: Disk) -> Machine {
        install();
        let dir = dir.canonicalize().expect("machine directory");
        let disk = Arc::new(Mutex::new(disk));
        lock(&MACHINES).push((dir, disk.clone()));
        Machine { disk }
    }

    pub fn disk(&self) -> MutexGuard<'_, Disk> {
        lock(&self.disk)
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        lock(&MACHINES).retain(|(_, disk)| !Arc::ptr_eq(disk, &self.disk));
    }
}

/// The disk of the machine watching `path`'s directory, and the file's name there.
///
/// # Safety
/// `path` is null or a C string.
unsafe fn watched(path: *const std::ffi::c_char) -> Option<(Arc<Mutex<Disk>>, String)> {
    if path.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    let path = Path::new(unsafe { CStr::from_ptr(path) }.to_str().ok()?);
    let (dir, name) = (path.parent()?, path.file_name()?.to_str()?);
    let machines = lock(&MACHINES);
    let (_, disk) = machines.iter().find(|(d, _)| d == dir)?;
    Some((disk.clone(), name.to_string()))
}

/// A watched file: SQLite sees `base`; the OS file object follows this header.
#[repr(C)]
struct PowerFile {
    base: ffi::sqlite3_file,
    os: *mut ffi::sqlite3_file,
    disk: *const Mutex<Disk>,
    name: *mut String,
    wal: bool,
}

const HEADER: usize = std::mem::size_of::<PowerFile>().next_multiple_of(16);

fn os_vfs() -> *mut ffi::sqlite3_vfs {
    OS_VFS.load(Ordering::Acquire)
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let os = os_vfs();
    // SAFETY: the OS VFS, set before registration; SQLite's xOpen contract for the rest: `file`
    // is `szOsFile` bytes (this header and the OS object), `name` null or a C string that
    // outlives the file.
    unsafe {
        let os_open = (*os).xOpen.expect("xOpen");
        let Some((disk, key)) = watched(name) else {
            return os_open(os, name, file, flags, out_flags);
        };
        let pf = file.cast::<PowerFile>();
        (*pf).base.pMethods = ptr::null();
        let mut d = lock(&disk);
        if d.is_cut() {
            return ffi::SQLITE_CANTOPEN;
        }
        let os_file = file.cast::<u8>().add(HEADER).cast::<ffi::sqlite3_file>();
        let rc = os_open(os, name, os_file, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let path = CStr::from_ptr(name).to_str().expect("checked in `watched`");
        d.open(&key, || std::fs::read(path).unwrap_or_default());
        drop(d);
        (*pf).os = os_file;
        (*pf).disk = Arc::into_raw(disk);
        (*pf).name = Box::into_raw(Box::new(key));
        (*pf).wal = flags & ffi::SQLITE_OPEN_WAL != 0;
        (*pf).base.pMethods = &METHODS;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const std::ffi::c_char,
    sync_dir: c_int,
) -> c_int {
    let os = os_vfs();
    // SAFETY: the OS VFS; `name` is a C string (SQLite's contract).
    unsafe {
        let os_delete = (*os).xDelete.expect("xDelete");
        let Some((disk, key)) = watched(name) else {
            return os_delete(os, name, sync_dir);
        };
        let mut d = lock(&disk);
        if d.tick() == Power::Cut {
            return ffi::SQLITE_IOERR_DELETE;
        }
        let rc = os_delete(os, name, sync_dir);
        if rc == ffi::SQLITE_OK || rc == ffi::SQLITE_IOERR_DELETE_NOENT {
            d.deleted(&key);
        }
        rc
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock_file),
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

/// The watched file, its OS object's methods, its disk and its name.
///
/// # Safety
/// `file` is a `PowerFile` that `open` opened and `close` has not closed.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a PowerFile,
    &'static ffi::sqlite3_io_methods,
    &'a Mutex<Disk>,
    &'a str,
) {
    // SAFETY: the caller's contract: every pointer was set by `open`.
    unsafe {
        let pf = &*file.cast::<PowerFile>();
        (pf, &*(*pf.os).pMethods, &*pf.disk, (*pf.name).as_str())
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite's contract: an open file, `amount` readable bytes at `buf`.
    unsafe {
        let (pf, methods, disk, name) = parts(file);
        let mut d = lock(disk);
        if d.tick() == Power::Cut {
            return ffi::SQLITE_IOERR_WRITE;
        }
        let rc = methods.xWrite.expect("xWrite")(pf.os, buf, amount, offset);
        if rc == ffi::SQLITE_OK {
            let data = std::slice::from_raw_parts(buf.cast::<u8>(), amount as usize);
            d.wrote(name, offset as u64, data);
            if pf.wal {
                d.longest_wal_write = d.longest_wal_write.max(data.len());
            } else {
                d.other_writes += 1;
            }
        }
        rc
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: SQLite's contract: an open file.
    unsafe {
        let (pf, methods, disk, name) = parts(file);
        let mut d = lock(disk);
        if d.tick() == Power::Cut {
            return ffi::SQLITE_IOERR_TRUNCATE;
        }
        let rc = methods.xTruncate.expect("xTruncate")(pf.os, size);
        if rc == ffi::SQLITE_OK {
            d.truncated(name, size as u64);
        }
        rc
    }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, _flags: c_int) -> c_int {
    // SAFETY: SQLite's contract: an open file.
    unsafe {
        let (_, _, disk, name) = parts(file);
        let mut d = lock(disk);
        if d.tick() == Power::Cut {
            d.sync_at_cut(name);
            return ffi::SQLITE_IOERR_FSYNC;
        }
        d.synced(name);
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite's contract: an open file, `amount` writable bytes at `buf`.
    unsafe {
        let (pf, methods, disk, _) = parts(file);
        if lock(disk).is_cut() {
            return ffi::SQLITE_IOERR_READ;
        }
        methods.xRead.expect("xRead")(pf.os, buf, amount, offset)
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls this once, last, on a file `open` opened.
    unsafe {
        let (pf, methods, _, _) = parts(file);
        let rc = methods.xClose.map_or(ffi::SQLITE_OK, |f| f(pf.os));
        let pf = file.cast::<PowerFile>();
        drop(Arc::from_raw((*pf).disk));
        drop(Box::from_raw((*pf).name));
        (*pf).base.pMethods = ptr::null();
        rc
    }
}

/// Defines methods that call the OS file's own as they are (`$none` if it has none).
macro_rules! passing {
    ($($name:ident => $method:ident ($($arg:ident: $ty:ty),*) -> $ret:ty = $none:expr;)*) => {$(
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> $ret {
            // SAFETY: SQLite calls this only on a file `open` opened and `close` did not close.
            unsafe {
                let (pf, methods, _, _) = parts(file);
                match methods.$method {
                    Some(f) => f(pf.os, $($arg),*),
                    None => $none,
                }
            }
        }
    )*};
}

passing! {
    file_size => xFileSize(size: *mut i64) -> c_int = ffi::SQLITE_IOERR_FSTAT;
    lock_file => xLock(level: c_int) -> c_int = ffi::SQLITE_IOERR_LOCK;
    unlock => xUnlock(level: c_int) -> c_int = ffi::SQLITE_IOERR_UNLOCK;
    check_reserved_lock => xCheckReservedLock(out: *mut c_int) -> c_int = ffi::SQLITE_IOERR_CHECKRESERVEDLOCK;
    file_control => xFileControl(op: c_int, arg: *mut c_void) -> c_int = ffi::SQLITE_NOTFOUND;
    sector_size => xSectorSize() -> c_int = 4096;
    device_characteristics => xDeviceCharacteristics() -> c_int = 0;
    shm_map => xShmMap(page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int = ffi::SQLITE_IOERR_SHMMAP;
    shm_lock => xShmLock(offset: c_int, n: c_int, flags: c_int) -> c_int = ffi::SQLITE_IOERR_SHMLOCK;
    shm_unmap => xShmUnmap(delete: c_int) -> c_int = ffi::SQLITE_OK;
    fetch => xFetch(offset: i64, amount: c_int, out: *mut *mut c_void) -> c_int = ffi::SQLITE_IOERR;
    unfetch => xUnfetch(offset: i64, page: *mut c_void) -> c_int = ffi::SQLITE_OK;
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls this only on a file `open` opened and `close` did not close.
    unsafe {
        let (pf, methods, _, _) = parts(file);
        if let Some(f) = methods.xShmBarrier {
            f(pf.os);
        }
    }
}
