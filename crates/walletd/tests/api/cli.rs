//! The command-line contract, run as a separate process while the server runs on the same database.

use crate::helpers::{TestApp, one_payment};
use crate::on_both;
use std::process::Command;
use wallet_client::Client;
use wallet_core::ids::ProjectId;

async fn admin_commands_work_beside_a_running_server(app: TestApp) {
    let demo = app.walletd(&["demo", "--json"]);
    assert_eq!(
        demo["project_id"],
        app.demo.project_id.get(),
        "demo is idempotent"
    );
    assert_eq!(demo["client"]["mac_id"], app.demo.client.mac_id.as_str());
    assert_eq!(demo["users"].as_array().unwrap().len(), 2);

    let alice = app.alice().to_string();
    let balance = app.walletd(&[
        "admin",
        "top-up",
        "--wallet",
        &alice,
        "--amount",
        "10.50",
        "--currency",
        "EUR",
        "--json",
    ]);
    assert_eq!(balance["EUR"]["at_disposal"], 101_050);
    let balance = app.walletd(&["admin", "balance", "--wallet", &alice, "--json"]);
    assert_eq!(balance["EUR"]["at_disposal_decimal"], "1010.50");

    let project = app.walletd(&["admin", "project", "create", "--name", "Till 7", "--json"]);
    let project_id = project["project_id"].as_i64().unwrap();
    assert!(project["wallet_id"].as_i64().is_some());
    let project_arg = project_id.to_string();
    let creds = app.walletd(&[
        "admin",
        "client",
        "create",
        "--project",
        &project_arg,
        "--json",
    ]);
    // The running server knows the new client at once.
    let till = Client::new(
        &app.base_url,
        creds["mac_id"].as_str().unwrap(),
        creds["mac_secret"].as_str().unwrap(),
    )
    .unwrap();
    let t = till.create_transaction(&one_payment(5_000)).await.unwrap();
    assert_eq!(t.project_id, Some(ProjectId::new(project_id)));

    let code = app.walletd(&[
        "admin",
        "reservation-code",
        "--wallet",
        &alice,
        "--max-amount",
        "50.00",
        "--json",
    ]);
    let digits = code["reservation_code"].as_str().unwrap();
    assert_eq!(digits.len(), 28);
    assert_eq!(code["qr"], format!("PAYSERA${digits}"));
    assert_eq!(code["barcode"], format!("9999{digits}"));
    assert!(code["expires_at"].as_i64().unwrap() > walletd::clock::wall_now());
    let r = till
        .reserve_with_code(&t.transaction_key, digits, None)
        .await
        .unwrap();
    let c = till
        .confirm_transaction(&r.transaction_key, None)
        .await
        .unwrap();
    assert_eq!(c.payments[0].price_decimal, "50.00");
    let till_wallet = project["wallet_id"].to_string();
    let balance = app.walletd(&["admin", "balance", "--wallet", &till_wallet, "--json"]);
    assert_eq!(balance["EUR"]["at_disposal"], 5_000);
}
on_both!(admin_commands_work_beside_a_running_server);

#[test]
fn admin_errors_exit_non_zero_with_a_message() {
    let dir = std::env::temp_dir().join(format!(
        "walletd-cli-{}.db",
        wallet_core::keys::random_base62(&mut rand::rng(), 8)
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_walletd"))
        .args([
            "--database",
            &format!("sqlite://{}", dir.display()),
            "admin",
            "top-up",
            "--wallet",
            "42",
            "--amount",
            "1.234",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("decimal places"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `serve --cpu` names a CPU the process may run on, or the server does not start.
#[test]
fn serve_on_a_cpu_that_does_not_exist_refuses_to_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_walletd"))
        .args(["serve", "--cpu", "100000", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cpu 100000: this process may run on CPUs "),
        "{stderr}"
    );
}
