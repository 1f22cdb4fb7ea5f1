//! Wallet statements and the sufficient-amount check.

use crate::helpers::TestApp;
use crate::on_both;
use serde_json::json;
use wallet_core::ids::WalletId;

async fn statements_list_the_wallets_ledger_entries(app: TestApp) {
    let project_wallet = app.demo.project_wallet_id;
    let t = app.confirmed(1_200).await;
    let statements = format!("wallet/{project_wallet}/statements");
    let page = app.get(&statements).await;
    assert_eq!(
        page["_metadata"],
        json!({"total": 1, "offset": 0, "limit": 20})
    );
    let line = &page["statements"][0];
    assert_eq!(line["amount"], "12.00");
    assert_eq!(line["currency"], "EUR");
    assert_eq!(line["direction"], "in");
    assert_eq!(line["details"], "Cash withdrawal");
    // The line names the payment's transfer, as the payment does.
    let transfer = t.payments[0]
        .transfer_id
        .expect("a confirmed payment has its transfer");
    assert_eq!(line["transfer_id"], transfer);
    assert_eq!(
        line["other_party"]["account_number"],
        walletd::service::wallets::account_number(app.alice())
    );
    assert_eq!(line["date"], app.clock_now());
    let none = app.get(&format!("{statements}?currency=USD")).await;
    assert_eq!(none["statements"], json!([]));
    let from = app.clock_now() + 1;
    let later = app.get(&format!("{statements}?from={from}")).await;
    assert_eq!(later["_metadata"]["total"], 0);
    assert_eq!(
        app.get_error(&format!("{statements}?limit=201")).await,
        "invalid_request"
    );
    // A holder's statements are the holder's business.
    assert_eq!(
        app.get_error(&format!("wallet/{}/statements", app.alice()))
            .await,
        "forbidden"
    );
}
on_both!(statements_list_the_wallets_ledger_entries);

async fn sufficient_amount_for_own_wallet_and_allowance_holders(app: TestApp) {
    let project_wallet = app.demo.project_wallet_id;
    app.confirmed(500).await;
    let check = |wallet: WalletId, amount: i64| {
        format!("wallet/{wallet}/sufficient-amount?amount={amount}&currency=EUR")
    };
    let sufficient = |yes: bool| json!({"is_sufficient": yes});
    assert_eq!(app.get(&check(project_wallet, 500)).await, sufficient(true));
    assert_eq!(
        app.get(&check(project_wallet, 501)).await,
        sufficient(false)
    );
    assert_eq!(app.get_error(&check(app.alice(), 1)).await, "forbidden");
    // A holder who gave this client an allowance may be asked.
    let allowance = json!({"currency": "EUR", "max_price": 100});
    app.activate_allowance(app.alice(), "1234", allowance).await;
    assert_eq!(app.get(&check(app.alice(), 99_500)).await, sufficient(true));
    assert_eq!(
        app.get(&check(app.alice(), 99_501)).await,
        sufficient(false)
    );
    let no_amount = format!("wallet/{}/sufficient-amount?currency=EUR", app.alice());
    assert_eq!(app.get_error(&no_amount).await, "invalid_request");
}
on_both!(sufficient_amount_for_own_wallet_and_allowance_holders);
