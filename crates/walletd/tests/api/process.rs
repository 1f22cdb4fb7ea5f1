//! `walletd serve` as a real process: graceful shutdown on SIGTERM, and no secret in its logs.

use crate::helpers::{one_payment, walletd_json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use wallet_client::Client;

/// `walletd serve` on `database`, logging everything (`RUST_LOG=trace`) into the returned log:
/// the process, its address once it listens, the log, and the thread that reads it.
fn serve_logging_everything(
    database: &str,
) -> (
    Child,
    String,
    Arc<Mutex<String>>,
    std::thread::JoinHandle<()>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walletd"))
        // Text, whose "walletd listening" line this reads: off a terminal JSON is the default.
        .args(["--database", database, "--log-format", "text", "serve"])
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let reader = {
        let log = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("walletd listening")
                    && let Some(addr) = line.split("addr=").nth(1)
                {
                    let _ = addr_tx.send(addr.trim().to_string());
                }
                log.lock().unwrap().push_str(&line);
                log.lock().unwrap().push('\n');
            }
        })
    };
    let addr = addr_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("server starts");
    (child, addr, log, reader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_no_secrets_and_stops_on_sigterm() {
    let database = wallet_store::testing::fresh_database(wallet_store::Backend::Sqlite).await;
    let demo = walletd_json(&database, &["demo", "--json"]);
    let alice = demo["users"][0]["wallet_id"].as_i64().unwrap().to_string();

    let (mut child, addr, log, reader) = serve_logging_everything(&database);
    let mac_id = demo["client"]["mac_id"].as_str().unwrap();
    let secret = demo["client"]["mac_secret"].as_str().unwrap();
    let client = Client::new(&format!("http://{addr}"), mac_id, secret).unwrap();
    let code = walletd_json(
        &database,
        &["admin", "reservation-code", "--wallet", &alice, "--json"],
    );
    let code = code["reservation_code"].as_str().unwrap().to_string();
    let eur = wallet_core::Currency::parse("EUR").unwrap();
    let done = client.cash_out(&code, 1_000, eur, "Cash").await.unwrap();
    assert_eq!(
        done.confirmed.status,
        wallet_client::types::TransactionStatus::Confirmed
    );
    // A wrong code is logged as a failure, not echoed.
    let t = client.create_transaction(&one_payment(100)).await.unwrap();
    let wrong = "9".repeat(28);
    assert!(
        client
            .reserve_with_code(&t.transaction_key, &wrong, None)
            .await
            .is_err()
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    reader.join().unwrap();
    assert!(exit.success(), "walletd did not stop cleanly: {exit:?}");
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("shutdown signal received") && log.contains("walletd stopped"),
        "{log}"
    );
    for (what, secret) in [
        ("MAC secret", secret),
        ("reservation code", code.as_str()),
        ("wrong code", wrong.as_str()),
        ("PIN hash input", "alice-demo-password"),
    ] {
        assert!(!log.contains(secret), "{what} appears in the log");
    }
    assert!(
        !log.contains("Authorization") && !log.contains("authorization:"),
        "headers are not logged"
    );
}
