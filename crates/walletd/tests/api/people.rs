//! Payments to people who may not have a wallet yet: a beneficiary by email or phone is paid to
//! its user's wallet; one that belongs to nobody makes the reserved transaction wait in
//! `waiting_registration`, the money held on the payer, until the user is created.

use crate::helpers::{NOWHERE, TestApp, code_of, refused};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::Method;
use wallet_client::types::TransactionStatus;
use wallet_core::ids::WalletId;
use walletd::service::admin::{self, CreatedUser, NewUser};

/// `POST transaction` of one EUR payment of `cents` to `beneficiary`, with callbacks queued.
async fn create_to(app: &TestApp, beneficiary: Value, cents: i64, extra: Value) -> Value {
    let mut body = json!({
        "payments": [{"description": "gift", "price": cents, "currency": "EUR", "beneficiary": beneficiary}],
        "callback_uri": NOWHERE,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.call(Method::POST, "transaction", Some(body)).await
}

/// [`create_to`]'s transaction key.
async fn create_key_to(app: &TestApp, beneficiary: Value, cents: i64, extra: Value) -> String {
    key_of(&create_to(app, beneficiary, cents, extra).await)
}

fn key_of(t: &Value) -> String {
    t["transaction_key"].as_str().unwrap().to_string()
}

async fn get(app: &TestApp, key: &str) -> Value {
    app.get(&format!("transaction/{key}")).await
}

async fn register(app: &TestApp, email: &str, phone: Option<&str>) -> CreatedUser {
    let new = NewUser {
        email: email.into(),
        phone: phone.map(str::to_string),
        password: Some("carol-password".into()),
        pin: Some("2468".into()),
    };
    admin::create_user(&app.state, new).await.unwrap()
}

async fn a_contact_of_a_user_pays_their_wallet(app: TestApp) {
    let bob = app.bob();
    for (beneficiary, shown) in [
        (
            json!({"email": " Bob@Example.com"}),
            json!({"email": "bob@example.com", "id": bob}),
        ),
        (
            json!({"phone": "+370 600 00002"}),
            json!({"phone": "+37060000002", "id": bob}),
        ),
    ] {
        let t = create_to(&app, beneficiary, 1_000, json!({})).await;
        assert_eq!(t["payments"][0]["beneficiary"], shown);
        let key = key_of(&t);
        let r = app.reserve(&key, app.alice()).await;
        assert_eq!(r.status, TransactionStatus::Reserved);
        app.confirm(&key).await;
    }
    assert_eq!(app.eur(bob).await, (100_000 + 2_000, 0));
    assert_eq!(app.eur(app.alice()).await, (100_000 - 2_000, 0));
    app.assert_ledger_sound().await;
}
on_both!(a_contact_of_a_user_pays_their_wallet);

async fn malformed_beneficiaries_are_refused(app: TestApp) {
    for bad in [
        json!({}),
        json!({"email": "bob@example.com", "phone": "+37060000002"}),
        json!({"email": "no address"}),
        json!({"phone": "call me"}),
        json!({"id": "12"}),
        json!({"name": "Bob"}),
        json!("bob@example.com"),
        json!({"id": 999_999}),
        json!({"barcode": "12345678"}),
    ] {
        let body = json!({"payments": [{"description": "x", "price": 100, "currency": "EUR", "beneficiary": bad}]});
        let code = refused(&app.client, Method::POST, "transaction", Some(body)).await;
        assert_eq!(code, "invalid_request", "{bad}");
    }
}
on_both!(malformed_beneficiaries_are_refused);

async fn paying_oneself_by_email_is_refused_at_reserve(app: TestApp) {
    let key = create_key_to(&app, json!({"email": "alice@example.com"}), 500, json!({})).await;
    assert_eq!(
        app.reserve_error(&key, app.alice()).await,
        "payment_to_same_account"
    );
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
}
on_both!(paying_oneself_by_email_is_refused_at_reserve);

async fn a_payment_waits_for_its_person_to_register(app: TestApp) {
    let t = create_to(
        &app,
        json!({"email": "Carol@example.com"}),
        2_500,
        json!({}),
    )
    .await;
    assert_eq!(
        t["payments"][0]["beneficiary"],
        json!({"email": "carol@example.com"})
    );
    let key = key_of(&t);
    let r = app.reserve(&key, app.alice()).await;
    assert_eq!(r.status, TransactionStatus::WaitingRegistration);
    let seen = get(&app, &key).await;
    assert_eq!(seen["status"], "waiting_registration");
    assert_eq!(seen["payments"][0]["status"], "waiting_registration");
    // Held on the payer, credited to nobody.
    assert_eq!(app.eur(app.alice()).await, (100_000 - 2_500, 2_500));
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (0, 0));
    assert_eq!(
        code_of(
            app.client
                .confirm_transaction(&r.transaction_key, None)
                .await
        ),
        "invalid_state"
    );
    assert_eq!(app.callback_types(&key).await, ["waiting_registration"]);
    app.assert_ledger_sound().await;

    let carol = register(&app, "carol@example.com", None).await;
    assert_eq!(carol.resolved_transactions.len(), 1);
    assert_eq!(carol.resolved_transactions[0].as_str(), key);
    let seen = get(&app, &key).await;
    assert_eq!(seen["status"], "reserved");
    assert_eq!(seen["payments"][0]["status"], "reserved");
    assert_eq!(
        seen["payments"][0]["beneficiary"],
        json!({"email": "carol@example.com", "id": carol.wallet_id})
    );
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting_registration", "reserved"]
    );
    app.confirm(&key).await;
    assert_eq!(app.eur(carol.wallet_id).await, (2_500, 0));
    assert_eq!(app.eur(app.alice()).await, (100_000 - 2_500, 0));
    app.assert_ledger_sound().await;
}
on_both!(a_payment_waits_for_its_person_to_register);

async fn a_phone_waits_too_and_auto_confirm_confirms_on_registration(app: TestApp) {
    let key = create_key_to(
        &app,
        json!({"phone": "+37069999999"}),
        1_200,
        json!({"auto_confirm": true}),
    )
    .await;
    let r = app
        .reserve_by_pin(&key, app.alice(), &app.demo.users[0].pin)
        .await;
    assert_eq!(r["status"], "waiting_registration");
    let dave = register(&app, "dave@example.com", Some("37069999999")).await;
    assert_eq!(dave.phone.as_deref(), Some("+37069999999"));
    assert!(dave.phone_confirmed);
    assert_eq!(get(&app, &key).await["status"], "confirmed");
    assert_eq!(app.eur(dave.wallet_id).await, (1_200, 0));
    assert_eq!(app.eur(app.alice()).await, (100_000 - 1_200, 0));
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting_registration", "confirmed"]
    );
    app.assert_ledger_sound().await;
}
on_both!(a_phone_waits_too_and_auto_confirm_confirms_on_registration);

async fn revoke_while_waiting_for_registration_releases_the_hold(app: TestApp) {
    let key = create_key_to(&app, json!({"email": "erin@example.com"}), 700, json!({})).await;
    app.reserve(&key, app.alice()).await;
    assert_eq!(app.eur(app.alice()).await, (100_000 - 700, 700));
    let revoked = app.revoke(&key).await;
    assert_eq!(revoked.status, TransactionStatus::Revoked);
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    // Registering later pays nothing.
    let erin = register(&app, "erin@example.com", None).await;
    assert!(erin.resolved_transactions.is_empty());
    assert_eq!(get(&app, &key).await["status"], "revoked");
    assert_eq!(app.eur(erin.wallet_id).await, (0, 0));
    app.assert_ledger_sound().await;
}
on_both!(revoke_while_waiting_for_registration_releases_the_hold);

async fn the_reserve_deadline_fails_a_wait_for_registration(app: TestApp) {
    let key = create_key_to(
        &app,
        json!({"email": "frank@example.com"}),
        900,
        json!({"reserve": {"for": 60}}),
    )
    .await;
    app.reserve(&key, app.alice()).await;
    app.clock.advance(61);
    app.sweep().await;
    assert_eq!(get(&app, &key).await["status"], "failed");
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting_registration", "failed"]
    );
    let frank = register(&app, "frank@example.com", None).await;
    assert!(frank.resolved_transactions.is_empty());
    assert_eq!(app.eur(frank.wallet_id).await, (0, 0));
    app.assert_ledger_sound().await;
}
on_both!(the_reserve_deadline_fails_a_wait_for_registration);

async fn a_person_registered_before_the_reservation_is_paid_directly(app: TestApp) {
    let key = create_key_to(&app, json!({"email": "gina@example.com"}), 300, json!({})).await;
    let gina = register(&app, "gina@example.com", None).await;
    assert_eq!(gina.resolved_transactions[0].as_str(), key);
    assert_eq!(get(&app, &key).await["status"], "new");
    let r = app.reserve(&key, app.alice()).await;
    assert_eq!(r.status, TransactionStatus::Reserved);
    app.confirm(&key).await;
    assert_eq!(app.eur(gina.wallet_id).await, (300, 0));
    app.assert_ledger_sound().await;
}
on_both!(a_person_registered_before_the_reservation_is_paid_directly);

async fn a_phone_confirmed_later_resolves_the_wait(app: TestApp) {
    // Bob's phone is not confirmed any more: nobody has it.
    let unconfirmed = wallet_store::HolderUpdate {
        phone_confirmed: Some(false),
        ..Default::default()
    };
    app.set_holder(1, unconfirmed).await;
    let waiting = create_key_to(&app, json!({"phone": "+37060000002"}), 400, json!({})).await;
    app.reserve(&waiting, app.alice()).await;
    assert_eq!(get(&app, &waiting).await["status"], "waiting_registration");
    let confirmed = wallet_store::HolderUpdate {
        phone_confirmed: Some(true),
        ..Default::default()
    };
    app.set_holder(1, confirmed).await;
    assert_eq!(get(&app, &waiting).await["status"], "reserved");
    app.confirm(&waiting).await;
    assert_eq!(app.eur(app.bob()).await, (100_000 + 400, 0));
    app.assert_ledger_sound().await;
}
on_both!(a_phone_confirmed_later_resolves_the_wait);

async fn renew_keeps_waiting_for_the_person(app: TestApp) {
    let key = create_key_to(&app, json!({"email": "hana@example.com"}), 600, json!({})).await;
    app.revoke(&key).await;
    let renewed = app.renew(&key).await;
    let new_key = key_of(&renewed);
    assert_eq!(
        renewed["payments"][0]["beneficiary"],
        json!({"email": "hana@example.com"})
    );
    app.reserve(&new_key, app.alice()).await;
    assert_eq!(get(&app, &new_key).await["status"], "waiting_registration");
    let hana = register(&app, "hana@example.com", None).await;
    assert_eq!(hana.resolved_transactions.len(), 1);
    app.confirm(&new_key).await;
    assert_eq!(app.eur(hana.wallet_id).await, (600, 0));
    app.assert_ledger_sound().await;
}
on_both!(renew_keeps_waiting_for_the_person);

async fn admin_user_create_prints_the_confirmed_contacts(app: TestApp) {
    let key = create_key_to(&app, json!({"email": "ivan@example.com"}), 800, json!({})).await;
    app.reserve(&key, app.alice()).await;
    let out = app.walletd(&[
        "admin",
        "user",
        "create",
        "--email",
        "Ivan@Example.com",
        "--phone",
        "+37061111111",
        "--pin",
        "1357",
        "--json",
    ]);
    assert_eq!(out["email"], "ivan@example.com");
    assert_eq!(out["email_confirmed"], true);
    assert_eq!(out["phone"], "+37061111111");
    assert_eq!(out["phone_confirmed"], true);
    assert!(out["password"].as_str().is_some_and(|p| p.len() >= 8));
    assert_eq!(out["resolved_transactions"], json!([key]));
    let wallet = WalletId::new(out["wallet_id"].as_i64().unwrap());
    assert!(out["user_id"].as_i64().is_some());
    assert_eq!(get(&app, &key).await["status"], "reserved");
    // The new holder's PIN works.
    app.top_up(wallet, "5.00").await;
    let t = app.create(100).await;
    let r = app
        .reserve_by_pin(t.transaction_key.as_str(), wallet, "1357")
        .await;
    assert_eq!(r["status"], "reserved");
    // A second user with the same email or phone is refused.
    for args in [
        ["--email", "ivan@example.com", "--phone", "+37062222222"],
        ["--email", "other@example.com", "--phone", "+37061111111"],
    ] {
        let mut all = vec!["admin", "user", "create", "--json"];
        all.extend(args);
        let out = crate::helpers::walletd_output(&app.database, &all);
        assert!(!out.status.success(), "{args:?}");
    }
}
on_both!(admin_user_create_prints_the_confirmed_contacts);
