//! The payer checks of every reservation, the project limit on create, and the limit on
//! invalid requests: each error of `authorising-transactions.txt` where its condition holds.

use crate::helpers::{TestApp, code_of, one_payment, signed};
use crate::on_both;
use serde_json::json;
use wallet_store::HolderUpdate;
use walletd::service::operator;

async fn reserve_code(app: &TestApp, t: &wallet_client::types::Transaction, wallet: i64) -> String {
    let code = app.code(wallet).await;
    code_of(
        app.client
            .reserve_with_code(&t.transaction_key, &code, None)
            .await,
    )
}

async fn set_holder(app: &TestApp, user: usize, u: HolderUpdate) {
    operator::set_holder(&app.state, app.demo.users[user].user_id, u)
        .await
        .unwrap();
}

async fn restricted_holders_and_wallets_cannot_pay(app: TestApp) {
    set_holder(
        &app,
        0,
        HolderUpdate {
            restricted: Some(true),
            ..Default::default()
        },
    )
    .await;
    let t = app.create(100).await;
    assert_eq!(
        reserve_code(&app, &t, app.alice()).await,
        "client_restricted"
    );
    set_holder(
        &app,
        0,
        HolderUpdate {
            restricted: Some(false),
            ..Default::default()
        },
    )
    .await;
    operator::set_wallet(&app.state, app.alice(), None, Some(false))
        .await
        .unwrap();
    assert_eq!(reserve_code(&app, &t, app.alice()).await, "no_rights");
    // PIN and allowance go through the same checks.
    let pin = app
        .client
        .request_json(
            wallet_client::Method::PUT,
            &format!("transaction/{}/reserve/{}", t.transaction_key, app.alice()),
            Some(&json!({"pin": "1234"})),
        )
        .await;
    assert_eq!(code_of(pin), "no_rights");
    operator::set_wallet(&app.state, app.alice(), None, Some(true))
        .await
        .unwrap();
    let code = app.code(app.alice()).await;
    let ok = app
        .client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    assert_eq!(ok.status.as_str(), "reserved");
    assert_eq!(app.eur(app.alice()).await, (99_900, 100));
}
on_both!(restricted_holders_and_wallets_cannot_pay);

async fn transaction_restrictions_on_the_payer(app: TestApp) {
    let mut needs_identity = one_payment(100);
    needs_identity.restrictions = Some(json!({"account_owner": {"requirements": ["identity"]}}));
    let t = app
        .client
        .create_transaction(&needs_identity)
        .await
        .unwrap();
    assert_eq!(t.restrictions, needs_identity.restrictions);
    assert_eq!(
        reserve_code(&app, &t, app.alice()).await,
        "client_not_verified"
    );
    set_holder(
        &app,
        0,
        HolderUpdate {
            identity_verified: Some(true),
            ..Default::default()
        },
    )
    .await;
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();

    let mut legal_only = one_payment(100);
    legal_only.restrictions = Some(json!({"account_owner": {"type": "legal"}}));
    let t = app.client.create_transaction(&legal_only).await.unwrap();
    assert_eq!(
        reserve_code(&app, &t, app.bob()).await,
        "restriction_violation"
    );
    set_holder(
        &app,
        1,
        HolderUpdate {
            person_type: Some("legal".into()),
            ..Default::default()
        },
    )
    .await;
    let code = app.code(app.bob()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();

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
    let t = app.create(1_500).await;
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    let over = app.create(501).await;
    assert_eq!(
        reserve_code(&app, &over, app.alice()).await,
        "limits_exceeded"
    );
    // Released money is not spent: revoking frees the limit.
    app.client
        .revoke_transaction(&t.transaction_key)
        .await
        .unwrap();
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&over.transaction_key, &code, None)
        .await
        .unwrap();
    // A day later the window is empty again.
    let t = app.create(2_000).await;
    assert_eq!(reserve_code(&app, &t, app.alice()).await, "limits_exceeded");
    app.clock.advance(86_400);
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();

    operator::set_wallet_limit(&app.state, app.bob(), "EUR", Some("10.00"), 3_600, true)
        .await
        .unwrap();
    let t = app.create(1_001).await;
    assert_eq!(
        reserve_code(&app, &t, app.bob()).await,
        "restriction_limits_exceeded"
    );
    operator::set_wallet_limit(&app.state, app.bob(), "EUR", None, 3_600, true)
        .await
        .unwrap();
    let code = app.code(app.bob()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    app.assert_ledger_sound().await;
}
on_both!(spending_limits_of_the_holder_and_the_operator);

async fn project_limit_violation_on_create(app: TestApp) {
    operator::set_project_limit(&app.state, app.demo.project_id, "EUR", Some("50.00"))
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
    app.client
        .create_transaction(&one_payment(5_000))
        .await
        .unwrap();
    let (status, answer) = signed(
        &app,
        "POST",
        "/rest/v1/payment",
        r#"{"description":"x","price_decimal":"50.01","currency":"EUR"}"#,
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("limit_violation")),
        "{answer}"
    );
    // Other currencies are not limited.
    let mut usd = one_payment(999_900);
    if let wallet_client::types::PaymentRef::New(p) = &mut usd.payments[0] {
        p.currency = "USD".into();
    }
    app.client.create_transaction(&usd).await.unwrap();
    // Limits in two currencies: each total against its own.
    operator::set_project_limit(&app.state, app.demo.project_id, "USD", Some("9000.00"))
        .await
        .unwrap();
    assert_eq!(
        code_of(app.client.create_transaction(&usd).await),
        "limit_violation"
    );
    app.client
        .create_transaction(&one_payment(5_000))
        .await
        .unwrap();
}
on_both!(project_limit_violation_on_create);

#[tokio::test]
async fn too_many_invalid_requests_are_rate_limited() {
    // A limit of 50 requests a minute allows 5 invalid ones.
    crate::helpers::RATE_LIMIT.with(|l| l.set(50));
    let app = crate::helpers::spawn_app(wallet_store::Backend::Sqlite).await;
    crate::helpers::RATE_LIMIT.with(|l| l.set(10_000));
    assert_eq!(walletd::auth::invalid_limit(50), 5);
    let mut codes = Vec::new();
    for _ in 0..6 {
        let (status, _) = signed(&app, "GET", "/rest/v1/transaction/NoSuchKey1", "").await;
        codes.push(status);
    }
    let (status, answer) = signed(
        &app,
        "GET",
        &format!("/rest/v1/wallet/{}/balance", app.alice()),
        "",
    )
    .await;
    codes.push(status);
    // A minute boundary may reset the window once; then one more round always crosses the limit.
    if status != 429 {
        for _ in 0..6 {
            signed(&app, "GET", "/rest/v1/transaction/NoSuchKey1", "").await;
        }
        let (status, answer) = signed(
            &app,
            "GET",
            &format!("/rest/v1/wallet/{}/balance", app.alice()),
            "",
        )
        .await;
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
