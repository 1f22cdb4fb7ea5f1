//! Receipts of confirmed transactions.

use crate::helpers::{TestApp, refused};
use crate::on_both;
use wallet_client::Method;

async fn receipts_for_granted_clients_of_confirmed_transactions(app: TestApp) {
    let t = app.create(5_000).await;
    let key = &t.transaction_key;
    let receipt = format!("transaction/{key}/receipt");
    assert_eq!(app.get_error(&receipt).await, "invalid_state");
    app.reserve(key, app.alice()).await;
    app.confirm(key).await;
    let r = app.get(&format!("{receipt}?locale=en")).await;
    let customer = r["text_for_customer"].as_str().unwrap();
    assert!(
        customer.starts_with(&format!("Transaction ID: {key}\r\n")),
        "{customer}"
    );
    assert!(
        customer.contains("Cash withdrawal: 50.00 EUR\r\nTotal: 50.00 EUR"),
        "{customer}"
    );
    assert!(
        customer.ends_with("Confirmed with reservation code"),
        "{customer}"
    );
    assert!(
        !customer.contains('\n')
            || customer.matches('\n').count() == customer.matches("\r\n").count(),
        "CRLF only"
    );
    assert!(
        r["text_for_merchant"]
            .as_str()
            .unwrap()
            .contains(&format!("Wallet ID: {}", app.alice()))
    );
    let lt = app.get(&format!("{receipt}?locale=lt&width=16")).await;
    let lt = lt["text_for_customer"].as_str().unwrap();
    assert!(lt.contains("Operacijos ID:"), "{lt}");
    assert!(lt.split("\r\n").all(|l| l.chars().count() <= 16), "{lt}");
    let ru = app.get(&format!("{receipt}?locale=ru")).await;
    assert!(
        ru["text_for_customer"]
            .as_str()
            .unwrap()
            .contains("Итого: 50.00 EUR")
    );
    for bad in ["locale=de", "width=2"] {
        let answer = app.get_error(&format!("{receipt}?{bad}")).await;
        assert_eq!(answer, "invalid_request", "{bad}");
    }
    // A client not granted receipts.
    let plain = app
        .another_client(walletd::service::admin::ALL_GRANTS)
        .await;
    assert_eq!(
        refused(&plain, Method::GET, &receipt, None).await,
        "forbidden"
    );
}
on_both!(receipts_for_granted_clients_of_confirmed_transactions);
