//! Reservation deadlines: a reserved transaction past `reserve.until` is `failed` and its funds return.

use crate::helpers::{TestApp, code_of, one_payment, reserved_for, wait_until};
use crate::on_both;
use std::time::Duration;
use wallet_client::types::{PaymentStatus, TransactionStatus};
use wallet_core::ids::TransactionKey;

/// A transaction of `cents` reserved by alice for `seconds`: its key.
async fn reserve(app: &TestApp, cents: i64, seconds: i64) -> TransactionKey {
    let req = reserved_for(one_payment(cents), seconds);
    app.reserved_with(&req).await.transaction_key
}

async fn a_read_after_the_deadline_shows_failed(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(59);
    assert_eq!(app.status(&key).await, TransactionStatus::Reserved);
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
    wait_until(
        "the funds to return within the sweep interval",
        Duration::from_millis(2_500),
        || async { (app.eur(app.alice()).await == (100_000, 0)).then_some(()) },
    )
    .await;
    let events = app.events(&key).await;
    assert_eq!(events.last().unwrap().1, "system");
    app.assert_ledger_sound().await;
}
on_both!(the_sweeper_releases_funds_without_a_read);

async fn confirm_after_the_deadline_fails(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(3_600);
    assert_eq!(
        code_of(app.client.confirm_transaction(&key, None).await),
        "invalid_state"
    );
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (0, 0));
}
on_both!(confirm_after_the_deadline_fails);

async fn another_project_cannot_learn_of_a_due_transaction(app: TestApp) {
    let key = reserve(&app, 2_500, 60).await;
    app.clock.advance(61);
    let stranger = app.stranger("reservation_code").await;
    assert_eq!(
        code_of(stranger.confirm_transaction(&key, None).await),
        "not_found"
    );
    assert_eq!(
        code_of(stranger.revoke_transaction(&key).await),
        "not_found"
    );
    assert_eq!(app.status(&key).await, TransactionStatus::Failed);
}
on_both!(another_project_cannot_learn_of_a_due_transaction);
