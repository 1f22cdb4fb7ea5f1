//! Holders' MAC access tokens (`POST /oauth/v1/token`) and `me` in paths.

use crate::helpers::{TestApp, call, refused, revoke_token, signed};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::{Client, Method};
use wallet_core::ids::WalletId;

/// `POST /oauth/v1/token` with a form body, signed with the demo client's credentials.
async fn token_request(app: &TestApp, form: &str) -> (u16, Value) {
    signed(app, "POST", "/oauth/v1/token", form).await
}

fn holder_client(app: &TestApp, token: &Value) -> Client {
    Client::new(
        &app.base_url,
        token["access_token"].as_str().unwrap(),
        token["mac_key"].as_str().unwrap(),
    )
    .unwrap()
}

/// The error code of `client`'s `GET wallet/me`.
async fn me_refused(client: &Client) -> String {
    refused(client, Method::GET, "wallet/me", None).await
}

async fn password_grant_gives_a_mac_token_for_me(app: TestApp) {
    let (status, token) = token_request(
        &app,
        "grant_type=password&username=alice%40example.com&password=alice-demo-password&scope=wallet+balance",
    )
    .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "mac");
    assert_eq!(token["mac_algorithm"], "hmac-sha-256");
    assert_eq!(token["expires_in"], 3600);
    assert!(token["refresh_token"].is_string());
    let alice = holder_client(&app, &token);
    let wallet = call(&alice, Method::GET, "wallet/me", None).await;
    assert_eq!(wallet["id"], app.alice().get());
    let balance = call(&alice, Method::GET, "wallet/me/balance", None).await;
    assert_eq!(balance["EUR"]["at_disposal"], 100_000);
    // Her own wallet by id too, but not Bob's.
    let balance_of = |wallet: WalletId| format!("wallet/{wallet}/balance");
    call(&alice, Method::GET, &balance_of(app.alice()), None).await;
    assert_eq!(
        refused(&alice, Method::GET, &balance_of(app.bob()), None).await,
        "forbidden"
    );
    // `me` without a token names no wallet.
    assert_eq!(me_refused(&app.client).await, "not_found");
    // The token acts for the client's project: reserve/me with her PIN.
    let t = app.create(700).await;
    let path = format!("transaction/{}/reserve/me", t.transaction_key);
    let r = call(&alice, Method::PUT, &path, Some(json!({"pin": "1234"}))).await;
    assert_eq!(
        (r["status"].as_str(), r["wallet"].as_i64()),
        (Some("reserved"), Some(app.alice().get()))
    );
    // Wrong password, unknown user, unsupported grant.
    let (status, e) = token_request(
        &app,
        "grant_type=password&username=alice%40example.com&password=nope",
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let (_, e) = token_request(
        &app,
        "grant_type=password&username=nobody%40example.com&password=x",
    )
    .await;
    assert_eq!(e["error"], "invalid_grant");
    let (_, e) = token_request(&app, "grant_type=authorization_code&code=x").await;
    assert_eq!(e["error"], "invalid_grant", "no such code");
    let (_, e) = token_request(&app, "grant_type=client_credentials").await;
    assert_eq!(e["error"], "unsupported_grant_type");
}
on_both!(password_grant_gives_a_mac_token_for_me);

async fn refresh_tokens_work_once_and_revoked_tokens_stop(app: TestApp) {
    let (_, first) = token_request(
        &app,
        "grant_type=password&username=bob%40example.com&password=bob-demo-password",
    )
    .await;
    let refresh = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = token_request(
        &app,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["access_token"], first["access_token"]);
    // The refresh token was used up, and the old access token with it.
    let (_, again) = token_request(
        &app,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    assert_eq!(again["error"], "invalid_grant");
    assert_eq!(
        me_refused(&holder_client(&app, &first)).await,
        "unauthorized"
    );
    let bob = holder_client(&app, &second);
    let me = call(&bob, Method::GET, "wallet/me", None).await;
    assert_eq!(me["id"], app.bob().get());
    let access = second["access_token"].as_str().unwrap();
    let (status, _) = revoke_token(&app, access).await;
    assert_eq!(status, 200);
    assert_eq!(me_refused(&bob).await, "unauthorized");
}
on_both!(refresh_tokens_work_once_and_revoked_tokens_stop);

async fn an_expired_token_answers_invalid_grant(app: TestApp) {
    let now = walletd::clock::wall_now();
    let client_id = {
        let mut tx = app.state.store.read().await.unwrap();
        tx.client_by_mac_id(&app.demo.client.mac_id)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let expired = wallet_store::TokenRow {
        access_token: "expiredtoken0000000000000000001".into(),
        mac_key: "expired-key".into(),
        client_id,
        user_id: app.demo.users[0].user_id,
        scope: "wallet".into(),
        expires_at: now - 1,
    };
    let mut tx = app.state.store.write().await.unwrap();
    tx.insert_token(&expired, "unused-refresh-hash", now + 60, now - 3601)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let alice = Client::new(
        &app.base_url,
        "expiredtoken0000000000000000001",
        "expired-key",
    )
    .unwrap();
    // The PHP client refreshes its token when it sees invalid_grant.
    assert_eq!(me_refused(&alice).await, "invalid_grant");
}
on_both!(an_expired_token_answers_invalid_grant);

/// A token request that carries an `Idempotency-Key` (a client that sends one on every POST)
/// is answered like any other: walletd does not keep its answer, which holds the token.
async fn token_requests_ignore_idempotency_keys(app: TestApp) {
    let form = "grant_type=password&username=alice%40example.com&password=alice-demo-password";
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let res = app
            .raw("POST", "/oauth/v1/token")
            .body(form)
            .send_with(&[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Idempotency-Key", "the-same-key"),
            ])
            .await;
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.headers().get("Idempotent-Replayed").is_none());
        let token: Value = res.json().await.unwrap();
        tokens.push(token["access_token"].as_str().unwrap().to_string());
    }
    assert_ne!(tokens[0], tokens[1], "two tokens, none replayed");
    let revoke = format!("/oauth/v1/token?access_token={}", tokens[0]);
    let res = app
        .raw("DELETE", &revoke)
        .send_with(&[("Idempotency-Key", "another-key")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
}
on_both!(token_requests_ignore_idempotency_keys);
