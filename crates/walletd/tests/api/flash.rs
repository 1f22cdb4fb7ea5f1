//! FLASH SMS: waiting with a correlation key, the SMS outbox, the holder's answer, callbacks,
//! the allowance short-cut, and `phone_not_confirmed`.

use crate::helpers::{NOWHERE, TestApp, calling_back, code_of, one_payment, refused};
use crate::on_both;
use serde_json::json;
use wallet_client::Method;
use wallet_client::types::Transaction;
use wallet_store::HolderUpdate;
use walletd::error::ApiError;
use walletd::service::operator::{self, SmsView};

const ALICE_PHONE: &str = "+37060000001";

/// The holder's SMS answer `text` from `phone`, as the gateway delivers it.
async fn answer(app: &TestApp, phone: &str, text: &str) -> Result<Transaction, ApiError> {
    walletd::service::flash::answer(&app.state.store, app.clock_now(), phone, text).await
}

/// The FLASH SMS (at most `limit`) sent to alice, newest first.
async fn sms_to_alice(app: &TestApp, limit: i64) -> Vec<SmsView> {
    operator::sms_list(&app.state, Some(ALICE_PHONE), limit)
        .await
        .unwrap()
}

/// The callbacks queued for `key`, as `object.type`, newest first.
async fn callbacks_of(app: &TestApp, key: &str) -> Vec<String> {
    let queued = app.callbacks_of(key).await;
    queued
        .into_iter()
        .map(|c| format!("{}.{}", c.object, c.event_type))
        .collect()
}

async fn flash_waits_and_the_holder_accepts(app: TestApp) {
    let t = app
        .create_with(&calling_back(one_payment(1_299), NOWHERE))
        .await;
    let key = t.transaction_key;
    let w = app.flash(&key, app.alice()).await.unwrap();
    assert_eq!(
        (w["status"].as_str(), w["type"].as_str()),
        (Some("waiting"), Some("flash"))
    );
    assert_eq!(w["wallet"], app.alice().get());
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    assert_eq!(ck.len(), 4);
    assert_eq!(w["payments"][0]["status"], "waiting");
    assert_eq!(
        app.eur(app.alice()).await,
        (100_000, 0),
        "nothing held while waiting"
    );
    // The SMS is in the outbox, with the amount and the correlation key.
    let sms = sms_to_alice(&app, 10).await;
    assert_eq!(sms.len(), 1);
    assert!(
        sms[0].body.contains("12.99 EUR") && sms[0].body.contains(&ck),
        "{}",
        sms[0].body
    );
    assert_eq!(sms[0].transaction_key.as_deref(), Some(key.as_str()));
    // A second send of a waiting transaction is refused.
    assert_eq!(code_of(app.flash(&key, app.alice()).await), "invalid_state");
    // Wrong code, or the right code from another phone: nothing happens.
    assert!(matches!(
        answer(&app, ALICE_PHONE, "ZZZZ YES").await,
        Err(ApiError::NotFound(_))
    ));
    assert!(
        answer(&app, "+37060000002", &format!("{ck} YES"))
            .await
            .is_err()
    );
    let r = answer(&app, ALICE_PHONE, &format!("{} yes", ck.to_lowercase()))
        .await
        .unwrap();
    app.assert_flash_reserved_on_alice(&r, "flash").await;
    // The holder acted, not the client: the client hears of it by callback.
    assert_eq!(callbacks_of(&app, &key).await, vec!["transaction.reserved"]);
    let c = app.confirm(&key).await;
    assert_eq!(c.status.as_str(), "confirmed");
    assert_eq!(app.eur(app.alice()).await, (98_701, 0));
    app.assert_ledger_sound().await;
}
on_both!(flash_waits_and_the_holder_accepts);

async fn flash_rejected_by_the_holder(app: TestApp) {
    let with_callback = calling_back(one_payment(500), NOWHERE);
    let (key, ck) = app.flashed_to_alice(&with_callback).await;
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
    let big = &big.transaction_key;
    let w = app.flash(big, app.alice()).await.unwrap();
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    assert!(matches!(
        answer(&app, ALICE_PHONE, &format!("{ck} YES")).await,
        Err(ApiError::NotEnoughFunds(_))
    ));
    assert_eq!(app.status(big).await.as_str(), "waiting");
    // The client may revoke a waiting transaction.
    let revoked = app.revoke(big).await;
    assert_eq!(revoked.status.as_str(), "revoked");
    app.assert_ledger_sound().await;
}
on_both!(flash_rejected_by_the_holder);

async fn flash_needs_a_confirmed_phone_and_the_grant(app: TestApp) {
    let new_phone = HolderUpdate {
        phone: Some(Some("+37069999999".into())),
        ..Default::default()
    };
    app.set_holder(1, new_phone).await;
    let t = app.create(100).await;
    let key = &t.transaction_key;
    assert_eq!(
        code_of(app.flash(key, app.bob()).await),
        "phone_not_confirmed"
    );
    assert_eq!(
        app.types(key, app.bob()).await,
        json!(["page", "pin", "reservation_code"])
    );
    assert_eq!(
        app.types(key, app.alice()).await,
        json!(["flash", "mobile_app", "page", "pin", "reservation_code"])
    );
    let (no_flash, t) = app.another_clients_transaction("pin", 100).await;
    let path = format!("transaction/{}/flash/{}", t.transaction_key, app.alice());
    assert_eq!(
        refused(&no_flash, Method::PUT, &path, None).await,
        "unsupported_grant_type"
    );
}
on_both!(flash_needs_a_confirmed_phone_and_the_grant);

async fn flash_uses_the_active_allowance_when_allowed(app: TestApp) {
    let allowance = json!({"currency": "EUR", "max_price": 1000});
    let a = crate::helpers::call(&app.client, Method::POST, "allowance", Some(allowance)).await;
    let key = a["transaction_key"].as_str().unwrap();
    // The holder accepts the allowance by FLASH SMS too.
    let w = app.flash(key, app.alice()).await.unwrap();
    let ck = w["correlation_key"].as_str().unwrap().to_string();
    let sms = sms_to_alice(&app, 1).await;
    assert!(sms[0].body.contains("allowance"), "{}", sms[0].body);
    answer(&app, ALICE_PHONE, &format!("{ck} YES"))
        .await
        .unwrap();
    app.confirm(key).await;
    // use_allowance (the default): reserved at once, no SMS, no correlation key.
    let t = app.create(900).await;
    let r = app.flash(&t.transaction_key, app.alice()).await.unwrap();
    assert_eq!(
        (r["status"].as_str(), r["type"].as_str()),
        (Some("reserved"), Some("automatic"))
    );
    assert!(r.get("correlation_key").is_none());
    assert_eq!(sms_to_alice(&app, 10).await.len(), 1);
    // Above the allowance, or with use_allowance false: the SMS is sent.
    let t = app.create(1_001).await;
    let r = app.flash(&t.transaction_key, app.alice()).await.unwrap();
    assert_eq!(r["status"], "waiting");
    let mut no = one_payment(100);
    no.use_allowance = Some(false);
    let t = app.create_with(&no).await;
    let r = app.flash(&t.transaction_key, app.alice()).await.unwrap();
    assert_eq!(r["status"], "waiting");
    assert_eq!(sms_to_alice(&app, 10).await.len(), 3);
}
on_both!(flash_uses_the_active_allowance_when_allowed);

async fn an_unanswered_flash_fails_at_its_deadline(app: TestApp) {
    let mut t = calling_back(one_payment(500), NOWHERE);
    t.reserve_for = Some(1); // hours
    let key = app.create_with(&t).await.transaction_key;
    let w = app.flash(&key, app.alice()).await.unwrap();
    let correlation = w["correlation_key"].as_str().unwrap().to_string();
    app.clock.advance(3_599);
    app.sweep().await;
    assert_eq!(app.status(&key).await.as_str(), "waiting");
    app.clock.advance(2);
    app.sweep().await;
    assert_eq!(app.status(&key).await.as_str(), "failed");
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

/// Found by the service simulation: before the sweep failed it, an answer past the deadline
/// still reserved the transaction (with a new deadline), though a read already showed it failed.
async fn an_answer_past_the_deadline_is_too_late_before_the_sweep(app: TestApp) {
    let mut t = one_payment(500);
    t.reserve_for = Some(1); // hours
    let key = app.create_with(&t).await.transaction_key;
    let w = app.flash(&key, app.alice()).await.unwrap();
    let correlation = w["correlation_key"].as_str().unwrap().to_string();
    app.clock.advance(3_600);
    let late = answer(&app, ALICE_PHONE, &format!("{correlation} YES")).await;
    assert_eq!(late.unwrap_err().code(), "invalid_state");
    assert_eq!(app.eur(app.alice()).await, (100_000, 0), "nothing held");
    app.sweep().await;
    assert_eq!(app.status(&key).await.as_str(), "failed");
}
on_both!(an_answer_past_the_deadline_is_too_late_before_the_sweep);
