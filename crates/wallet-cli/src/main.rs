//! `wallet`: the till and operator command line on the wallet-client SDK.
//!
//! `wallet cash-out --code … --amount 50.00` is the whole cash-out at a till (create → reserve with
//! the scanned code → confirm); the `transaction` and `wallet` commands are the single API calls,
//! for operators and for scripts (`--json` prints the API's JSON instead of a summary).
//!
//! Exit status: 0 success, 1 the API refused (its error code is printed), 2 bad input (nothing was
//! sent), 3 the API could not be reached or answered something unexpected.

mod output;

use clap::{Args, Parser, Subcommand};
use std::io::BufRead;
use std::process::ExitCode;
use wallet_client::types::{ConfirmPrice, ConfirmPrices, NewPayment, NewTransaction, PaymentRef};
use wallet_client::{Client, Error};
use wallet_core::ids::{TransactionKey, WalletId};
use wallet_core::money::{Currency, parse_decimal};

#[derive(Parser)]
#[command(
    name = "wallet",
    version,
    about = "Cash-out at the till and Wallet API calls, MAC-signed"
)]
struct Cli {
    /// Base URL of the Wallet API (endpoints are {url}/rest/v1/…).
    #[arg(
        long,
        env = "WALLET_URL",
        default_value = "http://127.0.0.1:8080",
        global = true,
        help_heading = "Connection"
    )]
    url: String,
    /// MAC id of the API client.
    #[arg(
        long,
        env = "WALLET_MAC_ID",
        global = true,
        help_heading = "Connection"
    )]
    mac_id: Option<String>,
    /// MAC secret of the API client. Prefer the environment variable: arguments are visible to
    /// other users in the process list.
    #[arg(
        long,
        env = "WALLET_MAC_SECRET",
        hide_env_values = true,
        global = true,
        help_heading = "Connection"
    )]
    mac_secret: Option<String>,
    /// Print the API's JSON answer instead of a human summary.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pay out cash against a reservation code: create, reserve with the code, confirm. Hand out
    /// the cash only when this succeeds.
    CashOut(CashOutArgs),
    /// Single transaction calls.
    #[command(subcommand)]
    Transaction(TransactionCommand),
    /// Wallet information.
    #[command(subcommand)]
    Wallet(WalletCommand),
}

#[derive(Args)]
struct CashOutArgs {
    /// The scanned code: QR text (PAYSERA$…), barcode text (9999…) or the 28 digits; `-` reads it
    /// from standard input (keeps it out of the process list and shell history).
    #[arg(long)]
    code: String,
    /// Amount as a decimal in the currency's units, e.g. 50.00.
    #[arg(long)]
    amount: String,
    /// ISO 4217 currency code.
    #[arg(long, default_value = "EUR")]
    currency: String,
    /// Payment description the wallet holder sees.
    #[arg(long, default_value = "Cash withdrawal")]
    description: String,
}

#[derive(Subcommand)]
enum TransactionCommand {
    /// Create a transaction with one payment to the project (status new).
    Create {
        /// Amount as a decimal, e.g. 12.99.
        #[arg(long)]
        amount: String,
        /// ISO 4217 currency code.
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Payment description.
        #[arg(long)]
        description: Option<String>,
        /// Where the confirmation page sends the holder's browser when they accept or reject
        /// (the API's `redirect_uri`).
        #[arg(long, value_name = "URI")]
        redirect_uri: Option<String>,
    },
    /// Show a transaction.
    Get {
        /// The transaction key.
        key: TransactionKey,
    },
    /// Reserve a transaction's money with a reservation code.
    Reserve {
        /// The transaction key.
        key: TransactionKey,
        /// The scanned code (QR text, barcode text or 28 digits); `-` reads it from standard input.
        #[arg(long)]
        code: String,
    },
    /// Confirm a reserved transaction, optionally at lower prices.
    Confirm {
        /// The transaction key.
        key: TransactionKey,
        /// PAYMENT_ID=AMOUNT: confirm that payment at this decimal amount (in its own currency).
        #[arg(long = "price", value_name = "PAYMENT_ID=AMOUNT")]
        prices: Vec<String>,
    },
    /// Revoke a transaction (releases a reservation; deletes a new transaction).
    Revoke {
        /// The transaction key.
        key: TransactionKey,
    },
    /// Ask the holder of a wallet to confirm a new transaction by FLASH SMS; it then waits with
    /// a correlation key (the holder answers by SMS or in the holder app).
    Flash {
        /// The transaction key.
        key: TransactionKey,
        /// The holder's wallet id.
        #[arg(long)]
        wallet: WalletId,
    },
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Show a wallet and its account.
    Get {
        /// The wallet id.
        id: WalletId,
    },
    /// Show a wallet's balance per currency.
    Balance {
        /// The wallet id.
        id: WalletId,
    },
}

/// Why the command failed, by who is to blame; decides the exit status.
enum Failure {
    /// Bad input; nothing was sent.
    Usage(String),
    /// An error from the client (API refusal, transport, decoding, local checks).
    Client(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Client(e)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => report(f, json),
    }
}

/// Prints a failure on stderr (and, with `--json`, an API error body on stdout) and picks the
/// exit status. Never prints the secret or a reservation code: neither is part of any error.
fn report(failure: Failure, json: bool) -> ExitCode {
    match failure {
        Failure::Usage(msg) => {
            eprintln!("wallet: {msg}");
            ExitCode::from(2)
        }
        Failure::Client(e) => {
            eprintln!("wallet: {}", output::error_line(&e));
            if json
                && let Error::Api {
                    status,
                    error,
                    description,
                } = &e
            {
                let body = serde_json::json!({
                    "error": error,
                    "error_description": description,
                    "status": status,
                });
                println!("{body}");
            }
            ExitCode::from(match e {
                Error::Api { .. } => 1,
                Error::InvalidCode | Error::Config(_) => 2,
                Error::Transport(_) | Error::Decode(_) => 3,
            })
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let client = connect(&cli)?;
    match cli.command {
        Command::CashOut(a) => cash_out(&client, a, cli.json).await,
        Command::Transaction(t) => transaction(&client, t, cli.json).await,
        Command::Wallet(w) => wallet(&client, w, cli.json).await,
    }
}

async fn cash_out(client: &Client, a: CashOutArgs, json: bool) -> Result<(), Failure> {
    let currency = currency(&a.currency)?;
    let amount = amount(&a.amount, currency)?;
    let code = read_code(&a.code)?;
    let done = client
        .cash_out(&code, amount, currency, &a.description)
        .await?;
    if json {
        print_json(&done.confirmed);
    } else {
        print!("{}", output::receipt(&done.confirmed, amount, currency));
    }
    Ok(())
}

async fn transaction(
    client: &Client,
    command: TransactionCommand,
    json: bool,
) -> Result<(), Failure> {
    let tx = match command {
        TransactionCommand::Create {
            amount: text,
            currency: code,
            description,
            redirect_uri,
        } => {
            let currency = currency(&code)?;
            let amount = amount(&text, currency)?;
            let payment = NewPayment {
                description,
                price: Some(amount),
                currency: currency.code().to_string(),
                ..NewPayment::default()
            };
            let tx = NewTransaction {
                payments: vec![PaymentRef::New(Box::new(payment))],
                redirect_uri,
                ..NewTransaction::default()
            };
            client.create_transaction(&tx).await?
        }
        TransactionCommand::Get { key } => client.get_transaction(&key).await?,
        TransactionCommand::Reserve { key, code } => {
            let code = read_code(&code)?;
            client.reserve_with_code(&key, &code, None).await?
        }
        TransactionCommand::Confirm { key, prices } => {
            let prices = if prices.is_empty() {
                None
            } else {
                Some(confirm_prices(client, &key, &prices).await?)
            };
            client.confirm_transaction(&key, prices.as_ref()).await?
        }
        TransactionCommand::Revoke { key } => client.revoke_transaction(&key).await?,
        TransactionCommand::Flash { key, wallet } => client.flash_transaction(&key, wallet).await?,
    };
    if json {
        print_json(&tx);
    } else {
        print!("{}", output::transaction(&tx));
    }
    Ok(())
}

async fn wallet(client: &Client, command: WalletCommand, json: bool) -> Result<(), Failure> {
    match command {
        WalletCommand::Get { id } => {
            let wallet = client.get_wallet(id).await?;
            if json {
                print_json(&wallet);
            } else {
                print!("{}", output::wallet(&wallet));
            }
        }
        WalletCommand::Balance { id } => {
            let balance = client.get_wallet_balance(id).await?;
            if json {
                print_json(&balance);
            } else {
                print!("{}", output::balance(id, &balance));
            }
        }
    }
    Ok(())
}

fn connect(cli: &Cli) -> Result<Client, Failure> {
    let id = cli
        .mac_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Failure::Usage("no MAC id: pass --mac-id or set WALLET_MAC_ID".into()))?;
    let secret = cli
        .mac_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Failure::Usage("no MAC secret: set WALLET_MAC_SECRET (or pass --mac-secret)".into())
        })?;
    // Every change is sent with an Idempotency-Key, so a call whose answer was lost (a timeout,
    // a cut connection) is retried safely: the server answers the retry with its first answer.
    Ok(Client::new(&cli.url, id, secret)?.with_retries(RETRIES))
}

/// How often a call whose answer was lost is retried.
const RETRIES: u32 = 3;

fn currency(code: &str) -> Result<Currency, Failure> {
    Currency::parse(code).map_err(|e| Failure::Usage(format!("--currency: {e}")))
}

/// A positive decimal amount in minor units; exponents, commas and too many decimals are refused
/// rather than rounded, because an amount of money must mean exactly what was typed.
fn amount(text: &str, currency: Currency) -> Result<i64, Failure> {
    let minor = parse_decimal(text.trim(), currency).map_err(|e| {
        Failure::Usage(format!(
            "--amount: {e}; write the amount like 50.00 (a '.' and at most {} decimals)",
            currency.exponent()
        ))
    })?;
    if minor <= 0 {
        return Err(Failure::Usage(format!(
            "--amount: {text:?} must be greater than zero"
        )));
    }
    Ok(minor)
}

/// The code argument, or one line of standard input for `-` (a scanner in keyboard mode).
fn read_code(arg: &str) -> Result<String, Failure> {
    let text = if arg == "-" {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::Usage(format!("cannot read the code from standard input: {e}"))
        })?;
        line
    } else {
        arg.to_string()
    };
    let text = text.trim();
    // Checked here too so that the message is about the input, not the API; the code is not echoed.
    if wallet_client::code::parse_scanned(text).is_none() {
        return Err(Failure::Client(Error::InvalidCode));
    }
    Ok(text.to_string())
}

/// `--price ID=AMOUNT` values as confirm prices, each in the currency of its payment (read from
/// the transaction), so the operator types amounts the way the receipt shows them.
async fn confirm_prices(
    client: &Client,
    key: &TransactionKey,
    args: &[String],
) -> Result<ConfirmPrices, Failure> {
    let mut wanted = Vec::new();
    for arg in args {
        let (id, text) = arg
            .split_once('=')
            .filter(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "--price {arg:?}: expected PAYMENT_ID=AMOUNT, e.g. 186975531=40.00"
                ))
            })?;
        wanted.push((id.to_string(), text.to_string()));
    }
    let tx = client.get_transaction(key).await?;
    let mut prices = ConfirmPrices::new();
    for (id, text) in wanted {
        let payment = tx
            .payments
            .iter()
            .find(|p| p.id.to_string() == id)
            .ok_or_else(|| Failure::Usage(format!("transaction {key} has no payment {id}")))?;
        let currency = Currency::parse(&payment.currency)
            .map_err(|e| Failure::Usage(format!("payment {id} has an unusable currency: {e}")))?;
        let minor = parse_decimal(text.trim(), currency)
            .map_err(|e| Failure::Usage(format!("--price {id}={text}: {e}")))?;
        if minor < 0 {
            return Err(Failure::Usage(format!(
                "--price {id}={text}: must not be negative"
            )));
        }
        prices.insert(
            id,
            ConfirmPrice {
                price: Some(minor),
                price_decimal: None,
                currency: currency.code().to_string(),
            },
        );
    }
    Ok(prices)
}

fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("wallet: cannot print the answer as JSON: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn amounts_are_exact_positive_decimals() {
        let eur = Currency::parse("EUR").unwrap();
        assert!(matches!(amount("50.00", eur), Ok(5000)));
        assert!(matches!(amount("50", eur), Ok(5000)));
        assert!(matches!(amount("0.05", eur), Ok(5)));
        for bad in ["5e1", "50,00", "50.001", "0", "-1", "", "abc", "1.", ".5"] {
            assert!(matches!(amount(bad, eur), Err(Failure::Usage(_))), "{bad}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert!(matches!(amount("500", jpy), Ok(500)));
        assert!(matches!(amount("500.5", jpy), Err(Failure::Usage(_))));
    }

    #[test]
    fn codes_are_checked_without_being_echoed() {
        assert_eq!(
            read_code(" PAYSERA$0154742514278159925679172111 ")
                .ok()
                .as_deref(),
            Some("PAYSERA$0154742514278159925679172111")
        );
        match read_code("12345") {
            Err(Failure::Client(e)) => assert!(!e.to_string().contains("12345")),
            _ => panic!("expected InvalidCode"),
        }
    }

    #[test]
    fn the_secret_is_not_shown_in_help() {
        let cmd = Cli::command();
        let secret = cmd
            .get_arguments()
            .find(|a| a.get_id() == "mac_secret")
            .unwrap();
        assert!(secret.is_hide_env_values_set());
    }
}
