//! Frozen payments: held for the payer and shown as incoming for the beneficiary until the
//! freeze ends (done by itself), the client finalizes (maybe reduced), or cancels.

use crate::helpers::{TestApp, assert_error, call, frozen_for, goods, refused, signed, wait_until};
use crate::on_both;
use serde_json::json;
use std::time::Duration;
use wallet_client::Method;
use wallet_client::types::{NewTransaction, PaymentStatus, TransactionStatus};
use wallet_core::ids::{PaymentId, TransactionKey};

/// A confirmed transaction of a frozen 30.00 (one hour) and an unfrozen 20.00 payment.
async fn confirmed_with_freeze(app: &TestApp) -> (TransactionKey, PaymentId, PaymentId) {
    let req = NewTransaction {
        payments: vec![goods(3_000, frozen_for(3_600)), goods(2_000, None)],
        ..Default::default()
    };
    let t = app.reserved_with(&req).await;
    let c = app.confirm(&t.transaction_key).await;
    assert_eq!(c.status, TransactionStatus::Confirmed);
    assert_eq!(
        c.payments[0].status,
        PaymentStatus::Confirmed,
        "frozen payment waits"
    );
    assert_eq!(
        c.payments[0].freeze.as_ref().unwrap().until,
        Some(app.clock_now() + 3_600)
    );
    assert_eq!(c.payments[0].freeze_for, Some(1));
    assert_eq!(c.payments[1].status, PaymentStatus::Done);
    (t.transaction_key, c.payments[0].id, c.payments[1].id)
}

async fn a_freeze_ends_by_itself(app: TestApp) {
    let (_, frozen, _) = confirmed_with_freeze(&app).await;
    // Payer: 30.00 still reserved; beneficiary: 20.00 at disposal, 30.00 shown reserved.
    assert_eq!(app.eur(app.alice()).await, (100_000 - 5_000, 3_000));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (2_000, 3_000));
    app.assert_ledger_sound().await;
    app.clock.advance(3_600);
    let path = format!("payment/{frozen}");
    wait_until(
        "the freeze to end by itself",
        Duration::from_millis(2_500),
        || async {
            let p = call(&app.client, Method::GET, &path, None).await;
            (p["status"] == "done").then_some(())
        },
    )
    .await;
    assert_eq!(app.eur(app.alice()).await, (100_000 - 5_000, 0));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (5_000, 0));
    app.assert_ledger_sound().await;
}
on_both!(a_freeze_ends_by_itself);

async fn finalize_reduced_and_cancel(app: TestApp) {
    let (_, frozen, unfrozen) = confirmed_with_freeze(&app).await;
    let path = format!("payment/{frozen}/finalize");
    let higher = json!({"price": 3_001, "currency": "EUR"});
    assert_eq!(
        refused(&app.client, Method::PUT, &path, Some(higher)).await,
        "invalid_request"
    );
    let lower = json!({"price_decimal": "25.00", "currency": "EUR"});
    let p = call(&app.client, Method::PUT, &path, Some(lower)).await;
    assert_eq!(
        (p["status"].as_str(), p["price"].as_i64()),
        (Some("done"), Some(2_500))
    );
    assert_eq!(app.eur(app.alice()).await, (100_000 - 4_500, 0));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (4_500, 0));
    // Neither a done payment nor an unfrozen one can be finalized or canceled again.
    assert_eq!(
        refused(&app.client, Method::PUT, &path, None).await,
        "invalid_state"
    );
    let cancel = format!("payment/{unfrozen}");
    assert_eq!(
        refused(&app.client, Method::DELETE, &cancel, None).await,
        "invalid_state"
    );

    // Cancel: the money goes back to the payer; the other payment of the transaction stays done.
    let (key, frozen, unfrozen) = confirmed_with_freeze(&app).await;
    let cancel = format!("payment/{frozen}");
    let p = call(&app.client, Method::DELETE, &cancel, None).await;
    assert_eq!(p["status"], "canceled");
    assert_eq!(app.eur(app.alice()).await, (100_000 - 4_500 - 2_000, 0));
    let t = app.client.get_transaction(&key).await.unwrap();
    assert_eq!(t.status, TransactionStatus::Confirmed);
    assert_eq!(
        t.payments.iter().find(|p| p.id == unfrozen).unwrap().status,
        PaymentStatus::Done
    );
    app.assert_ledger_sound().await;
}
on_both!(finalize_reduced_and_cancel);

async fn freeze_periods_can_change(app: TestApp) {
    let (_, frozen, _) = confirmed_with_freeze(&app).await;
    let path = format!("/rest/v1/payment/{frozen}/freeze");
    let (status, p) = signed(&app, "PUT", &path, r#"{"freeze_for": 48}"#).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["freeze_until"], app.clock_now() + 48 * 3_600);
    let until = app.clock_now() + 600;
    let body = format!(r#"{{"freeze_until": {until}}}"#);
    let (status, p) = signed(&app, "PUT", &path, &body).await;
    assert_eq!((status, p["freeze_until"].as_i64()), (200, Some(until)));
    let past = signed(&app, "PUT", &path, r#"{"freeze_until": 1}"#).await;
    assert_error(&past, 400, "invalid_request"); // a past end is refused
    let (status, p) = signed(&app, "PUT", &path, r#"{"freeze_until": 0}"#).await;
    assert_eq!(
        (status, p["status"].as_str()),
        (200, Some("done")),
        "removing the freeze pays out now: {p}"
    );
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (5_000, 0));
    // Another project sees no such payment.
    let stranger = app.stranger("").await;
    assert_eq!(
        refused(&stranger, Method::GET, &format!("payment/{frozen}"), None).await,
        "not_found"
    );
    // Freezes are validated when the payment is created.
    let body = r#"{"payments":[{"price":100,"currency":"EUR","freeze_for":1,"freeze_until":99999999999}]}"#;
    let answer = signed(&app, "POST", "/rest/v1/transaction", body).await;
    assert_error(&answer, 400, "invalid_request");
    app.assert_ledger_sound().await;
}
on_both!(freeze_periods_can_change);
