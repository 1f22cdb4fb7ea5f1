//! `POST payment`, `GET payments`, `GET transactions`, renew, and canceling payments.

use crate::helpers::{
    TestApp, assert_error, call, code_of, issued, one_payment, refused, signed, signed_ok, strings,
};
use crate::on_both;
use serde_json::json;
use wallet_client::Method;
use wallet_client::types::{NewTransaction, PaymentRef, PaymentStatus, TransactionStatus};
use wallet_core::ids::PaymentId;

async fn payments_alone_and_regrouped(app: TestApp) {
    let p = signed_ok(
        &app,
        "POST",
        "/rest/v1/payment",
        r#"{"description":"alone","price_decimal":"3.10","currency":"EUR","parameters":{"x":1}}"#,
    )
    .await;
    assert_eq!(
        (p["status"].as_str(), p["price"].as_i64()),
        (Some("new"), Some(310))
    );
    let own_key = p["transaction_key"].as_str().unwrap();
    let t = app.client.get_transaction(&issued(own_key)).await.unwrap();
    assert_eq!(t.payments.len(), 1, "an automatic transaction of its own");
    let id = PaymentId::new(p["id"].as_i64().unwrap());
    assert_eq!(
        app.client.get_payment(id).await.unwrap().price_decimal,
        "3.10"
    );
    // Grouped into a new transaction, it leaves the old one.
    let grouped = app
        .create_with(&NewTransaction {
            payments: vec![PaymentRef::Id(id)],
            ..Default::default()
        })
        .await;
    assert_eq!(
        app.client.get_payment(id).await.unwrap().transaction_key,
        grouped.transaction_key
    );
    assert_eq!(app.status(own_key).await, TransactionStatus::Deleted);
    let zero = r#"{"price":0,"currency":"EUR"}"#;
    let answer = signed(&app, "POST", "/rest/v1/payment", zero).await;
    assert_error(&answer, 400, "invalid_request");
}
on_both!(payments_alone_and_regrouped);

async fn searches_page_newest_first(app: TestApp) {
    let mut keys = Vec::new();
    for i in 0..5 {
        keys.push(app.create(100 + i).await.transaction_key);
        app.clock.advance(1);
    }
    app.reserve(&keys[1], app.alice()).await;
    let page = app.get("transactions?limit=2&offset=1").await;
    assert_eq!(
        page["_metadata"],
        json!({"total": 5, "offset": 1, "limit": 2})
    );
    assert_eq!(
        strings(&page["transactions"], "transaction_key"),
        [keys[3].as_str(), keys[2].as_str()],
        "newest first"
    );
    let reserved = app.get("transactions?status=reserved%2Cconfirmed").await;
    assert_eq!(reserved["_metadata"]["total"], 1);
    assert_eq!(
        reserved["transactions"][0]["payments"][0]["status"],
        "reserved"
    );
    let by_wallet = app
        .get(&format!("transactions?wallet={}", app.alice()))
        .await;
    assert_eq!(by_wallet["_metadata"]["total"], 1);
    // A transaction's beneficiaries are its payments' (all five pay the project's wallet).
    let to = |wallet| format!("transactions?beneficiary={wallet}");
    let to_project = app.get(&to(app.demo.project_wallet_id)).await;
    assert_eq!(to_project["_metadata"]["total"], 5);
    assert_eq!(app.get(&to(app.bob())).await["_metadata"]["total"], 0);
    // Before the clock moves: a week later the reservation has failed.
    let payments = app
        .get(&format!("payments?status=reserved&wallet={}", app.alice()))
        .await;
    assert_eq!(payments["_metadata"]["total"], 1);
    assert_eq!(payments["payments"][0]["price"], 101);
    // `from` defaults to a week before `to`.
    app.clock.advance(8 * 86_400);
    let old = app.get("transactions").await;
    assert_eq!(old["_metadata"]["total"], 0);
    for bad in ["transactions?limit=201", "transactions?status=bogus"] {
        assert_eq!(app.get_error(bad).await, "invalid_request", "{bad}");
    }
    let beneficiary = app.demo.project_wallet_id;
    let to_project = app
        .get(&format!("payments?beneficiary={beneficiary}&limit=3"))
        .await;
    assert_eq!(
        (
            to_project["_metadata"]["total"].as_i64(),
            to_project["payments"].as_array().unwrap().len()
        ),
        (Some(5), 3)
    );
    // Another project sees none of them.
    let stranger = app.stranger("").await;
    let theirs = call(&stranger, Method::GET, "payments", None).await;
    assert_eq!(theirs["_metadata"]["total"], 0);
}
on_both!(searches_page_newest_first);

async fn renew_copies_a_revoked_transaction(app: TestApp) {
    let t = app.create(700).await;
    let renew = format!("transaction/renew/{}", t.transaction_key);
    assert_eq!(
        refused(&app.client, Method::POST, &renew, None).await,
        "invalid_state"
    );
    app.revoke(&t.transaction_key).await;
    let renewed = call(&app.client, Method::POST, &renew, None).await;
    assert_eq!(renewed["status"], "new");
    assert_ne!(renewed["transaction_key"], t.transaction_key.as_str());
    assert_ne!(
        renewed["payments"][0]["id"],
        t.payments[0].id.get(),
        "copies of the payments"
    );
    assert_eq!(renewed["payments"][0]["price"], 700);
    assert_eq!(
        app.status(&t.transaction_key).await,
        TransactionStatus::Deleted,
        "the old one stays"
    );
    app.assert_ledger_sound().await;
}
on_both!(renew_copies_a_revoked_transaction);

/// Canceling one reserved payment releases its hold only; the last one revokes the transaction.
async fn canceling_payments_releases_their_holds(app: TestApp) {
    let req = NewTransaction {
        payments: vec![
            one_payment(1_000).payments.remove(0),
            one_payment(2_000).payments.remove(0),
        ],
        ..Default::default()
    };
    let t = app.reserved_with(&req).await;
    assert_eq!(app.eur(app.alice()).await, (97_000, 3_000));
    let canceled = app.client.cancel_payment(t.payments[0].id).await.unwrap();
    assert_eq!(canceled.status, PaymentStatus::Canceled);
    assert_eq!(app.eur(app.alice()).await, (98_000, 2_000));
    let c = app.confirm(&t.transaction_key).await;
    assert_eq!(c.status, TransactionStatus::Confirmed);
    assert_eq!(
        app.eur(app.alice()).await,
        (98_000, 0),
        "only the remaining payment is paid"
    );
    assert_eq!(app.eur(app.demo.project_wallet_id).await.0, 2_000);
    assert_eq!(
        code_of(app.client.cancel_payment(t.payments[1].id).await),
        "invalid_state",
        "done payments stay done"
    );
    let t = app.create(500).await;
    app.client.cancel_payment(t.payments[0].id).await.unwrap();
    assert_eq!(
        app.status(&t.transaction_key).await,
        TransactionStatus::Deleted
    );
    app.assert_ledger_sound().await;
}
on_both!(canceling_payments_releases_their_holds);
