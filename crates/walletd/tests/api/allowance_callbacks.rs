//! Allowance callbacks: every change of an allowance the client did not make (the holder's
//! decision on the page, a deadline, the end of its validity) is queued in the outbox with the
//! change and delivered as `allowance.<status>`, the allowance as `GET allowance/{id}` shows it.

use crate::callbacks::{Receiver, verify};
use crate::helpers::{NOWHERE, TestApp, call};
use crate::on_both;
use crate::pages::{alice_on, confirm_path};
use serde_json::{Value, json};
use std::time::Duration;
use wallet_client::Method;

/// The (object, type) of the callbacks queued for `key`, oldest first.
async fn queued(app: &TestApp, key: &str) -> Vec<(String, String)> {
    let mut all: Vec<_> = app
        .callbacks_of(key)
        .await
        .into_iter()
        .map(|c| (c.object, c.event_type))
        .collect();
    all.reverse();
    all
}

fn allowance_of(list: &[(String, String)]) -> Vec<&str> {
    list.iter()
        .filter(|(o, _)| o == "allowance")
        .map(|(_, t)| t.as_str())
        .collect()
}

async fn with_allowance(app: &TestApp, optional: bool) -> String {
    let body = json!({
        "payments": [{"description": "First", "price": 300, "currency": "EUR"}],
        "allowance": {"data": {"currency": "EUR", "max_price": 2000}, "optional": optional},
        "callback_uri": NOWHERE,
    });
    let t = call(&app.client, Method::POST, "transaction", Some(body)).await;
    t["transaction_key"].as_str().unwrap().to_string()
}

async fn the_holders_decisions_call_back_for_the_allowance(app: TestApp) {
    // Declined: an optional allowance not ticked.
    let key = with_allowance(&app, true).await;
    let (mut b, csrf) = alice_on(&app, &key).await;
    b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(allowance_of(&queued(&app, &key).await), ["deleted"]);
    // Rejected with the transaction.
    let key = with_allowance(&app, false).await;
    b.get(&confirm_path(&key)).await;
    b.decide(&confirm_path(&key), &csrf, "reject").await;
    let all = queued(&app, &key).await;
    assert_eq!(allowance_of(&all), ["deleted"]);
    assert!(all.contains(&("transaction".into(), "rejected".into())));
    // Accepted and confirmed by the client: its own act, no allowance callback.
    let key = with_allowance(&app, false).await;
    b.get(&confirm_path(&key)).await;
    b.decide(&confirm_path(&key), &csrf, "accept").await;
    app.confirm(&key).await;
    assert!(allowance_of(&queued(&app, &key).await).is_empty());
}
on_both!(the_holders_decisions_call_back_for_the_allowance);

async fn the_clients_own_cancels_call_nothing_back(app: TestApp) {
    let a = call(
        &app.client,
        Method::POST,
        "allowance",
        Some(json!({"currency": "EUR", "max_price": 500})),
    )
    .await;
    call(
        &app.client,
        Method::DELETE,
        &format!("allowance/{}", a["id"]),
        None,
    )
    .await;
    let key = a["transaction_key"].as_str().unwrap();
    assert!(queued(&app, key).await.is_empty());
    let id = app
        .activate_allowance(
            app.alice(),
            "1234",
            json!({"currency": "EUR", "max_price": 500}),
        )
        .await;
    let wallet = app.alice().get();
    call(
        &app.client,
        Method::DELETE,
        &format!("allowance/active/{wallet}"),
        None,
    )
    .await;
    let a = call(&app.client, Method::GET, &format!("allowance/{id}"), None).await;
    assert_eq!(a["status"], "inactive");
    let key = a["transaction_key"].as_str().unwrap();
    assert!(allowance_of(&queued(&app, key).await).is_empty());
}
on_both!(the_clients_own_cancels_call_nothing_back);

/// Waits for the `n`th delivery and answers its event's name and allowance.
async fn delivered(app: &TestApp, receiver: &Receiver, n: usize) -> (String, Value) {
    let posts = receiver.wait_for(n).await;
    let event = verify(&app.base_url, &posts[n - 1]).await;
    (event.name(), event.data_as::<Value>().unwrap())
}

async fn expiry_and_deadlines_are_delivered_once(app: TestApp) {
    let receiver = Receiver::start(200).await;
    walletd::callbacks::set_project_callback(
        &app.state,
        app.demo.project_id,
        Some(&receiver.url("/allowances")),
    )
    .await
    .unwrap();
    // Valid for one hour from activation: then inactive, with its callback.
    let id = app
        .activate_allowance(
            app.alice(),
            "1234",
            json!({"currency": "EUR", "max_price": 500, "valid_for": 1}),
        )
        .await;
    assert!(
        receiver.posts().is_empty(),
        "activation was the client's confirm"
    );
    app.clock.advance(3_601);
    let (name, data) = delivered(&app, &receiver, 1).await;
    assert_eq!(name, "allowance.inactive");
    assert_eq!(data["id"], id);
    let shown = call(&app.client, Method::GET, &format!("allowance/{id}"), None).await;
    assert_eq!(data, shown, "the allowance as GET shows it");
    // An allowance whose transaction fails at its deadline is deleted, and said so.
    let a = call(
        &app.client,
        Method::POST,
        "allowance",
        Some(json!({"currency": "EUR", "max_price": 700})),
    )
    .await;
    let key = a["transaction_key"].as_str().unwrap();
    app.reserve_by_pin(key, app.alice(), "1234").await;
    app.clock.advance(86_401);
    let posts = receiver.wait_for(3).await;
    let mut names = Vec::new();
    for p in &posts[1..] {
        names.push(verify(&app.base_url, p).await.name());
    }
    names.sort();
    assert_eq!(names, ["allowance.deleted", "transaction.failed"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.posts().len(), 3, "each delivered once");
}
on_both!(expiry_and_deadlines_are_delivered_once);
