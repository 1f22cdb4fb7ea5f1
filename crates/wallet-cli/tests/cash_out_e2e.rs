//! The README walkthrough, for real: a walletd with demo data, a code from the holder, and
//! `wallet cash-out` creating, reserving and confirming over HTTP.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use walletd::clock::SystemClock;
use walletd::server::{Server, ServerConfig};
use walletd::service::admin;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_cash_out_against_a_real_walletd() {
    for backend in wallet_store::testing::backends() {
        let config = ServerConfig {
            listen: "127.0.0.1:0".into(),
            database: wallet_store::testing::fresh_database(backend).await,
            sweep_interval: Duration::from_secs(1),
            default_port: 80,
            callback_retry_base: Duration::from_millis(50),
            callback_key_pem: None,
            admin_token: None,
            metrics_token: None,
            rate_limit_per_minute: 10_000,
            postgres_pool: wallet_store::DEFAULT_POSTGRES_POOL,
            limits: Default::default(),
        };
        let server = Server::build(&config, Arc::new(SystemClock)).await.unwrap();
        let url = format!("http://{}", server.addr());
        let state = server.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let demo = admin::demo(&state).await.unwrap();
        let alice = demo.users[0].wallet_id;
        let code = admin::issue_code(&state, alice, None, "EUR", None)
            .await
            .unwrap();

        let env = [
            url.clone(),
            demo.client.mac_id.clone(),
            demo.client.mac_secret.clone(),
        ];
        let args: Vec<String> = [
            "cash-out",
            "--code",
            &code.barcode,
            "--amount",
            "50.00",
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = run_wallet(env.clone(), args.clone()).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{backend:?}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(t["status"], "confirmed");
        assert_eq!(t["type"], "reservation_code");
        assert_eq!(t["wallet"], alice.get());
        assert_eq!(t["payments"][0]["price_decimal"], "50.00");
        assert!(
            !stdout.contains(&code.reservation_code),
            "the code is never printed"
        );
        let balance = admin::balance(&state, alice).await.unwrap();
        assert_eq!(balance["EUR"].at_disposal, 100_000 - 5_000);
        assert_eq!(
            admin::balance(&state, demo.project_wallet_id)
                .await
                .unwrap()["EUR"]
                .at_disposal,
            5_000
        );

        // The same code cannot be cashed out twice.
        let again = run_wallet(env, args).await;
        assert!(!again.status.success());
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("invalid_code"),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        let _ = stop.send(());
        running.await.unwrap().unwrap();
    }
}

/// Runs the `wallet` binary off the async runtime, with the client's credentials in its environment.
async fn run_wallet(env: [String; 3], args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_wallet"))
            .args(&args)
            .env("WALLET_URL", &env[0])
            .env("WALLET_MAC_ID", &env[1])
            .env("WALLET_MAC_SECRET", &env[2])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}
