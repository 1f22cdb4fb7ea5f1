//! Building and running the server: bind, serve, sweep, shut down gracefully.

use crate::clock::SharedClock;
use crate::limits::Limits;
use crate::state::{AppState, load_code_key};
use crate::{http, jobs};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wallet_store::Store;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: String,
    pub database: String,
    pub sweep_interval: Duration,
    pub default_port: u16,
    /// First delay before a failed callback is retried (doubled per failure).
    pub callback_retry_base: Duration,
    /// PEM file of the callback signing key; `None`: the key generated and kept in the database.
    pub callback_key_pem: Option<std::path::PathBuf>,
    /// Bearer token of the `/admin/v1/` endpoints (sandbox clock); `None` disables them.
    pub admin_token: Option<String>,
    /// Bearer token `GET /metrics` requires; `None`: open to whoever reaches the listener.
    pub metrics_token: Option<String>,
    /// Requests one API client may make per minute (`rate_limit_exceeded` beyond).
    pub rate_limit_per_minute: i64,
    /// Most connections to PostgreSQL (`wallet_store::DEFAULT_POSTGRES_POOL` by default).
    pub postgres_pool: u32,
    /// Limits on abuse: body size, timeouts, connections, failed logins and codes.
    pub limits: Limits,
}

/// A bound, ready server (port 0 is allowed: tests read [`Server::addr`]).
pub struct Server {
    listener: TcpListener,
    state: AppState,
    sweep_interval: Duration,
    callback_retry_base: Duration,
}

impl Server {
    /// Connects to the store (running migrations) and binds the listener.
    pub async fn build(config: &ServerConfig, clock: SharedClock) -> anyhow::Result<Server> {
        // First, so that the store's and the service's first metrics are recorded.
        let telemetry = crate::telemetry::Telemetry::install();
        let store = Store::connect_with_pool(&config.database, config.postgres_pool).await?;
        let code_key = load_code_key(&store).await?;
        let callbacks =
            crate::callbacks::CallbackSigner::load(&store, config.callback_key_pem.as_deref())
                .await?;
        let state = AppState {
            store,
            clock,
            code_key: Arc::new(code_key),
            default_port: config.default_port,
            callbacks: Arc::new(callbacks),
            admin_token: config.admin_token.clone().map(Arc::new),
            rate_limit_per_minute: config.rate_limit_per_minute,
            sms: Arc::new(crate::sms::OutboxGateway),
            telemetry,
            metrics_token: config.metrics_token.clone().map(Arc::new),
            limits: Arc::new(config.limits.clone()),
            entropy: crate::entropy::Entropy::system(),
        };
        crate::service::lifecycle::sync_clock(&state).await?;
        let listener = TcpListener::bind(&config.listen).await?;
        Ok(Server {
            listener,
            state,
            sweep_interval: config.sweep_interval,
            callback_retry_base: config.callback_retry_base,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests (`conn`) and stops the
    /// sweeper and the callback worker (which lets its attempts in flight finish).
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let sweeper = tokio::spawn(jobs::sweeper(
            self.state.clone(),
            self.sweep_interval,
            stop_rx.clone(),
        ));
        let deliverer = tokio::spawn(jobs::callback_worker(
            self.state.clone(),
            crate::callbacks::DeliverySettings::new(self.sweep_interval, self.callback_retry_base),
            stop_rx,
        ));
        let app = http::router(self.state.clone());
        tracing::info!(addr = %self.addr(), "walletd listening");
        let limits = self.state.limits.clone();
        crate::conn::serve(self.listener, app, &limits, shutdown).await;
        let _ = stop_tx.send(true);
        let _ = sweeper.await;
        let _ = deliverer.await;
        self.state.store.close().await;
        tracing::info!("walletd stopped");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received");
}
