//! Payment passwords: a reserved transaction with a payment whose password is awaited waits in
//! `waiting_password`, the money held on the payer, until the client (`PUT
//! transaction/{key}/password`) or the beneficiary on her page gives it; wrong ones are limited
//! as PINs are; revoke, the deadline, `optional` and `cancelable`; misuse.

use crate::browser::Browser;
use crate::helpers::{NOWHERE, TestApp, call, refused};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::Method;

const SECRET: &str = "open sesame";

/// A payment of `cents` to bob, with `password` (`null` for none).
fn to_bob(app: &TestApp, cents: i64, password: Value) -> Value {
    json!({"description": "gift", "price": cents, "currency": "EUR",
        "beneficiary": {"id": app.bob()}, "password": password})
}

fn provided(extra: Value) -> Value {
    let mut p = json!({"type": "provided", "value": SECRET});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// `POST transaction` of `payments`, with callbacks queued and `extra` fields; its key.
async fn create(app: &TestApp, payments: Vec<Value>, extra: Value) -> (String, Value) {
    let mut body = json!({"payments": payments, "callback_uri": NOWHERE});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let t = call(&app.client, Method::POST, "transaction", Some(body)).await;
    (t["transaction_key"].as_str().unwrap().to_string(), t)
}

/// One payment of `cents` to bob with an awaited password; reserved by alice's code.
async fn waiting(app: &TestApp, cents: i64, extra: Value) -> (String, i64) {
    let (key, t) = create(app, vec![to_bob(app, cents, provided(json!({})))], extra).await;
    let r = app.reserve(&key, app.alice()).await;
    assert_eq!(r.status.as_str(), "waiting_password");
    (key, t["payments"][0]["id"].as_i64().unwrap())
}

async fn refused_without_body(app: &TestApp, method: Method, path: String) -> String {
    refused(&app.client, method, &path, None).await
}

fn give_path(key: &str) -> String {
    format!("transaction/{key}/password")
}

async fn give(app: &TestApp, key: &str, payment: i64, password: &str) -> Value {
    let body = json!({"payment_id": payment, "password": password});
    call(&app.client, Method::PUT, &give_path(key), Some(body)).await
}

async fn give_error(app: &TestApp, key: &str, body: Value) -> String {
    refused(&app.client, Method::PUT, &give_path(key), Some(body)).await
}

async fn a_payment_waits_for_its_password_and_the_client_gives_it(app: TestApp) {
    let (key, t) = create(
        &app,
        vec![to_bob(&app, 1_000, provided(json!({})))],
        json!({}),
    )
    .await;
    assert_eq!(
        t["payments"][0]["password"],
        json!({"type": "provided", "status": "pending", "optional": false, "cancelable": false})
    );
    assert!(!t.to_string().contains(SECRET), "{t}");
    let r = app.reserve(&key, app.alice()).await;
    assert_eq!(r.status.as_str(), "waiting_password");
    let seen = app.get(&format!("transaction/{key}")).await;
    assert_eq!(seen["payments"][0]["status"], "waiting_password");
    assert!(!seen.to_string().contains(SECRET));
    assert_eq!(app.eur(app.alice()).await, (100_000 - 1_000, 1_000));
    assert_eq!(
        refused_without_body(&app, Method::PUT, format!("transaction/{key}/confirm")).await,
        "invalid_state"
    );
    assert_eq!(app.callback_types(&key).await, ["waiting_password"]);
    let payment = seen["payments"][0]["id"].as_i64().unwrap();
    let wrong = json!({"payment_id": payment, "password": "open sesame!"});
    assert_eq!(give_error(&app, &key, wrong).await, "invalid_code");
    // Through the SDK's call.
    let id = wallet_core::ids::PaymentId::new(payment);
    let t = app
        .client
        .give_password(&r.transaction_key, id, SECRET)
        .await
        .unwrap();
    assert_eq!(t.status.as_str(), "reserved");
    let shown = t.payments[0].password.unwrap();
    assert_eq!(shown.status, wallet_client::types::PasswordStatus::Unlocked);
    // The client's own change: no callback.
    assert_eq!(app.callback_types(&key).await, ["waiting_password"]);
    let again = json!({"payment_id": payment, "password": SECRET});
    assert_eq!(give_error(&app, &key, again).await, "invalid_state");
    app.confirm(&key).await;
    assert_eq!(app.eur(app.bob()).await, (100_000 + 1_000, 0));
    assert_eq!(app.eur(app.alice()).await, (100_000 - 1_000, 0));
    app.assert_ledger_sound().await;
}
on_both!(a_payment_waits_for_its_password_and_the_client_gives_it);

async fn wrong_passwords_are_limited_and_revoke_releases(app: TestApp) {
    let (key, payment) = waiting(&app, 700, json!({})).await;
    for _ in 0..walletd::service::transactions::MAX_PASSWORD_FAILURES {
        let wrong = json!({"payment_id": payment, "password": "guess"});
        assert_eq!(give_error(&app, &key, wrong).await, "invalid_code");
    }
    // Past the limit even the right password is refused, unchecked.
    let right = json!({"payment_id": payment, "password": SECRET});
    assert_eq!(
        give_error(&app, &key, right).await,
        "user_error_limit_exceeded"
    );
    assert_eq!(app.status(&key).await.as_str(), "waiting_password");
    assert_eq!(app.revoke(&key).await.status.as_str(), "revoked");
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(app.eur(app.bob()).await, (100_000, 0));
    app.assert_ledger_sound().await;
}
on_both!(wrong_passwords_are_limited_and_revoke_releases);

async fn the_deadline_fails_a_wait_for_a_password(app: TestApp) {
    let (key, payment) = waiting(&app, 900, json!({"reserve": {"for": 60}})).await;
    app.clock.advance(61);
    app.sweep().await;
    assert_eq!(app.status(&key).await.as_str(), "failed");
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting_password", "failed"]
    );
    let late = json!({"payment_id": payment, "password": SECRET});
    assert_eq!(give_error(&app, &key, late).await, "invalid_state");
    app.assert_ledger_sound().await;
}
on_both!(the_deadline_fails_a_wait_for_a_password);

/// Transaction `key` waits for its password, held on alice, its callback queued.
async fn assert_waits(app: &TestApp, key: &str) {
    assert_eq!(app.status(key).await.as_str(), "waiting_password", "{key}");
    assert!(
        app.callback_types(key)
            .await
            .contains(&"waiting_password".to_string())
    );
}

async fn every_way_of_reserving_waits_for_the_password(app: TestApp) {
    let one = || vec![to_bob(&app, 300, provided(json!({})))];
    // PIN.
    let (key, _) = create(&app, one(), json!({})).await;
    let r = app.reserve_by_pin(&key, app.alice(), "1234").await;
    assert_eq!(r["status"], "waiting_password");
    assert_waits(&app, &key).await;
    // FLASH, accepted in the holder app.
    let (key, _) = create(&app, one(), json!({})).await;
    let flashed = app.flash(&key, app.alice()).await.unwrap();
    assert_eq!(flashed["status"], "waiting");
    let mut b = Browser::new(&app);
    b.login_alice(&app).await;
    let csrf = b.get("/frontend/app").await.csrf();
    let done = b
        .decide(&format!("/frontend/app/flash/{key}"), &csrf, "accept")
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_waits(&app, &key).await;
    // The confirmation page.
    let (key, _) = create(&app, one(), json!({})).await;
    let page = format!("/frontend/en/wallet/confirm/{key}");
    let csrf = b.get(&page).await.csrf();
    let done = b.decide(&page, &csrf, "accept").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_waits(&app, &key).await;
    // Allowance (last: FLASH would use it at once).
    let allowance = json!({"currency": "EUR", "max_price": 1500, "valid_for": 720});
    app.activate_allowance(app.alice(), "1234", allowance).await;
    let (key, _) = create(&app, one(), json!({})).await;
    let path = format!("transaction/{key}/reserve/{}", app.alice());
    let r = call(&app.client, Method::PUT, &path, None).await;
    assert_eq!(r["status"], "waiting_password");
    assert_waits(&app, &key).await;
    assert_eq!(app.eur(app.alice()).await, (100_000 - 4 * 300, 4 * 300));
    app.assert_ledger_sound().await;
}
on_both!(every_way_of_reserving_waits_for_the_password);

async fn the_beneficiary_gives_it_on_her_page(app: TestApp) {
    let (key, payment) = waiting(&app, 1_250, json!({"auto_confirm": true})).await;
    let form = format!("/frontend/app/password/{payment}");
    // Another holder cannot.
    let mut alice = Browser::new(&app);
    alice.login_alice(&app).await;
    let csrf = alice.get("/frontend/app").await.csrf();
    let page = alice
        .post(&form, &[("csrf", &csrf), ("password", SECRET)])
        .await;
    assert_eq!(page.status, 404, "{}", page.body);
    let mut bob = Browser::new(&app);
    bob.login_holder(&app, 1).await;
    let home = bob.get("/frontend/app").await;
    assert!(home.body.contains(&form), "{}", home.body);
    assert!(home.body.contains("12.50 EUR"), "{}", home.body);
    let csrf = home.csrf();
    let wrong = bob
        .post(&form, &[("csrf", &csrf), ("password", "nope")])
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(app.status(&key).await.as_str(), "waiting_password");
    let done = bob
        .post(&form, &[("csrf", &csrf), ("password", SECRET)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    // Her change, and auto_confirm: confirmed, with its callback.
    assert_eq!(app.status(&key).await.as_str(), "confirmed");
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting_password", "confirmed"]
    );
    assert_eq!(app.eur(app.bob()).await, (100_000 + 1_250, 0));
    assert!(!bob.get("/frontend/app").await.body.contains(&form));
    app.assert_ledger_sound().await;
}
on_both!(the_beneficiary_gives_it_on_her_page);

async fn optional_passwords_do_not_block_and_cancelable_ones_cancel(app: TestApp) {
    // Optional: never asked.
    let optional = provided(json!({"optional": true}));
    let (key, t) = create(&app, vec![to_bob(&app, 100, optional)], json!({})).await;
    assert_eq!(t["payments"][0]["password"]["status"], "disabled");
    assert_eq!(
        app.reserve(&key, app.alice()).await.status.as_str(),
        "reserved"
    );
    app.revoke(&key).await;
    // Cancelable: that payment alone may be canceled while awaited; the rest continues.
    let cancelable = to_bob(&app, 400, provided(json!({"cancelable": true})));
    let plain = to_bob(&app, 200, Value::Null);
    let (key, t) = create(&app, vec![cancelable, plain], json!({})).await;
    let (first, second) = (
        t["payments"][0]["id"].clone(),
        t["payments"][1]["id"].clone(),
    );
    app.reserve(&key, app.alice()).await;
    assert_eq!(app.eur(app.alice()).await, (100_000 - 600, 600));
    assert_eq!(
        refused_without_body(&app, Method::DELETE, format!("payment/{second}")).await,
        "invalid_state"
    );
    let canceled = call(
        &app.client,
        Method::DELETE,
        &format!("payment/{first}"),
        None,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(app.status(&key).await.as_str(), "reserved");
    assert_eq!(app.eur(app.alice()).await, (100_000 - 200, 200));
    app.confirm(&key).await;
    assert_eq!(app.eur(app.bob()).await, (100_000 + 200, 0));
    // Not cancelable: refused.
    let (key, payment) = waiting(&app, 300, json!({})).await;
    assert_eq!(
        refused_without_body(&app, Method::DELETE, format!("payment/{payment}")).await,
        "invalid_state"
    );
    assert_eq!(app.status(&key).await.as_str(), "waiting_password");
    app.assert_ledger_sound().await;
}
on_both!(optional_passwords_do_not_block_and_cancelable_ones_cancel);

async fn renewing_asks_for_the_password_again(app: TestApp) {
    let (key, payment) = waiting(&app, 500, json!({})).await;
    give(&app, &key, payment, SECRET).await;
    app.revoke(&key).await;
    let renewed = app.renew(&key).await;
    assert_eq!(renewed["payments"][0]["password"]["status"], "pending");
    let new_key = renewed["transaction_key"].as_str().unwrap();
    let copy = renewed["payments"][0]["id"].as_i64().unwrap();
    app.reserve(new_key, app.alice()).await;
    assert_eq!(
        give(&app, new_key, copy, SECRET).await["status"],
        "reserved"
    );
}
on_both!(renewing_asks_for_the_password_again);

async fn misuse_is_refused_with_the_spec_codes(app: TestApp) {
    for bad in [
        json!("secret"),
        json!({"type": "provided"}),
        json!({"type": "generated"}),
        json!({"type": "provided", "value": SECRET, "status": "unlocked"}),
        json!({"type": "provided", "value": SECRET, "cancelable": "yes"}),
    ] {
        let body = json!({"payments": [to_bob(&app, 100, bad.clone())]});
        let code = refused(&app.client, Method::POST, "transaction", Some(body)).await;
        assert_eq!(code, "invalid_request", "{bad}");
    }
    let (key, t) = create(
        &app,
        vec![to_bob(&app, 100, provided(json!({})))],
        json!({}),
    )
    .await;
    let payment = t["payments"][0]["id"].as_i64().unwrap();
    // Not waiting yet.
    let early = json!({"payment_id": payment, "password": SECRET});
    assert_eq!(give_error(&app, &key, early).await, "invalid_state");
    app.reserve(&key, app.alice()).await;
    for bad in [
        json!({"password": SECRET}),
        json!({"payment_id": payment}),
        json!({"payment_id": payment, "password": ""}),
        json!({"payment_id": "one", "password": SECRET}),
    ] {
        assert_eq!(
            give_error(&app, &key, bad.clone()).await,
            "invalid_request",
            "{bad}"
        );
    }
    let unknown = json!({"payment_id": payment + 1000, "password": SECRET});
    assert_eq!(give_error(&app, &key, unknown).await, "not_found");
    // Another project's client: no such transaction.
    let stranger = app.stranger("reservation_code").await;
    let body = json!({"payment_id": payment, "password": SECRET});
    let code = refused(&stranger, Method::PUT, &give_path(&key), Some(body)).await;
    assert_eq!(code, "not_found");
    assert_eq!(
        give(&app, &key, payment, SECRET).await["status"],
        "reserved"
    );
}
on_both!(misuse_is_refused_with_the_spec_codes);

async fn registration_is_awaited_before_the_password(app: TestApp) {
    let payment = json!({"description": "gift", "price": 800, "currency": "EUR",
        "beneficiary": {"email": "dora@example.com"}, "password": provided(json!({}))});
    let (key, t) = create(&app, vec![payment], json!({})).await;
    let payment = t["payments"][0]["id"].as_i64().unwrap();
    let r = app.reserve(&key, app.alice()).await;
    assert_eq!(r.status.as_str(), "waiting_registration");
    let early = json!({"payment_id": payment, "password": SECRET});
    assert_eq!(give_error(&app, &key, early).await, "invalid_state");
    let dora = walletd::service::admin::NewUser {
        email: "dora@example.com".into(),
        phone: None,
        password: Some("dora-password".into()),
        pin: None,
    };
    let dora = walletd::service::admin::create_user(&app.state, dora)
        .await
        .unwrap();
    assert_eq!(app.status(&key).await.as_str(), "waiting_password");
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting_registration", "waiting_password"]
    );
    assert_eq!(
        give(&app, &key, payment, SECRET).await["status"],
        "reserved"
    );
    app.confirm(&key).await;
    assert_eq!(app.eur(dora.wallet_id).await, (800, 0));
    app.assert_ledger_sound().await;
}
on_both!(registration_is_awaited_before_the_password);
