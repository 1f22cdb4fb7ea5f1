//! Several instances, one database, nothing twice (README "Several instances"): three `walletd
//! serve` processes started at once on one fresh PostgreSQL database, the demo client's requests
//! spread round-robin over them and racing on the same two wallets, the sandbox clock moved
//! mid-run on one instance and then on another, so that expiries and freeze ends fire on whichever
//! instance's sweeper claims them; callbacks counted by a receiver here. And the same with two
//! `walletd serve` on one SQLite file.

use crate::helpers::{
    calling_back, frozen_for, goods, one_payment, reserved_for, serve_posts, wait_until,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use wallet_client::callback::{parse_form, verify_callback};
use wallet_client::types::{NewTransaction, PaymentStatus, TransactionStatus};
use wallet_client::{Client, Method};
use wallet_core::ids::{TransactionKey, WalletId};
use wallet_store::{Backend, CallbackFilter};
use walletd::service::admin::{self, Demo};
use walletd::state::AppState;

const ADMIN_TOKEN: &str = "instances-admin-token-Rr5q";
/// What the instances log: warnings, their start, and who expired, froze out and called back.
const LOG_FILTER: &str =
    "warn,walletd::server=info,walletd::service::transactions=info,walletd::callbacks=info";
/// The longest any wait may take: only a failing run waits this long.
const PATIENCE: Duration = Duration::from_secs(60);
/// Flows in flight at once (of every kind), so the run spans the clock's moves.
const IN_FLIGHT: usize = 12;
/// Seconds the expiring reservations are held, and the frozen payments frozen.
const RESERVE_FOR: i64 = 600;
const FREEZE_FOR: i64 = 700;
/// The two moves of the clock: past the reservations' deadline, then past the freezes' end.
const FIRST_MOVE: i64 = 650;
const SECOND_MOVE: i64 = 100;

/// A running `walletd serve` process, its log kept.
struct Instance {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// Starts `walletd serve` on `database`: a random port, the admin endpoint, a sweep every second,
/// callbacks retried after 200 ms. Returns at once, with what yields its address once it listens
/// (nothing if it exits first).
fn spawn_serve(database: &str) -> (Instance, tokio::sync::oneshot::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walletd"))
        .args(["--database", database, "--log-format", "json", "serve"])
        .args(["--listen", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN])
        .args(["--sweep-seconds", "1", "--callback-retry-base-ms", "200"])
        .env("RUST_LOG", LOG_FILTER)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run walletd serve");
    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut addr_tx = Some(addr_tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["message"] == "walletd listening"
                    && let (Some(tx), Some(addr)) = (addr_tx.take(), v["addr"].as_str())
                {
                    let _ = tx.send(addr.to_string());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        })
    };
    let instance = Instance {
        child,
        url: String::new(),
        log,
        reader: Some(reader),
    };
    (instance, addr_rx)
}

/// `n` instances on `database`, all started before any is waited for; each must come up.
async fn serve_at_once(database: &str, n: usize) -> Vec<Instance> {
    let started: Vec<_> = (0..n).map(|_| spawn_serve(database)).collect();
    let mut up = Vec::new();
    for (i, (mut instance, addr)) in started.into_iter().enumerate() {
        match tokio::time::timeout(PATIENCE, addr).await {
            Ok(Ok(addr)) => instance.url = format!("http://{addr}"),
            _ => panic!("instance {i} did not start:\n{}", instance.log()),
        }
        up.push(instance);
    }
    up
}

impl Instance {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Stops it with SIGTERM, which it must obey cleanly; its log.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let log = self.log();
        assert!(
            exit.success(),
            "walletd did not stop cleanly: {exit:?}\n{log}"
        );
        log
    }
}

impl Drop for Instance {
    /// A failed test leaves no server running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the callback receiver saw, by event (`object.type:id`).
#[derive(Debug, Default)]
struct Seen {
    /// Every POST, the refused first ones included.
    posts: BTreeMap<String, usize>,
    /// POSTs answered 200.
    delivered: BTreeMap<String, usize>,
    /// POSTs of each event being answered right now.
    in_flight: BTreeMap<String, usize>,
    /// Events that arrived while another delivery of the same event was in flight.
    overlapping: Vec<String>,
    /// POSTs whose signature did not verify, or that were not callbacks.
    bad: Vec<String>,
}

/// A slow callback receiver: it refuses each event's first POST (500), so that it is retried,
/// perhaps by another instance; it takes 150 ms over every answer, so that two deliveries of one
/// event at once would overlap, and it records them.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

impl Receiver {
    async fn start(public_key_pem: String) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (s, pem) = (seen.clone(), Arc::new(public_key_pem));
        serve_posts(listener, move |post| {
            let (seen, pem) = (s.clone(), pem.clone());
            async move { receive(&seen, &pem, &post.body).await }
        });
        Receiver { url, seen }
    }

    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&lock(&self.seen))
    }
}

/// The receiver's records, even after a failed assertion on them (a poisoned lock), so that a
/// failing run reports that assertion alone.
fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records one POST and answers its status.
async fn receive(seen: &Mutex<Seen>, pem: &str, body: &str) -> u16 {
    let event = parse_form(body)
        .ok()
        .and_then(|form| verify_callback(&form.event, &form.sign, pem).ok());
    let Some(event) = event else {
        lock(seen).bad.push(body.to_string());
        return 200;
    };
    let id = match event.data["transaction_key"].as_str() {
        Some(key) if event.object == "transaction" => key.to_string(),
        _ => event.data["id"].to_string(),
    };
    let name = format!("{}:{id}", event.name());
    let first = {
        let mut seen = lock(seen);
        let posts = seen.posts.entry(name.clone()).or_default();
        *posts += 1;
        let first = *posts == 1;
        let in_flight = seen.in_flight.entry(name.clone()).or_default();
        *in_flight += 1;
        if *in_flight > 1 {
            seen.overlapping.push(name.clone());
        }
        first
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut seen = lock(seen);
    *seen.in_flight.get_mut(&name).unwrap() -= 1;
    if first {
        return 500;
    }
    *seen.delivered.entry(name).or_default() += 1;
    200
}

/// The test's side: the demo client at every instance (round-robin), and an operator's state on
/// the same database (reservation codes, balances, the ledger), as `walletd admin` has it.
struct World {
    clients: Vec<Client>,
    urls: Vec<String>,
    next: AtomicUsize,
    admin: AppState,
    demo: Demo,
    /// Flows finished, to move the clock mid-run.
    finished: AtomicUsize,
}

/// An operator's state on `database`, built as `walletd admin` builds its own.
async fn operator_state(database: &str) -> AppState {
    walletd::cli::admin::admin_state(database).await.unwrap()
}

impl World {
    async fn new(instances: &[Instance], database: &str) -> World {
        let admin = operator_state(database).await;
        let demo = admin::demo(&admin).await.expect("demo data");
        let urls: Vec<String> = instances.iter().map(|i| i.url.clone()).collect();
        let clients = urls
            .iter()
            .map(|url| {
                // Answers lost on a loaded machine are retried with the same idempotency key.
                Client::new(url, &demo.client.mac_id, &demo.client.mac_secret)
                    .unwrap()
                    .with_retries(3)
            })
            .collect();
        World {
            clients,
            urls,
            next: AtomicUsize::new(0),
            admin,
            demo,
            finished: AtomicUsize::new(0),
        }
    }

    /// The client at the next instance.
    fn client(&self) -> &Client {
        &self.clients[self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len()]
    }

    /// The clients at two different instances.
    fn pair(&self) -> (&Client, &Client) {
        let i = self.next.fetch_add(2, Ordering::Relaxed);
        let n = self.clients.len();
        (&self.clients[i % n], &self.clients[(i + 1) % n])
    }

    fn alice(&self) -> WalletId {
        self.demo.users[0].wallet_id
    }

    fn bob(&self) -> WalletId {
        self.demo.users[1].wallet_id
    }

    /// A reservation code of `wallet`, valid for a day (the clock moves 750 s).
    async fn code(&self, wallet: WalletId) -> String {
        admin::issue_code(&self.admin, wallet, None, "EUR", Some(86_400))
            .await
            .unwrap()
            .reservation_code
    }

    /// `(at disposal, reserved)` EUR of `wallet`.
    async fn eur(&self, wallet: WalletId) -> (i64, i64) {
        let b = admin::balance(&self.admin, wallet).await.unwrap();
        b.get("EUR")
            .map(|b| (b.at_disposal, b.reserved))
            .unwrap_or((0, 0))
    }

    async fn create(&self, req: &NewTransaction) -> TransactionKey {
        let t = self.client().create_transaction(req).await.expect("create");
        t.transaction_key
    }

    async fn reserve_with_code(&self, key: &TransactionKey, wallet: WalletId) {
        let code = self.code(wallet).await;
        let r = self.client().reserve_with_code(key, &code, None).await;
        assert_eq!(r.expect("reserve").status, TransactionStatus::Reserved);
    }

    /// `POST /admin/v1/clock/advance` at instance `i`: the new offset.
    async fn advance(&self, i: usize, seconds: i64) -> i64 {
        let response = reqwest::Client::new()
            .post(format!("{}/admin/v1/clock/advance", self.urls[i]))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "advancing the clock at instance {i}"
        );
        let reading: Value = response.json().await.unwrap();
        reading["offset_seconds"].as_i64().unwrap()
    }
}

/// How a racing flow reserves.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// A reservation code of the wallet.
    Code(WalletId),
    /// The wallet holder's PIN.
    Pin(WalletId),
    /// The wallet's active allowance.
    Allowance(WalletId),
    /// Every call sent twice at once, to two instances, with one idempotency key (a code).
    Twice(WalletId),
}

impl Way {
    fn payer(self) -> WalletId {
        match self {
            Way::Code(w) | Way::Pin(w) | Way::Allowance(w) | Way::Twice(w) => w,
        }
    }
}

/// A flow the API acknowledged: confirmed, `cents` from `payer`.
#[derive(Debug)]
struct Confirmed {
    key: TransactionKey,
    payer: WalletId,
    cents: i64,
}

/// Create → reserve (`way`) → confirm, each call at the next instance. `None` when the reserve
/// was refused for want of funds (the only refusal allowed).
async fn flow(world: &World, way: Way, cents: i64) -> Option<Confirmed> {
    if let Way::Twice(payer) = way {
        return twice_flow(world, payer, cents).await;
    }
    let key = world.create(&one_payment(cents)).await;
    let path = format!("transaction/{key}/reserve/{}", way.payer());
    let reserved = match way {
        Way::Code(wallet) => {
            let code = world.code(wallet).await;
            let r = world.client().reserve_with_code(&key, &code, None).await;
            r.map(|t| t.status.as_str().to_string())
        }
        Way::Pin(wallet) => {
            let pin = json!({"pin": pin_of(world, wallet)});
            let r = world.client().request_json(Method::PUT, &path, Some(&pin));
            r.await
                .map(|t| t["status"].as_str().unwrap_or_default().to_string())
        }
        Way::Allowance(_) => {
            let r = world.client().request_json(Method::PUT, &path, None);
            r.await
                .map(|t| t["status"].as_str().unwrap_or_default().to_string())
        }
        Way::Twice(_) => unreachable!(),
    };
    match reserved {
        Err(e) if e.api_code() == Some("not_enough_funds") => return None,
        Err(e) => panic!("reserving {key} ({way:?}): {e}"),
        Ok(status) => assert_eq!(status, "reserved", "{key} ({way:?})"),
    }
    let confirmed = world.client().confirm_transaction(&key, None).await;
    let confirmed = confirmed.unwrap_or_else(|e| panic!("confirming {key} ({way:?}): {e}"));
    assert_eq!(confirmed.status, TransactionStatus::Confirmed);
    Some(Confirmed {
        key,
        payer: way.payer(),
        cents,
    })
}

fn pin_of(world: &World, wallet: WalletId) -> String {
    let user = world.demo.users.iter().find(|u| u.wallet_id == wallet);
    user.unwrap().pin.clone()
}

/// `method path body` sent to two instances at once with one idempotency key: both must give the
/// same answer (the one change's), or the same refusal.
async fn twice(
    world: &World,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, wallet_client::Error> {
    let key = wallet_client::new_idempotency_key();
    let body = body.map(|b| serde_json::to_vec(&b).unwrap());
    let (a, b) = world.pair();
    let (first, second) = tokio::join!(
        a.send(method.clone(), path, body.as_deref(), Some(key.as_str())),
        b.send(method.clone(), path, body.as_deref(), Some(key.as_str())),
    );
    match (first, second) {
        (Ok(first), Ok(second)) => {
            assert_eq!(first, second, "{method} {path}: one key, two answers");
            Ok(first)
        }
        (Err(first), Err(second)) => {
            let what = |e: &wallet_client::Error| (e.status(), e.api_code().map(str::to_string));
            assert_eq!(what(&first), what(&second), "{method} {path}: two refusals");
            Err(first)
        }
        (first, second) => panic!("{method} {path}: one key, two outcomes: {first:?} / {second:?}"),
    }
}

/// A cash-out flow whose every call goes to two instances at once with one key.
async fn twice_flow(world: &World, payer: WalletId, cents: i64) -> Option<Confirmed> {
    let body = serde_json::to_value(one_payment(cents)).unwrap();
    let t = twice(world, Method::POST, "transaction", Some(body)).await;
    let t = t.expect("create twice");
    let key = TransactionKey::issued(t["transaction_key"].as_str().unwrap().to_string());
    let code = json!({"reservation_code": world.code(payer).await});
    let path = format!("transaction/{key}/reserve");
    match twice(world, Method::PUT, &path, Some(code)).await {
        Err(e) if e.api_code() == Some("not_enough_funds") => return None,
        Err(e) => panic!("reserving {key} twice: {e}"),
        Ok(t) => assert_eq!(t["status"], "reserved"),
    }
    let path = format!("transaction/{key}/confirm");
    let t = twice(world, Method::PUT, &path, None).await;
    assert_eq!(t.expect("confirm twice")["status"], "confirmed");
    Some(Confirmed { key, payer, cents })
}

/// The racing flows: on alice, 16 by code, 6 by PIN and 4 sent twice; on bob, 12 by allowance.
/// Neither wallet can pay for all of them.
fn racing_flows(world: &World) -> Vec<(Way, i64)> {
    let (alice, bob) = (world.alice(), world.bob());
    let mut flows = Vec::new();
    for i in 0..16 {
        flows.push((Way::Code(alice), 9_000));
        if i < 12 {
            flows.push((Way::Allowance(bob), 9_000));
        }
        if i % 3 == 0 {
            flows.push((Way::Pin(alice), 9_000));
        }
        if i % 4 == 0 {
            flows.push((Way::Twice(alice), 5_000));
        }
    }
    flows
}

/// Bob's allowance: up to 100.00 a transaction, 10000.00 a week.
async fn activate_bobs_allowance(world: &World) {
    let allowance = json!({
        "description": "Racing",
        "currency": "EUR",
        "max_price": 10_000,
        "limits": [{"max_price": 1_000_000, "time": 604_800}],
        "valid_for": 720
    });
    let a = world
        .client()
        .request_json(Method::POST, "allowance", Some(&allowance));
    let a = a.await.unwrap();
    let key = a["transaction_key"].as_str().unwrap();
    let pin = json!({"pin": pin_of(world, world.bob())});
    let path = format!("transaction/{key}/reserve/{}", world.bob());
    let r = world.client().request_json(Method::PUT, &path, Some(&pin));
    assert_eq!(r.await.unwrap()["status"], "reserved");
    let path = format!("transaction/{key}/confirm");
    let t = world.client().request_json(Method::PUT, &path, None);
    assert_eq!(t.await.unwrap()["allowance"]["data"]["status"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_postgres_do_nothing_twice() {
    // No PostgreSQL here (and none required), as `on_both!` skips its PostgreSQL half.
    if !wallet_store::testing::available(Backend::Postgres) {
        return;
    }
    let database = wallet_store::testing::fresh_database(Backend::Postgres).await;
    race(&database, 3).await;
}

/// The same through PgBouncer in transaction mode (`WALLETD_TEST_PGBOUNCER`, `.ci/run` starts
/// one), every instance and the operator's state with `pgbouncer=true` (README "Behind
/// PgBouncer"): a server connection serves any instance's next transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_through_pgbouncer_do_nothing_twice() {
    let Some(database) = wallet_store::testing::fresh_pgbouncer_database().await else {
        return;
    };
    race(&database, 3).await;
}

/// Two servers on one SQLite file: each has its own writer connection, and SQLite's locks (its
/// WAL write lock, which `BEGIN IMMEDIATE` takes) make them take turns, so nothing is done twice
/// either. It is no way to scale: the file has one writer, and a busy server's batches keep the
/// other waiting (docs/decisions.md, "Several instances").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_sqlite_file_do_nothing_twice() {
    let database = wallet_store::testing::fresh_database(Backend::Sqlite).await;
    race(&database, 2).await;
}

/// `n` instances started at once on one fresh `database`, racing (see the module).
async fn race(database: &str, n: usize) {
    // Started at the same moment on an empty database: the migrations, the keys made on first
    // start (reservation codes', callbacks') race, and every instance must come up.
    let instances = serve_at_once(database, n).await;
    let http = reqwest::Client::new();
    let mut keys = BTreeSet::new();
    for instance in &instances {
        let ready = http.get(format!("{}/readyz", instance.url)).send().await;
        assert_eq!(ready.unwrap().status(), 200, "{}", instance.url);
        let key = http.get(format!("{}/publickey", instance.url)).send();
        keys.insert(key.await.unwrap().text().await.unwrap());
    }
    assert_eq!(
        keys.len(),
        1,
        "every instance signs with the one stored key"
    );
    let receiver = Receiver::start(keys.pop_first().unwrap()).await;
    let world = Arc::new(World::new(&instances, database).await);
    let (alice, bob) = (world.alice(), world.bob());
    let project = world.demo.project_wallet_id;

    // Before the race: bob's allowance; reservations on bob left to expire, and frozen payments
    // of his, all calling back.
    activate_bobs_allowance(&world).await;
    let expiring = futures_join(5, |_| {
        let world = world.clone();
        let uri = receiver.url.clone();
        async move {
            let req = reserved_for(calling_back(one_payment(3_000), &uri), RESERVE_FOR);
            let key = world.create(&req).await;
            world.reserve_with_code(&key, world.bob()).await;
            key
        }
    })
    .await;
    let frozen = futures_join(4, |_| {
        let world = world.clone();
        let uri = receiver.url.clone();
        async move {
            let req = NewTransaction {
                payments: vec![goods(2_000, frozen_for(FREEZE_FOR))],
                ..Default::default()
            };
            let key = world.create(&calling_back(req, &uri)).await;
            world.reserve_with_code(&key, world.bob()).await;
            let t = world
                .client()
                .confirm_transaction(&key, None)
                .await
                .unwrap();
            assert_eq!(t.payments[0].status, PaymentStatus::Confirmed, "frozen");
            t.payments[0].id
        }
    })
    .await;
    let held = 5 * 3_000 + 4 * 2_000;
    assert_eq!(world.eur(bob).await, (100_000 - held, held));

    // The race, with the clock moved mid-run at one instance, then at another.
    let flows = racing_flows(&world);
    let total = flows.len();
    let mover = {
        let world = world.clone();
        tokio::spawn(async move {
            let finished = |n: usize| {
                let world = world.clone();
                move || {
                    let done = world.finished.load(Ordering::SeqCst) >= n;
                    async move { done.then_some(()) }
                }
            };
            wait_until("a third of the flows", PATIENCE, finished(total / 3)).await;
            assert_eq!(world.advance(n - 1, FIRST_MOVE).await, FIRST_MOVE);
            wait_until("two thirds of the flows", PATIENCE, finished(2 * total / 3)).await;
            let offset = world.advance(0, SECOND_MOVE).await;
            assert_eq!(offset, FIRST_MOVE + SECOND_MOVE);
        })
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut running = tokio::task::JoinSet::new();
    for (way, cents) in flows {
        let (world, permits) = (world.clone(), permits.clone());
        running.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let outcome = flow(&world, way, cents).await;
            world.finished.fetch_add(1, Ordering::SeqCst);
            (way, outcome)
        });
    }
    let mut confirmed = Vec::new();
    let mut refused = BTreeMap::<WalletId, usize>::new();
    while let Some(done) = running.join_next().await {
        match done.expect("a flow failed") {
            (_, Some(c)) => confirmed.push(c),
            (way, None) => *refused.entry(way.payer()).or_default() += 1,
        }
    }
    mover.await.expect("moving the clock");
    // Neither wallet could pay for every flow; some of each were paid.
    for wallet in [alice, bob] {
        assert!(refused.get(&wallet).is_some_and(|n| *n > 0), "{refused:?}");
        assert!(confirmed.iter().any(|c| c.payer == wallet));
    }

    // What the sweepers do after the moves: every reservation expired, every freeze ended.
    let statuses = wait_until("the expiries and freeze ends", PATIENCE, || async {
        for key in &expiring {
            let t = world.client().get_transaction(key).await.unwrap();
            if t.status != TransactionStatus::Failed {
                return None;
            }
        }
        for id in &frozen {
            let p = world.client().get_payment(*id).await.unwrap();
            if p.status != PaymentStatus::Done {
                return None;
            }
        }
        Some(())
    });
    statuses.await;

    // Callbacks: each event delivered (at least once, after the refused first POST), never two
    // deliveries of one event at once, and no other event.
    let expected: BTreeSet<String> = expiring
        .iter()
        .map(|k| format!("transaction.failed:{k}"))
        .chain(frozen.iter().map(|id| format!("payment.done:{id}")))
        .collect();
    wait_until("every callback delivered", PATIENCE, || async {
        let mut tx = world.admin.store.read().await.unwrap();
        let rows = tx
            .callbacks(&CallbackFilter::default(), 1000)
            .await
            .unwrap();
        drop(tx);
        let all = rows.len() == expected.len() && rows.iter().all(|r| r.delivered_at.is_some());
        let seen = receiver.seen(|s| s.delivered.len());
        (all && seen == expected.len()).then_some(())
    })
    .await;
    receiver.seen(|seen| {
        assert!(seen.bad.is_empty(), "unverified posts: {:?}", seen.bad);
        assert!(
            seen.overlapping.is_empty(),
            "delivered twice at once: {:?}",
            seen.overlapping
        );
        let delivered: BTreeSet<String> = seen.delivered.keys().cloned().collect();
        assert_eq!(delivered, expected);
        assert!(seen.posts.values().all(|n| *n >= 2), "{:?}", seen.posts);
    });

    // Every acknowledged flow is confirmed, once: the balances are exactly what they moved.
    for c in &confirmed {
        let t = world.client().get_transaction(&c.key).await.unwrap();
        assert_eq!(t.status, TransactionStatus::Confirmed, "{}", c.key);
        assert_eq!(t.payments[0].price, c.cents, "{}", c.key);
    }
    let paid_by = |wallet: WalletId| -> i64 {
        let flows = confirmed.iter().filter(|c| c.payer == wallet);
        flows.map(|c| c.cents).sum()
    };
    let frozen_paid = 4 * 2_000;
    assert_eq!(world.eur(alice).await, (100_000 - paid_by(alice), 0));
    assert_eq!(
        world.eur(bob).await,
        (100_000 - paid_by(bob) - frozen_paid, 0),
        "bob's expired reservations released once each"
    );
    assert_eq!(
        world.eur(project).await,
        (paid_by(alice) + paid_by(bob) + frozen_paid, 0)
    );
    let mut tx = world.admin.store.read().await.unwrap();
    let check = tx.ledger_check().await.unwrap();
    drop(tx);
    assert!(check.is_sound(), "ledger unsound: {check:?}");

    let logs: Vec<String> = instances.into_iter().map(Instance::stop).collect();
    let count = |message: &str| -> Vec<usize> {
        let lines = |log: &String| log.lines().filter(|l| l.contains(message)).count();
        logs.iter().map(lines).collect()
    };
    for (i, log) in logs.iter().enumerate() {
        let warned = warnings(log);
        assert!(warned.is_empty(), "instance {i} warned: {warned:?}");
    }
    println!(
        "{}, {n} instances: {} flows: {} confirmed, refused {refused:?}; expiries by instance {:?}, callbacks delivered by instance {:?}",
        database.split('?').next().unwrap_or(database),
        total,
        confirmed.len(),
        count("reservation expired; funds released"),
        count("\"callback delivered\""),
    );
}

/// The warnings and errors of a log, by message, but for the retries of the callbacks the
/// receiver refuses on purpose, and sqlx's note of a statement over its one-second threshold,
/// which says the machine is loaded (as it is when the whole suite runs), not that walletd erred.
fn warnings(log: &str) -> BTreeMap<String, usize> {
    let mut warned = BTreeMap::new();
    for line in log.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| json!({"message": line}));
        let message = v["message"].as_str().unwrap_or_default();
        let expected = message == "callback failed; will retry"
            || message.starts_with("slow statement: execution time exceeded alert threshold");
        if v["level"] != "INFO" && !expected {
            *warned.entry(message.to_string()).or_default() += 1;
        }
    }
    warned
}

/// Runs `n` futures made by `make` at once; their outputs in order.
async fn futures_join<T, F, Fut>(n: usize, make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("a task failed"));
    }
    out
}
