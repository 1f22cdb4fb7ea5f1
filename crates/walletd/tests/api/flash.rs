//! FLASH SMS: waiting with a correlation key, the SMS outbox, the holder's answer, callbacks,
//! the allowance short-cut, and `phone_not_confirmed`.

use crate::helpers::{TestApp, code_of, one_payment};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::Method;
use wallet_store::{CallbackFilter, HolderUpdate};
use walletd::service::{flash, operator};

const ALICE_PHONE: &str = "+37060000001";

async fn send(app: &TestApp, key: &str, wallet: i64) -> Result<Value, wallet_client::Error> {
    app.client
        .request_json(
            Method::PUT,
            &format!("transaction/{key}/flash/{wallet}"),
            None,
        )
        .await
}

async fn answer(
    app: &TestApp,
    phone: &str,
    text: &str,
) -> Result<wallet_client::types::Transaction, walletd::error::ApiError> {
    flash::answer(&app.state.store, app.clock_now(), phone, text).await
}

async fn callbacks_of(app: &TestApp, key: &str) -> Vec<String> {
    let filter = CallbackFilter {
        undelivered: false,
        transaction_key: Some(key.to_string()),
    };
    walletd::callbacks::list(&app.state, &filter, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| format!("{}.{}", c.object, c.event_type))
        .collect()
}

fn with_callback(cents: i64) -> wallet_client::types::NewTransaction {
    let mut t = one_payment(cents);
    t.callback_uri = Some(wallet_client::types::CallbackUri::Uri(
        "http://127.0.0.1:9/callback".into(),
    ));
    t
}

async fn flash_waits_and_the_holder_accepts(app: TestApp) {
    let t = app
        .client
        .create_transaction(&with_callback(1_299))
        .await
        .unwrap();
    let key = t.transaction_key.clone();
    let w = send(&app, &key, app.alice()).await.unwrap();
    assert_eq!(
        (w["status"].as_str(), w["type"].as_str()),
        (Some("waiting"), Some("flash"))
    );
    assert_eq!(w["wallet"], app.alice());
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    assert_eq!(ck.len(), 4);
    assert_eq!(w["payments"][0]["status"], "waiting");
    assert_eq!(
        app.eur(app.alice()).await,
        (100_000, 0),
        "nothing held while waiting"
    );
    // The SMS is in the outbox, with the amount and the correlation key.
    let sms = operator::sms_list(&app.state, Some(ALICE_PHONE), 10)
        .await
        .unwrap();
    assert_eq!(sms.len(), 1);
    assert!(
        sms[0].body.contains("12.99 EUR") && sms[0].body.contains(&ck),
        "{}",
        sms[0].body
    );
    assert_eq!(sms[0].transaction_key.as_deref(), Some(key.as_str()));
    // A second send of a waiting transaction is refused.
    assert_eq!(
        code_of(send(&app, &key, app.alice()).await),
        "invalid_state"
    );
    // Wrong code, or the right code from another phone: nothing happens.
    assert!(matches!(
        answer(&app, ALICE_PHONE, "ZZZZ YES").await,
        Err(walletd::error::ApiError::NotFound(_))
    ));
    assert!(
        answer(&app, "+37060000002", &format!("{ck} YES"))
            .await
            .is_err()
    );
    let r = answer(&app, ALICE_PHONE, &format!("{} yes", ck.to_lowercase()))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "reserved");
    assert_eq!(r.kind.map(|k| k.as_str()), Some("flash"));
    assert_eq!(r.correlation_key, None);
    assert_eq!(app.eur(app.alice()).await, (98_701, 1_299));
    // The holder acted, not the client: the client hears of it by callback.
    assert_eq!(callbacks_of(&app, &key).await, vec!["transaction.reserved"]);
    let c = app.client.confirm_transaction(&key, None).await.unwrap();
    assert_eq!(c.status.as_str(), "confirmed");
    assert_eq!(app.eur(app.alice()).await, (98_701, 0));
    app.assert_ledger_sound().await;
}
on_both!(flash_waits_and_the_holder_accepts);

async fn flash_rejected_by_the_holder(app: TestApp) {
    let t = app
        .client
        .create_transaction(&with_callback(500))
        .await
        .unwrap();
    let key = t.transaction_key.clone();
    let w = send(&app, &key, app.alice()).await.unwrap();
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    assert!(
        answer(&app, ALICE_PHONE, &format!("{ck} MAYBE"))
            .await
            .is_err()
    );
    let r = answer(&app, ALICE_PHONE, &format!("{ck} NO"))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "rejected");
    assert_eq!(r.payments[0].status.as_str(), "rejected");
    assert_eq!(callbacks_of(&app, &key).await, vec!["transaction.rejected"]);
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    // A rejected transaction can be renewed, not answered again.
    assert!(
        answer(&app, ALICE_PHONE, &format!("{ck} YES"))
            .await
            .is_err()
    );
    // The holder answering without enough money: refused, still waiting.
    let big = app.create(100_001).await;
    let w = send(&app, &big.transaction_key, app.alice()).await.unwrap();
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    assert!(matches!(
        answer(&app, ALICE_PHONE, &format!("{ck} YES")).await,
        Err(walletd::error::ApiError::NotEnoughFunds(_))
    ));
    let still = app
        .client
        .get_transaction(&big.transaction_key)
        .await
        .unwrap();
    assert_eq!(still.status.as_str(), "waiting");
    // The client may revoke a waiting transaction.
    let revoked = app
        .client
        .revoke_transaction(&big.transaction_key)
        .await
        .unwrap();
    assert_eq!(revoked.status.as_str(), "revoked");
    app.assert_ledger_sound().await;
}
on_both!(flash_rejected_by_the_holder);

async fn flash_needs_a_confirmed_phone_and_the_grant(app: TestApp) {
    let bob_user = app.demo.users[1].user_id;
    operator::set_holder(
        &app.state,
        bob_user,
        HolderUpdate {
            phone: Some(Some("+37069999999".into())),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let t = app.create(100).await;
    assert_eq!(
        code_of(send(&app, &t.transaction_key, app.bob()).await),
        "phone_not_confirmed"
    );
    let types = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{}/type/{}", t.transaction_key, app.bob()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(types, json!(["page", "pin", "reservation_code"]));
    let types = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{}/type/{}", t.transaction_key, app.alice()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(types, json!(["flash", "page", "pin", "reservation_code"]));
    let creds = walletd::service::admin::create_client(&app.state, app.demo.project_id, "pin")
        .await
        .unwrap();
    let no_flash =
        wallet_client::Client::new(&app.base_url, &creds.mac_id, &creds.mac_secret).unwrap();
    let t = no_flash
        .create_transaction(&one_payment(100))
        .await
        .unwrap();
    assert_eq!(
        code_of(
            no_flash
                .request_json(
                    Method::PUT,
                    &format!("transaction/{}/flash/{}", t.transaction_key, app.alice()),
                    None
                )
                .await
        ),
        "unsupported_grant_type"
    );
}
on_both!(flash_needs_a_confirmed_phone_and_the_grant);

async fn flash_uses_the_active_allowance_when_allowed(app: TestApp) {
    let a = app
        .client
        .request_json(
            Method::POST,
            "allowance",
            Some(&json!({"currency": "EUR", "max_price": 1000})),
        )
        .await
        .unwrap();
    let key = a["transaction_key"].as_str().unwrap().to_string();
    // The holder accepts the allowance by FLASH SMS too.
    let w = send(&app, &key, app.alice()).await.unwrap();
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    let sms = operator::sms_list(&app.state, Some(ALICE_PHONE), 1)
        .await
        .unwrap();
    assert!(sms[0].body.contains("allowance"), "{}", sms[0].body);
    answer(&app, ALICE_PHONE, &format!("{ck} YES"))
        .await
        .unwrap();
    app.client.confirm_transaction(&key, None).await.unwrap();
    // use_allowance (the default): reserved at once, no SMS, no correlation key.
    let t = app.create(900).await;
    let r = send(&app, &t.transaction_key, app.alice()).await.unwrap();
    assert_eq!(
        (r["status"].as_str(), r["type"].as_str()),
        (Some("reserved"), Some("automatic"))
    );
    assert!(r.get("correlation_key").is_none());
    assert_eq!(
        operator::sms_list(&app.state, Some(ALICE_PHONE), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Above the allowance, or with use_allowance false: the SMS is sent.
    let t = app.create(1_001).await;
    let r = send(&app, &t.transaction_key, app.alice()).await.unwrap();
    assert_eq!(r["status"], "waiting");
    let mut no = one_payment(100);
    no.use_allowance = Some(false);
    let t = app.client.create_transaction(&no).await.unwrap();
    let r = send(&app, &t.transaction_key, app.alice()).await.unwrap();
    assert_eq!(r["status"], "waiting");
    assert_eq!(
        operator::sms_list(&app.state, Some(ALICE_PHONE), 10)
            .await
            .unwrap()
            .len(),
        3
    );
}
on_both!(flash_uses_the_active_allowance_when_allowed);

async fn an_unanswered_flash_fails_at_its_deadline(app: TestApp) {
    let mut t = with_callback(500);
    t.reserve_for = Some(1); // hours
    let t = app.client.create_transaction(&t).await.unwrap();
    let key = t.transaction_key;
    let w = send(&app, &key, app.alice()).await.unwrap();
    let correlation = w["correlation_key"].as_str().unwrap().to_string();
    app.clock.advance(3_599);
    walletd::jobs::sweep_once(&app.state).await.unwrap();
    assert_eq!(
        app.client
            .get_transaction(&key)
            .await
            .unwrap()
            .status
            .as_str(),
        "waiting"
    );
    app.clock.advance(2);
    walletd::jobs::sweep_once(&app.state).await.unwrap();
    assert_eq!(
        app.client
            .get_transaction(&key)
            .await
            .unwrap()
            .status
            .as_str(),
        "failed"
    );
    assert_eq!(callbacks_of(&app, &key).await, ["transaction.failed"]);
    let late = answer(&app, ALICE_PHONE, &format!("{correlation} YES")).await;
    assert_eq!(
        late.unwrap_err().code(),
        "not_found",
        "a failed transaction waits no more"
    );
    assert_eq!(app.eur(app.alice()).await.1, 0);
}
on_both!(an_unanswered_flash_fails_at_its_deadline);
