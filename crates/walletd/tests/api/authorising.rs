//! Reserving by PIN, reserving by allowance without one, and the available types.

use crate::helpers::{TestApp, assert_error, call, refused, signed};
use crate::on_both;
use serde_json::json;
use wallet_client::Method;
use wallet_client::types::{TransactionStatus, TransactionType};

async fn pin_reserves_and_locks_out_after_five_errors(app: TestApp) {
    let t = app.create(1_500).await;
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.alice());
    let wrong = || Some(json!({"pin": "0000"}));
    for attempt in 1..=4 {
        let err = refused(&app.client, Method::PUT, &path, wrong()).await;
        assert_eq!(err, "invalid_code", "attempt {attempt}");
    }
    // A right PIN resets the count.
    let r = app
        .reserve_by_pin(&t.transaction_key, app.alice(), "1234")
        .await;
    assert_eq!(
        (r["status"].as_str(), r["type"].as_str()),
        (Some("reserved"), Some("pin"))
    );
    assert_eq!(r["wallet"], app.alice().get());
    assert_eq!(app.eur(app.alice()).await, (98_500, 1_500));
    // Five wrong PINs in a row block the holder, even for the right one.
    let t = app.create(100).await;
    let key = &t.transaction_key;
    let path = format!("transaction/{key}/reserve/{}", app.alice());
    for _ in 0..5 {
        assert_eq!(
            refused(&app.client, Method::PUT, &path, wrong()).await,
            "invalid_code"
        );
    }
    let right = Some(json!({"pin": "1234"}));
    assert_eq!(
        refused(&app.client, Method::PUT, &path, right).await,
        "user_error_limit_exceeded"
    );
    assert_eq!(app.status(key).await, TransactionStatus::New);
    // The PIN is stored only as an Argon2 hash.
    assert_eq!(
        app.types(key, app.bob()).await,
        json!(["flash", "mobile_app", "page", "pin", "reservation_code"])
    );
    assert_eq!(
        app.types(key, app.alice()).await,
        json!(["flash", "mobile_app", "page", "reservation_code"]),
        "a blocked holder has no PIN way"
    );
    app.assert_ledger_sound().await;
}
on_both!(pin_reserves_and_locks_out_after_five_errors);

async fn pin_needs_the_grant_and_allowance_needs_an_allowance(app: TestApp) {
    let (no_pin, t) = app
        .another_clients_transaction("reservation_code", 100)
        .await;
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.bob());
    assert_eq!(
        refused(&no_pin, Method::PUT, &path, Some(json!({"pin": "4321"}))).await,
        "unsupported_grant_type"
    );
    let t = app.create(100).await;
    let key = &t.transaction_key;
    let path = format!("/rest/v1/transaction/{key}/reserve/{}", app.bob());
    for body in ["", "[]", r#"{"revoke_transactions":[]}"#] {
        let answer = signed(&app, "PUT", &path, body).await;
        assert_eq!(
            (answer.0, answer.1["error"].as_str()),
            (400, Some("no_active_allowance")),
            "{body:?}"
        );
    }
    let unknown_wallet = format!("/rest/v1/transaction/{key}/reserve/999999");
    let answer = signed(&app, "PUT", &unknown_wallet, r#"{"pin":"1"}"#).await;
    assert_error(&answer, 404, "not_found");
    // PIN by wallet path with a code-only path: the spec's two reserve URLs.
    let r = app.reserve_by_pin(key, app.bob(), "4321").await;
    assert_eq!(r["type"], TransactionType::Pin.as_str());
}
on_both!(pin_needs_the_grant_and_allowance_needs_an_allowance);

/// The PHP client's `acceptTransactionUsingPin`/`UsingAllowance` with a `WalletIdentifier`:
/// `PUT transaction/{key}/reserve` with `{"payer": {...}}`.
async fn payer_identifiers_name_the_wallet(app: TestApp) {
    let t = app.create(300).await;
    let path = format!("transaction/{}/reserve", t.transaction_key);
    let by_email = json!({"payer": {"email": "bob@example.com"}, "pin": "4321"});
    let r = call(&app.client, Method::PUT, &path, Some(by_email)).await;
    assert_eq!(
        (r["type"].as_str(), r["wallet"].as_i64()),
        (Some("pin"), Some(app.bob().get()))
    );
    let t = app.create(300).await;
    let path = format!("transaction/{}/reserve", t.transaction_key);
    for (payer, error) in [
        (
            json!({"payer": {"phone": "+37060000001"}}),
            "no_active_allowance",
        ),
        (
            json!({"payer": {"email": "nobody@example.com"}, "pin": "1"}),
            "not_found",
        ),
        (
            json!({"payer": {"card": {"number": "4111"}}}),
            "invalid_request",
        ),
    ] {
        assert_eq!(
            refused(&app.client, Method::PUT, &path, Some(payer.clone())).await,
            error,
            "{payer}"
        );
    }
    // The operators' SMS list without a phone filter works on both stores.
    assert!(
        walletd::service::operator::sms_list(&app.state, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
on_both!(payer_identifiers_name_the_wallet);
