//! `walletd-load`: N tills of one cash-out point against a running walletd; one JSON line out.

use clap::{Parser, ValueEnum};
use std::process::ExitCode;
use std::time::Duration;
use walletd_load::drive::{self, Stop};
use walletd_load::report::{Report, store_of};
use walletd_load::{acked, procfs, setup};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Payers spread over `--wallets` wallets.
    Spread,
    /// Every payer on one wallet.
    OneWallet,
}

/// Drives a running walletd with the cash-out flow (create → reserve by code → confirm) from N
/// tills of one cash-out point, and prints one JSON line:
/// {"store","mode","tills","instances","flows","flows_per_s","p50_ms","p99_ms","errors","server_rss_mb"}.
#[derive(Debug, Parser)]
#[command(name = "walletd-load", version)]
struct Args {
    /// Base URL of a running walletd; repeated for several instances on one database: till i
    /// sends every request to instance i mod N (a till keeps its connection, as through an L4
    /// balancer).
    #[arg(long = "url", default_value = "http://127.0.0.1:8080")]
    urls: Vec<String>,
    /// The server's database, for the set-up written before the timed run (project, payers, codes).
    #[arg(
        long,
        env = "WALLETD_DATABASE_URL",
        default_value = "sqlite://walletd.db"
    )]
    database: String,
    #[arg(long, value_enum, default_value_t = Mode::Spread)]
    mode: Mode,
    /// Concurrent tills (each one request at a time).
    #[arg(long, default_value_t = 32)]
    tills: usize,
    /// API clients of the cash-out point, shared by the tills (till i signs as client i mod N).
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Payer wallets in `spread` mode (`one-wallet` uses one).
    #[arg(long, default_value_t = 1000)]
    wallets: usize,
    /// Run this many flows (default: run for --seconds).
    #[arg(long, conflicts_with = "seconds")]
    flows: Option<u64>,
    /// Run for this many seconds [default: 20].
    #[arg(long)]
    seconds: Option<f64>,
    /// Codes to prepare for a timed run [default: 4000 per second, at most 400000]; the run
    /// stops early (and says so) if walletd uses them all.
    #[arg(long)]
    codes: Option<usize>,
    /// Minor units of EUR per flow.
    #[arg(long, default_value_t = 100)]
    amount: i64,
    /// Seconds the prepared codes stay valid.
    #[arg(long, default_value_t = 3600)]
    valid_for: i64,
    /// PID of the walletd process, for its memory (VmHWM) and CPU time; repeated for several
    /// instances (their CPU time summed, the largest peak memory). None: not measured.
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// Seconds before a request is given up (an error).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Write every acknowledged request here (`<transaction key> <status>` lines), for
    /// `--verify-acked` after a crash.
    #[arg(long)]
    acked: Option<std::path::PathBuf>,
    /// Send each request again up to this many times after a 503 or no answer, with the same
    /// idempotency key, and print a second JSON line counting what the attempts were answered
    /// (`{"attempts": …}`, the failover drill).
    #[arg(long, default_value_t = 0)]
    retries: u32,
    /// Instead of a run: check that every request acknowledged in this file (written by
    /// `--acked`) is in `--database`; prints `{"acked": N, "lost": M}` and fails if M > 0.
    #[arg(long, conflicts_with = "acked")]
    verify_acked: Option<std::path::PathBuf>,
}

// One thread: the tool never takes more than one of the machine's cores from the server, and
// skips cross-thread wake-ups (its CPU share is printed; near 100% means the tool is the limit).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("walletd-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(path) = &args.verify_acked {
        return verify_acked(&args.database, path).await;
    }
    anyhow::ensure!(args.tills >= 1, "--tills must be at least 1");
    let stop = match (args.flows, args.seconds) {
        (Some(n), _) => Stop::Flows(n),
        (None, s) => Stop::Seconds(s.unwrap_or(20.0)),
    };
    let prepared = setup::prepare(&setup_config(&args, stop)?).await?;
    // One SDK client per instance and API client: `targets[instance][client]`.
    let targets = args
        .urls
        .iter()
        .map(|url| {
            prepared
                .clients
                .iter()
                .map(|(id, secret)| {
                    wallet_client::Client::new(url, id, secret)?
                        .with_timeout(Duration::from_secs(args.timeout))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;

    let cpu = CpuClock::start(&args.server_pids);
    let outcome = drive::run(
        targets,
        prepared.codes,
        args.tills,
        stop,
        (args.amount, args.acked.is_some(), args.retries),
    )
    .await;
    let (server_cpu, own_cpu) = cpu.elapsed();
    let rss = args
        .server_pids
        .iter()
        .filter_map(|&pid| procfs::rss_mb(pid))
        .fold(0.0, f64::max);

    let mode = match args.mode {
        Mode::Spread => "spread",
        Mode::OneWallet => "one-wallet",
    };
    let report = Report::new(
        store_of(&args.database),
        mode,
        args.tills,
        outcome.flows,
        outcome.elapsed,
        &outcome.latencies,
        outcome.errors,
        rss,
    )
    .with_instances(args.urls.len());
    log_outcome(mode, &outcome, server_cpu, own_cpu);
    if let Some(path) = &args.acked {
        acked::write(path, &outcome.acked)?;
        eprintln!(
            "walletd-load: {} acknowledged requests written to {}",
            outcome.acked.len(),
            path.display()
        );
    }
    println!("{}", report.json_line());
    if args.retries > 0 {
        println!("{}", serde_json::json!({ "attempts": outcome.attempts }));
    }
    Ok(())
}

/// `--verify-acked`: every request acknowledged in `path` is in `database`, and the ledger is sound.
async fn verify_acked(database: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let v = acked::verify(database, path).await?;
    for e in &v.examples {
        eprintln!("walletd-load: lost: {e}");
    }
    println!(
        "{}",
        serde_json::json!({"acked": v.acked, "lost": v.lost, "ledger_sound": v.ledger_sound})
    );
    anyhow::ensure!(
        v.lost == 0,
        "{} acknowledged transactions were lost",
        v.lost
    );
    anyhow::ensure!(v.ledger_sound, "the ledger is not sound");
    Ok(())
}

/// What to write before the run: one code per flow it may start (4000 a second for a timed run,
/// unless `--codes` says), and one payer wallet in `one-wallet` mode.
fn setup_config(args: &Args, stop: Stop) -> anyhow::Result<setup::SetupConfig> {
    let codes = match stop {
        Stop::Flows(n) => usize::try_from(n)?,
        Stop::Seconds(s) => args
            .codes
            .unwrap_or_else(|| ((s * 4000.0).ceil() as usize).min(400_000)),
    };
    let wallets = match args.mode {
        Mode::Spread => args.wallets,
        Mode::OneWallet => 1,
    };
    Ok(setup::SetupConfig {
        database: args.database.clone(),
        wallets,
        codes,
        clients: args.clients,
        amount: args.amount,
        valid_for: args.valid_for,
    })
}

/// CPU seconds of the server's instances (summed, when their PIDs are known) and of this tool,
/// from the start of the run.
struct CpuClock {
    servers: Vec<String>,
    servers_before: Option<f64>,
    own_before: Option<f64>,
}

impl CpuClock {
    fn start(server_pids: &[u32]) -> CpuClock {
        let servers: Vec<String> = server_pids.iter().map(u32::to_string).collect();
        CpuClock {
            servers_before: summed_cpu(&servers),
            own_before: procfs::cpu_seconds("self"),
            servers,
        }
    }

    /// `(the servers, this tool)`: CPU seconds since [`CpuClock::start`], where measured.
    fn elapsed(&self) -> (Option<f64>, Option<f64>) {
        let since = |before: Option<f64>, now: Option<f64>| now.zip(before).map(|(a, b)| a - b);
        (
            since(self.servers_before, summed_cpu(&self.servers)),
            since(self.own_before, procfs::cpu_seconds("self")),
        )
    }
}

/// The CPU seconds of every process in `pids`; `None` when there is none or one cannot be read.
fn summed_cpu(pids: &[String]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|p| procfs::cpu_seconds(p)).sum()
}

/// The run on stderr: flows and latencies, CPU time, sample errors, and whether codes ran out.
fn log_outcome(
    mode: &str,
    outcome: &drive::Outcome,
    server_cpu: Option<f64>,
    own_cpu: Option<f64>,
) {
    eprintln!(
        "walletd-load: {mode}: {} flows in {:.2} s; {}",
        outcome.flows,
        outcome.elapsed.as_secs_f64(),
        outcome.latencies.breakdown()
    );
    // CPU seconds, the share of one core over the run, and per flow.
    let per_flow = |cpu: f64| {
        let mut text = format!(
            "{cpu:.2} s ({:.0}% of a core)",
            100.0 * cpu / outcome.elapsed.as_secs_f64().max(1e-9)
        );
        if outcome.flows > 0 {
            text.push_str(&format!(
                ", {:.0} µs/flow",
                cpu * 1e6 / outcome.flows as f64
            ));
        }
        text
    };
    eprintln!(
        "walletd-load: CPU during the run: server {}, load tool {}",
        server_cpu.map_or("not measured".into(), per_flow),
        own_cpu.map_or("not measured".into(), per_flow),
    );
    for e in &outcome.sample_errors {
        eprintln!("walletd-load: error: {e}");
    }
    if outcome.ran_out_of_codes {
        eprintln!(
            "walletd-load: every prepared code was used before the time was up; pass a larger --codes"
        );
    }
}
