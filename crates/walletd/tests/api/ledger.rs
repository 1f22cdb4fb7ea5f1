//! The ledger under concurrency: money is neither created, lost nor double-spent.

use crate::helpers::TestApp;
use crate::on_both;
use wallet_client::types::{Transaction, TransactionStatus};

/// Creates a transaction of `cents` and a code for Alice, then reserves it in a task of its own.
async fn spawn_reserve(
    app: &TestApp,
    cents: i64,
) -> tokio::task::JoinHandle<Result<Transaction, wallet_client::Error>> {
    let t = app.create(cents).await;
    let code = app.code(app.alice()).await;
    let client = app.client.clone();
    tokio::spawn(async move {
        client
            .reserve_with_code(&t.transaction_key, &code, None)
            .await
    })
}

/// How many of `jobs` reserved; every other one must have been refused with `not_enough_funds`.
async fn count_reserved(
    jobs: Vec<tokio::task::JoinHandle<Result<Transaction, wallet_client::Error>>>,
) -> i64 {
    let mut reserved = 0;
    for job in jobs {
        match job.await.unwrap() {
            Ok(t) => {
                assert_eq!(t.status, TransactionStatus::Reserved);
                reserved += 1;
            }
            Err(e) => assert_eq!(e.api_code(), Some("not_enough_funds"), "{e}"),
        }
    }
    reserved
}

async fn concurrent_reserves_succeed_exactly_as_funds_allow(app: TestApp) {
    // Alice has 1000.00; twelve tills try 300.00 each at once: exactly three may succeed.
    let mut jobs = Vec::new();
    for _ in 0..12 {
        jobs.push(spawn_reserve(&app, 30_000).await);
    }
    let reserved = count_reserved(jobs).await;
    assert_eq!(reserved, 3);
    assert_eq!(app.eur(app.alice()).await, (10_000, 90_000));
    app.assert_ledger_sound().await;
}
on_both!(concurrent_reserves_succeed_exactly_as_funds_allow);

async fn racing_confirms_and_revokes_resolve_a_hold_once(app: TestApp) {
    let mut keys = Vec::new();
    for _ in 0..6 {
        keys.push(app.reserved(1_000).await.transaction_key);
    }
    let mut jobs = Vec::new();
    for key in &keys {
        for confirm in [true, false, true] {
            let (client, key) = (app.client.clone(), key.clone());
            jobs.push(tokio::spawn(async move {
                if confirm {
                    client.confirm_transaction(&key, None).await
                } else {
                    client.revoke_transaction(&key).await
                }
            }));
        }
    }
    let mut wins = 0;
    for job in jobs {
        match job.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) => assert_eq!(e.api_code(), Some("invalid_state"), "{e}"),
        }
    }
    assert_eq!(
        wins,
        keys.len(),
        "each transaction is confirmed or revoked exactly once"
    );
    let mut confirmed = 0;
    for key in &keys {
        if app.status(key).await == TransactionStatus::Confirmed {
            confirmed += 1;
        }
    }
    assert_eq!(app.eur(app.alice()).await, (100_000 - confirmed * 1_000, 0));
    assert_eq!(
        app.eur(app.demo.project_wallet_id).await.0,
        confirmed * 1_000
    );
    app.assert_ledger_sound().await;
}
on_both!(racing_confirms_and_revokes_resolve_a_hold_once);

async fn reserves_racing_top_ups_hold_exactly_the_money_that_arrived(app: TestApp) {
    // Alice keeps 10.00 free; 24 tills of one client reserve 10.00 each while six top-ups of
    // 20.00 arrive. The top-ups are appended changes, so holds refuse on the row alone and fold
    // first, while other reserves of the same client hold its rate-count rows: every outcome is
    // `reserved` or `not_enough_funds`, never an error of the store (a deadlock, say).
    app.reserved(99_000).await;
    let mut reserves = Vec::new();
    for _ in 0..24 {
        reserves.push(spawn_reserve(&app, 1_000).await);
    }
    let mut top_ups = Vec::new();
    for _ in 0..6 {
        let (state, alice) = (app.state.clone(), app.alice());
        top_ups.push(tokio::spawn(async move {
            walletd::service::admin::top_up(&state, alice, "20.00", "EUR").await
        }));
    }
    for top_up in top_ups {
        top_up.await.unwrap().unwrap();
    }
    let mut reserved = count_reserved(reserves).await;
    // Then one at a time until the money is out: 130.00 in all makes exactly 13 holds of 10.00.
    loop {
        let t = app.create(1_000).await;
        let code = app.code(app.alice()).await;
        match app
            .client
            .reserve_with_code(&t.transaction_key, &code, None)
            .await
        {
            Ok(_) => reserved += 1,
            Err(e) => {
                assert_eq!(e.api_code(), Some("not_enough_funds"), "{e}");
                break;
            }
        }
    }
    assert_eq!(reserved, 13);
    assert_eq!(app.eur(app.alice()).await, (0, 99_000 + 13 * 1_000));
    app.assert_ledger_sound().await;
}
on_both!(reserves_racing_top_ups_hold_exactly_the_money_that_arrived);
