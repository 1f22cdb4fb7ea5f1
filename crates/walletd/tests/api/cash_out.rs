//! The cash-out flow of `cash-out-with-reservation-code.txt`, and its variations.

use crate::helpers::{TestApp, code_of, signed};
use crate::on_both;
use std::collections::BTreeMap;
use wallet_client::types::{
    ConfirmPrice, NewPayment, NewTransaction, PaymentRef, PaymentStatus, Reserve,
    TransactionStatus, TransactionType,
};

async fn create_reserve_confirm_moves_the_money(app: TestApp) {
    let (alice_before, _) = app.eur(app.alice()).await;
    let t = app.create(5000).await;
    assert_eq!(t.status, TransactionStatus::New);
    assert_eq!(t.transaction_key.len(), 20);
    assert_eq!(t.kind, None, "type only once not new");
    assert_eq!(t.payments[0].price_decimal, "50.00");
    assert_eq!(t.payments[0].status, PaymentStatus::New);
    assert_eq!(t.project_id, Some(app.demo.project_id));
    assert!(!t.valid_for_payment_card_debit);

    let code = app.code(app.alice()).await;
    let reserved = app
        .client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    assert_eq!(reserved.status, TransactionStatus::Reserved);
    assert_eq!(reserved.kind, Some(TransactionType::ReservationCode));
    assert_eq!(reserved.wallet, Some(app.alice()));
    assert_eq!(reserved.payments[0].status, PaymentStatus::Reserved);
    assert_eq!(reserved.payments[0].wallet, Some(app.alice()));
    let deadline = reserved
        .reserve
        .as_ref()
        .and_then(|r| r.until)
        .expect("reserve.until while reserved");
    assert_eq!(reserved.reserve_until, Some(deadline));
    assert_eq!(
        deadline,
        app.clock_now() + 86_400,
        "default reservation is 24 hours"
    );
    assert_eq!(app.eur(app.alice()).await, (alice_before - 5000, 5000));

    let confirmed = app
        .client
        .confirm_transaction(&t.transaction_key, None)
        .await
        .unwrap();
    assert_eq!(confirmed.status, TransactionStatus::Confirmed);
    assert!(confirmed.confirmed_at.is_some());
    assert_eq!(confirmed.payments[0].status, PaymentStatus::Done);
    assert_eq!(app.eur(app.alice()).await, (alice_before - 5000, 0));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (5000, 0));
    // The project reads its own wallet over the API, in the PHP client's shape.
    let balance = app
        .client
        .get_wallet_balance(app.demo.project_wallet_id)
        .await
        .unwrap();
    assert_eq!(balance["EUR"].at_disposal, 5000);
    assert_eq!(balance["EUR"].at_disposal_decimal, "50.00");
    let wallet = app
        .client
        .get_wallet(app.demo.project_wallet_id)
        .await
        .unwrap();
    assert_eq!(wallet.id, app.demo.project_wallet_id);
    assert!(wallet.account.number.starts_with("EVP"));
    // The code is one-time.
    let again = app.create(100).await;
    assert_eq!(
        code_of(
            app.client
                .reserve_with_code(&again.transaction_key, &code, None)
                .await
        ),
        "invalid_code"
    );
    // The audit trail says who did what.
    let events = walletd::service::transactions::events(&app.state, &t.transaction_key)
        .await
        .unwrap();
    let names: Vec<_> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(names, ["created", "reserved", "confirmed"]);
    app.assert_ledger_sound().await;
}
on_both!(create_reserve_confirm_moves_the_money);

async fn the_guides_code_alias_and_scanned_prefixes_work(app: TestApp) {
    let t = app.create(1000).await;
    let code = app.code(app.alice()).await;
    let path = format!("/rest/v1/transaction/{}/reserve", t.transaction_key);
    let (status, body) = signed(&app, "PUT", &path, &format!(r#"{{"code":"{code}"}}"#)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "reserved");
    let t2 = app.create(1000).await;
    let code2 = app.code(app.alice()).await;
    let path = format!("/rest/v1/transaction/{}/reserve", t2.transaction_key);
    let (status, body) = signed(
        &app,
        "PUT",
        &path,
        &format!(r#"{{"reservation_code":"PAYSERA${code2}"}}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Confirm accepts `[]`, `{}` and an empty body.
    for (key, body) in [(&t.transaction_key, "[]"), (&t2.transaction_key, "{}")] {
        let (status, answer) = signed(
            &app,
            "PUT",
            &format!("/rest/v1/transaction/{key}/confirm"),
            body,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], "confirmed");
    }
    let t3 = app.create(1000).await;
    let code3 = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t3.transaction_key, &code3, None)
        .await
        .unwrap();
    let (status, answer) = signed(
        &app,
        "PUT",
        &format!("/rest/v1/transaction/{}/confirm", t3.transaction_key),
        "",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    app.assert_ledger_sound().await;
}
on_both!(the_guides_code_alias_and_scanned_prefixes_work);

async fn confirm_may_reduce_but_never_raise(app: TestApp) {
    let (alice_before, _) = app.eur(app.alice()).await;
    let t = app.create(1299).await;
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    let id = t.payments[0].id.to_string();
    let higher = BTreeMap::from([(
        id.clone(),
        ConfirmPrice {
            price: Some(1300),
            price_decimal: None,
            currency: "EUR".into(),
        },
    )]);
    assert_eq!(
        code_of(
            app.client
                .confirm_transaction(&t.transaction_key, Some(&higher))
                .await
        ),
        "invalid_request"
    );
    let wrong_currency = BTreeMap::from([(
        id.clone(),
        ConfirmPrice {
            price: Some(100),
            price_decimal: None,
            currency: "USD".into(),
        },
    )]);
    assert_eq!(
        code_of(
            app.client
                .confirm_transaction(&t.transaction_key, Some(&wrong_currency))
                .await
        ),
        "invalid_request"
    );
    let unknown = BTreeMap::from([(
        "999999".to_string(),
        ConfirmPrice {
            price: Some(100),
            price_decimal: None,
            currency: "EUR".into(),
        },
    )]);
    assert_eq!(
        code_of(
            app.client
                .confirm_transaction(&t.transaction_key, Some(&unknown))
                .await
        ),
        "invalid_request"
    );
    // Still reserved after the refusals: nothing was written.
    assert_eq!(
        app.client
            .get_transaction(&t.transaction_key)
            .await
            .unwrap()
            .status,
        TransactionStatus::Reserved
    );
    let lower = BTreeMap::from([(
        id,
        ConfirmPrice {
            price: None,
            price_decimal: Some("7.99".into()),
            currency: "EUR".into(),
        },
    )]);
    let confirmed = app
        .client
        .confirm_transaction(&t.transaction_key, Some(&lower))
        .await
        .unwrap();
    assert_eq!(confirmed.payments[0].price, 799);
    assert_eq!(confirmed.payments[0].price_decimal, "7.99");
    assert_eq!(
        app.eur(app.alice()).await,
        (alice_before - 799, 0),
        "the rest of the hold is released"
    );
    assert_eq!(app.eur(app.demo.project_wallet_id).await.0, 799);
    app.assert_ledger_sound().await;
}
on_both!(confirm_may_reduce_but_never_raise);

async fn payment_prices_select_within_price_rules(app: TestApp) {
    let req = NewTransaction {
        payments: vec![
            PaymentRef::New(Box::new(NewPayment {
                description: Some("cash".into()),
                price: Some(2000),
                currency: "EUR".into(),
                ..Default::default()
            })),
            PaymentRef::New(Box::new(NewPayment {
                description: Some("Tips".into()),
                price: Some(500),
                currency: "EUR".into(),
                purpose: Some("tips".into()),
                price_rules: Some(wallet_client::types::PriceRules {
                    min: Some(0),
                    max: Some(1000),
                    choices: None,
                }),
                ..Default::default()
            })),
        ],
        ..Default::default()
    };
    let t = app.client.create_transaction(&req).await.unwrap();
    let (cash, tips) = (t.payments[0].id, t.payments[1].id);
    let code = app.code(app.alice()).await;
    let outside = BTreeMap::from([(tips.to_string(), 1001)]);
    assert_eq!(
        code_of(
            app.client
                .reserve_with_code(&t.transaction_key, &code, Some(outside))
                .await
        ),
        "invalid_state"
    );
    let no_rules = BTreeMap::from([(cash.to_string(), 10)]);
    assert_eq!(
        code_of(
            app.client
                .reserve_with_code(&t.transaction_key, &code, Some(no_rules))
                .await
        ),
        "invalid_request"
    );
    let chosen = BTreeMap::from([(tips.to_string(), 80)]);
    let r = app
        .client
        .reserve_with_code(&t.transaction_key, &code, Some(chosen))
        .await
        .unwrap();
    assert_eq!(r.payments[1].price, 80);
    assert_eq!(r.payments[1].purpose.as_deref(), Some("tips"));
    assert_eq!(app.eur(app.alice()).await.1, 2080);
    app.assert_ledger_sound().await;
}
on_both!(payment_prices_select_within_price_rules);

async fn revoke_deletes_new_and_releases_reserved(app: TestApp) {
    let t = app.create(1000).await;
    let deleted = app
        .client
        .revoke_transaction(&t.transaction_key)
        .await
        .unwrap();
    assert_eq!(deleted.status, TransactionStatus::Deleted);
    assert_eq!(deleted.payments[0].status, PaymentStatus::Deleted);
    assert_eq!(
        app.client
            .get_transaction(&t.transaction_key)
            .await
            .unwrap()
            .status,
        TransactionStatus::Deleted
    );
    assert_eq!(
        code_of(app.client.revoke_transaction(&t.transaction_key).await),
        "invalid_state"
    );

    let (before, _) = app.eur(app.alice()).await;
    let t = app.create(1000).await;
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    assert_eq!(app.eur(app.alice()).await, (before - 1000, 1000));
    let revoked = app
        .client
        .revoke_transaction(&t.transaction_key)
        .await
        .unwrap();
    assert_eq!(revoked.status, TransactionStatus::Revoked);
    assert_eq!(app.eur(app.alice()).await, (before, 0));
    assert_eq!(
        code_of(
            app.client
                .confirm_transaction(&t.transaction_key, None)
                .await
        ),
        "invalid_state"
    );
    app.assert_ledger_sound().await;
}
on_both!(revoke_deletes_new_and_releases_reserved);

async fn auto_confirm_and_reservation_times(app: TestApp) {
    let mut req = crate::helpers::one_payment(700);
    if let PaymentRef::New(p) = &mut req.payments[0] {
        p.beneficiary = Some(serde_json::json!({"id": app.bob()}));
    }
    req.auto_confirm = Some(true);
    req.reserve = Some(Reserve {
        for_seconds: Some(600),
        until: None,
    });
    let t = app.client.create_transaction(&req).await.unwrap();
    assert!(t.auto_confirm);
    assert_eq!(t.reserve.as_ref().unwrap().for_seconds, Some(600));
    let code = app.code(app.alice()).await;
    let done = app
        .client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    assert_eq!(done.status, TransactionStatus::Confirmed);
    assert_eq!(app.eur(app.bob()).await.0, 100_000 + 700);

    // auto_confirm needs every beneficiary named.
    let mut bad = crate::helpers::one_payment(700);
    bad.auto_confirm = Some(true);
    assert_eq!(
        code_of(app.client.create_transaction(&bad).await),
        "invalid_request"
    );

    // Deprecated flat forms are read and shown in both forms.
    let mut flat = crate::helpers::one_payment(100);
    flat.reserve_for = Some(2);
    let t = app.client.create_transaction(&flat).await.unwrap();
    assert_eq!(t.reserve_for, Some(2));
    assert_eq!(t.reserve.as_ref().unwrap().for_seconds, Some(7200));
    let code = app.code(app.alice()).await;
    let r = app
        .client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    assert_eq!(r.reserve.unwrap().until, Some(app.clock_now() + 7200));
    let mut until = crate::helpers::one_payment(100);
    until.reserve_until = Some(app.clock_now() + 3000);
    let t = app.client.create_transaction(&until).await.unwrap();
    assert_eq!(t.reserve_until, Some(app.clock_now() + 3000));
    app.assert_ledger_sound().await;
}
on_both!(auto_confirm_and_reservation_times);

async fn existing_payments_can_be_regrouped(app: TestApp) {
    let a = app.create(100).await;
    let b = app.create(200).await;
    let req = NewTransaction {
        payments: vec![
            PaymentRef::Id(a.payments[0].id),
            PaymentRef::New(Box::new(NewPayment {
                description: Some("new".into()),
                price: Some(300),
                currency: "EUR".into(),
                ..Default::default()
            })),
            PaymentRef::Id(b.payments[0].id),
        ],
        ..Default::default()
    };
    let t = app.client.create_transaction(&req).await.unwrap();
    assert_eq!(t.payments.len(), 3);
    assert!(
        t.payments
            .iter()
            .all(|p| p.transaction_key == t.transaction_key)
    );
    // The old transactions lost their only payment and are gone.
    assert_eq!(
        app.client
            .get_transaction(&a.transaction_key)
            .await
            .unwrap()
            .status,
        TransactionStatus::Deleted
    );
    // A confirmed payment cannot be regrouped.
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    let again = NewTransaction {
        payments: vec![PaymentRef::Id(a.payments[0].id)],
        ..Default::default()
    };
    assert_eq!(
        code_of(app.client.create_transaction(&again).await),
        "invalid_state"
    );
}
on_both!(existing_payments_can_be_regrouped);

/// Reserve and confirm answer from the rows they wrote, not from a read: a read right after gives
/// exactly the same, canceled and frozen payments and a reduced price included; so does a
/// reservation confirmed at once (`auto_confirm`).
async fn reserve_and_confirm_answer_what_a_read_gives(app: TestApp) {
    let read = |key: String| {
        let app = &app;
        async move {
            let (status, t) = signed(app, "GET", &format!("/rest/v1/transaction/{key}"), "").await;
            assert_eq!(status, 200, "{t}");
            t
        }
    };
    let to = app.bob();
    for auto_confirm in [false, true] {
        let body = format!(
            r#"{{"payments":[{{"price":500,"currency":"EUR","description":"a","beneficiary":{{"id":{to}}}}},
            {{"price":300,"currency":"EUR","freeze":{{"for":3600}},"beneficiary":{{"id":{to}}}}},
            {{"price":100,"currency":"EUR","beneficiary":{{"id":{to}}}}}],"auto_confirm":{auto_confirm}}}"#
        );
        let (status, t) = signed(&app, "POST", "/rest/v1/transaction", &body).await;
        assert_eq!(status, 200, "{t}");
        let key = t["transaction_key"].as_str().unwrap().to_owned();
        let canceled = t["payments"][2]["id"].as_i64().unwrap();
        let (status, p) = signed(&app, "DELETE", &format!("/rest/v1/payment/{canceled}"), "").await;
        assert_eq!(status, 200, "{p}");
        let code = app.code(app.alice()).await;
        let (status, reserved) = signed(
            &app,
            "PUT",
            &format!("/rest/v1/transaction/{key}/reserve"),
            &format!(r#"{{"reservation_code":"{code}"}}"#),
        )
        .await;
        assert_eq!(status, 200, "{reserved}");
        let statuses: Vec<&str> = reserved["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["status"].as_str().unwrap())
            .collect();
        if auto_confirm {
            assert_eq!(reserved["status"], "confirmed");
            assert_eq!(statuses, ["done", "confirmed", "canceled"]);
        } else {
            assert_eq!(reserved["status"], "reserved");
            assert_eq!(statuses, ["reserved", "reserved", "canceled"]);
        }
        assert_eq!(read(key.clone()).await, reserved);
        if auto_confirm {
            continue;
        }
        let first = reserved["payments"][0]["id"].as_i64().unwrap();
        let (status, confirmed) = signed(
            &app,
            "PUT",
            &format!("/rest/v1/transaction/{key}/confirm"),
            &format!(r#"{{"{first}":{{"price":450,"currency":"EUR"}}}}"#),
        )
        .await;
        assert_eq!(status, 200, "{confirmed}");
        assert_eq!(confirmed["status"], "confirmed");
        assert_eq!(confirmed["payments"][0]["price"], 450);
        assert_eq!(confirmed["payments"][1]["status"], "confirmed");
        assert!(confirmed["payments"][1]["freeze_until"].is_number());
        assert_eq!(confirmed["payments"][2]["status"], "canceled");
        assert_eq!(read(key).await, confirmed);
    }
    app.assert_ledger_sound().await;
}
on_both!(reserve_and_confirm_answer_what_a_read_gives);

async fn optional_fields_are_returned_as_given(app: TestApp) {
    let body = r#"{"payments":[{"description":"Payment for order No. 1234","price":1299,"currency":"eur","parameters":{"orderid":1234,"nested":{"a":[1,"x"]}}}],
        "redirect_uri":"http://www.example.com/somePage","callback_uri":"https://shop.example/callback",
        "use_allowance":false,"suggest_allowance":true,"user":{"email":"holder@example.com"},
        "inquiries":[{"identifier":"a","type":"user_attributes","description":"d","items":[]}]}"#;
    let (status, t) = signed(&app, "POST", "/rest/v1/transaction", body).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        t["payments"][0]["parameters"],
        serde_json::json!({"orderid":1234,"nested":{"a":[1,"x"]}})
    );
    assert_eq!(t["payments"][0]["currency"], "EUR");
    assert_eq!(t["redirect_uri"], "http://www.example.com/somePage");
    assert_eq!(t["callback_uri"], "https://shop.example/callback");
    assert_eq!(t["use_allowance"], false);
    assert_eq!(t["suggest_allowance"], true);
    assert_eq!(t["auto_confirm"], false);
    assert_eq!(t["user"]["email"], "holder@example.com");
    assert_eq!(t["inquiries"][0]["identifier"], "a");
    assert!(
        t.get("type").is_none() && t.get("wallet").is_none() && t.get("confirmed_at").is_none()
    );
    // The answer to create is built from the rows written; a read gives exactly the same.
    let key = t["transaction_key"].as_str().unwrap();
    let (status, read) = signed(&app, "GET", &format!("/rest/v1/transaction/{key}"), "").await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, t);
    let (status, t) = signed(
        &app,
        "POST",
        "/rest/v1/transaction",
        r#"{"payments":[{"price":1,"currency":"EUR"}],"callback_uri":false}"#,
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["callback_uri"], false);
    assert_eq!(t["use_allowance"], true, "defaults to true");
    assert_eq!(t["valid_for_payment_card_debit"], false);
}
on_both!(optional_fields_are_returned_as_given);

#[tokio::test]
async fn codes_are_stored_only_as_keyed_hashes() {
    let app = crate::helpers::spawn_app(wallet_store::Backend::Sqlite).await;
    let code = app.code(app.alice()).await;
    let path = app
        .database
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    assert!(
        !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
        "the code is stored in clear"
    );
    // The code still works: what is stored is enough to find it.
    let t = app.create(100).await;
    assert!(
        app.client
            .reserve_with_code(&t.transaction_key, &code, None)
            .await
            .is_ok()
    );
}
