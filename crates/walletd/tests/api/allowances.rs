//! Allowances: create, accept, activate, use by `reserve/{wallet}`, rolling windows, cancel.

use crate::helpers::{TestApp, call, code_of, one_payment, refused};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::Method;
use wallet_core::ids::WalletId;

const WEEK: i64 = 604_800;

fn weekly() -> Value {
    json!({
        "description": "Weekly services",
        "currency": "EUR",
        "max_price": 1500,
        "limits": [{"max_price": 3000, "time": WEEK}],
        "valid_for": 720
    })
}

async fn reserve_by_allowance(
    app: &TestApp,
    cents: i64,
    wallet: WalletId,
) -> Result<Value, wallet_client::Error> {
    let t = app.create(cents).await;
    app.client
        .request_json(
            Method::PUT,
            &format!("transaction/{}/reserve/{wallet}", t.transaction_key),
            None,
        )
        .await
}

async fn allowance_is_created_accepted_and_activated(app: TestApp) {
    let a = call(&app.client, Method::POST, "allowance", Some(weekly())).await;
    assert_eq!(a["status"], "new");
    assert_eq!(a["max_price"], 1500);
    assert_eq!(a["max_price_decimal"], "15.00");
    assert_eq!(
        a["limits"],
        json!([{"max_price": 3000, "max_price_decimal": "30.00", "time": WEEK}])
    );
    assert_eq!(a["valid"], json!({"for": 720 * 3600}));
    assert_eq!(a["valid_for"], 720);
    let id = a["id"].as_i64().unwrap();
    let key = a["transaction_key"].as_str().unwrap();
    let t = app.get(&format!("transaction/{key}")).await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["allowance"]["optional"], false);
    assert_eq!(t["allowance"]["data"]["id"], id);
    assert!(t.get("payments").is_none(), "{t}");
    // Nothing is active before the holder accepts and the client confirms.
    let active_path = format!("allowance/active/{}", app.alice());
    assert_eq!(app.get_error(&active_path).await, "no_active_allowance");
    // A reservation code cannot accept an allowance: only the holder can.
    assert_eq!(app.reserve_error(key, app.alice()).await, "invalid_state");
    let r = app.reserve_by_pin(key, app.alice(), "1234").await;
    assert_eq!(
        (r["status"].as_str(), r["type"].as_str()),
        (Some("reserved"), Some("pin"))
    );
    assert_eq!(r["allowance"]["data"]["status"], "new");
    assert_eq!(
        app.eur(app.alice()).await,
        (100_000, 0),
        "an allowance holds no money"
    );
    let now = app.clock_now();
    let confirm = format!("transaction/{key}/confirm");
    let t = call(&app.client, Method::PUT, &confirm, None).await;
    assert_eq!(t["status"], "confirmed");
    assert_eq!(t["allowance"]["data"]["status"], "active");
    let active = app.get(&active_path).await;
    assert_eq!(active["id"], id);
    assert_eq!(active["wallet"], app.alice().get());
    assert_eq!(active["valid_until"], now + 720 * 3600);
    assert_eq!(active["confirmed_at"], now);
    let got = app.get(&format!("allowance/{id}")).await;
    assert_eq!(got, active);
}
on_both!(allowance_is_created_accepted_and_activated);

async fn another_project_sees_no_allowance_and_canceling_ends_it(app: TestApp) {
    let id = app.activate_allowance(app.alice(), "1234", weekly()).await;
    let active_path = format!("allowance/active/{}", app.alice());
    // Another project sees nothing of it.
    let stranger = app.stranger(walletd::service::admin::ALL_GRANTS).await;
    assert_eq!(
        refused(&stranger, Method::GET, &format!("allowance/{id}"), None).await,
        "not_found"
    );
    assert_eq!(
        refused(&stranger, Method::GET, &active_path, None).await,
        "no_active_allowance"
    );
    // Canceling makes it inactive; it no longer authorises anything.
    let gone = call(&app.client, Method::DELETE, &active_path, None).await;
    assert_eq!(gone["status"], "inactive");
    assert_eq!(
        code_of(reserve_by_allowance(&app, 100, app.alice()).await),
        "no_active_allowance"
    );
    assert_eq!(
        refused(
            &app.client,
            Method::DELETE,
            &format!("allowance/{id}"),
            None
        )
        .await,
        "invalid_state"
    );
}
on_both!(another_project_sees_no_allowance_and_canceling_ends_it);

async fn unlimited_or_malformed_allowances_are_refused(app: TestApp) {
    let now = app.clock_now();
    for bad in [
        json!({"currency": "EUR"}),
        json!({"currency": "EUR", "max_price": 0}),
        json!({"currency": "EUR", "limits": [{"max_price": 100, "time": 0}]}),
        json!({"currency": "EURO", "max_price": 100}),
        json!({"currency": "EUR", "max_price": 100, "valid_for": 1, "valid_until": now + 10}),
    ] {
        assert_eq!(
            refused(&app.client, Method::POST, "allowance", Some(bad.clone())).await,
            "invalid_request",
            "{bad}"
        );
    }
}
on_both!(unlimited_or_malformed_allowances_are_refused);

async fn allowance_caps_each_transaction_and_its_rolling_window_exactly(app: TestApp) {
    app.activate_allowance(app.alice(), "1234", weekly()).await;
    let t0 = app.clock_now();
    let first = reserve_by_allowance(&app, 1_000, app.alice())
        .await
        .unwrap();
    assert_eq!(
        (first["status"].as_str(), first["type"].as_str()),
        (Some("reserved"), Some("automatic"))
    );
    assert_eq!(first["wallet"], app.alice().get());
    assert_eq!(app.eur(app.alice()).await, (99_000, 1_000));
    app.confirm(first["transaction_key"].as_str().unwrap())
        .await;
    // Above max_price per transaction.
    assert_eq!(
        code_of(reserve_by_allowance(&app, 1_501, app.alice()).await),
        "allowance_exceeded"
    );
    app.clock.advance(100);
    let second = reserve_by_allowance(&app, 1_500, app.alice())
        .await
        .unwrap();
    // Confirmed, so that it is still spent a week later (an expired reservation is not).
    app.confirm(second["transaction_key"].as_str().unwrap())
        .await;
    let limit = |currency: &str| format!("allowance/limit/{}?currency={currency}", app.alice());
    let eur = app.get(&limit("EUR")).await;
    assert_eq!(eur, json!({"amount": 500, "currency": "EUR"}));
    let usd = app.get(&limit("USD")).await;
    assert_eq!(usd, json!({"amount": 0, "currency": "USD"}));
    assert_eq!(
        code_of(reserve_by_allowance(&app, 501, app.alice()).await),
        "allowance_exceeded"
    );
    // The first spend leaves the window exactly one week after it was reserved.
    app.clock.set(t0 + WEEK - 1);
    assert_eq!(
        code_of(reserve_by_allowance(&app, 600, app.alice()).await),
        "allowance_exceeded"
    );
    app.clock.set(t0 + WEEK);
    let later = reserve_by_allowance(&app, 600, app.alice()).await.unwrap();
    assert_eq!(later["status"], "reserved");
    // The allowance is this client's: another client of the project has none.
    let other = app
        .another_client(walletd::service::admin::ALL_GRANTS)
        .await;
    let t = other.create_transaction(&one_payment(100)).await.unwrap();
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.alice());
    assert_eq!(
        refused(&other, Method::PUT, &path, None).await,
        "no_active_allowance"
    );
    app.assert_ledger_sound().await;
}
on_both!(allowance_caps_each_transaction_and_its_rolling_window_exactly);

/// The demo client's requests counted for rate limiting in the minute starting at `window` and the
/// next: a call between two readings counts in one of them, even if a minute starts meanwhile.
async fn requests_counted(app: &TestApp, window: i64) -> i64 {
    let mut tx = app.state.store.read().await.unwrap();
    let client = tx
        .client_by_mac_id(&app.demo.client.mac_id)
        .await
        .unwrap()
        .unwrap();
    let mut counted = 0;
    for start in [window, window + 60] {
        counted += tx.request_counts(client.id, start).await.unwrap().0;
    }
    counted
}

/// The start of the current minute, as rate limits count them (wall time).
fn this_minute() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now - now.rem_euclid(60)
}

async fn revoke_transactions_is_all_or_nothing(app: TestApp) {
    app.activate_allowance(app.alice(), "1234", weekly()).await;
    let old = reserve_by_allowance(&app, 1_500, app.alice())
        .await
        .unwrap();
    let old_key = old["transaction_key"].as_str().unwrap();
    reserve_by_allowance(&app, 1_500, app.alice())
        .await
        .unwrap();
    // The window is full: 30.00 reserved.
    let t = app.create(1_500).await;
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.alice());
    assert_eq!(
        refused(&app.client, Method::PUT, &path, None).await,
        "allowance_exceeded"
    );
    // One unknown key: nothing happens, the old reservation stays.
    let unknown = json!({"revoke_transactions": [old_key, "NoSuchKey123"]});
    assert_eq!(
        refused(&app.client, Method::PUT, &path, Some(unknown)).await,
        "not_found"
    );
    assert_eq!(app.status(old_key).await.as_str(), "reserved");
    assert_eq!(app.eur(app.alice()).await, (97_000, 3_000));
    // Revoking the old one frees its share of the window and its funds, in the same commit. The
    // release is a change to Alice's account, so this hold is checked at once, and on PostgreSQL
    // the request's rate count is written before her row is locked: counted once all the same.
    let window = this_minute();
    let before = requests_counted(&app, window).await;
    let revoke = json!({"revoke_transactions": [old_key]});
    let r = call(&app.client, Method::PUT, &path, Some(revoke)).await;
    assert_eq!(r["status"], "reserved");
    assert_eq!(requests_counted(&app, window).await - before, 1);
    assert_eq!(app.status(old_key).await.as_str(), "revoked");
    assert_eq!(app.eur(app.alice()).await, (97_000, 3_000));
    app.assert_ledger_sound().await;
}
on_both!(revoke_transactions_is_all_or_nothing);

async fn one_active_allowance_per_client_and_wallet(app: TestApp) {
    let first = app.activate_allowance(app.alice(), "1234", weekly()).await;
    let small = json!({"currency": "EUR", "max_price": 200});
    let second = app.activate_allowance(app.alice(), "1234", small).await;
    let a = app.get(&format!("allowance/{first}")).await;
    assert_eq!(a["status"], "inactive");
    let active_path = format!("allowance/active/{}", app.alice());
    let active = app.get(&active_path).await;
    assert_eq!(active["id"], second);
    assert_eq!(
        code_of(reserve_by_allowance(&app, 201, app.alice()).await),
        "allowance_exceeded"
    );
    // An existing allowance grouped by id leaves its own transaction, which is deleted.
    let a = call(&app.client, Method::POST, "allowance", Some(weekly())).await;
    let old_key = a["transaction_key"].as_str().unwrap();
    let mut body = serde_json::to_value(one_payment(700)).unwrap();
    body["allowance"] = json!({"id": a["id"], "optional": true});
    let t = call(&app.client, Method::POST, "transaction", Some(body)).await;
    assert_eq!(t["allowance"]["optional"], true);
    assert_eq!(
        t["allowance"]["data"]["transaction_key"],
        t["transaction_key"]
    );
    assert_eq!(app.status(old_key).await.as_str(), "deleted");
    // A transaction with an allowance cannot be reserved by another allowance.
    let key = t["transaction_key"].as_str().unwrap();
    let path = format!("transaction/{key}/reserve/{}", app.alice());
    assert_eq!(
        refused(&app.client, Method::PUT, &path, None).await,
        "invalid_state"
    );
    // Both id and data, or neither: refused.
    let mut both = serde_json::to_value(one_payment(100)).unwrap();
    both["allowance"] = json!({"id": a["id"], "data": weekly()});
    assert_eq!(
        refused(&app.client, Method::POST, "transaction", Some(both)).await,
        "invalid_request"
    );
    // Revoking the transaction deletes its new allowance.
    app.revoke(key).await;
    let path = format!("allowance/{}", a["id"]);
    let a = app.get(&path).await;
    assert_eq!(a["status"], "deleted");
}
on_both!(one_active_allowance_per_client_and_wallet);

async fn an_allowance_expires_at_valid_until(app: TestApp) {
    let hour = json!({"currency": "EUR", "max_price": 1000, "valid": {"for": 3600}});
    let id = app.activate_allowance(app.bob(), "4321", hour).await;
    reserve_by_allowance(&app, 100, app.bob()).await.unwrap();
    app.clock.advance(3600);
    assert_eq!(
        code_of(reserve_by_allowance(&app, 100, app.bob()).await),
        "no_active_allowance"
    );
    let a = app.get(&format!("allowance/{id}")).await;
    assert_eq!(a["status"], "inactive");
}
on_both!(an_allowance_expires_at_valid_until);
