//! The sandbox clock (admin command and endpoint) and what happens with time.

use crate::helpers::{TestApp, reserved_for, start_server, test_config};
use crate::on_both;
use std::time::Duration;
use wallet_client::types::TransactionStatus;
use walletd::clock::SandboxClock;
use walletd::server::ServerConfig;

async fn new_transactions_are_deleted_after_a_month(app: TestApp) {
    let t = app.create(100).await;
    let key = &t.transaction_key;
    app.clock.advance(30 * 86_400 - 10);
    app.sweep().await;
    assert_eq!(app.status(key).await, TransactionStatus::New);
    app.clock.advance(10);
    app.sweep().await;
    assert_eq!(app.status(key).await, TransactionStatus::Deleted);
    assert_eq!(app.reserve_error(key, app.alice()).await, "invalid_state");
}
on_both!(new_transactions_are_deleted_after_a_month);

const ADMIN_TOKEN: &str = "s3cret-admin";

/// `POST {url}/admin/v1/clock/advance` by `seconds`, with `token` as the bearer if any.
async fn advance_over_http(url: &str, token: Option<&str>, seconds: i64) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/admin/v1/clock/advance"))
        .json(&serde_json::json!({"seconds": seconds}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn moving_the_clock_fires_what_became_due(app: TestApp) {
    // A second server on the same database, on the real sandbox clock (wall time + stored
    // offset), with the admin endpoint on.
    let config = ServerConfig {
        admin_token: Some(ADMIN_TOKEN.into()),
        ..test_config(&app.database)
    };
    let sandbox = start_server(&config, SandboxClock::default()).await;
    let client = app.client_at(&sandbox.url);
    let req = reserved_for(crate::helpers::one_payment(4_000), 600);
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

    let refused = advance_over_http(&sandbox.url, None, 700).await;
    assert_eq!(refused.status().as_u16(), 401, "no token");
    let wrong = advance_over_http(&sandbox.url, Some("guess"), 700).await;
    assert_eq!(wrong.status().as_u16(), 401);
    let moved = advance_over_http(&sandbox.url, Some(ADMIN_TOKEN), 700).await;
    assert_eq!(moved.status().as_u16(), 200);
    let reading: serde_json::Value = moved.json().await.unwrap();
    assert_eq!(reading["offset_seconds"], 700);
    // Not past a century ahead, nor round the end of i64: refused, and the clock stays.
    for seconds in [i64::MAX, walletd::service::lifecycle::MAX_CLOCK_OFFSET_SECS] {
        let far = advance_over_http(&sandbox.url, Some(ADMIN_TOKEN), seconds).await;
        assert_eq!(far.status().as_u16(), 400, "{seconds}");
    }
    // The endpoint swept at once: the funds are back before any read.
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    let status = client.get_transaction(&t.transaction_key).await.unwrap();
    assert_eq!(status.status, TransactionStatus::Failed);

    // The command moves it too (from another process), and the server follows.
    let reading = app.walletd(&["admin", "clock", "advance", "--seconds", "30", "--json"]);
    assert_eq!(reading["offset_seconds"], 730);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = reqwest::Client::new()
        .get(format!("{}/admin/v1/clock", sandbox.url))
        .bearer_auth(ADMIN_TOKEN)
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
    let resp = advance_over_http(&app.base_url, Some("anything"), 5).await;
    assert_eq!(resp.status().as_u16(), 404);
}
