//! Reservation deadlines: a reserved transaction past `reserve.until` is `failed` and its funds return.

use crate::helpers::{TestApp, code_of};
use crate::on_both;
use std::time::Duration;
use wallet_client::types::{PaymentStatus, Reserve, TransactionStatus};

async fn reserve(app: &TestApp, cents: i64, seconds: i64) -> String {
    let mut req = crate::helpers::one_payment(cents);
    req.reserve = Some(Reserve {
        for_seconds: Some(seconds),
        until: None,
    });
    let t = app.client.create_transaction(&req).await.unwrap();
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    t.transaction_key
}

async fn a_read_after_the_deadline_shows_failed(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(59);
    assert_eq!(
        app.client.get_transaction(&key).await.unwrap().status,
        TransactionStatus::Reserved
    );
    app.clock.advance(1);
    let t = app.client.get_transaction(&key).await.unwrap();
    assert_eq!(t.status, TransactionStatus::Failed);
    assert_eq!(t.payments[0].status, PaymentStatus::Failed);
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(
        code_of(app.client.confirm_transaction(&key, None).await),
        "invalid_state"
    );
    app.assert_ledger_sound().await;
}
on_both!(a_read_after_the_deadline_shows_failed);

async fn the_sweeper_releases_funds_without_a_read(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(61);
    let mut released = false;
    for _ in 0..50 {
        if app.eur(app.alice()).await == (100_000, 0) {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(released, "funds not returned within the sweep interval");
    let events = walletd::service::transactions::events(&app.state, &key)
        .await
        .unwrap();
    assert_eq!(events.last().unwrap().1, "system");
    app.assert_ledger_sound().await;
}
on_both!(the_sweeper_releases_funds_without_a_read);

async fn confirm_after_the_deadline_fails(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(3_600);
    let err = app
        .client
        .confirm_transaction(&key, None)
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("invalid_state"));
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (0, 0));
}
on_both!(confirm_after_the_deadline_fails);

async fn another_project_cannot_learn_of_a_due_transaction(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(61);
    let other = walletd::service::admin::create_project(&app.state, "other")
        .await
        .unwrap();
    let creds =
        walletd::service::admin::create_client(&app.state, other.project_id, "reservation_code")
            .await
            .unwrap();
    let stranger =
        wallet_client::Client::new(&app.base_url, &creds.mac_id, &creds.mac_secret).unwrap();
    assert_eq!(
        code_of(stranger.confirm_transaction(&key, None).await),
        "not_found"
    );
    assert_eq!(
        code_of(stranger.revoke_transaction(&key).await),
        "not_found"
    );
    assert_eq!(
        app.client.get_transaction(&key).await.unwrap().status,
        TransactionStatus::Failed
    );
}
on_both!(another_project_cannot_learn_of_a_due_transaction);
