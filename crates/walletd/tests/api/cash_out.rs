//! The cash-out flow of `cash-out-with-reservation-code.txt`, and its variations.

use crate::helpers::{TestApp, code_body, code_of, one_payment, reserved_for, signed_ok, strings};
use crate::on_both;
use std::collections::BTreeMap;
use wallet_client::types::{
    ConfirmPrice, NewPayment, NewTransaction, PaymentRef, PaymentStatus, TransactionStatus,
    TransactionType,
};
use wallet_core::ids::PaymentId;

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
    let reserved = app.reserve_with(&t.transaction_key, &code).await;
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

    let confirmed = app.confirm(&t.transaction_key).await;
    assert_eq!(confirmed.status, TransactionStatus::Confirmed);
    assert!(confirmed.confirmed_at.is_some());
    assert_eq!(confirmed.payments[0].status, PaymentStatus::Done);
    assert_eq!(app.eur(app.alice()).await, (alice_before - 5000, 0));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (5000, 0));
    // The project reads its own wallet over the API, in the PHP client's shape.
    let project_wallet = app.demo.project_wallet_id;
    let balance = app.client.get_wallet_balance(project_wallet).await.unwrap();
    assert_eq!(balance["EUR"].at_disposal, 5000);
    assert_eq!(balance["EUR"].at_disposal_decimal, "50.00");
    let wallet = app.client.get_wallet(project_wallet).await.unwrap();
    assert_eq!(wallet.id, project_wallet);
    assert!(wallet.account.number.starts_with("EVP"));
    // The code is one-time.
    let again = app.create(100).await;
    assert_eq!(
        app.reserve_error_with(&again.transaction_key, &code).await,
        "invalid_code"
    );
    // The audit trail says who did what.
    let events = app.events(&t.transaction_key).await;
    let names: Vec<_> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(names, ["created", "reserved", "confirmed"]);
    app.assert_ledger_sound().await;
}
on_both!(create_reserve_confirm_moves_the_money);

async fn the_guides_code_alias_and_scanned_prefixes_work(app: TestApp) {
    let reserve = |key: &str| format!("/rest/v1/transaction/{key}/reserve");
    let t = app.create(1000).await;
    let code = app.code(app.alice()).await;
    let body = format!(r#"{{"code":"{code}"}}"#);
    let answer = signed_ok(&app, "PUT", &reserve(&t.transaction_key), &body).await;
    assert_eq!(answer["status"], "reserved");
    let t2 = app.create(1000).await;
    let code2 = app.code(app.alice()).await;
    let body = format!(r#"{{"reservation_code":"PAYSERA${code2}"}}"#);
    signed_ok(&app, "PUT", &reserve(&t2.transaction_key), &body).await;
    // Confirm accepts `[]`, `{}` and an empty body.
    let t3 = app.reserved(1000).await;
    for (key, body) in [
        (&t.transaction_key, "[]"),
        (&t2.transaction_key, "{}"),
        (&t3.transaction_key, ""),
    ] {
        let path = format!("/rest/v1/transaction/{key}/confirm");
        let answer = signed_ok(&app, "PUT", &path, body).await;
        assert_eq!(answer["status"], "confirmed");
    }
    app.assert_ledger_sound().await;
}
on_both!(the_guides_code_alias_and_scanned_prefixes_work);

/// Confirm's reduced prices: payment `id` at `price` (cents) or `decimal`, in `currency`.
fn prices(
    id: &str,
    price: Option<i64>,
    decimal: Option<&str>,
    currency: &str,
) -> BTreeMap<String, ConfirmPrice> {
    BTreeMap::from([(
        id.to_string(),
        ConfirmPrice {
            price,
            price_decimal: decimal.map(str::to_string),
            currency: currency.into(),
        },
    )])
}

async fn confirm_may_reduce_but_never_raise(app: TestApp) {
    let (alice_before, _) = app.eur(app.alice()).await;
    let t = app.reserved(1299).await;
    let key = &t.transaction_key;
    let id = t.payments[0].id.to_string();
    for (what, refused) in [
        ("higher", prices(&id, Some(1300), None, "EUR")),
        ("wrong currency", prices(&id, Some(100), None, "USD")),
        ("unknown payment", prices("999999", Some(100), None, "EUR")),
    ] {
        assert_eq!(
            code_of(app.client.confirm_transaction(key, Some(&refused)).await),
            "invalid_request",
            "{what}"
        );
    }
    // Still reserved after the refusals: nothing was written.
    assert_eq!(app.status(key).await, TransactionStatus::Reserved);
    let lower = prices(&id, None, Some("7.99"), "EUR");
    let confirmed = app
        .client
        .confirm_transaction(key, Some(&lower))
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
    let t = app.create_with(&req).await;
    let (cash, tips) = (t.payments[0].id, t.payments[1].id);
    let code = app.code(app.alice()).await;
    let reserve = |chosen: (PaymentId, i64)| {
        let prices = BTreeMap::from([(chosen.0.to_string(), chosen.1)]);
        app.client
            .reserve_with_code(&t.transaction_key, &code, Some(prices))
    };
    assert_eq!(
        code_of(reserve((tips, 1001)).await),
        "invalid_state",
        "outside"
    );
    assert_eq!(
        code_of(reserve((cash, 10)).await),
        "invalid_request",
        "no rules"
    );
    let r = reserve((tips, 80)).await.unwrap();
    assert_eq!(r.payments[1].price, 80);
    assert_eq!(r.payments[1].purpose.as_deref(), Some("tips"));
    assert_eq!(app.eur(app.alice()).await.1, 2080);
    app.assert_ledger_sound().await;
}
on_both!(payment_prices_select_within_price_rules);

async fn revoke_deletes_new_and_releases_reserved(app: TestApp) {
    let t = app.create(1000).await;
    let deleted = app.revoke(&t.transaction_key).await;
    assert_eq!(deleted.status, TransactionStatus::Deleted);
    assert_eq!(deleted.payments[0].status, PaymentStatus::Deleted);
    assert_eq!(
        app.status(&t.transaction_key).await,
        TransactionStatus::Deleted
    );
    assert_eq!(
        code_of(app.client.revoke_transaction(&t.transaction_key).await),
        "invalid_state"
    );

    let (before, _) = app.eur(app.alice()).await;
    let t = app.reserved(1000).await;
    assert_eq!(app.eur(app.alice()).await, (before - 1000, 1000));
    let revoked = app.revoke(&t.transaction_key).await;
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
    let mut req = reserved_for(one_payment(700), 600);
    if let PaymentRef::New(p) = &mut req.payments[0] {
        p.beneficiary = Some(serde_json::json!({"id": app.bob()}));
    }
    req.auto_confirm = Some(true);
    let t = app.create_with(&req).await;
    assert!(t.auto_confirm);
    assert_eq!(t.reserve.as_ref().unwrap().for_seconds, Some(600));
    let done = app.reserve(&t.transaction_key, app.alice()).await;
    assert_eq!(done.status, TransactionStatus::Confirmed);
    assert_eq!(app.eur(app.bob()).await.0, 100_000 + 700);

    // auto_confirm needs every beneficiary named.
    let mut bad = one_payment(700);
    bad.auto_confirm = Some(true);
    assert_eq!(
        code_of(app.client.create_transaction(&bad).await),
        "invalid_request"
    );

    // Deprecated flat forms are read and shown in both forms.
    let mut flat = one_payment(100);
    flat.reserve_for = Some(2);
    let t = app.create_with(&flat).await;
    assert_eq!(t.reserve_for, Some(2));
    assert_eq!(t.reserve.as_ref().unwrap().for_seconds, Some(7200));
    let r = app.reserve(&t.transaction_key, app.alice()).await;
    assert_eq!(r.reserve.unwrap().until, Some(app.clock_now() + 7200));
    let mut until = one_payment(100);
    until.reserve_until = Some(app.clock_now() + 3000);
    let t = app.create_with(&until).await;
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
    let t = app.create_with(&req).await;
    assert_eq!(t.payments.len(), 3);
    assert!(
        t.payments
            .iter()
            .all(|p| p.transaction_key == t.transaction_key)
    );
    // The old transactions lost their only payment and are gone.
    assert_eq!(
        app.status(&a.transaction_key).await,
        TransactionStatus::Deleted
    );
    // A confirmed payment cannot be regrouped.
    app.reserve(&t.transaction_key, app.alice()).await;
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
        async move { signed_ok(app, "GET", &format!("/rest/v1/transaction/{key}"), "").await }
    };
    let to = app.bob();
    for auto_confirm in [false, true] {
        let body = format!(
            r#"{{"payments":[{{"price":500,"currency":"EUR","description":"a","beneficiary":{{"id":{to}}}}},
            {{"price":300,"currency":"EUR","freeze":{{"for":3600}},"beneficiary":{{"id":{to}}}}},
            {{"price":100,"currency":"EUR","beneficiary":{{"id":{to}}}}}],"auto_confirm":{auto_confirm}}}"#
        );
        let t = signed_ok(&app, "POST", "/rest/v1/transaction", &body).await;
        let key = t["transaction_key"].as_str().unwrap().to_owned();
        let canceled = t["payments"][2]["id"].as_i64().unwrap();
        signed_ok(&app, "DELETE", &format!("/rest/v1/payment/{canceled}"), "").await;
        let code = app.code(app.alice()).await;
        let path = format!("/rest/v1/transaction/{key}/reserve");
        let reserved = signed_ok(&app, "PUT", &path, &code_body(&code)).await;
        if auto_confirm {
            assert_eq!(reserved["status"], "confirmed");
            assert_eq!(
                strings(&reserved["payments"], "status"),
                ["done", "confirmed", "canceled"]
            );
        } else {
            assert_eq!(reserved["status"], "reserved");
            assert_eq!(
                strings(&reserved["payments"], "status"),
                ["reserved", "reserved", "canceled"]
            );
        }
        assert_eq!(read(key.clone()).await, reserved);
        if auto_confirm {
            continue;
        }
        let first = reserved["payments"][0]["id"].as_i64().unwrap();
        let confirmed = signed_ok(
            &app,
            "PUT",
            &format!("/rest/v1/transaction/{key}/confirm"),
            &format!(r#"{{"{first}":{{"price":450,"currency":"EUR"}}}}"#),
        )
        .await;
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
        "inquiries":[{"identifier":"a","type":"required","description":"d","items":[{"identifier":"c","type":"person_code","title":"Person code"}]}]}"#;
    let t = signed_ok(&app, "POST", "/rest/v1/transaction", body).await;
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
    let read = signed_ok(&app, "GET", &format!("/rest/v1/transaction/{key}"), "").await;
    assert_eq!(read, t);
    let t = signed_ok(
        &app,
        "POST",
        "/rest/v1/transaction",
        r#"{"payments":[{"price":1,"currency":"EUR"}],"callback_uri":false}"#,
    )
    .await;
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
