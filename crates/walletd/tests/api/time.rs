//! The sandbox clock (admin command and endpoint) and what happens with time.

use crate::helpers::{TestApp, code_of};
use crate::on_both;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use wallet_client::types::{Reserve, TransactionStatus};
use walletd::clock::SandboxClock;
use walletd::server::{Server, ServerConfig};

async fn new_transactions_are_deleted_after_a_month(app: TestApp) {
    let t = app.create(100).await;
    app.clock.advance(30 * 86_400 - 10);
    walletd::jobs::sweep_once(&app.state).await.unwrap();
    assert_eq!(
        app.client
            .get_transaction(&t.transaction_key)
            .await
            .unwrap()
            .status,
        TransactionStatus::New
    );
    app.clock.advance(10);
    walletd::jobs::sweep_once(&app.state).await.unwrap();
    let t = app
        .client
        .get_transaction(&t.transaction_key)
        .await
        .unwrap();
    assert_eq!(t.status, TransactionStatus::Deleted);
    let code = app.code(app.alice()).await;
    assert_eq!(
        code_of(
            app.client
                .reserve_with_code(&t.transaction_key, &code, None)
                .await
        ),
        "invalid_state"
    );
}
on_both!(new_transactions_are_deleted_after_a_month);

/// A server on the real sandbox clock (wall time + stored offset), with the admin endpoint on.
async fn sandbox_server(database: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        database: database.into(),
        sweep_interval: Duration::from_millis(100),
        default_port: 80,
        callback_retry_base: Duration::from_millis(50),
        callback_key_pem: None,
        admin_token: Some("s3cret-admin".into()),
        rate_limit_per_minute: 10_000,
        postgres_pool: wallet_store::DEFAULT_POSTGRES_POOL,
    };
    let server = Server::build(&config, Arc::new(SandboxClock::default()))
        .await
        .unwrap();
    let url = format!("http://{}", server.addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    (url, tx)
}

async fn moving_the_clock_fires_what_became_due(app: TestApp) {
    // A second server on the same database, on the sandbox clock.
    let (url, _stop) = sandbox_server(&app.database).await;
    let client =
        wallet_client::Client::new(&url, &app.demo.client.mac_id, &app.demo.client.mac_secret)
            .unwrap();
    let mut req = crate::helpers::one_payment(4_000);
    req.reserve = Some(Reserve {
        for_seconds: Some(600),
        until: None,
    });
    let t = client.create_transaction(&req).await.unwrap();
    let code =
        walletd::service::admin::issue_code(&app.state, app.alice(), None, "EUR", Some(86_400))
            .await
            .unwrap();
    client
        .reserve_with_code(&t.transaction_key, &code.reservation_code, None)
        .await
        .unwrap();
    assert_eq!(app.eur(app.alice()).await.1, 4_000);

    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{url}/admin/v1/clock/advance"))
        .json(&serde_json::json!({"seconds": 700}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401, "no token");
    let wrong = http
        .post(format!("{url}/admin/v1/clock/advance"))
        .bearer_auth("guess")
        .json(&serde_json::json!({"seconds": 700}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let moved = http
        .post(format!("{url}/admin/v1/clock/advance"))
        .bearer_auth("s3cret-admin")
        .json(&serde_json::json!({"seconds": 700}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 200);
    let reading: serde_json::Value = moved.json().await.unwrap();
    assert_eq!(reading["offset_seconds"], 700);
    // The endpoint swept at once: the funds are back before any read.
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(
        client
            .get_transaction(&t.transaction_key)
            .await
            .unwrap()
            .status,
        TransactionStatus::Failed
    );

    // The command moves it too (from another process), and the server follows.
    let out = Command::new(env!("CARGO_BIN_EXE_walletd"))
        .args([
            "--database",
            &app.database,
            "admin",
            "clock",
            "advance",
            "--seconds",
            "30",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reading: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reading["offset_seconds"], 730);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = http
        .get(format!("{url}/admin/v1/clock"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .unwrap();
    let seen: serde_json::Value = seen.json().await.unwrap();
    assert_eq!(seen["offset_seconds"], 730);
    let skew = seen["now"].as_i64().unwrap() - walletd::clock::wall_now();
    assert!(
        (729..=731).contains(&skew),
        "business time is wall time + offset: {skew}"
    );
}
on_both!(moving_the_clock_fires_what_became_due);

#[tokio::test]
async fn without_a_token_the_admin_endpoints_do_not_exist() {
    let app = crate::helpers::spawn_app(wallet_store::Backend::Sqlite).await;
    let resp = reqwest::Client::new()
        .post(app.url("/admin/v1/clock/advance"))
        .bearer_auth("anything")
        .json(&serde_json::json!({"seconds": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}
