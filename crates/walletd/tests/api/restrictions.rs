//! The payer checks of every reservation, the project limit on create, and the limit on
//! invalid requests: each error of `authorising-transactions.txt` where its condition holds.

use crate::helpers::{TestApp, assert_error, code_of, one_payment, refused, signed};
use crate::on_both;
use serde_json::json;
use wallet_client::Method;
use wallet_store::HolderUpdate;
use walletd::service::operator;

async fn restricted_holders_and_wallets_cannot_pay(app: TestApp) {
    let restricted = |yes| HolderUpdate {
        restricted: Some(yes),
        ..Default::default()
    };
    app.set_holder(0, restricted(true)).await;
    let t = app.create(100).await;
    let key = &t.transaction_key;
    assert_eq!(
        app.reserve_error(key, app.alice()).await,
        "client_restricted"
    );
    app.set_holder(0, restricted(false)).await;
    operator::set_wallet(&app.state, app.alice(), None, Some(false))
        .await
        .unwrap();
    assert_eq!(app.reserve_error(key, app.alice()).await, "no_rights");
    // PIN and allowance go through the same checks.
    let path = format!("transaction/{key}/reserve/{}", app.alice());
    let pin = Some(json!({"pin": "1234"}));
    assert_eq!(
        refused(&app.client, Method::PUT, &path, pin).await,
        "no_rights"
    );
    operator::set_wallet(&app.state, app.alice(), None, Some(true))
        .await
        .unwrap();
    let ok = app.reserve(key, app.alice()).await;
    assert_eq!(ok.status.as_str(), "reserved");
    assert_eq!(app.eur(app.alice()).await, (99_900, 100));
}
on_both!(restricted_holders_and_wallets_cannot_pay);

async fn transaction_restrictions_on_the_payer(app: TestApp) {
    let mut needs_identity = one_payment(100);
    needs_identity.restrictions = Some(json!({"account_owner": {"requirements": ["identity"]}}));
    let t = app.create_with(&needs_identity).await;
    assert_eq!(t.restrictions, needs_identity.restrictions);
    assert_eq!(
        app.reserve_error(&t.transaction_key, app.alice()).await,
        "client_not_verified"
    );
    let verified = HolderUpdate {
        identity_verified: Some(true),
        ..Default::default()
    };
    app.set_holder(0, verified).await;
    app.reserve(&t.transaction_key, app.alice()).await;

    let mut legal_only = one_payment(100);
    legal_only.restrictions = Some(json!({"account_owner": {"type": "legal"}}));
    let t = app.create_with(&legal_only).await;
    assert_eq!(
        app.reserve_error(&t.transaction_key, app.bob()).await,
        "restriction_violation"
    );
    let legal = HolderUpdate {
        person_type: Some("legal".into()),
        ..Default::default()
    };
    app.set_holder(1, legal).await;
    app.reserve(&t.transaction_key, app.bob()).await;

    // What walletd could not enforce is refused at creation, not silently ignored.
    for bad in [
        json!({"account_owner": {"level": "basic"}}),
        json!({"account_owner": {"type": "robot"}}),
        json!({"payer": {}}),
        json!("identity"),
    ] {
        let mut t = one_payment(100);
        t.restrictions = Some(bad.clone());
        assert_eq!(
            code_of(app.client.create_transaction(&t).await),
            "invalid_request",
            "{bad}"
        );
    }
    app.assert_ledger_sound().await;
}
on_both!(transaction_restrictions_on_the_payer);

async fn spending_limits_of_the_holder_and_the_operator(app: TestApp) {
    operator::set_wallet_limit(&app.state, app.alice(), "EUR", Some("20.00"), 86_400, false)
        .await
        .unwrap();
    let t = app.reserved(1_500).await;
    let over = app.create(501).await;
    assert_eq!(
        app.reserve_error(&over.transaction_key, app.alice()).await,
        "limits_exceeded"
    );
    // Released money is not spent: revoking frees the limit.
    app.revoke(&t.transaction_key).await;
    app.reserve(&over.transaction_key, app.alice()).await;
    // A day later the window is empty again.
    let t = app.create(2_000).await;
    assert_eq!(
        app.reserve_error(&t.transaction_key, app.alice()).await,
        "limits_exceeded"
    );
    app.clock.advance(86_400);
    app.reserve(&t.transaction_key, app.alice()).await;

    operator::set_wallet_limit(&app.state, app.bob(), "EUR", Some("10.00"), 3_600, true)
        .await
        .unwrap();
    let t = app.create(1_001).await;
    assert_eq!(
        app.reserve_error(&t.transaction_key, app.bob()).await,
        "restriction_limits_exceeded"
    );
    operator::set_wallet_limit(&app.state, app.bob(), "EUR", None, 3_600, true)
        .await
        .unwrap();
    app.reserve(&t.transaction_key, app.bob()).await;
    app.assert_ledger_sound().await;
}
on_both!(spending_limits_of_the_holder_and_the_operator);

async fn project_limit_violation_on_create(app: TestApp) {
    let project = app.demo.project_id;
    operator::set_project_limit(&app.state, project, "EUR", Some("50.00"))
        .await
        .unwrap();
    assert_eq!(
        code_of(app.client.create_transaction(&one_payment(5_001)).await),
        "limit_violation"
    );
    let mut two = one_payment(2_500);
    two.payments.push(one_payment(2_501).payments.remove(0));
    assert_eq!(
        code_of(app.client.create_transaction(&two).await),
        "limit_violation"
    );
    app.create(5_000).await;
    let payment = r#"{"description":"x","price_decimal":"50.01","currency":"EUR"}"#;
    let answer = signed(&app, "POST", "/rest/v1/payment", payment).await;
    assert_error(&answer, 400, "limit_violation");
    // Other currencies are not limited.
    let mut usd = one_payment(999_900);
    if let wallet_client::types::PaymentRef::New(p) = &mut usd.payments[0] {
        p.currency = "USD".into();
    }
    app.create_with(&usd).await;
    // Limits in two currencies: each total against its own.
    operator::set_project_limit(&app.state, project, "USD", Some("9000.00"))
        .await
        .unwrap();
    assert_eq!(
        code_of(app.client.create_transaction(&usd).await),
        "limit_violation"
    );
    app.create(5_000).await;
}
on_both!(project_limit_violation_on_create);

#[tokio::test]
async fn too_many_invalid_requests_are_rate_limited() {
    // A limit of 50 requests a minute allows 5 invalid ones.
    let app = crate::helpers::spawn_rate_limited_app(50).await;
    assert_eq!(walletd::auth::invalid_limit(50), 5);
    let unknown = "/rest/v1/transaction/NoSuchKey1";
    let balance = format!("/rest/v1/wallet/{}/balance", app.alice());
    let mut codes = Vec::new();
    for _ in 0..6 {
        let (status, _) = signed(&app, "GET", unknown, "").await;
        codes.push(status);
    }
    let (status, answer) = signed(&app, "GET", &balance, "").await;
    codes.push(status);
    // A minute boundary may reset the window once; then one more round always crosses the limit.
    if status != 429 {
        for _ in 0..6 {
            signed(&app, "GET", unknown, "").await;
        }
        let (status, answer) = signed(&app, "GET", &balance, "").await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (429, Some("rate_limit_exceeded")),
            "{codes:?}"
        );
    } else {
        assert_eq!(answer["error"], "rate_limit_exceeded");
        assert!(
            answer["error_description"]
                .as_str()
                .unwrap()
                .contains("invalid")
        );
    }
    assert!(codes[..6].iter().all(|s| *s == 404), "{codes:?}");
}
