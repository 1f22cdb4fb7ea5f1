//! SQLite group commit: logical write transactions (savepoints) share one physical `COMMIT`.
//!
//! Each test first holds a write transaction, queues the others behind it in a known order
//! (`commit_stats().writers_waiting` says when one is queued), then lets them run, so the batch they
//! share is known; the counters say how many physical commits there were.

use std::time::Duration;
use tokio::task::JoinHandle;
use wallet_store::testing::fresh_database;
use wallet_store::{Backend, CommitStats, ErrorKind, Store, StoreError, Tx};

async fn sqlite_store() -> (Store, String) {
    let url = fresh_database(Backend::Sqlite).await;
    let store = Store::connect(&url).await.expect("connect");
    (store, url)
}

fn email(name: &str) -> String {
    format!("{name}@group.example")
}

/// Waits until `n` writers are queued for the writer connection.
async fn until_queued(store: &Store, n: usize) {
    for _ in 0..2000 {
        if store.commit_stats().writers_waiting == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!(
        "expected {n} queued writers, have {}",
        store.commit_stats().writers_waiting
    );
}

/// Spawns `job` and waits until it is queued behind the ones before it (`ahead` of them).
async fn queue<F, T>(store: &Store, ahead: usize, job: F) -> JoinHandle<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handle = tokio::spawn(job);
    until_queued(store, ahead + 1).await;
    handle
}

/// Spawns `job(store, i)` for each `i` below `n`, each queued behind the ones before it.
async fn queue_each<F, J>(store: &Store, n: usize, job: F) -> Vec<JoinHandle<()>>
where
    F: Fn(Store, usize) -> J,
    J: Future<Output = ()> + Send + 'static,
{
    let mut jobs = Vec::with_capacity(n);
    for i in 0..n {
        jobs.push(queue(store, i, job(store.clone(), i)).await);
    }
    jobs
}

/// Is the user `name` in the database (seen from a reader connection: committed)?
async fn exists(store: &Store, name: &str) -> bool {
    let mut tx = store.read().await.unwrap();
    tx.user_by_email(&email(name)).await.unwrap().is_some()
}

/// A write transaction that inserts user `name` and commits.
async fn insert_and_commit(store: Store, name: &str) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    tx.insert_user(&email(name), "x", 0).await?;
    tx.commit().await
}

/// A write transaction that inserts user `name`, says so on `started`, and then waits forever: a
/// request whose future is dropped mid-transaction (client gone, timeout).
async fn insert_and_hang(store: Store, name: &str, started: tokio::sync::oneshot::Sender<()>) {
    let mut tx = store.write().await.unwrap();
    tx.insert_user(&email(name), "x", 0).await.unwrap();
    started.send(()).unwrap();
    std::future::pending::<()>().await;
    tx.commit().await.unwrap();
}

/// A fresh store (and its URL) whose writer is held by `holder`, a write transaction that
/// inserted the user `name`: the transactions queued next share its batch. With the counters
/// before it.
async fn held_by(name: &str) -> (Store, String, CommitStats, Tx) {
    let (store, url) = sqlite_store().await;
    let before = store.commit_stats();
    let mut holder = store.write().await.unwrap();
    holder.insert_user(&email(name), "x", 0).await.unwrap();
    (store, url, before, holder)
}

/// The store on `url` after `store` is closed, as after a restart: what it finds is on disk.
async fn reopened(store: Store, url: &str) -> Store {
    store.close().await;
    Store::connect(url).await.unwrap()
}

/// Asserts that each user of `names` is in the database (seen from a reader: committed), or
/// that none is.
async fn assert_users(store: &Store, names: &[&str], committed: bool) {
    for name in names {
        assert_eq!(exists(store, name).await, committed, "{name} committed?");
    }
}

fn delta(before: CommitStats, after: CommitStats) -> (u64, u64, u64) {
    (
        after.logical_commits - before.logical_commits,
        after.physical_commits - before.physical_commits,
        after.failed_batches - before.failed_batches,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_share_one_fsync_and_are_visible_and_durable_when_commit_returns() {
    let (store, url, before, holder) = held_by("holder").await;
    let jobs = queue_each(&store, 40, |s, i| async move {
        let name = format!("user{i}");
        let mut tx = s.write().await.unwrap();
        tx.insert_user(&email(&name), "x", 0).await.unwrap();
        tx.commit().await.unwrap();
        // Committed means committed: another connection sees it the moment commit returns.
        let mut read = s.read().await.unwrap();
        assert!(
            read.user_by_email(&email(&name)).await.unwrap().is_some(),
            "{name} not visible when its commit returned"
        );
    })
    .await;
    holder.commit().await.unwrap();
    assert!(exists(&store, "holder").await);
    for job in jobs {
        job.await.unwrap();
    }
    let (logical, physical, failed) = delta(before, store.commit_stats());
    assert_eq!(
        (logical, physical, failed),
        (41, 1, 0),
        "41 queued logical transactions, one COMMIT"
    );

    // On disk: a new store on the same file (as after a restart) finds every one of them.
    let reopened = reopened(store, &url).await;
    assert!(exists(&reopened, "holder").await);
    for i in 0..40 {
        assert!(exists(&reopened, &format!("user{i}")).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_capped() {
    let (store, _url, before, holder) = held_by("holder").await;
    let jobs = queue_each(&store, 100, |s, i| async move {
        insert_and_commit(s, &format!("capped{i}")).await.unwrap();
    })
    .await;
    holder.commit().await.unwrap();
    for job in jobs {
        job.await.unwrap();
    }
    // 101 logical transactions: a batch of 64, then one of 37.
    assert_eq!(delta(before, store.commit_stats()), (101, 2, 0));
    for i in 0..100 {
        assert!(exists(&store, &format!("capped{i}")).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolled_back_dropped_and_cancelled_transactions_leave_no_trace_while_their_batch_commits() {
    let (store, url, before, holder) = held_by("holder").await;
    let committed = queue(&store, 0, insert_and_commit(store.clone(), "committed")).await;
    let s = store.clone();
    let dropped = queue(&store, 1, async move {
        let mut tx = s.write().await.unwrap();
        tx.insert_user(&email("dropped"), "x", 0).await.unwrap();
        tx.insert_user(&email("dropped2"), "x", 0).await.unwrap();
        drop(tx); // an error path: `?` returns without commit
    })
    .await;
    let s = store.clone();
    let rolled_back = queue(&store, 2, async move {
        let mut tx = s.write().await.unwrap();
        tx.insert_user(&email("rolled-back"), "x", 0).await.unwrap();
        tx.rollback().await
    })
    .await;
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let hangs = insert_and_hang(store.clone(), "cancelled", started_tx);
    let cancelled = queue(&store, 3, hangs).await;
    let last = queue(&store, 4, insert_and_commit(store.clone(), "last")).await;

    let holder = tokio::spawn(holder.commit());
    started.await.unwrap();
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled());

    holder.await.unwrap().unwrap();
    committed.await.unwrap().unwrap();
    dropped.await.unwrap();
    // It ran after `holder` and `committed` and could read them: it returns once they are durable.
    rolled_back.await.unwrap().unwrap();
    last.await.unwrap().unwrap();

    let (logical, physical, failed) = delta(before, store.commit_stats());
    assert_eq!((logical, physical, failed), (3, 1, 0), "one batch of three");
    assert_users(&store, &["holder", "committed", "last"], true).await;
    assert_users(
        &store,
        &["dropped", "dropped2", "rolled-back", "cancelled"],
        false,
    )
    .await;

    // The writer connection is clean: the next transactions work, alone and together.
    insert_and_commit(store.clone(), "after").await.unwrap();
    let again = tokio::spawn(insert_and_commit(store.clone(), "dropped"));
    again.await.unwrap().unwrap();
    let reopened = reopened(store, &url).await;
    let on_disk = ["holder", "committed", "last", "after", "dropped"];
    assert_users(&reopened, &on_disk, true).await;
    assert_users(&reopened, &["dropped2", "rolled-back", "cancelled"], false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_violation_in_one_transaction_does_not_poison_its_batch() {
    let (store, _url, before, holder) = held_by("taken").await;

    // Refused: the name is taken by `holder`, committed in the same (still open) batch.
    let s = store.clone();
    let refused = queue(&store, 0, async move {
        let mut tx = s.write().await.unwrap();
        tx.insert_user(&email("refused-side-effect"), "x", 0)
            .await
            .unwrap();
        let r = tx.insert_user(&email("taken"), "x", 0).await;
        assert!(
            matches!(&r, Err(e) if e.kind() == Some(ErrorKind::Conflict)),
            "{r:?}"
        );
        // The caller gives up (drops the transaction), as a service does on `?`.
    })
    .await;
    // The failed statement alone is undone; this one goes on and commits what it did before it.
    let s = store.clone();
    let goes_on = queue(&store, 1, async move {
        let mut tx = s.write().await.unwrap();
        tx.insert_user(&email("goes-on"), "x", 0).await.unwrap();
        let r = tx.insert_user(&email("taken"), "x", 0).await;
        assert!(
            matches!(&r, Err(e) if e.kind() == Some(ErrorKind::Conflict)),
            "{r:?}"
        );
        tx.commit().await
    })
    .await;
    let after = queue(&store, 2, insert_and_commit(store.clone(), "after")).await;

    holder.commit().await.unwrap();
    refused.await.unwrap();
    goes_on.await.unwrap().unwrap();
    after.await.unwrap().unwrap();

    assert_eq!(delta(before, store.commit_stats()), (3, 1, 0));
    assert_users(&store, &["taken", "goes-on", "after"], true).await;
    assert!(!exists(&store, "refused-side-effect").await);
}

/// A table whose foreign key is checked at `COMMIT` only: one violating row fails the whole batch.
async fn deferred_fk_table(store: &Store) {
    let mut tx = store.write().await.unwrap();
    tx.execute_unchecked(
        "CREATE TABLE gc_parent (id INTEGER PRIMARY KEY);
         CREATE TABLE gc_child (id INTEGER PRIMARY KEY,
             parent INTEGER NOT NULL REFERENCES gc_parent(id) DEFERRABLE INITIALLY DEFERRED);",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_every_member_of_the_batch() {
    let (store, url) = sqlite_store().await;
    deferred_fk_table(&store).await;
    let before = store.commit_stats();
    let mut holder = store.write().await.unwrap();
    holder.insert_user(&email("holder"), "x", 0).await.unwrap();

    let first = queue(&store, 0, insert_and_commit(store.clone(), "first")).await;
    let s = store.clone();
    let violator = queue(&store, 1, async move {
        let mut tx = s.write().await?;
        tx.execute_unchecked("INSERT INTO gc_child (id, parent) VALUES (1, 999)")
            .await?;
        tx.commit().await
    })
    .await;
    let last = queue(&store, 2, insert_and_commit(store.clone(), "last")).await;

    let holder = holder.commit().await;
    let results = [
        ("holder", holder),
        ("first", first.await.unwrap()),
        ("violator", violator.await.unwrap()),
        ("last", last.await.unwrap()),
    ];
    for (name, result) in &results {
        assert!(result.is_err(), "{name} reported committed: {result:?}");
    }
    let (_, physical, failed) = delta(before, store.commit_stats());
    assert_eq!((physical, failed), (0, 1));
    assert_users(&store, &["holder", "first", "last"], false).await;

    // The store goes on: a new batch commits.
    insert_and_commit(store.clone(), "after").await.unwrap();
    assert!(exists(&store, "after").await);
    let reopened = reopened(store, &url).await;
    assert!(exists(&reopened, "after").await);
    assert!(!exists(&reopened, "first").await);
}

/// `INSERT OR ROLLBACK` makes SQLite roll back the whole physical transaction (as it does on an
/// I/O error or a full disk), under the batch's feet.
async fn aborted_physical_transaction(commit_the_aborter: bool) {
    let (store, url, before, holder) = held_by("holder").await;
    let first = queue(&store, 0, insert_and_commit(store.clone(), "first")).await;
    let s = store.clone();
    let aborter = queue(&store, 1, async move {
        let mut tx = s.write().await?;
        tx.insert_user(&email("aborter"), "x", 0).await?;
        let r = tx
            .execute_unchecked(
                "INSERT OR ROLLBACK INTO users (email, password_hash, created_at) \
                 VALUES ('holder@group.example', 'x', 0)",
            )
            .await;
        assert!(r.is_err(), "{r:?}");
        if commit_the_aborter {
            tx.commit().await
        } else {
            drop(tx);
            Ok(())
        }
    })
    .await;
    let next = queue(&store, 2, insert_and_commit(store.clone(), "next")).await;

    let holder = holder.commit().await;
    assert!(holder.is_err(), "holder reported committed: {holder:?}");
    let first = first.await.unwrap();
    assert!(first.is_err(), "first reported committed: {first:?}");
    let aborter = aborter.await.unwrap();
    assert_eq!(aborter.is_err(), commit_the_aborter, "{aborter:?}");
    // Queued after the failure, it runs in a new batch.
    next.await.unwrap().unwrap();

    let (_, _, failed) = delta(before, store.commit_stats());
    assert_eq!(failed, 1);
    assert_users(&store, &["holder", "first", "aborter"], false).await;
    assert!(exists(&store, "next").await);
    let reopened = reopened(store, &url).await;
    assert!(exists(&reopened, "next").await);
    assert!(!exists(&reopened, "first").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_physical_transaction_aborted_by_sqlite_fails_every_member_then_the_aborter_drops() {
    aborted_physical_transaction(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_physical_transaction_aborted_by_sqlite_fails_every_member_then_the_aborter_commits() {
    aborted_physical_transaction(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_members_all_went_away_is_still_committed() {
    let (store, _url, _, holder) = held_by("holder").await;
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let next = queue(
        &store,
        0,
        insert_and_hang(store.clone(), "next", started_tx),
    )
    .await;
    // `holder` releases into the batch and hands the connection to `next`; then its request is
    // dropped while it waits for the COMMIT, and so is `next`, mid-transaction.
    let waited = tokio::time::timeout(Duration::from_millis(200), holder.commit()).await;
    assert!(waited.is_err(), "the commit waits for the batch");
    started.await.unwrap();
    next.abort();
    let _ = next.await;
    // Nobody is left to end the batch but the janitor: it commits `holder` and releases the
    // SQLite write lock (another process could not write otherwise).
    // The janitor counts the commit once its `COMMIT` returned, which a reader may see first.
    for _ in 0..500 {
        if exists(&store, "holder").await && store.commit_stats().physical_commits == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        exists(&store, "holder").await,
        "the abandoned batch was committed"
    );
    assert!(!exists(&store, "next").await);
    assert_eq!(store.commit_stats().physical_commits, 2); // migrations, then this batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_write_at_once() {
    // An admin command is another process with its own store on the same file.
    let (server, url) = sqlite_store().await;
    let admin = Store::connect(&url).await.unwrap();
    const NAMES: [&str; 20] = [
        "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "a0", "a1", "a2", "a3", "a4",
        "a5", "a6", "a7", "a8", "a9",
    ];
    let mut jobs = Vec::new();
    for name in NAMES {
        let store = if name.starts_with('s') {
            server.clone()
        } else {
            admin.clone()
        };
        jobs.push(tokio::spawn(insert_and_commit(store, name)));
    }
    for job in jobs {
        job.await.unwrap().unwrap();
    }
    for name in NAMES {
        assert!(exists(&server, name).await && exists(&admin, name).await);
    }
}
