//! `spawn_app`: a walletd on a fresh database and a random port, with a clock tests can move.

use std::sync::Arc;
use std::time::Duration;
use wallet_client::Client;
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
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Generates one test per backend from an `async fn(TestApp)`.
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
                super::$name($crate::helpers::spawn_app(wallet_store::Backend::Postgres).await)
                    .await
            }
        }
    };
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let database = wallet_store::testing::fresh_database(backend).await;
    let config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        database: database.clone(),
        sweep_interval: Duration::from_millis(100),
        default_port: 80,
        callback_retry_base: Duration::from_millis(50),
        callback_key_pem: None,
        admin_token: None,
        rate_limit_per_minute: rate_limit(),
        postgres_pool: wallet_store::DEFAULT_POSTGRES_POOL,
    };
    let clock = ManualClock::default();
    let server = Server::build(&config, Arc::new(clock.clone()))
        .await
        .expect("server builds");
    let port = server.addr().port();
    let state = server.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    let demo = admin::demo(&state).await.expect("demo data");
    let base_url = format!("http://127.0.0.1:{port}");
    let client =
        Client::new(&base_url, &demo.client.mac_id, &demo.client.mac_secret).expect("client");
    TestApp {
        base_url,
        port,
        database,
        state,
        clock,
        demo,
        client,
        _shutdown: tx,
    }
}

impl TestApp {
    pub fn alice(&self) -> i64 {
        self.demo.users[0].wallet_id
    }

    pub fn bob(&self) -> i64 {
        self.demo.users[1].wallet_id
    }

    /// Business time, as the test clock shows it.
    pub fn clock_now(&self) -> i64 {
        self.clock.now()
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
        let name = format!("other-{}", wallet_core::keys::random_base62(6));
        let other = admin::create_project(&self.state, &name).await.unwrap();
        self.client_of(other.project_id, grants).await
    }

    async fn client_of(&self, project: i64, grants: &str) -> Client {
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

    /// A reqwest client and the URL of `path` (for hand-made requests).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Tests run with a generous limit; `TEST_RATE_LIMIT` lowers it for the rate-limit test.
fn rate_limit() -> i64 {
    RATE_LIMIT.with(|l| l.get())
}

thread_local! {
    /// The per-minute request limit of apps spawned on this thread.
    pub static RATE_LIMIT: std::cell::Cell<i64> = const { std::cell::Cell::new(10_000) };
}
