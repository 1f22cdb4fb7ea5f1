//! What a holder's access token may call: each route's scope (docs/decisions.md, "Holders' access
//! tokens"), `forbidden` with the scope named when the token lacks it.

use crate::helpers::{TestApp, call, refused};
use crate::lookups::{issue_token, token_of};
use crate::on_both;
use serde_json::Value;
use wallet_client::Method;

/// `method path` signed by a token of alice's with `scope`, by hand: `(status, answer)`.
async fn as_alice_with(app: &TestApp, scope: &str, method: &str, path: &str) -> (u16, Value) {
    let token = issue_token(app, 0, &app.demo.client.mac_id, scope).await;
    app.raw(method, &format!("/rest/v1/{path}"))
        .by(&token, "holder-mac-key")
        .send()
        .await
}

async fn each_route_asks_its_own_scope(app: TestApp) {
    let mac_id = &app.demo.client.mac_id;
    let balance = token_of(&app, 0, mac_id, "balance").await;
    let eur = call(&balance, Method::GET, "wallet/me/balance", None).await;
    assert_eq!(eur["EUR"]["at_disposal"], 100_000);
    let refused_to_balance = [
        (Method::GET, "wallet/me/statements"),
        (Method::GET, "user/me/wallets"),
        (Method::GET, "wallets?email=alice%40example.com"),
        (Method::GET, "transactions"),
    ];
    for (method, path) in refused_to_balance {
        let code = refused(&balance, method, path, None).await;
        assert_eq!(code, "forbidden", "{path}");
    }
    // The sufficient-amount check: its own scope, or `balance`.
    let enough = "wallet/me/sufficient-amount?amount=100&currency=EUR";
    assert_eq!(
        call(&balance, Method::GET, enough, None).await["is_sufficient"],
        true
    );
    let check = token_of(&app, 0, mac_id, "check_has_sufficient_balance").await;
    call(&check, Method::GET, enough, None).await;

    let listing = token_of(&app, 0, mac_id, "statements_offline wallet_list").await;
    for path in [
        "wallet/me/statements",
        "wallet/me",
        "user/me/wallets",
        "wallets?email=alice%40example.com",
    ] {
        call(&listing, Method::GET, path, None).await;
    }
    let code = refused(&listing, Method::GET, "wallet/me/balance", None).await;
    assert_eq!(code, "forbidden");
    // Her id and her wallet are for any token.
    let me = call(&balance, Method::GET, "user/me", None).await;
    assert_eq!(me["id"], app.demo.users[0].user_id.get());
    let wallet = call(&balance, Method::GET, "wallet/me", None).await;
    assert_eq!(wallet["id"], app.alice().get());
}
on_both!(each_route_asks_its_own_scope);

async fn acting_with_the_client_needs_the_wallet_scope(app: TestApp) {
    let t = app.create(700).await;
    let key = &t.transaction_key;
    let reserve = format!("transaction/{key}/reserve/me");
    let pin = Some(serde_json::json!({"pin": "1234"}));
    let data_only = token_of(&app, 0, &app.demo.client.mac_id, "balance statements").await;
    for (method, path) in [
        (Method::PUT, reserve.as_str()),
        (Method::GET, &format!("transaction/{key}")),
        (Method::POST, "transaction"),
        (Method::GET, "allowance/active/me"),
    ] {
        let code = refused(&data_only, method, path, pin.clone()).await;
        assert_eq!(code, "forbidden", "{path}");
    }
    assert_eq!(
        app.status(key).await.as_str(),
        "new",
        "nothing was reserved"
    );
    let wallet = token_of(&app, 0, &app.demo.client.mac_id, "wallet").await;
    let r = call(&wallet, Method::PUT, &reserve, pin).await;
    assert_eq!(r["status"], "reserved");
    // Client credentials are not limited by scopes.
    let project = format!("wallet/{}/balance", app.demo.project_wallet_id);
    app.get(&project).await;
}
on_both!(acting_with_the_client_needs_the_wallet_scope);

async fn a_refusal_names_the_scope_it_needs(app: TestApp) {
    let (status, e) = as_alice_with(&app, "wallet email", "GET", "wallet/me/balance").await;
    assert_eq!((status, e["error"].as_str()), (403, Some("forbidden")));
    let description = e["error_description"].as_str().unwrap();
    assert!(description.contains("needs scope balance"), "{description}");
    let path = "wallet/me/statements";
    let (_, e) = as_alice_with(&app, "email", "GET", path).await;
    let description = e["error_description"].as_str().unwrap();
    assert!(description.contains("scope statements"), "{description}");
    let (status, _) = as_alice_with(&app, "statements", "GET", path).await;
    assert_eq!(status, 200);
}
on_both!(a_refusal_names_the_scope_it_needs);
