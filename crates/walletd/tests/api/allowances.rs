//! Allowances: create, accept, activate, use by `reserve/{wallet}`, rolling windows, cancel.

use crate::helpers::{TestApp, code_of, one_payment};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::{Client, Method};

const WEEK: i64 = 604_800;

async fn call(client: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    client
        .request_json(method, path, body.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

async fn refused(client: &Client, method: Method, path: &str, body: Option<Value>) -> String {
    code_of(client.request_json(method, path, body.as_ref()).await)
}

/// Creates an allowance, has `wallet`'s holder accept it with her PIN, and confirms it: active.
async fn activate(client: &Client, wallet: i64, pin: &str, allowance: Value) -> i64 {
    let a = call(client, Method::POST, "allowance", Some(allowance)).await;
    let key = a["transaction_key"].as_str().unwrap().to_string();
    call(
        client,
        Method::PUT,
        &format!("transaction/{key}/reserve/{wallet}"),
        Some(json!({"pin": pin})),
    )
    .await;
    let t = call(
        client,
        Method::PUT,
        &format!("transaction/{key}/confirm"),
        None,
    )
    .await;
    assert_eq!(t["status"], "confirmed");
    a["id"].as_i64().unwrap()
}

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
    wallet: i64,
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
    let key = a["transaction_key"].as_str().unwrap().to_string();
    let t = call(
        &app.client,
        Method::GET,
        &format!("transaction/{key}"),
        None,
    )
    .await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["allowance"]["optional"], false);
    assert_eq!(t["allowance"]["data"]["id"], id);
    assert!(t.get("payments").is_none(), "{t}");
    // Nothing is active before the holder accepts and the client confirms.
    assert_eq!(
        refused(
            &app.client,
            Method::GET,
            &format!("allowance/active/{}", app.alice()),
            None
        )
        .await,
        "no_active_allowance"
    );
    // A reservation code cannot accept an allowance: only the holder can.
    let code = app.code(app.alice()).await;
    assert_eq!(
        code_of(app.client.reserve_with_code(&key, &code, None).await),
        "invalid_state"
    );
    let r = call(
        &app.client,
        Method::PUT,
        &format!("transaction/{key}/reserve/{}", app.alice()),
        Some(json!({"pin": "1234"})),
    )
    .await;
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
    let t = call(
        &app.client,
        Method::PUT,
        &format!("transaction/{key}/confirm"),
        None,
    )
    .await;
    assert_eq!(t["status"], "confirmed");
    assert_eq!(t["allowance"]["data"]["status"], "active");
    let active = call(
        &app.client,
        Method::GET,
        &format!("allowance/active/{}", app.alice()),
        None,
    )
    .await;
    assert_eq!(active["id"], id);
    assert_eq!(active["wallet"], app.alice());
    assert_eq!(active["valid_until"], now + 720 * 3600);
    assert_eq!(active["confirmed_at"], now);
    let got = call(&app.client, Method::GET, &format!("allowance/{id}"), None).await;
    assert_eq!(got, active);
    // Another project sees nothing of it.
    let stranger = app.stranger(walletd::service::admin::ALL_GRANTS).await;
    assert_eq!(
        refused(&stranger, Method::GET, &format!("allowance/{id}"), None).await,
        "not_found"
    );
    assert_eq!(
        refused(
            &stranger,
            Method::GET,
            &format!("allowance/active/{}", app.alice()),
            None
        )
        .await,
        "no_active_allowance"
    );
    // Canceling makes it inactive; it no longer authorises anything.
    let gone = call(
        &app.client,
        Method::DELETE,
        &format!("allowance/active/{}", app.alice()),
        None,
    )
    .await;
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
    // Unlimited or malformed allowances are refused.
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
on_both!(allowance_is_created_accepted_and_activated);

async fn allowance_caps_each_transaction_and_its_rolling_window_exactly(app: TestApp) {
    activate(&app.client, app.alice(), "1234", weekly()).await;
    let t0 = app.clock_now();
    let first = reserve_by_allowance(&app, 1_000, app.alice())
        .await
        .unwrap();
    assert_eq!(
        (first["status"].as_str(), first["type"].as_str()),
        (Some("reserved"), Some("automatic"))
    );
    assert_eq!(first["wallet"], app.alice());
    assert_eq!(app.eur(app.alice()).await, (99_000, 1_000));
    let key = first["transaction_key"].as_str().unwrap();
    app.client.confirm_transaction(key, None).await.unwrap();
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
    let second_key = second["transaction_key"].as_str().unwrap();
    app.client
        .confirm_transaction(second_key, None)
        .await
        .unwrap();
    let limit = call(
        &app.client,
        Method::GET,
        &format!("allowance/limit/{}?currency=EUR", app.alice()),
        None,
    )
    .await;
    assert_eq!(limit, json!({"amount": 500, "currency": "EUR"}));
    let usd = call(
        &app.client,
        Method::GET,
        &format!("allowance/limit/{}?currency=USD", app.alice()),
        None,
    )
    .await;
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
    let creds = walletd::service::admin::create_client(
        &app.state,
        app.demo.project_id,
        walletd::service::admin::ALL_GRANTS,
    )
    .await
    .unwrap();
    let other = Client::new(&app.base_url, &creds.mac_id, &creds.mac_secret).unwrap();
    let t = other.create_transaction(&one_payment(100)).await.unwrap();
    assert_eq!(
        refused(
            &other,
            Method::PUT,
            &format!("transaction/{}/reserve/{}", t.transaction_key, app.alice()),
            None
        )
        .await,
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
    activate(&app.client, app.alice(), "1234", weekly()).await;
    let old = reserve_by_allowance(&app, 1_500, app.alice())
        .await
        .unwrap();
    let old_key = old["transaction_key"].as_str().unwrap().to_string();
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
    assert_eq!(
        refused(
            &app.client,
            Method::PUT,
            &path,
            Some(json!({"revoke_transactions": [old_key, "NoSuchKey123"]}))
        )
        .await,
        "not_found"
    );
    assert_eq!(
        app.client
            .get_transaction(&old_key)
            .await
            .unwrap()
            .status
            .as_str(),
        "reserved"
    );
    assert_eq!(app.eur(app.alice()).await, (97_000, 3_000));
    // Revoking the old one frees its share of the window and its funds, in the same commit. The
    // release is a change to Alice's account, so this hold is checked at once, and on PostgreSQL
    // the request's rate count is written before her row is locked: counted once all the same.
    let window = this_minute();
    let before = requests_counted(&app, window).await;
    let r = call(
        &app.client,
        Method::PUT,
        &path,
        Some(json!({"revoke_transactions": [old_key]})),
    )
    .await;
    assert_eq!(r["status"], "reserved");
    assert_eq!(requests_counted(&app, window).await - before, 1);
    assert_eq!(
        app.client
            .get_transaction(&old_key)
            .await
            .unwrap()
            .status
            .as_str(),
        "revoked"
    );
    assert_eq!(app.eur(app.alice()).await, (97_000, 3_000));
    app.assert_ledger_sound().await;
}
on_both!(revoke_transactions_is_all_or_nothing);

async fn one_active_allowance_per_client_and_wallet(app: TestApp) {
    let first = activate(&app.client, app.alice(), "1234", weekly()).await;
    let second = activate(
        &app.client,
        app.alice(),
        "1234",
        json!({"currency": "EUR", "max_price": 200}),
    )
    .await;
    let a = call(
        &app.client,
        Method::GET,
        &format!("allowance/{first}"),
        None,
    )
    .await;
    assert_eq!(a["status"], "inactive");
    let active = call(
        &app.client,
        Method::GET,
        &format!("allowance/active/{}", app.alice()),
        None,
    )
    .await;
    assert_eq!(active["id"], second);
    assert_eq!(
        code_of(reserve_by_allowance(&app, 201, app.alice()).await),
        "allowance_exceeded"
    );
    // An existing allowance grouped by id leaves its own transaction, which is deleted.
    let a = call(&app.client, Method::POST, "allowance", Some(weekly())).await;
    let old_key = a["transaction_key"].as_str().unwrap().to_string();
    let mut body = serde_json::to_value(one_payment(700)).unwrap();
    body["allowance"] = json!({"id": a["id"], "optional": true});
    let t = call(&app.client, Method::POST, "transaction", Some(body)).await;
    assert_eq!(t["allowance"]["optional"], true);
    assert_eq!(
        t["allowance"]["data"]["transaction_key"],
        t["transaction_key"]
    );
    assert_eq!(
        app.client
            .get_transaction(&old_key)
            .await
            .unwrap()
            .status
            .as_str(),
        "deleted"
    );
    // A transaction with an allowance cannot be reserved by another allowance.
    let key = t["transaction_key"].as_str().unwrap();
    assert_eq!(
        refused(
            &app.client,
            Method::PUT,
            &format!("transaction/{key}/reserve/{}", app.alice()),
            None
        )
        .await,
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
    app.client.revoke_transaction(key).await.unwrap();
    let a = call(
        &app.client,
        Method::GET,
        &format!("allowance/{}", a["id"]),
        None,
    )
    .await;
    assert_eq!(a["status"], "deleted");
}
on_both!(one_active_allowance_per_client_and_wallet);

async fn an_allowance_expires_at_valid_until(app: TestApp) {
    let id = activate(
        &app.client,
        app.bob(),
        "4321",
        json!({"currency": "EUR", "max_price": 1000, "valid": {"for": 3600}}),
    )
    .await;
    reserve_by_allowance(&app, 100, app.bob()).await.unwrap();
    app.clock.advance(3600);
    assert_eq!(
        code_of(reserve_by_allowance(&app, 100, app.bob()).await),
        "no_active_allowance"
    );
    let a = call(&app.client, Method::GET, &format!("allowance/{id}"), None).await;
    assert_eq!(a["status"], "inactive");
}
on_both!(an_allowance_expires_at_valid_until);
