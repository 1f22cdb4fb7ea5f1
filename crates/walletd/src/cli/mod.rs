//! The command line of DESIGN.md "Command-line contract": `walletd serve`, `walletd demo` and the
//! operators' `walletd admin …`, one module each; [`output`] prints their answers.

mod admin;
mod output;
mod serve;

pub use admin::{
    AdminCommand, CallbacksCommand, ClientCommand, ClockCommand, ProjectCommand, SmsCommand,
    UserCommand, WalletCommand,
};
pub use serve::ServeArgs;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

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
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
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
    let runtime = match serve::runtime(&cli) {
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

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::serve(args, cli.database).await,
        Command::Demo(flag) => admin::demo(&cli.database, flag.json).await,
        Command::Admin(cmd) => admin::run(cmd, &cli.database).await,
    }
}
