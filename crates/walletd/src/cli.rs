//! The command line of DESIGN.md "Command-line contract".

use crate::clock::{SharedClock, SystemClock};
use crate::server::{Server, ServerConfig, shutdown_signal};
use crate::service::admin;
use crate::state::{AppState, load_code_key};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wallet_store::Store;

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
    /// Seconds between sweeps for expired reservations.
    #[arg(long, env = "WALLETD_SWEEP_SECONDS", default_value_t = 1)]
    pub sweep_seconds: u64,
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
    /// Projects (merchants, cash-out points).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// API clients of a project.
    #[command(subcommand)]
    Client(ClientCommand),
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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("walletd: cannot start the runtime: {e}");
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
    let clock: SharedClock = Arc::new(SystemClock);
    Ok(AppState {
        store,
        clock,
        code_key: Arc::new(code_key),
        default_port: 80,
    })
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

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = ServerConfig {
                listen: args.listen,
                database: cli.database,
                sweep_interval: Duration::from_secs(args.sweep_seconds.max(1)),
                default_port: args.default_port,
            };
            let server = Server::build(&config, Arc::new(SystemClock)).await?;
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
