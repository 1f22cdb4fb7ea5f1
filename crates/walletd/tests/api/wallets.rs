//! Wallet statements and the sufficient-amount check.

use crate::helpers::{TestApp, code_of};
use crate::on_both;
use serde_json::json;
use wallet_client::Method;

async fn get(app: &TestApp, path: &str) -> Result<serde_json::Value, wallet_client::Error> {
    app.client.request_json(Method::GET, path, None).await
}

async fn statements_list_the_wallets_ledger_entries(app: TestApp) {
    let project_wallet = app.demo.project_wallet_id;
    let t = app.create(1_200).await;
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    app.client
        .confirm_transaction(&t.transaction_key, None)
        .await
        .unwrap();
    let page = get(&app, &format!("wallet/{project_wallet}/statements"))
        .await
        .unwrap();
    assert_eq!(
        page["_metadata"],
        json!({"total": 1, "offset": 0, "limit": 20})
    );
    let line = &page["statements"][0];
    assert_eq!(line["amount"], "12.00");
    assert_eq!(line["currency"], "EUR");
    assert_eq!(line["direction"], "in");
    assert_eq!(line["details"], "Cash withdrawal");
    assert_eq!(line["transfer_id"], t.payments[0].id);
    assert_eq!(
        line["other_party"]["account_number"],
        walletd::service::wallets::account_number(app.alice())
    );
    assert_eq!(line["date"], app.clock_now());
    let none = get(
        &app,
        &format!("wallet/{project_wallet}/statements?currency=USD"),
    )
    .await
    .unwrap();
    assert_eq!(none["statements"], json!([]));
    let later = get(
        &app,
        &format!(
            "wallet/{project_wallet}/statements?from={}",
            app.clock_now() + 1
        ),
    )
    .await
    .unwrap();
    assert_eq!(later["_metadata"]["total"], 0);
    assert_eq!(
        code_of(
            get(
                &app,
                &format!("wallet/{project_wallet}/statements?limit=201")
            )
            .await
        ),
        "invalid_request"
    );
    // A holder's statements are the holder's business.
    assert_eq!(
        code_of(get(&app, &format!("wallet/{}/statements", app.alice())).await),
        "forbidden"
    );
}
on_both!(statements_list_the_wallets_ledger_entries);

async fn sufficient_amount_for_own_wallet_and_allowance_holders(app: TestApp) {
    let project_wallet = app.demo.project_wallet_id;
    let t = app.create(500).await;
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(&t.transaction_key, &code, None)
        .await
        .unwrap();
    app.client
        .confirm_transaction(&t.transaction_key, None)
        .await
        .unwrap();
    let check = |wallet: i64, amount: i64| {
        format!("wallet/{wallet}/sufficient-amount?amount={amount}&currency=EUR")
    };
    assert_eq!(
        get(&app, &check(project_wallet, 500)).await.unwrap(),
        json!({"is_sufficient": true})
    );
    assert_eq!(
        get(&app, &check(project_wallet, 501)).await.unwrap(),
        json!({"is_sufficient": false})
    );
    assert_eq!(
        code_of(get(&app, &check(app.alice(), 1)).await),
        "forbidden"
    );
    // A holder who gave this client an allowance may be asked.
    let a = app
        .client
        .request_json(
            Method::POST,
            "allowance",
            Some(&json!({"currency": "EUR", "max_price": 100})),
        )
        .await
        .unwrap();
    let key = a["transaction_key"].as_str().unwrap();
    app.client
        .request_json(
            Method::PUT,
            &format!("transaction/{key}/reserve/{}", app.alice()),
            Some(&json!({"pin": "1234"})),
        )
        .await
        .unwrap();
    app.client.confirm_transaction(key, None).await.unwrap();
    assert_eq!(
        get(&app, &check(app.alice(), 99_500)).await.unwrap(),
        json!({"is_sufficient": true})
    );
    assert_eq!(
        get(&app, &check(app.alice(), 99_501)).await.unwrap(),
        json!({"is_sufficient": false})
    );
    assert_eq!(
        code_of(
            get(
                &app,
                &format!("wallet/{}/sufficient-amount?currency=EUR", app.alice())
            )
            .await
        ),
        "invalid_request"
    );
}
on_both!(sufficient_amount_for_own_wallet_and_allowance_holders);
