//! Wallets found by contact (`GET wallets?…`), by one criterion (`GET wallet?…`) and their
//! barcodes (`GET wallet/barcode?…`): keyed as the PHP client expects, every spelling it sends,
//! and found only by clients granted `lookup` (others find what they may read anyway).

use crate::helpers::{TestApp, call, code_of, refused};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::{Client, Method};
use wallet_core::contacts::contact_hash;
use wallet_store::HolderUpdate;
use walletd::service::admin;

/// A client of the demo project without the `lookup` grant.
async fn without_lookup(app: &TestApp) -> Client {
    app.another_client("reservation_code,pin").await
}

/// An access token of demo holder `user` (0: alice, 1: bob) issued to `client`'s client (its
/// MAC id) with `scope`, stored as `POST /oauth/v1/token` would.
pub async fn token_of(app: &TestApp, user: usize, mac_id: &str, scope: &str) -> Client {
    let access_token = issue_token(app, user, mac_id, scope).await;
    Client::new(&app.base_url, &access_token, "holder-mac-key").unwrap()
}

/// An access token of demo holder `user` for the client `mac_id`, with `scope`: its MAC id (the
/// MAC key is `holder-mac-key`).
pub async fn issue_token(app: &TestApp, user: usize, mac_id: &str, scope: &str) -> String {
    let mut tx = app.state.store.write().await.unwrap();
    let client_id = tx.client_by_mac_id(mac_id).await.unwrap().unwrap().id;
    let access_token = format!(
        "token{}",
        wallet_core::keys::random_base62(&mut rand::rng(), 26)
    );
    let token = wallet_store::TokenRow {
        access_token: access_token.clone(),
        mac_key: "holder-mac-key".into(),
        client_id,
        user_id: app.demo.users[user].user_id,
        scope: scope.into(),
        expires_at: walletd::clock::wall_now() + 3600,
    };
    let refresh_hash = format!("refresh-{access_token}");
    tx.insert_token(&token, &refresh_hash, walletd::clock::wall_now() + 7200, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    access_token
}

fn wallet_of(app: &TestApp, user: usize) -> Value {
    let u = &app.demo.users[user];
    json!({
        "id": u.wallet_id.get(),
        "owner": u.user_id.get(),
        "account": {
            "number": walletd::service::wallets::account_number(u.wallet_id),
            "user_id": u.user_id.get(),
        },
    })
}

async fn contacts_find_wallets_keyed_as_asked(app: TestApp) {
    let (alice, bob) = (wallet_of(&app, 0), wallet_of(&app, 1));
    // The PHP client's form: comma-joined (its `,` encoded), e-mails lower-cased, phones digits.
    let found = app
        .get("wallets?email=alice%40example.com%2CBOB%40Example.com%2Cnobody%40example.com&phone=37060000001")
        .await;
    assert_eq!(
        found,
        json!({"alice@example.com": alice, "BOB@Example.com": bob, "37060000001": alice})
    );
    // Private: the SHA-1s of the normal forms, keyed by the hash as sent.
    let (email_hash, phone_hash) = (contact_hash("bob@example.com"), contact_hash("37060000001"));
    let found = app
        .get(&format!(
            "wallets?email_hash={}&phone_hash={phone_hash}",
            email_hash.to_uppercase()
        ))
        .await;
    assert_eq!(
        found,
        json!({email_hash.to_uppercase(): bob, phone_hash: alice})
    );
    // Other spellings of a list: `email[]=`, `email[0]=`, the name repeated; phones with a `+`.
    for query in [
        "email[]=alice%40example.com&email[]=bob%40example.com",
        "email%5B0%5D=alice%40example.com&email%5B1%5D=bob%40example.com",
        "email=alice%40example.com&email=bob%40example.com",
    ] {
        let found = app.get(&format!("wallets?{query}")).await;
        assert_eq!(found.as_object().unwrap().len(), 2, "{query}: {found}");
    }
    let plus = app.get("wallets?phone=%2B370%20600%2000002").await;
    assert_eq!(plus, json!({"+370 600 00002": bob}));
    // Nobody found: an empty object.
    assert_eq!(
        app.get("wallets?email=nobody%40example.com").await,
        json!({})
    );
    // The SDK maps the answer back to the contacts as given, plain or private.
    for private in [false, true] {
        let found = app
            .client
            .get_wallets_by_contacts(&["Alice@Example.com", "+370 600 00002", "x@y.z"], private)
            .await
            .unwrap();
        let ids: Vec<(&str, i64)> = found
            .iter()
            .map(|(k, w)| (k.as_str(), w.id.get()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("+370 600 00002", app.bob().get()),
                ("Alice@Example.com", app.alice().get())
            ],
            "private: {private}"
        );
    }
    // Only confirmed phones are found.
    let unconfirmed = HolderUpdate {
        phone_confirmed: Some(false),
        ..Default::default()
    };
    app.set_holder(1, unconfirmed).await;
    assert_eq!(app.get("wallets?phone=37060000002").await, json!({}));
    let by_hash = format!("wallets?phone_hash={}", contact_hash("37060000002"));
    assert_eq!(app.get(&by_hash).await, json!({}));
}
on_both!(contacts_find_wallets_keyed_as_asked);

async fn contact_lookups_refuse_what_cannot_be_a_contact(app: TestApp) {
    let many: Vec<String> = (0..101).map(|i| format!("p{i}%40example.com")).collect();
    for query in [
        "wallets".to_string(),
        "wallets?email=".to_string(),
        "wallets?name=alice".to_string(),
        "wallets?email=alice".to_string(),
        "wallets?phone=none".to_string(),
        "wallets?email_hash=abc".to_string(),
        format!("wallets?phone_hash={}", "g".repeat(40)),
        format!("wallets?email={}", many.join(",")),
        "wallets?email=a%00%40example.com".to_string(),
    ] {
        assert_eq!(app.get_error(&query).await, "invalid_request", "{query}");
    }
}
on_both!(contact_lookups_refuse_what_cannot_be_a_contact);

async fn without_the_grant_a_lookup_finds_only_what_the_caller_may_read(app: TestApp) {
    let plain = without_lookup(&app).await;
    let ask = "wallets?email=alice%40example.com,bob%40example.com";
    assert_eq!(call(&plain, Method::GET, ask, None).await, json!({}));
    let stranger = app.stranger("pin").await;
    assert_eq!(call(&stranger, Method::GET, ask, None).await, json!({}));
    for path in [
        "wallet?email=alice%40example.com",
        "wallet/barcode?email=alice%40example.com",
    ] {
        assert_eq!(
            refused(&plain, Method::GET, path, None).await,
            "not_found",
            "{path}"
        );
    }
    // A stranger granted `lookup` finds holders' wallets (their ids only, nothing personal).
    let finder = app.stranger("lookup").await;
    let found = call(&finder, Method::GET, ask, None).await;
    assert_eq!(found.as_object().unwrap().len(), 2, "{found}");
    // Its own project's wallet, a client finds without the grant.
    let number = walletd::service::wallets::account_number(app.demo.project_wallet_id);
    let own = call(
        &plain,
        Method::GET,
        &format!("wallet?account_number={number}"),
        None,
    )
    .await;
    assert_eq!(own["id"], app.demo.project_wallet_id.get());
    // A holder's token, of a client without the grant, finds her own wallet and no other.
    let creds = admin::create_client(&app.state, app.demo.project_id, "pin")
        .await
        .unwrap();
    let alice = token_of(&app, 0, &creds.mac_id, "wallet wallet_list").await;
    assert_eq!(
        call(&alice, Method::GET, ask, None).await,
        json!({"alice@example.com": wallet_of(&app, 0)})
    );
    let bob = "wallet?email=bob%40example.com";
    assert_eq!(refused(&alice, Method::GET, bob, None).await, "not_found");
}
on_both!(without_the_grant_a_lookup_finds_only_what_the_caller_may_read);

async fn one_criterion_finds_a_wallet_and_its_barcode(app: TestApp) {
    let alice = wallet_of(&app, 0);
    let user = app.demo.users[0].user_id;
    let number = walletd::service::wallets::account_number(app.alice());
    for query in [
        "email=ALICE%40example.com".to_string(),
        "phone=37060000001".to_string(),
        format!("user_id={user}"),
        format!("account_number={number}"),
    ] {
        assert_eq!(app.get(&format!("wallet?{query}")).await, alice, "{query}");
    }
    let barcode = app
        .client
        .get_wallet_barcode_by("email", "alice@example.com")
        .await
        .unwrap();
    assert_eq!(barcode.len(), 20);
    assert!(barcode.bytes().all(|b| b.is_ascii_digit()));
    let again = app.get(&format!("wallet/barcode?user_id={user}")).await;
    assert_eq!(again, json!({"barcode": barcode}));
    let by_barcode = app.client.get_wallet_by("barcode", &barcode).await.unwrap();
    assert_eq!(by_barcode.id, app.alice());
    // A barcode made up from a wallet id names nothing.
    let mut forged = barcode.into_bytes();
    forged[19] = if forged[19] == b'9' {
        b'0'
    } else {
        forged[19] + 1
    };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        code_of(app.client.get_wallet_by("barcode", &forged).await),
        "not_found"
    );
    for (query, code) in [
        ("wallet", "invalid_request"),
        (
            "wallet?email=alice%40example.com&phone=37060000001",
            "invalid_request",
        ),
        ("wallet?colour=blue", "invalid_request"),
        ("wallet?user_id=abc", "invalid_request"),
        ("wallet?email=nobody%40example.com", "not_found"),
        ("wallet?user_id=999999", "not_found"),
        ("wallet?account_number=EVP9999999999999", "not_found"),
        ("wallet?account_number=LT123", "not_found"),
        ("wallet?card[paysera]=5487963154", "not_found"),
        ("wallet?licence_plate=ABC123", "not_found"),
        ("wallet/barcode", "invalid_request"),
        ("wallet/barcode?email=nobody%40example.com", "not_found"),
    ] {
        assert_eq!(app.get_error(query).await, code, "{query}");
    }
}
on_both!(one_criterion_finds_a_wallet_and_its_barcode);

async fn sufficient_amount_through_the_sdk_and_a_token(app: TestApp) {
    let project = app.demo.project_wallet_id;
    assert!(
        !app.client
            .has_sufficient_amount(project, 1, "EUR")
            .await
            .unwrap()
    );
    let alice = token_of(
        &app,
        0,
        &app.demo.client.mac_id,
        "check_has_sufficient_balance",
    )
    .await;
    let me = "wallet/me/sufficient-amount?amount=100000&currency=EUR";
    assert_eq!(
        call(&alice, Method::GET, me, None).await,
        json!({"is_sufficient": true})
    );
    let more = "wallet/me/sufficient-amount?amount=100001&currency=EUR";
    assert_eq!(
        call(&alice, Method::GET, more, None).await,
        json!({"is_sufficient": false})
    );
    let bobs = format!(
        "wallet/{}/sufficient-amount?amount=1&currency=EUR",
        app.bob()
    );
    assert_eq!(refused(&alice, Method::GET, &bobs, None).await, "forbidden");
    let unknown = "wallet/999999/sufficient-amount?amount=1&currency=EUR";
    assert_eq!(app.get_error(unknown).await, "not_found");
    let bad = format!("wallet/{project}/sufficient-amount?amount=1&currency=XYZ");
    assert_eq!(app.get_error(&bad).await, "invalid_request");
}
on_both!(sufficient_amount_through_the_sdk_and_a_token);
