//! Callbacks (DESIGN.md "Callbacks"): signed form POSTs for changes the client did not make,
//! from a durable outbox, retried until the receiver answers 2xx, verified with the SDK.

use crate::helpers::{
    Post, TestApp, call, calling_back, frozen_for, goods, one_payment, reserved_for, serve_posts,
    start_server, test_config, wait_until, walletd_output,
};
use crate::on_both;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use wallet_client::Method;
use wallet_client::callback::{CallbackEvent, parse_form, verify_callback};
use wallet_client::types::TransactionStatus;
use wallet_client::types::{CallbackUri, NewTransaction, PaymentStatus, Transaction};
use wallet_core::ids::ProjectId;
use wallet_store::{CallbackFilter, CallbackRow};
use walletd::clock::ManualClock;
use walletd::server::ServerConfig;
use walletd::state::AppState;

/// How long a callback may take to arrive (its worker polls, and retries with a backoff).
const PATIENCE: Duration = Duration::from_secs(20);

/// A tiny HTTP receiver on 127.0.0.1 that records every request and answers a settable status.
pub(crate) struct Receiver {
    base: String,
    posts: Arc<Mutex<Vec<Post>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    pub(crate) async fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let (p, s) = (posts.clone(), status.clone());
        serve_posts(listener, move |post| {
            let (p, s) = (p.clone(), s.clone());
            async move {
                p.lock().unwrap().push(post);
                s.load(Ordering::SeqCst)
            }
        });
        Receiver {
            base,
            posts,
            status,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub(crate) fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Post> {
        wait_until(&format!("{n} callback posts"), PATIENCE, || async {
            let posts = self.posts();
            (posts.len() >= n).then_some(posts)
        })
        .await
    }
}

async fn outbox(state: &AppState) -> Vec<CallbackRow> {
    let mut tx = state.store.read().await.unwrap();
    tx.callbacks(&CallbackFilter::default(), 1000)
        .await
        .unwrap()
}

/// Waits until callback `id` is recorded as delivered.
async fn delivered(state: &AppState, id: i64) -> CallbackRow {
    wait_until(&format!("callback {id} delivered"), PATIENCE, || async {
        let mut tx = state.store.read().await.unwrap();
        tx.callback(id)
            .await
            .unwrap()
            .filter(|r| r.delivered_at.is_some())
    })
    .await
}

async fn public_key(base_url: &str) -> String {
    let resp = reqwest::get(format!("{base_url}/publickey")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let pem = resp.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    pem
}

/// Verifies a received POST with the server's public key, as an integrator's endpoint would.
pub(crate) async fn verify(base_url: &str, post: &Post) -> CallbackEvent {
    assert_eq!(post.content_type, "application/x-www-form-urlencoded");
    let form = parse_form(&post.body).unwrap();
    verify_callback(&form.event, &form.sign, &public_key(base_url).await)
        .expect("the callback verifies with GET /publickey")
}

/// Creates a transaction of 15.00 with `callback_uri` and a reservation of `seconds`, and
/// reserves it with a code of alice's.
async fn reserved(app: &TestApp, callback: Option<CallbackUri>, seconds: i64) -> Transaction {
    let mut req = reserved_for(one_payment(1_500), seconds);
    req.callback_uri = callback;
    app.reserved_with(&req).await
}

/// Moves business time past the deadline and waits until the sweeper has failed `key`.
async fn expire(app: &TestApp, key: &str, seconds: i64) {
    app.clock.advance(seconds + 1);
    wait_until("the reservation to expire", PATIENCE, || async {
        (app.status(key).await == TransactionStatus::Failed).then_some(())
    })
    .await;
}

async fn expiry_sends_a_signed_failed_callback(app: TestApp) {
    let receiver = Receiver::start(200).await;
    let t = reserved(
        &app,
        Some(CallbackUri::Uri(receiver.url("/hooks/wallet?shop=1"))),
        60,
    )
    .await;
    assert!(
        outbox(&app.state).await.is_empty(),
        "no callback for the client's own reserve"
    );
    expire(&app, &t.transaction_key, 60).await;

    let posts = receiver.wait_for(1).await;
    assert_eq!(posts[0].path, "/hooks/wallet?shop=1");
    let event = verify(&app.base_url, &posts[0]).await;
    assert_eq!(event.name(), "transaction.failed");
    let sent = event.transaction().expect("data is a transaction");
    assert_eq!(sent.transaction_key, t.transaction_key);
    assert_eq!(sent.status, TransactionStatus::Failed);
    // `data` is the object as GET returns it.
    let got = app.client.get_transaction(&t.transaction_key).await;
    assert_eq!(sent, got.unwrap());
    // The released payment still names the transfer its reservation made.
    let transfer = sent.payments[0].transfer_id;
    assert!(transfer.is_some());
    assert_eq!(transfer, t.payments[0].transfer_id);

    let rows = outbox(&app.state).await;
    assert_eq!(rows.len(), 1);
    let row = delivered(&app.state, rows[0].id).await;
    assert_eq!(
        row.transaction_key.as_deref(),
        Some(t.transaction_key.as_str())
    );
    assert_eq!(
        (row.object.as_str(), row.event_type.as_str()),
        ("transaction", "failed")
    );
    assert_eq!((row.attempts, row.last_status), (1, Some(200)));
    assert_eq!(row.next_attempt_at, None);
    let form = parse_form(&posts[0].body).unwrap();
    assert_eq!(
        form.event, row.event,
        "the stored event is what was signed and sent"
    );

    // A tampered event does not verify with the served key.
    let tampered = form.event.replace("failed", "reserved");
    let key = public_key(&app.base_url).await;
    assert!(verify_callback(&tampered, &form.sign, &key).is_err());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.posts().len(), 1, "delivered once");
}
on_both!(expiry_sends_a_signed_failed_callback);

async fn a_failed_delivery_is_retried_until_2xx(app: TestApp) {
    let receiver = Receiver::start(500).await;
    let t = reserved(&app, Some(CallbackUri::Uri(receiver.url("/cb"))), 30).await;
    expire(&app, &t.transaction_key, 30).await;

    receiver.wait_for(1).await;
    let id = outbox(&app.state).await[0].id;
    let row = wait_until("the failure to be recorded", PATIENCE, || async {
        let mut tx = app.state.store.read().await.unwrap();
        tx.callback(id)
            .await
            .unwrap()
            .filter(|r| r.last_status == Some(500) && r.locked_until.is_none())
    })
    .await;
    assert_eq!(row.delivered_at, None);
    assert!(row.next_attempt_at.is_some(), "a retry is scheduled");
    assert!(row.last_error.is_some());

    receiver.set_status(204);
    let row = delivered(&app.state, id).await;
    assert_eq!(row.last_status, Some(204));
    let posts = receiver.posts();
    assert!(posts.len() >= 2, "retried: {posts:?}");
    assert_eq!(row.attempts as usize, posts.len());
    // Every attempt carries the same event, each signed.
    for p in &posts {
        let event = verify(&app.base_url, p).await;
        assert_eq!(event.name(), "transaction.failed");
        assert_eq!(parse_form(&p.body).unwrap().event, row.event);
    }
}
on_both!(a_failed_delivery_is_retried_until_2xx);

async fn no_callback_when_disabled_or_for_the_clients_own_changes(app: TestApp) {
    let receiver = Receiver::start(200).await;
    // A project default that would otherwise receive everything below.
    walletd::callbacks::set_project_callback(
        &app.state,
        app.demo.project_id,
        Some(&receiver.url("/default")),
    )
    .await
    .unwrap();

    // callback_uri: false turns callbacks off, even for an expiry.
    let off = reserved(&app, Some(CallbackUri::Disabled), 60).await;
    // The client's own reserve and confirm, and its own revoke, are not reported back to it.
    let confirmed = reserved(&app, Some(CallbackUri::Uri(receiver.url("/own"))), 600).await;
    app.confirm(&confirmed.transaction_key).await;
    let revoked = reserved(&app, None, 600).await;
    app.revoke(&revoked.transaction_key).await;
    expire(&app, &off.transaction_key, 60).await;

    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(outbox(&app.state).await.is_empty(), "nothing queued");
    assert!(receiver.posts().is_empty(), "nothing sent");
}
on_both!(no_callback_when_disabled_or_for_the_clients_own_changes);

async fn the_project_default_uri_is_used_when_the_transaction_names_none(app: TestApp) {
    let receiver = Receiver::start(200).await;
    let set = walletd::callbacks::set_project_callback(
        &app.state,
        app.demo.project_id,
        Some(&receiver.url("/project-default")),
    )
    .await
    .unwrap();
    assert_eq!(set.callback_uri, Some(receiver.url("/project-default")));
    let own = Receiver::start(200).await;
    let with_default = reserved(&app, None, 60).await;
    let with_own = reserved(&app, Some(CallbackUri::Uri(own.url("/own"))), 60).await;
    app.clock.advance(61);
    let posts = receiver.wait_for(1).await;
    assert_eq!(posts[0].path, "/project-default");
    let event = verify(&app.base_url, &posts[0]).await;
    assert_eq!(
        event.transaction().unwrap().transaction_key,
        with_default.transaction_key
    );
    // A transaction's own URI wins over the project's.
    let posts = own.wait_for(1).await;
    let event = verify(&app.base_url, &posts[0]).await;
    assert_eq!(
        event.transaction().unwrap().transaction_key,
        with_own.transaction_key
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.posts().len(), 1);

    // Cleared: no default any more.
    walletd::callbacks::set_project_callback(&app.state, app.demo.project_id, None)
        .await
        .unwrap();
    let quiet = reserved(&app, None, 60).await;
    expire(&app, &quiet.transaction_key, 60).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox(&app.state).await.len(), 2);
    assert!(
        walletd::callbacks::set_project_callback(&app.state, ProjectId::new(999_999), None)
            .await
            .is_err()
    );
    assert!(
        walletd::callbacks::set_project_callback(&app.state, app.demo.project_id, Some("ftp://x"))
            .await
            .is_err()
    );
}
on_both!(the_project_default_uri_is_used_when_the_transaction_names_none);

async fn admin_commands_list_and_redeliver_callbacks(app: TestApp) {
    let receiver = Receiver::start(200).await;
    let project = app.demo.project_id.to_string();
    let uri = receiver.url("/cli");
    let set_callback = |to: &[&str]| {
        let mut args = vec!["admin", "project", "set-callback", "--project", &project];
        args.extend_from_slice(to);
        args.push("--json");
        app.walletd(&args)
    };
    let set = set_callback(&["--uri", &uri]);
    assert_eq!(set["callback_uri"], uri.as_str());
    let t = reserved(&app, None, 60).await;
    expire(&app, &t.transaction_key, 60).await;
    receiver.wait_for(1).await;
    let id = outbox(&app.state).await[0].id;
    delivered(&app.state, id).await;

    let list = app.walletd(&["admin", "callbacks", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["transaction_key"], t.transaction_key.as_str());
    assert_eq!(list[0]["type"], "failed");
    assert_eq!(list[0]["uri"], uri.as_str());
    assert_eq!(list[0]["state"], "delivered");
    assert_eq!(list[0]["attempts"], 1);
    assert_eq!(list[0]["last_status"], 200);
    assert!(list[0]["delivered_at"].is_i64());
    let undelivered = app.walletd(&["admin", "callbacks", "list", "--undelivered", "--json"]);
    assert_eq!(undelivered, serde_json::json!([]));

    let id_arg = id.to_string();
    let again = app.walletd(&["admin", "callbacks", "redeliver", "--id", &id_arg, "--json"]);
    assert_eq!(again["state"], "pending");
    let posts = receiver.wait_for(2).await;
    // The same event, signed again (PKCS#1 v1.5 signatures are deterministic).
    assert_eq!(posts[0].body, posts[1].body);
    let row = delivered(&app.state, id).await;
    assert_eq!(row.attempts, 1, "attempts count from the redelivery");

    let cleared = set_callback(&["--none"]);
    assert_eq!(cleared["callback_uri"], serde_json::Value::Null);

    // The human forms print too; an unknown id is an error.
    let out = walletd_output(&app.database, &["admin", "callbacks", "list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(t.transaction_key.as_str()));
    let unknown = ["admin", "callbacks", "redeliver", "--id", "999999"];
    assert!(!walletd_output(&app.database, &unknown).status.success());
}
on_both!(admin_commands_list_and_redeliver_callbacks);

/// Undelivered callbacks are rows in the database: a server started later delivers them.
async fn undelivered_callbacks_survive_a_restart(backend: wallet_store::Backend) {
    let database = wallet_store::testing::fresh_database(backend).await;
    let receiver = Receiver::start(503).await;
    let config = ServerConfig {
        callback_retry_base: Duration::from_millis(200),
        ..test_config(&database)
    };
    let clock = ManualClock::default();
    let first = start_server(&config, clock.clone()).await;
    let demo = walletd::service::admin::demo(&first.state).await.unwrap();
    let client =
        wallet_client::Client::new(&first.url, &demo.client.mac_id, &demo.client.mac_secret)
            .unwrap();
    let req = reserved_for(
        calling_back(one_payment(700), &receiver.url("/restart")),
        60,
    );
    let t = client.create_transaction(&req).await.unwrap();
    let alice = demo.users[0].wallet_id;
    let code = walletd::service::admin::issue_code(&first.state, alice, None, "EUR", None)
        .await
        .unwrap()
        .reservation_code;
    client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    clock.advance(61);
    receiver.wait_for(1).await;
    let key_before = public_key(&first.url).await;
    // Stop the first server completely (its worker included) while the receiver still fails.
    first.stop().await;
    let attempts = receiver.posts().len();
    let rows = {
        let store = wallet_store::Store::connect(&database).await.unwrap();
        let mut tx = store.read().await.unwrap();
        let rows = tx.callbacks(&CallbackFilter::default(), 10).await.unwrap();
        drop(tx);
        store.close().await;
        rows
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].delivered_at, None);
    assert_eq!(rows[0].attempts as usize, attempts);

    receiver.set_status(200);
    let second = start_server(&config, ManualClock::default()).await;
    let row = delivered(&second.state, rows[0].id).await;
    assert_eq!(row.last_status, Some(200));
    let posts = receiver.posts();
    assert_eq!(posts.len(), attempts + 1);
    // The key pair was kept in the database: the same key signs after the restart.
    assert_eq!(public_key(&second.url).await, key_before);
    let event = verify(&second.url, posts.last().unwrap()).await;
    assert_eq!(event.name(), "transaction.failed");
    assert_eq!(
        event.transaction().unwrap().transaction_key,
        t.transaction_key
    );
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_callbacks_survive_a_restart_sqlite() {
    undelivered_callbacks_survive_a_restart(wallet_store::Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_callbacks_survive_a_restart_postgres() {
    if wallet_store::testing::available(wallet_store::Backend::Postgres) {
        undelivered_callbacks_survive_a_restart(wallet_store::Backend::Postgres).await
    }
}

/// The other changes the system makes by itself are reported the same way: a freeze that ended
/// (`payment.done`, `data` as `GET payment/{id}` returns it) and a month-old `new` transaction
/// that was deleted (`transaction.deleted`).
async fn freeze_ends_and_deletions_are_reported(app: TestApp) {
    let receiver = Receiver::start(200).await;
    let uri = receiver.url("/system");
    let frozen = NewTransaction {
        payments: vec![goods(3_000, frozen_for(3_600))],
        ..Default::default()
    };
    let t = app.reserved_with(&calling_back(frozen, &uri)).await;
    app.confirm(&t.transaction_key).await;
    let old = app.create_with(&calling_back(one_payment(100), &uri)).await;
    assert!(outbox(&app.state).await.is_empty());

    app.clock.advance(3_600);
    let posts = receiver.wait_for(1).await;
    let event = verify(&app.base_url, &posts[0]).await;
    assert_eq!(event.name(), "payment.done");
    let paid = event.payment().expect("data is a payment");
    assert_eq!(paid.status, PaymentStatus::Done);
    let path = format!("payment/{}", paid.id);
    let got = call(&app.client, Method::GET, &path, None).await;
    assert_eq!(event.data, got, "data is the payment as GET returns it");

    app.clock.advance(30 * 86_400);
    let posts = receiver.wait_for(2).await;
    let event = verify(&app.base_url, &posts[1]).await;
    assert_eq!(event.name(), "transaction.deleted");
    assert_eq!(
        event.transaction().unwrap().transaction_key,
        old.transaction_key
    );
}
on_both!(freeze_ends_and_deletions_are_reported);
