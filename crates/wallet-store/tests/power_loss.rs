//! Power loss on SQLite: at a random point the machine's power goes, every write not yet synced
//! is lost (or, under the harsher models, some of it survives, torn at sectors); after the
//! "reboot" the database is sound, its ledger balances, and every commit acknowledged before the
//! cut is there, whole, as is nothing half-applied.
//!
//! The power-loss VFS (`power_loss/vfs.rs`) sits under walletd's writer VFS (`src/vfs.rs`, which
//! gathers WAL frames until the sync), so that shim's buffering is what is tested; the disk model
//! is `power_loss/disk.rs`. Each seed:
//! - copies a small database (migrated, four wallets) into a directory the VFS watches, and plans
//!   the cut at a random change or sync of the store's life there, from its opening to its close
//!   (counted over the same run uncut);
//! - opens the store and runs four tasks of 16 requests each through the group commit: request
//!   `(task, i)` adds the user `r{task}-{i}` and tops the task's wallet up by `2^i`, and before
//!   every fourth one a transaction adds `x{task}-{i}` and 2^40 and is rolled back. A request whose
//!   `commit` returned `Ok` is acknowledged. On odd seeds a connection of its own checkpoints the
//!   WAL between requests (passive, and truncating), so the database file is written too, as it is
//!   when the store closes;
//! - cuts the power (if it is still on), writes what the disk kept to a fresh directory and opens
//!   the store there with the OS VFS alone: `PRAGMA integrity_check` is ok, the ledger check is
//!   sound, each wallet's balance is exactly the sum of `2^i` over the users `r{task}-{i}` present
//!   (no request half there), every acknowledged one is present, no rolled-back one is.
//!
//! `WALLETD_POWER_SEEDS=N` runs N seeds of each model (default 100; three models);
//! `WALLETD_POWER_SEED=S` runs seed S alone (a failure names its seed; the tasks' interleaving
//! is the scheduler's, so a seed replays the cut point and the losses, not every step).

#[path = "power_loss/disk.rs"]
mod disk;
#[path = "power_loss/vfs.rs"]
mod vfs;

use disk::{Disk, Model};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vfs::Machine;
use wallet_core::AccountId;
use wallet_store::Store;
use wallet_store::testing::fixtures::eur;

const TASKS: usize = 4;
const REQUESTS: usize = 16;
/// Added by the transactions that are rolled back: never in a balance after the reboot.
const ABANDONED: i64 = 1 << 40;
const DB: &str = "t.db";

/// A directory of the test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "walletd_power_{what}_{}_{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.0.join(DB).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The database each seed starts from: migrated, with each task's wallet account.
struct Template {
    dir: TempDir,
    wallets: Vec<AccountId>,
    topup: AccountId,
}

async fn template() -> Template {
    vfs::install();
    let dir = TempDir::new("template");
    let store = Store::connect(&dir.url()).await.expect("template store");
    let mut tx = store.write().await.expect("write");
    let topup = tx.system_account("topup", eur()).await.expect("topup");
    let mut wallets = Vec::new();
    for task in 0..TASKS {
        let user = tx
            .insert_user(&format!("owner{task}@power.example"), "x", 0)
            .await
            .expect("owner");
        let wallet = tx.insert_wallet(user, 0).await.expect("wallet");
        wallets.push(tx.wallet_account(wallet, eur()).await.expect("account"));
    }
    tx.commit().await.expect("commit");
    store.close().await;
    drop(store);
    Template {
        dir,
        wallets,
        topup,
    }
}

/// Copies the template's files (not the shared-memory index, which no reboot keeps) into `to`.
fn copy_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("template dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if !name.ends_with("-shm") {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

fn marker(prefix: char, task: usize, i: usize) -> String {
    format!("{prefix}{task}-{i}@power.example")
}

/// Request `(task, i)`: its user, and `2^i` to the task's wallet, in one transaction.
async fn request(store: &Store, t: &Template, task: usize, i: usize) -> wallet_store::Result<()> {
    let mut tx = store.write().await?;
    tx.insert_user(&marker('r', task, i), "x", 0).await?;
    tx.transfer_from_system(t.topup, t.wallets[task], 1 << i, "power", 0)
        .await?;
    tx.commit().await
}

/// A transaction that writes as a request does and is rolled back.
async fn abandoned(store: &Store, t: &Template, task: usize, i: usize) -> wallet_store::Result<()> {
    let mut tx = store.write().await?;
    tx.insert_user(&marker('x', task, i), "x", 0).await?;
    tx.transfer_from_system(t.topup, t.wallets[task], ABANDONED, "power", 0)
        .await?;
    tx.rollback().await
}

/// What a run until the power cut did.
struct Run {
    /// The requests whose commit returned `Ok`.
    acked: Vec<(usize, usize)>,
    /// Failures the VFS reported before any cut: none may happen.
    failed_with_power_on: Vec<String>,
    /// Whether some physical commit held more than one request.
    batched: bool,
}

/// The four tasks' requests on `store`, until the last is done or one fails.
async fn drive(
    store: &Store,
    t: &Arc<Template>,
    machine: &Arc<Machine>,
    checkpointer: Checkpointer,
) -> Run {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (store, t, machine) = (store.clone(), t.clone(), machine.clone());
        let (acked, failed, checkpointer) = (acked.clone(), failed.clone(), checkpointer.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..REQUESTS {
                let mut done = Ok(());
                if i % 4 == 3 {
                    done = abandoned(&store, &t, task, i).await;
                }
                if done.is_ok() {
                    done = request(&store, &t, task, i).await;
                    if done.is_ok() {
                        acked.lock().unwrap().push((task, i));
                    }
                }
                if let Err(e) = done {
                    if !machine.disk().is_cut() {
                        failed.lock().unwrap().push(format!("({task}, {i}): {e}"));
                    }
                    return;
                }
                if i % 4 == 1 {
                    checkpoint(&checkpointer, i / 4).await;
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let failed_with_power_on = std::mem::take(&mut *failed.lock().unwrap());
    let stats = store.commit_stats();
    Run {
        acked,
        failed_with_power_on,
        batched: stats.physical_commits < stats.logical_commits,
    }
}

/// A connection of its own that checkpoints the WAL, as an admin command could.
type Checkpointer = Option<Arc<Mutex<rusqlite::Connection>>>;

/// Checkpoint `n` of a run: passive, every third truncating. One that is busy (a reader or the
/// writer in the way) does nothing; one that fails does so because the power is cut.
async fn checkpoint(checkpointer: &Checkpointer, n: usize) {
    let Some(conn) = checkpointer.clone() else {
        return;
    };
    let mode = if n % 3 == 2 { "TRUNCATE" } else { "PASSIVE" };
    tokio::task::spawn_blocking(move || {
        let conn = conn.lock().unwrap();
        let _ = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(0)
        });
    })
    .await
    .expect("checkpoint");
}

/// Starts a machine on a copy of the template, runs the requests (with a checkpointer if
/// `checkpoints`) until the power is cut or they are done, closes the store (its last connection
/// checkpoints the WAL and deletes it) and cuts the power if that did not.
async fn run_until_cut(
    t: &Arc<Template>,
    dir: &TempDir,
    disk: Disk,
    checkpoints: bool,
) -> (Arc<Machine>, Run) {
    copy_files(&t.dir.0, &dir.0);
    let machine = Arc::new(Machine::start(&dir.0, disk));
    let run = match Store::connect(&dir.url()).await {
        Ok(store) => {
            let checkpointer = checkpoints
                .then(|| rusqlite::Connection::open(dir.0.join(DB)).ok())
                .flatten()
                .inspect(|conn| conn.busy_timeout(Duration::ZERO).expect("no busy wait"))
                .map(|conn| Arc::new(Mutex::new(conn)));
            let run = drive(&store, t, &machine, checkpointer).await;
            store.close().await;
            run
        }
        Err(e) => Run {
            acked: Vec::new(),
            batched: false,
            failed_with_power_on: if machine.disk().is_cut() {
                Vec::new()
            } else {
                vec![format!("connect: {e}")]
            },
        },
    };
    machine.disk().cut();
    (machine, run)
}

/// Writes what the disk kept to a fresh directory and checks the database there.
async fn reboot_and_check(
    t: &Template,
    machine: &Machine,
    model: Model,
    rng: &mut StdRng,
    run: &Run,
    what: &str,
) {
    let boot = TempDir::new("boot");
    for (name, image) in machine.disk().survivors(model, rng) {
        std::fs::write(boot.0.join(name), image).expect("surviving file");
    }
    {
        let conn = rusqlite::Connection::open(boot.0.join(DB)).expect("reopen");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{what}: integrity_check: {e}"));
        assert_eq!(check, "ok", "{what}: integrity_check");
    }
    let store = Store::connect(&boot.url())
        .await
        .unwrap_or_else(|e| panic!("{what}: the store does not open after the reboot: {e}"));
    let mut tx = store.read().await.expect("read");
    let check = tx.ledger_check().await.expect("ledger check");
    assert!(check.is_sound(), "{what}: ledger {check:?}");
    for (task, &wallet) in t.wallets.iter().enumerate() {
        let balance = tx.account_balance(wallet).await.expect("balance").balance;
        for i in 0..REQUESTS {
            let present = tx
                .user_by_email(&marker('r', task, i))
                .await
                .expect("user")
                .is_some();
            assert_eq!(
                present,
                balance & (1 << i) != 0,
                "{what}: request ({task}, {i}) half applied: user present {present}, balance {balance:#x}"
            );
            if run.acked.contains(&(task, i)) {
                assert!(present, "{what}: acknowledged request ({task}, {i}) lost");
            }
            let rolled_back = tx.user_by_email(&marker('x', task, i)).await.expect("user");
            assert!(
                rolled_back.is_none(),
                "{what}: rolled-back ({task}, {i}) present"
            );
        }
        assert!(
            balance < ABANDONED,
            "{what}: a rolled-back top-up is in {balance:#x}"
        );
    }
    drop(tx);
    store.close().await;
}

fn env(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value}: a number")),
    )
}

/// A run that the power cut does not reach (it comes after the store is closed): every request is
/// acknowledged and kept. Returns the changes and syncs it made.
async fn uncut(t: &Arc<Template>, checkpoints: bool) -> u64 {
    let dir = TempDir::new("count");
    let (machine, run) = run_until_cut(t, &dir, Disk::new(u64::MAX, false), checkpoints).await;
    let what = format!("uncut, checkpoints {checkpoints}");
    assert!(
        run.failed_with_power_on.is_empty(),
        "{what}: {:?}",
        run.failed_with_power_on
    );
    assert_eq!(
        run.acked.len(),
        TASKS * REQUESTS,
        "{what}: every request done"
    );
    assert!(run.batched, "{what}: commits shared a batch");
    let (calls, longest, other) = {
        let disk = machine.disk();
        (disk.calls(), disk.longest_wal_write, disk.other_writes)
    };
    assert!(
        longest > 2048 + 24,
        "{what}: the writer's VFS gathers WAL frames above this one (longest write {longest})"
    );
    assert!(
        other > 0,
        "{what}: the database file is written (a checkpoint)"
    );
    let mut rng = StdRng::seed_from_u64(0);
    reboot_and_check(t, &machine, Model::Synced, &mut rng, &run, &what).await;
    calls
}

/// Runs the seeds of `model`, each cut at a change or sync of the run's whole life (its number
/// counted over the same run uncut).
async fn seeds(model: Model) {
    let t = Arc::new(template().await);
    let calls = [uncut(&t, false).await, uncut(&t, true).await];
    let list: Vec<u64> = match env("WALLETD_POWER_SEED") {
        Some(seed) => vec![seed],
        None => (0..env("WALLETD_POWER_SEEDS").unwrap_or(100)).collect(),
    };
    for seed in list {
        let mut rng = StdRng::seed_from_u64(seed);
        let checkpoints = seed % 2 == 1;
        let calls = calls[usize::from(checkpoints)];
        let cut_at = rng.random_range(1..=calls);
        let disk = Disk::new(cut_at, rng.random());
        let dir = TempDir::new("run");
        let (machine, run) = run_until_cut(&t, &dir, disk, checkpoints).await;
        let what = format!(
            "{model:?} seed {seed} (cut at call {cut_at} of {calls}, {} acknowledged)",
            run.acked.len()
        );
        assert!(
            run.failed_with_power_on.is_empty(),
            "{what}: {:?}",
            run.failed_with_power_on
        );
        reboot_and_check(&t, &machine, model, &mut rng, &run, &what).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_losing_every_unsynced_write() {
    seeds(Model::Synced).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_a_torn_prefix_of_the_unsynced_writes() {
    seeds(Model::Prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_any_sectors_of_the_unsynced_writes() {
    seeds(Model::Sectors).await;
}
