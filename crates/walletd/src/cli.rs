//! The command line of DESIGN.md "Command-line contract".

use crate::callbacks::{self, CallbackSigner};
use crate::clock::{SandboxClock, SharedClock};
use crate::server::{Server, ServerConfig, shutdown_signal};
use crate::service::{admin, operator};
use crate::state::{AppState, load_code_key};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wallet_store::{CallbackFilter, Store};

/// walletd: the Wallet API, runnable on your own machine.
#[derive(Debug, Parser)]
#[command(name = "walletd", version, about)]
pub struct Cli {
    /// Database: sqlite://FILE (created if missing) or postgres://…
    #[arg(
        long,
        global = true,
        env = "WALLETD_DATABASE_URL",
        default_value = "sqlite://walletd.db"
    )]
    pub database: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (migrations run on start).
    Serve(ServeArgs),
    /// Create (once) a demo project, client and two funded wallet holders, and print them.
    Demo(JsonFlag),
    /// Operator commands; they work while a server runs on the same database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

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
    /// every CPU for everything (bench/README.md, "Commits off the request CPU"). Unset: every CPU.
    #[arg(long, env = "WALLETD_CPU")]
    pub cpu: Option<usize>,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// A wallet's balance (same JSON as GET wallet/{id}/balance).
    Balance {
        #[arg(long)]
        wallet: i64,
        #[arg(long)]
        json: bool,
    },
    /// Add money to a wallet from the top-up source account.
    TopUp {
        #[arg(long)]
        wallet: i64,
        /// Decimal amount, e.g. 100.00.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long)]
        json: bool,
    },
    /// Issue a one-time reservation code for a wallet (what the holder's app shows).
    ReservationCode {
        #[arg(long)]
        wallet: i64,
        /// Largest transaction total the code may reserve, e.g. 50.00.
        #[arg(long)]
        max_amount: Option<String>,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Seconds the code stays valid (default 300).
        #[arg(long)]
        valid_for: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// The sandbox clock: business time is wall time plus an offset operators can move.
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Projects (merchants, cash-out points).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// API clients of a project.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The callback outbox: what was sent where, and redelivery.
    #[command(subcommand)]
    Callbacks(CallbacksCommand),
    /// Wallet holders: phone, identity verification, restriction, person type.
    #[command(subcommand)]
    User(UserCommand),
    /// Wallets: active, spending rights, spending limits.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// The SMS outbox (FLASH SMS to holders), and answering one for a holder.
    #[command(subcommand)]
    Sms(SmsCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Change what the operator knows of a holder; options not given stay as they are.
    Set {
        #[arg(long)]
        user: i64,
        /// Phone number (E.164, e.g. +37060000001); a new number is unconfirmed unless --phone-confirmed true.
        #[arg(long, conflicts_with = "no_phone")]
        phone: Option<String>,
        /// Remove the phone number.
        #[arg(long)]
        no_phone: bool,
        #[arg(long)]
        phone_confirmed: Option<bool>,
        #[arg(long)]
        identity_verified: Option<bool>,
        /// A restricted holder can make no transactions (client_restricted).
        #[arg(long)]
        restricted: Option<bool>,
        /// natural or legal.
        #[arg(long)]
        person_type: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Activate or deactivate a wallet, or let or stop its holder spend from it.
    Set {
        #[arg(long)]
        wallet: i64,
        #[arg(long)]
        active: Option<bool>,
        /// false: the holder may not make transfers from the wallet (no_rights).
        #[arg(long)]
        can_pay: Option<bool>,
        #[arg(long)]
        json: bool,
    },
    /// Set or remove a spending limit per rolling period (limits_exceeded, or with
    /// --restriction the operator's temporary restriction_limits_exceeded).
    Limit {
        #[arg(long)]
        wallet: i64,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Decimal amount, e.g. 100.00.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        max_amount: Option<String>,
        /// Seconds of the rolling window.
        #[arg(long, default_value_t = 86_400)]
        period: i64,
        #[arg(long)]
        restriction: bool,
        /// Remove the limit.
        #[arg(long)]
        none: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// Messages sent to holders' phones, newest first.
    List {
        #[arg(long)]
        phone: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Deliver a holder's SMS answer, e.g. --text "RG5A YES" (what an SMS gateway does).
    Answer {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallbacksCommand {
    /// Recorded callbacks, newest first.
    List {
        /// Only those not delivered yet (pending or given up).
        #[arg(long)]
        undelivered: bool,
        /// Only those of one transaction.
        #[arg(long)]
        transaction: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Queue a callback for delivery now, even if it was delivered.
    Redeliver {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Move business time forward; a running server fires what became due within a second.
    Advance {
        #[arg(long)]
        seconds: i64,
        #[arg(long)]
        json: bool,
    },
    /// Show the offset and the current business time.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project with its own beneficiary wallet.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Set or remove the most one transaction may total in a currency (limit_violation).
    SetLimit {
        #[arg(long)]
        project: i64,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Decimal amount, e.g. 500.00.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        max_amount: Option<String>,
        #[arg(long)]
        none: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set the project's default callback URI (for transactions that give none), or clear it.
    SetCallback {
        #[arg(long)]
        project: i64,
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        uri: Option<String>,
        /// Clear the default: transactions without their own callback_uri get no callbacks.
        #[arg(long)]
        none: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create MAC credentials for a project.
    Create {
        #[arg(long)]
        project: i64,
        /// Reservation types the client may use, comma-separated.
        #[arg(long, default_value = admin::ALL_GRANTS)]
        grants: String,
        #[arg(long)]
        json: bool,
    },
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("WALLETD_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
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
fn runtime(cli: &Cli) -> Result<tokio::runtime::Runtime, String> {
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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match runtime(&cli) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("walletd: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("walletd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn admin_state(database: &str) -> anyhow::Result<AppState> {
    let store = Store::connect(database).await?;
    let code_key = load_code_key(&store).await?;
    // Admin commands never sign, but share AppState with the server: same key source as `serve`.
    let key_pem = std::env::var_os("WALLETD_CALLBACK_KEY_PEM").map(std::path::PathBuf::from);
    let callbacks = CallbackSigner::load(&store, key_pem.as_deref()).await?;
    let clock: SharedClock = Arc::new(SandboxClock::default());
    let state = AppState {
        store,
        clock,
        code_key: Arc::new(code_key),
        default_port: 80,
        callbacks: Arc::new(callbacks),
        admin_token: None,
        rate_limit_per_minute: i64::MAX,
        sms: Arc::new(crate::sms::OutboxGateway),
    };
    // Admin commands live in sandbox time too (a code issued after `clock advance` expires then).
    crate::service::lifecycle::sync_clock(&state).await?;
    Ok(state)
}

fn clock_text(r: &crate::service::lifecycle::ClockReading) -> String {
    format!("business time {} (offset {} s)", r.now, r.offset_seconds)
}

fn print<T: Serialize>(
    value: &T,
    json: bool,
    human: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{}", human(value));
    }
    Ok(())
}

fn balance_text(b: &wallet_client::types::WalletBalance) -> String {
    if b.is_empty() {
        return "no accounts yet".into();
    }
    b.iter()
        .map(|(cur, v)| {
            format!(
                "{cur}: {} at disposal, {} reserved",
                v.at_disposal_decimal, v.reserved_decimal
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn callback_line(c: &callbacks::CallbackView) -> String {
    let or_dash = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
    format!(
        "#{} {} {}.{} -> {} [{}] attempts {} last status {} delivered {} next {}",
        c.id,
        c.transaction_key.as_deref().unwrap_or("-"),
        c.object,
        c.event_type,
        c.uri,
        c.state,
        c.attempts,
        or_dash(c.last_status),
        or_dash(c.delivered_at),
        or_dash(c.next_attempt_at),
    )
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = ServerConfig {
                listen: args.listen,
                database: cli.database,
                sweep_interval: Duration::from_secs(args.sweep_seconds.max(1)),
                default_port: args.default_port,
                callback_retry_base: Duration::from_millis(args.callback_retry_base_ms.max(1)),
                callback_key_pem: args.callback_key_pem,
                admin_token: args.admin_token,
                rate_limit_per_minute: args.rate_limit_per_minute,
                postgres_pool: args.postgres_pool,
            };
            let server = Server::build(&config, Arc::new(SandboxClock::default())).await?;
            server.run(shutdown_signal()).await
        }
        Command::Demo(flag) => {
            let state = admin_state(&cli.database).await?;
            let demo = admin::demo(&state).await?;
            print(&demo, flag.json, |d| {
                let mut s = format!(
                    "demo project {} (wallet {})\nclient: WALLET_MAC_ID={} WALLET_MAC_SECRET={}\n",
                    d.project_id, d.project_wallet_id, d.client.mac_id, d.client.mac_secret
                );
                for u in &d.users {
                    s.push_str(&format!(
                        "holder {} (user {}): wallet {}, password {}, PIN {}\n",
                        u.email, u.user_id, u.wallet_id, u.password, u.pin
                    ));
                }
                s
            })
        }
        Command::Admin(cmd) => {
            let state = admin_state(&cli.database).await?;
            match cmd {
                AdminCommand::Clock(ClockCommand::Advance { seconds, json }) => {
                    let reading = crate::service::lifecycle::advance_clock(&state, seconds).await?;
                    print(&reading, json, clock_text)
                }
                AdminCommand::Clock(ClockCommand::Show { json }) => {
                    let reading = crate::service::lifecycle::read_clock(&state).await?;
                    print(&reading, json, clock_text)
                }
                AdminCommand::Balance { wallet, json } => {
                    print(&admin::balance(&state, wallet).await?, json, balance_text)
                }
                AdminCommand::TopUp {
                    wallet,
                    amount,
                    currency,
                    json,
                } => print(
                    &admin::top_up(&state, wallet, &amount, &currency).await?,
                    json,
                    balance_text,
                ),
                AdminCommand::ReservationCode {
                    wallet,
                    max_amount,
                    currency,
                    valid_for,
                    json,
                } => {
                    let code = admin::issue_code(
                        &state,
                        wallet,
                        max_amount.as_deref(),
                        &currency,
                        valid_for,
                    )
                    .await?;
                    print(&code, json, |c| {
                        format!(
                            "reservation code {} (QR {}, barcode {}), valid until {}",
                            c.reservation_code, c.qr, c.barcode, c.expires_at
                        )
                    })
                }
                AdminCommand::Project(ProjectCommand::Create { name, json }) => {
                    let p = admin::create_project(&state, &name).await?;
                    print(&p, json, |p| {
                        format!("project {} with wallet {}", p.project_id, p.wallet_id)
                    })
                }
                AdminCommand::Project(ProjectCommand::SetCallback {
                    project,
                    uri,
                    none: _,
                    json,
                }) => {
                    let p =
                        callbacks::set_project_callback(&state, project, uri.as_deref()).await?;
                    print(&p, json, |p| match &p.callback_uri {
                        Some(u) => format!("project {}: callbacks go to {u}", p.project_id),
                        None => format!("project {}: no default callback URI", p.project_id),
                    })
                }
                AdminCommand::Callbacks(CallbacksCommand::List {
                    undelivered,
                    transaction,
                    limit,
                    json,
                }) => {
                    let filter = CallbackFilter {
                        undelivered,
                        transaction_key: transaction,
                    };
                    let list = callbacks::list(&state, &filter, limit).await?;
                    print(&list, json, |l| {
                        if l.is_empty() {
                            return "no callbacks".into();
                        }
                        l.iter().map(callback_line).collect::<Vec<_>>().join("\n")
                    })
                }
                AdminCommand::Callbacks(CallbacksCommand::Redeliver { id, json }) => {
                    let c = callbacks::redeliver(&state, id).await?;
                    print(&c, json, |c| format!("queued: {}", callback_line(c)))
                }
                AdminCommand::Project(ProjectCommand::SetLimit {
                    project,
                    currency,
                    max_amount,
                    none: _,
                    json,
                }) => {
                    let l = operator::set_project_limit(
                        &state,
                        project,
                        &currency,
                        max_amount.as_deref(),
                    )
                    .await?;
                    print(&l, json, |l| match &l.max_amount {
                        Some(m) => format!(
                            "project {}: at most {m} {} per transaction",
                            l.project_id, l.currency
                        ),
                        None => format!("project {}: no limit in {}", l.project_id, l.currency),
                    })
                }
                AdminCommand::User(UserCommand::Set {
                    user,
                    phone,
                    no_phone,
                    phone_confirmed,
                    identity_verified,
                    restricted,
                    person_type,
                    json,
                }) => {
                    let update = wallet_store::HolderUpdate {
                        phone: if no_phone {
                            Some(None)
                        } else {
                            phone.map(Some)
                        },
                        phone_confirmed,
                        identity_verified,
                        restricted,
                        person_type,
                    };
                    let h = operator::set_holder(&state, user, update).await?;
                    print(&h, json, |h| format!("{h:?}"))
                }
                AdminCommand::Wallet(WalletCommand::Set {
                    wallet,
                    active,
                    can_pay,
                    json,
                }) => {
                    let w = operator::set_wallet(&state, wallet, active, can_pay).await?;
                    print(&w, json, |w| {
                        format!(
                            "wallet {}: active {}, can pay {}",
                            w.wallet_id, w.active, w.can_pay
                        )
                    })
                }
                AdminCommand::Wallet(WalletCommand::Limit {
                    wallet,
                    currency,
                    max_amount,
                    period,
                    restriction,
                    none: _,
                    json,
                }) => {
                    let limits = operator::set_wallet_limit(
                        &state,
                        wallet,
                        &currency,
                        max_amount.as_deref(),
                        period,
                        restriction,
                    )
                    .await?;
                    print(&limits, json, |l| {
                        if l.is_empty() {
                            return format!("wallet {wallet}: no limits in {currency}");
                        }
                        l.iter()
                            .map(|l| {
                                format!(
                                    "{} limit: {} {} per {} s",
                                    l.kind, l.max_amount, l.currency, l.period_seconds
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                }
                AdminCommand::Sms(SmsCommand::List { phone, limit, json }) => {
                    let list = operator::sms_list(&state, phone.as_deref(), limit).await?;
                    print(&list, json, |l| {
                        if l.is_empty() {
                            return "no messages".into();
                        }
                        l.iter()
                            .map(|m| format!("#{} to {}: {}", m.id, m.phone, m.body))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                }
                AdminCommand::Sms(SmsCommand::Answer { phone, text, json }) => {
                    let t = crate::service::flash::answer(&state.store, state.now(), &phone, &text)
                        .await?;
                    print(&t, json, |t| {
                        format!("transaction {} is {}", t.transaction_key, t.status)
                    })
                }
                AdminCommand::Client(ClientCommand::Create {
                    project,
                    grants,
                    json,
                }) => {
                    let c = admin::create_client(&state, project, &grants).await?;
                    print(&c, json, |c| {
                        format!(
                            "WALLET_MAC_ID={} WALLET_MAC_SECRET={}",
                            c.mac_id, c.mac_secret
                        )
                    })
                }
            }
        }
    }
}
