//! SQLite group commit: one physical write transaction shared by concurrent logical ones.
//!
//! SQLite has one writer, and with `synchronous = FULL` every `COMMIT` is an fsync. The store keeps
//! one dedicated writer connection behind a fair (FIFO) async mutex:
//!
//! - [`Writer::begin`] takes the mutex, opens the physical transaction (`BEGIN IMMEDIATE`) if none is
//!   open, and starts a logical transaction in it: `SAVEPOINT walletd_tx`. The [`LogicalTx`] holds the
//!   mutex (and so the connection) until it ends: logical transactions run one after the other, each
//!   seeing the changes of those before it, exactly as with one `BEGIN IMMEDIATE` each.
//! - [`LogicalTx::commit`] does `RELEASE SAVEPOINT` (its changes join the batch), then: if no other
//!   writer is queued (or the batch holds [`MAX_BATCH`] members) it commits the physical transaction
//!   itself; otherwise it hands the connection to the next queued writer and waits. Either way it
//!   returns only once the physical `COMMIT` holding its changes has succeeded, or with an error if it
//!   failed: every member of a batch gets the same outcome. A member waiting for its batch also queues
//!   for the mutex again; if it gets it back with its batch still open, it commits it — so a batch never
//!   waits for a writer that went away.
//! - Ending a logical transaction without `commit` undoes only its own changes
//!   (`ROLLBACK TO SAVEPOINT` + `RELEASE`). [`LogicalTx::rollback`] does it at once; a dropped one
//!   (an error path, or a request future cancelled mid-transaction) marks the state `dirty` and spawns
//!   a janitor task; whoever takes the mutex next — the janitor, a queued writer or a waiting member —
//!   undoes the savepoint before anything else runs on the connection.
//! - Every protocol statement (`BEGIN`, `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`, `COMMIT`) runs with
//!   `broken` set, cleared only when it succeeded. A failed or interrupted one leaves `broken`, and
//!   the next holder discards the batch (every member gets an error: SQLite may have rolled the whole
//!   transaction back, e.g. on an I/O error, and then none of it is durable) and replaces the
//!   connection (closing it rolls back whatever it still held). Nothing is reported committed unless
//!   the `COMMIT` that holds it returned success.

use crate::{ErrorKind, Result, StoreError, lite};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// The most logical transactions one physical `COMMIT` holds.
pub(crate) const MAX_BATCH: usize = 64;

/// `None` while the batch is open; then `Ok` once its `COMMIT` succeeded, or why it failed.
type Outcome = Option<std::result::Result<(), String>>;

/// The open physical transaction.
struct Batch {
    id: u64,
    /// Logical transactions released into it (committed, waiting for the physical `COMMIT`).
    members: usize,
    outcome: watch::Sender<Outcome>,
}

struct State {
    /// `None` after a failure or before the first use; opened on demand.
    conn: Option<Connection>,
    batch: Option<Batch>,
    /// A logical transaction's savepoint may still be open (its `Tx` was dropped).
    dirty: bool,
    /// A protocol statement failed or was interrupted: the transaction state of `conn` is unknown.
    broken: bool,
    closed: bool,
    next_batch: u64,
}

/// The metric of the transactions each successful group commit (one fsync) held: a histogram,
/// recorded through the `metrics` facade (walletd exports it; without a recorder it costs nothing).
pub const GROUP_COMMIT_SIZE: &str = "walletd_store_group_commit_size";

/// Counters of the group commit, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Logical transactions committed (`RELEASE`d into a batch whose `COMMIT` then succeeded or not).
    pub logical_commits: u64,
    /// Physical `COMMIT`s that succeeded.
    pub physical_commits: u64,
    /// Batches discarded: their `COMMIT` failed, or the connection broke while they were open.
    pub failed_batches: u64,
    /// Writers queued for the writer connection right now.
    pub writers_waiting: usize,
}

pub(crate) struct Writer {
    /// The SQLite URI of the database (`lite::uri`).
    uri: String,
    state: Arc<Mutex<State>>,
    /// Writers queued in [`Writer::begin`] (not members waiting for their batch, not janitors).
    waiting: AtomicUsize,
    logical: AtomicU64,
    physical: AtomicU64,
    failed: AtomicU64,
}

const SAVEPOINT: &str = "SAVEPOINT walletd_tx";
const RELEASE: &str = "RELEASE SAVEPOINT walletd_tx";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT walletd_tx";

/// Runs one protocol statement; `broken` stays set unless it succeeded.
///
/// The statements that may wait — `BEGIN IMMEDIATE` for the write lock when another process holds
/// it, `COMMIT` and `ROLLBACK` of the physical transaction for the disk — run on tokio's blocking
/// pool, so that the tasks of the runtime go on meanwhile (and queue for the next batch). The others
/// run here: they only touch pages in memory (see `db.rs`). `BEGIN IMMEDIATE` is first tried here
/// without waiting: the lock is nearly always free.
async fn protocol(st: &mut State, sql: &'static str) -> Result<()> {
    st.broken = true;
    if sql == "BEGIN IMMEDIATE" {
        let conn = st.conn.as_ref().ok_or_else(closed)?;
        if lite::try_begin_immediate(conn)? {
            st.broken = false;
            return Ok(());
        }
    }
    if matches!(sql, "BEGIN IMMEDIATE" | "COMMIT" | "ROLLBACK") {
        let conn = st.conn.take().ok_or_else(closed)?;
        // Cancelled while it runs, the connection is gone with `broken` set: the next holder
        // discards the batch and opens a new one.
        let (conn, done) = tokio::task::spawn_blocking(move || {
            let done = lite::exec(&conn, sql);
            (conn, done)
        })
        .await
        .map_err(|e| StoreError::db(ErrorKind::Other, format!("{sql} did not finish: {e}")))?;
        st.conn = Some(conn);
        done?;
    } else {
        let conn = st.conn.as_ref().ok_or_else(closed)?;
        lite::exec(conn, sql)?;
    }
    st.broken = false;
    Ok(())
}

impl Writer {
    pub(crate) async fn connect(uri: &str) -> Result<Arc<Writer>> {
        let conn = lite::open_writer(uri)?;
        Ok(Arc::new(Writer {
            uri: uri.to_string(),
            state: Arc::new(Mutex::new(State {
                conn: Some(conn),
                batch: None,
                dirty: false,
                broken: false,
                closed: false,
                next_batch: 1,
            })),
            waiting: AtomicUsize::new(0),
            logical: AtomicU64::new(0),
            physical: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }))
    }

    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            logical_commits: self.logical.load(Ordering::Relaxed),
            physical_commits: self.physical.load(Ordering::Relaxed),
            failed_batches: self.failed.load(Ordering::Relaxed),
            writers_waiting: self.waiting.load(Ordering::SeqCst),
        }
    }

    fn nobody_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) == 0
    }

    /// Opens a logical transaction (a savepoint in the open physical transaction).
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<LogicalTx> {
        let queued = Queued::new(self);
        let guard = self.state.clone().lock_owned().await;
        queued.acquired();
        let mut held = Held::new(self, guard);
        let st = held.state();
        self.prepare(st).await?;
        if st.batch.is_none() {
            if let Err(e) = protocol(st, "BEGIN IMMEDIATE").await {
                self.discard(st, format!("BEGIN IMMEDIATE failed: {e}"))
                    .await;
                return Err(e);
            }
            let id = st.next_batch;
            st.next_batch += 1;
            st.batch = Some(Batch {
                id,
                members: 0,
                outcome: watch::channel(None).0,
            });
        }
        st.dirty = true;
        if let Err(e) = protocol(st, SAVEPOINT).await {
            self.discard(st, format!("SAVEPOINT failed: {e}")).await;
            return Err(e);
        }
        Ok(LogicalTx { held: Some(held) })
    }

    /// Makes the connection ready: undoes an abandoned savepoint, replaces a broken connection.
    async fn prepare(&self, st: &mut State) -> Result<()> {
        if st.closed {
            return Err(closed());
        }
        // A failed undo leaves `broken` set: the batch is then discarded below.
        if st.dirty
            && !st.broken
            && protocol(st, ROLLBACK_TO).await.is_ok()
            && protocol(st, RELEASE).await.is_ok()
        {
            st.dirty = false;
        }
        if st.broken {
            self.discard(
                st,
                "the writer connection failed while the batch was open".into(),
            )
            .await;
        }
        if st.conn.is_none() {
            st.conn = Some(lite::open_writer(&self.uri)?);
        }
        Ok(())
    }

    /// Fails the open batch (every member gets `why`) and closes the connection, which rolls back
    /// whatever it still held. The next user opens a new one.
    async fn discard(&self, st: &mut State, why: String) {
        st.broken = false;
        st.dirty = false;
        if let Some(batch) = st.batch.take() {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(members = batch.members, "group commit failed: {why}");
            batch.outcome.send_replace(Some(Err(why)));
        }
        if let Some(conn) = st.conn.take()
            && let Err((_, e)) = conn.close()
        {
            tracing::warn!("closing the discarded writer connection: {e}");
        }
    }

    /// Ends the open physical transaction: `COMMIT` if it holds committed members (they all get its
    /// outcome), `ROLLBACK` if not. Returns the outcome.
    async fn finish(&self, st: &mut State) -> Result<()> {
        let Some(batch) = st.batch.as_ref() else {
            return Ok(());
        };
        let (members, sql) = if batch.members == 0 {
            (0, "ROLLBACK")
        } else {
            (batch.members, "COMMIT")
        };
        match protocol(st, sql).await {
            Ok(()) => {
                if members > 0 {
                    self.physical.fetch_add(1, Ordering::Relaxed);
                    metrics::histogram!(GROUP_COMMIT_SIZE).record(members as f64);
                    tracing::debug!(members, "group commit");
                }
                if let Some(batch) = st.batch.take() {
                    batch.outcome.send_replace(Some(Ok(())));
                }
                Ok(())
            }
            Err(e) => {
                self.discard(st, format!("{sql} of a batch of {members} failed: {e}"))
                    .await;
                Err(e)
            }
        }
    }

    /// Waits until batch `id` is committed (or failed); commits it itself if it gets the writer
    /// connection back with the batch still open.
    async fn await_batch(self: &Arc<Self>, id: u64, rx: watch::Receiver<Outcome>) -> Result<()> {
        let pending = Pending {
            writer: self.clone(),
            armed: true,
        };
        let mut watcher = rx.clone();
        let published = async move {
            match watcher.wait_for(Option::is_some).await {
                Ok(outcome) => outcome.clone(),
                Err(_) => None,
            }
        };
        let result = tokio::select! {
            biased;
            outcome = published => convert(outcome),
            guard = self.state.clone().lock_owned() => {
                let mut held = Held::new(self, guard);
                let st = held.state();
                if st.batch.as_ref().is_some_and(|b| b.id == id) {
                    match self.prepare(st).await {
                        Ok(()) if st.batch.as_ref().is_some_and(|b| b.id == id) => self.finish(st).await,
                        _ => outcome_of(&rx),
                    }
                } else {
                    outcome_of(&rx)
                }
            }
        };
        pending.disarm();
        result
    }

    /// What a janitor does: clean up after a dropped transaction and end the batch if nobody is
    /// queued to continue it.
    async fn settle(self: Arc<Self>) {
        let guard = self.state.clone().lock_owned().await;
        let mut held = Held::janitor(&self, guard);
        let st = held.state();
        if st.closed {
            return;
        }
        if let Err(e) = self.prepare(st).await {
            tracing::warn!("writer clean-up: {e}");
            return;
        }
        if st.batch.is_some()
            && self.nobody_waiting()
            && let Err(e) = self.finish(st).await
        {
            tracing::warn!("writer clean-up: {e}");
        }
    }

    fn spawn_janitor(self: &Arc<Self>) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(self.clone().settle());
        }
    }

    /// Ends the open batch and closes the writer connection; later writes fail.
    pub(crate) async fn close(self: &Arc<Self>) {
        let guard = self.state.clone().lock_owned().await;
        let mut held = Held::janitor(self, guard);
        let st = held.state();
        if self.prepare(st).await.is_ok()
            && st.batch.is_some()
            && let Err(e) = self.finish(st).await
        {
            tracing::warn!("closing the writer: {e}");
        }
        st.closed = true;
        if let Some(conn) = st.conn.take() {
            let _ = conn.close();
        }
    }
}

/// The outcome a finished batch published; an error if it never did (its `COMMIT` was interrupted).
fn outcome_of(rx: &watch::Receiver<Outcome>) -> Result<()> {
    let outcome = rx.borrow().clone();
    convert(outcome)
}

fn convert(outcome: Outcome) -> Result<()> {
    match outcome {
        Some(Ok(())) => Ok(()),
        Some(Err(why)) => Err(StoreError::CommitFailed(why)),
        None => Err(StoreError::CommitFailed(
            "the batch ended without an outcome (its COMMIT was interrupted)".into(),
        )),
    }
}

/// The writer connection, held. Dropped while a transaction or batch is open (an error path or a
/// cancelled future), it spawns a janitor so that the batch does not stay open with nobody to end it.
struct Held {
    writer: Arc<Writer>,
    guard: Option<OwnedMutexGuard<State>>,
    janitor: bool,
}

impl Held {
    fn new(writer: &Arc<Writer>, guard: OwnedMutexGuard<State>) -> Held {
        Held {
            writer: writer.clone(),
            guard: Some(guard),
            janitor: false,
        }
    }

    /// Held by a janitor (or `close`): never spawns another one.
    fn janitor(writer: &Arc<Writer>, guard: OwnedMutexGuard<State>) -> Held {
        let mut held = Held::new(writer, guard);
        held.janitor = true;
        held
    }

    fn state(&mut self) -> &mut State {
        self.guard.as_mut().expect("the writer connection is held")
    }

    /// Lets the next queued writer continue the open batch.
    fn hand_over(mut self) {
        self.guard = None;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        let unsettled = guard.dirty || guard.broken || guard.batch.is_some();
        drop(guard);
        if unsettled && !self.janitor {
            self.writer.spawn_janitor();
        }
    }
}

/// A writer queued for the connection; if it goes away before getting it, a janitor makes sure a
/// batch left open for it gets ended.
struct Queued {
    writer: Arc<Writer>,
    armed: bool,
}

impl Queued {
    fn new(writer: &Arc<Writer>) -> Queued {
        writer.waiting.fetch_add(1, Ordering::SeqCst);
        Queued {
            writer: writer.clone(),
            armed: true,
        }
    }

    fn acquired(mut self) {
        self.armed = false;
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.writer.waiting.fetch_sub(1, Ordering::SeqCst);
        if self.armed {
            self.writer.spawn_janitor();
        }
    }
}

/// A member waiting for its batch; if its future is dropped, a janitor takes over its duty to end
/// the batch.
struct Pending {
    writer: Arc<Writer>,
    armed: bool,
}

impl Pending {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.armed {
            self.writer.spawn_janitor();
        }
    }
}

/// A logical write transaction: a savepoint in the writer's physical transaction.
pub(crate) struct LogicalTx {
    /// `None` only after `commit`/`rollback` took it.
    held: Option<Held>,
}

impl LogicalTx {
    pub(crate) fn conn(&mut self) -> &mut Connection {
        self.held
            .as_mut()
            .expect("an open logical transaction")
            .state()
            .conn
            .as_mut()
            .expect("an open logical transaction has a connection")
    }

    /// Releases the savepoint into the batch and returns once the batch's `COMMIT` succeeded.
    pub(crate) async fn commit(mut self) -> Result<()> {
        let mut held = self.held.take().expect("an open logical transaction");
        let writer = held.writer.clone();
        let st = held.state();
        if let Err(e) = protocol(st, RELEASE).await {
            writer
                .discard(st, format!("RELEASE of a transaction failed: {e}"))
                .await;
            return Err(e);
        }
        st.dirty = false;
        writer.logical.fetch_add(1, Ordering::Relaxed);
        let batch = st.batch.as_mut().expect("a savepoint lives in a batch");
        batch.members += 1;
        let (id, rx) = (batch.id, batch.outcome.subscribe());
        if batch.members >= MAX_BATCH || writer.nobody_waiting() {
            return writer.finish(st).await;
        }
        held.hand_over();
        writer.await_batch(id, rx).await
    }

    /// Undoes this transaction's changes. When it ran after others of its batch (and so may have
    /// read their changes), it returns once those are committed, or with an error if they were not:
    /// what it read is then durable before its caller answers from it.
    pub(crate) async fn rollback(mut self) -> Result<()> {
        let mut held = self.held.take().expect("an open logical transaction");
        let writer = held.writer.clone();
        let st = held.state();
        let undone = match protocol(st, ROLLBACK_TO).await {
            Ok(()) => protocol(st, RELEASE).await,
            Err(e) => Err(e),
        };
        if let Err(e) = undone {
            writer
                .discard(st, format!("ROLLBACK TO of a transaction failed: {e}"))
                .await;
            return Err(e);
        }
        st.dirty = false;
        let batch = st.batch.as_ref().expect("a savepoint lives in a batch");
        let (members, id, rx) = (batch.members, batch.id, batch.outcome.subscribe());
        if writer.nobody_waiting() {
            return writer.finish(st).await;
        }
        if members == 0 {
            // Nothing uncommitted to read before it; the next writer continues the batch.
            held.hand_over();
            return Ok(());
        }
        held.hand_over();
        writer.await_batch(id, rx).await
    }
}

/// The writer connection is gone: the store was closed.
fn closed() -> StoreError {
    StoreError::db(ErrorKind::Unavailable, "the store is closed")
}
