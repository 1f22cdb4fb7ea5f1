//! `spawn_app`: a walletd on a fresh database and a random port, with a clock tests can move;
//! other servers on a database; and the `walletd` command line run as a separate process.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;
use wallet_client::Client;
use wallet_core::ids::{ProjectId, WalletId};
use wallet_store::Backend;
use walletd::clock::{Clock, ManualClock};
use walletd::server::{Server, ServerConfig};
use walletd::service::admin::{self, Demo};
use walletd::state::AppState;

pub struct TestApp {
    pub base_url: String,
    pub port: u16,
    pub database: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub demo: Demo,
    pub client: Client,
    _server: RunningServer,
}

/// Generates one test per backend from an `async fn(TestApp)` (the PostgreSQL one passes without
/// running where the tests have no PostgreSQL: `wallet_store::testing::available`).
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::spawn_app(wallet_store::Backend::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                // No PostgreSQL here (and none required): the SQLite half runs alone.
                if !wallet_store::testing::available(wallet_store::Backend::Postgres) {
                    return;
                }
                super::$name($crate::helpers::spawn_app(wallet_store::Backend::Postgres).await)
                    .await
            }
        }
    };
}

/// How a test server runs on `database`: a random port, a sweeper every 100 ms, callback retries
/// after 50 ms, no admin endpoint, and the rate limit of [`RATE_LIMIT`].
pub fn test_config(database: &str) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".into(),
        database: database.into(),
        sweep_interval: Duration::from_millis(100),
        default_port: 80,
        callback_retry_base: Duration::from_millis(50),
        callback_key_pem: None,
        admin_token: None,
        metrics_token: None,
        rate_limit_per_minute: rate_limit(),
        postgres_pool: wallet_store::DEFAULT_POSTGRES_POOL,
        limits: Default::default(),
    }
}

/// A server running in a task of its own until it is stopped (or dropped).
pub struct RunningServer {
    pub state: AppState,
    pub url: String,
    pub port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Builds a server from `config` on `clock` and runs it.
pub async fn start_server(config: &ServerConfig, clock: impl Clock) -> RunningServer {
    let server = Server::build(config, Arc::new(clock))
        .await
        .expect("server builds");
    let port = server.addr().port();
    let state = server.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    RunningServer {
        state,
        url: format!("http://127.0.0.1:{port}"),
        port,
        stop,
        running,
    }
}

impl RunningServer {
    /// Stops the server completely (its sweeper and callback worker included).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running.await.unwrap().unwrap();
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let database = wallet_store::testing::fresh_database(backend).await;
    let clock = ManualClock::default();
    let server = start_server(&test_config(&database), clock.clone()).await;
    let state = server.state.clone();
    let demo = admin::demo(&state).await.expect("demo data");
    let base_url = server.url.clone();
    let client =
        Client::new(&base_url, &demo.client.mac_id, &demo.client.mac_secret).expect("client");
    TestApp {
        base_url,
        port: server.port,
        database,
        state,
        clock,
        demo,
        client,
        _server: server,
    }
}

impl TestApp {
    pub fn alice(&self) -> WalletId {
        self.demo.users[0].wallet_id
    }

    pub fn bob(&self) -> WalletId {
        self.demo.users[1].wallet_id
    }

    /// Business time, as the test clock shows it.
    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }

    /// The URL of `path` (for hand-made requests).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The demo client's SDK on another base URL (a proxy, a second server).
    pub fn client_at(&self, base_url: &str) -> Client {
        Client::new(
            base_url,
            &self.demo.client.mac_id,
            &self.demo.client.mac_secret,
        )
        .unwrap()
    }

    /// Another client of the demo project, granted `grants`.
    pub async fn another_client(&self, grants: &str) -> Client {
        self.client_of(self.demo.project_id, grants).await
    }

    /// A client of another project (with `grants`): it must see none of this project's objects.
    pub async fn stranger(&self, grants: &str) -> Client {
        let name = format!(
            "other-{}",
            wallet_core::keys::random_base62(&mut rand::rng(), 6)
        );
        let other = admin::create_project(&self.state, &name).await.unwrap();
        self.client_of(other.project_id, grants).await
    }

    async fn client_of(&self, project: ProjectId, grants: &str) -> Client {
        let creds = admin::create_client(&self.state, project, grants)
            .await
            .unwrap();
        Client::new(&self.base_url, &creds.mac_id, &creds.mac_secret).unwrap()
    }

    /// Runs the sweeper once now, as its timer would.
    pub async fn sweep(&self) {
        walletd::jobs::sweep_once(&self.state).await.unwrap();
    }

    /// Asserts the ledger invariants over the whole database.
    pub async fn assert_ledger_sound(&self) {
        let mut tx = self.state.store.read().await.unwrap();
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "ledger unsound: {check:?}");
    }

    /// `walletd --database <this app's> args…`, which must succeed and print JSON.
    pub fn walletd(&self, args: &[&str]) -> serde_json::Value {
        walletd_json(&self.database, args)
    }
}

/// Runs `walletd --database database args…` (logging warnings only) to its end.
pub fn walletd_output(database: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walletd"))
        .arg("--database")
        .arg(database)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run walletd")
}

/// Runs `walletd --database database args…`, which must succeed and print JSON.
pub fn walletd_json(database: &str, args: &[&str]) -> serde_json::Value {
    let out = walletd_output(database, args);
    assert!(
        out.status.success(),
        "walletd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "walletd {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Tests run with a generous limit; `RATE_LIMIT` lowers it for the rate-limit tests.
fn rate_limit() -> i64 {
    RATE_LIMIT.with(|l| l.get())
}

thread_local! {
    /// The per-minute request limit of apps spawned on this thread.
    pub static RATE_LIMIT: std::cell::Cell<i64> = const { std::cell::Cell::new(10_000) };
}

/// An app on SQLite whose demo client may make `limit` requests a minute.
pub async fn spawn_rate_limited_app(limit: i64) -> TestApp {
    RATE_LIMIT.with(|l| l.set(limit));
    let app = spawn_app(Backend::Sqlite).await;
    RATE_LIMIT.with(|l| l.set(10_000));
    app
}
