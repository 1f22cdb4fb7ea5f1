//! `walletd serve`: the server's settings, and the runtime it runs on.

use super::{Cli, Command};
use crate::clock::SandboxClock;
use crate::limits::Limits;
use crate::server::{Server, ServerConfig, shutdown_signal};
use clap::Args;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WALLETD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Port assumed in MAC checks when the Host header has none (443 behind a TLS proxy).
    #[arg(long, env = "WALLETD_DEFAULT_PORT", default_value_t = 80)]
    pub default_port: u16,
    /// Requests one API client may make per minute before `rate_limit_exceeded` (429).
    #[arg(long, env = "WALLETD_RATE_LIMIT_PER_MINUTE", default_value_t = 60_000)]
    pub rate_limit_per_minute: i64,
    /// Bearer token enabling the `/admin/v1/` endpoints (moving the sandbox clock); unset: disabled.
    #[arg(long, env = "WALLETD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Bearer token `GET /metrics` requires; unset: /metrics is open to whoever reaches the
    /// listener (bind it to a private interface, or keep /metrics from the proxy).
    #[arg(long, env = "WALLETD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Seconds between sweeps for expired reservations.
    #[arg(long, env = "WALLETD_SWEEP_SECONDS", default_value_t = 1)]
    pub sweep_seconds: u64,
    /// PEM file of the callback signing key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`);
    /// without it a key is generated on first start and kept in the database.
    #[arg(long, env = "WALLETD_CALLBACK_KEY_PEM")]
    pub callback_key_pem: Option<std::path::PathBuf>,
    /// Milliseconds before a failed callback is first retried; doubled per failure, at most an hour.
    #[arg(long, env = "WALLETD_CALLBACK_RETRY_BASE_MS", default_value_t = 10_000)]
    pub callback_retry_base_ms: u64,
    /// Most connections to PostgreSQL. More than a few per CPU of the database server is slower:
    /// its backends then compete for the CPUs and the hot rows (bench/README.md).
    #[arg(long, env = "WALLETD_POSTGRES_POOL", default_value_t = wallet_store::DEFAULT_POSTGRES_POOL)]
    pub postgres_pool: u32,
    /// Serve requests on this one CPU (0-based), on one thread; the SQLite store's commits (the
    /// WAL writes, the fsync, the checkpoints) then run on the other CPUs. On a small virtual
    /// machine, where waking a thread on another CPU is dear, this serves more cash-out flows than
    /// every CPU for everything (docs/decisions.md, "Performance choices"). Unset: every CPU.
    #[arg(long, env = "WALLETD_CPU")]
    pub cpu: Option<usize>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Limits on abuse (docs/decisions.md, "Limits on abuse").
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Largest request body in bytes, of every route; larger is 413 `invalid_request`.
    #[arg(long, env = "WALLETD_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a request's header may take to arrive, and an idle keep-alive connection may stay
    /// open; then the connection is closed. Keep it above the idle timeout of a proxy in front.
    #[arg(long, env = "WALLETD_HEADER_TIMEOUT_SECONDS", default_value_t = 75)]
    pub header_timeout_seconds: u64,
    /// Seconds the whole request body may take to arrive; then 408 `invalid_request`.
    #[arg(long, env = "WALLETD_BODY_TIMEOUT_SECONDS", default_value_t = 10)]
    pub body_timeout_seconds: u64,
    /// Seconds from a request's header to its answer; then 503 `temporarily_unavailable`.
    #[arg(long, env = "WALLETD_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
    /// Connections served at once; more wait in the listen backlog until one closes.
    #[arg(long, env = "WALLETD_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Failed logins per holder in 15 minutes (pages and OAuth password grant together) before
    /// her logins are refused (429) without a check.
    #[arg(long, env = "WALLETD_MAX_LOGIN_FAILURES", default_value_t = 5)]
    pub max_login_failures: i64,
    /// Wrong reservation codes one API client may try per minute before reserving by code is
    /// `rate_limit_exceeded` (429) for the rest of the minute.
    #[arg(long, env = "WALLETD_CODE_FAILURES_PER_MINUTE", default_value_t = 100)]
    pub code_failures_per_minute: i64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        Limits {
            max_body_bytes: self.max_body_bytes,
            header_timeout: secs(self.header_timeout_seconds),
            body_timeout: secs(self.body_timeout_seconds),
            request_timeout: secs(self.request_timeout_seconds),
            max_connections: self.max_connections.max(1),
            max_login_failures: self.max_login_failures.max(1),
            code_failures_per_minute: self.code_failures_per_minute.max(1),
        }
    }
}

/// Confines the calling thread, and so every thread it starts afterwards, to CPU `cpu`.
/// Returns the CPU that the threads waiting for the disk go to: another one the process may use,
/// or `cpu` itself on a single-CPU machine.
fn run_on_cpu(cpu: usize) -> Result<core_affinity::CoreId, String> {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let core = cores.iter().find(|c| c.id == cpu).ok_or_else(|| {
        let ids: Vec<_> = cores.iter().map(|c| c.id.to_string()).collect();
        format!(
            "--cpu {cpu}: this process may run on CPUs {}",
            ids.join(", ")
        )
    })?;
    let disk = *cores.iter().find(|c| c.id != cpu).unwrap_or(core);
    if core_affinity::set_for_current(*core) {
        Ok(disk)
    } else {
        Err(format!("--cpu {cpu}: the system refused to pin the server"))
    }
}

/// The runtime: on every CPU; or, with `--cpu`, one thread on that CPU for the requests, and the
/// blocking pool (where the SQLite store commits: WAL writes, fsync, checkpoints) on another, so
/// that a commit's work does not take the request CPU's time.
pub(super) fn runtime(cli: &Cli) -> Result<tokio::runtime::Runtime, String> {
    let Command::Serve(ServeArgs { cpu: Some(cpu), .. }) = &cli.command else {
        return tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"));
    };
    // Before the runtime exists: every thread started from here on inherits the CPU.
    let disk = run_on_cpu(*cpu)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(move || {
            // Only the blocking pool's threads start here: the requests run on this thread.
            core_affinity::set_for_current(disk);
        })
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Serves until SIGINT or SIGTERM.
pub(super) async fn serve(args: ServeArgs, database: String) -> anyhow::Result<()> {
    let config = ServerConfig {
        listen: args.listen,
        database,
        sweep_interval: Duration::from_secs(args.sweep_seconds.max(1)),
        default_port: args.default_port,
        callback_retry_base: Duration::from_millis(args.callback_retry_base_ms.max(1)),
        callback_key_pem: args.callback_key_pem,
        admin_token: args.admin_token,
        metrics_token: args.metrics_token,
        rate_limit_per_minute: args.rate_limit_per_minute,
        postgres_pool: args.postgres_pool,
        limits: args.limits.limits(),
    };
    let server = Server::build(&config, Arc::new(SandboxClock::default())).await?;
    server.run(shutdown_signal()).await
}
