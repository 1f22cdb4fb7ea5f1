//! The command line of DESIGN.md "Command-line contract": `walletd serve`, `walletd demo` and the
//! operators' `walletd admin …`, one module each; [`output`] prints their answers.

pub mod admin;
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
    /// Log format on stderr: `json` (one object a line) or `text`. Default: text when stderr is a
    /// terminal (coloured unless NO_COLOR is set), JSON otherwise.
    #[arg(long, global = true, env = "WALLETD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
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
    /// Print the OpenAPI 3.1 document of the API (what `GET /openapi.json` serves).
    Openapi,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// Logs to stderr at `RUST_LOG` (default `info`): as `format` says, else text on a terminal and
/// JSON elsewhere (a file, a pipe, a log collector). Colour only on a terminal, and not with
/// `NO_COLOR`: escape codes would fill a log file.
fn init_logging(format: Option<LogFormat>) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    let json = format.unwrap_or(if terminal {
        LogFormat::Text
    } else {
        LogFormat::Json
    }) == LogFormat::Json;
    if json {
        // The fields beside the level and message; the request's span (its id) once, not its list.
        builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
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
        Command::Openapi => {
            print!("{}", crate::http::openapi::document_json());
            Ok(())
        }
    }
}
