//! Reserving by PIN, reserving by allowance without one, and the available types.

use crate::helpers::{TestApp, code_of, signed};
use crate::on_both;
use wallet_client::Method;
use wallet_client::types::{TransactionStatus, TransactionType};

async fn pin_reserves_and_locks_out_after_five_errors(app: TestApp) {
    let t = app.create(1_500).await;
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.alice());
    let wrong = serde_json::json!({"pin": "0000"});
    let right = serde_json::json!({"pin": "1234"});
    for attempt in 1..=4 {
        let err = app
            .client
            .request_json(Method::PUT, &path, Some(&wrong))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some("invalid_code"), "attempt {attempt}");
    }
    // A right PIN resets the count.
    let r = app
        .client
        .request_json(Method::PUT, &path, Some(&right))
        .await
        .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["type"].as_str()),
        (Some("reserved"), Some("pin"))
    );
    assert_eq!(r["wallet"], app.alice());
    assert_eq!(app.eur(app.alice()).await, (98_500, 1_500));
    // Five wrong PINs in a row block the holder, even for the right one.
    let t = app.create(100).await;
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.alice());
    for _ in 0..5 {
        assert_eq!(
            code_of(
                app.client
                    .request_json(Method::PUT, &path, Some(&wrong))
                    .await
            ),
            "invalid_code"
        );
    }
    assert_eq!(
        code_of(
            app.client
                .request_json(Method::PUT, &path, Some(&right))
                .await
        ),
        "user_error_limit_exceeded"
    );
    assert_eq!(
        app.client
            .get_transaction(&t.transaction_key)
            .await
            .unwrap()
            .status,
        TransactionStatus::New
    );
    // The PIN is stored only as an Argon2 hash.
    let types = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{}/type/{}", t.transaction_key, app.bob()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        types,
        serde_json::json!(["flash", "page", "pin", "reservation_code"])
    );
    let types = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{}/type/{}", t.transaction_key, app.alice()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        types,
        serde_json::json!(["flash", "page", "reservation_code"]),
        "a blocked holder has no PIN way"
    );
    app.assert_ledger_sound().await;
}
on_both!(pin_reserves_and_locks_out_after_five_errors);

async fn pin_needs_the_grant_and_allowance_needs_an_allowance(app: TestApp) {
    let creds =
        walletd::service::admin::create_client(&app.state, app.demo.project_id, "reservation_code")
            .await
            .unwrap();
    let no_pin =
        wallet_client::Client::new(&app.base_url, &creds.mac_id, &creds.mac_secret).unwrap();
    let t = no_pin
        .create_transaction(&crate::helpers::one_payment(100))
        .await
        .unwrap();
    let path = format!("transaction/{}/reserve/{}", t.transaction_key, app.bob());
    assert_eq!(
        code_of(
            no_pin
                .request_json(
                    Method::PUT,
                    &path,
                    Some(&serde_json::json!({"pin": "4321"}))
                )
                .await
        ),
        "unsupported_grant_type"
    );
    let t = app.create(100).await;
    let path = format!(
        "/rest/v1/transaction/{}/reserve/{}",
        t.transaction_key,
        app.bob()
    );
    for body in ["", "[]", r#"{"revoke_transactions":[]}"#] {
        let (status, answer) = signed(&app, "PUT", &path, body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("no_active_allowance")),
            "{body:?}"
        );
    }
    let (status, answer) = signed(
        &app,
        "PUT",
        &format!("/rest/v1/transaction/{}/reserve/999999", t.transaction_key),
        r#"{"pin":"1"}"#,
    )
    .await;
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));
    // PIN by wallet path with a code-only path: the spec's two reserve URLs.
    let r = app
        .client
        .request_json(
            Method::PUT,
            &format!("transaction/{}/reserve/{}", t.transaction_key, app.bob()),
            Some(&serde_json::json!({"pin": "4321"})),
        )
        .await
        .unwrap();
    assert_eq!(r["type"], TransactionType::Pin.as_str());
}
on_both!(pin_needs_the_grant_and_allowance_needs_an_allowance);

/// The PHP client's `acceptTransactionUsingPin`/`UsingAllowance` with a `WalletIdentifier`:
/// `PUT transaction/{key}/reserve` with `{"payer": {...}}`.
async fn payer_identifiers_name_the_wallet(app: TestApp) {
    let t = app.create(300).await;
    let r = app
        .client
        .request_json(
            Method::PUT,
            &format!("transaction/{}/reserve", t.transaction_key),
            Some(&serde_json::json!({"payer": {"email": "bob@example.com"}, "pin": "4321"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (r["type"].as_str(), r["wallet"].as_i64()),
        (Some("pin"), Some(app.bob()))
    );
    let t = app.create(300).await;
    let by_phone = app
        .client
        .request_json(
            Method::PUT,
            &format!("transaction/{}/reserve", t.transaction_key),
            Some(&serde_json::json!({"payer": {"phone": "+37060000001"}})),
        )
        .await;
    assert_eq!(code_of(by_phone), "no_active_allowance");
    let unknown = app
        .client
        .request_json(
            Method::PUT,
            &format!("transaction/{}/reserve", t.transaction_key),
            Some(&serde_json::json!({"payer": {"email": "nobody@example.com"}, "pin": "1"})),
        )
        .await;
    assert_eq!(code_of(unknown), "not_found");
    let card = app
        .client
        .request_json(
            Method::PUT,
            &format!("transaction/{}/reserve", t.transaction_key),
            Some(&serde_json::json!({"payer": {"card": {"number": "4111"}}})),
        )
        .await;
    assert_eq!(code_of(card), "invalid_request");
    // The operators' SMS list without a phone filter works on both stores.
    assert!(
        walletd::service::operator::sms_list(&app.state, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
on_both!(payer_identifiers_name_the_wallet);
