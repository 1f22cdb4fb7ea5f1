//! Receipts of confirmed transactions.

use crate::helpers::{TestApp, code_of};
use crate::on_both;
use wallet_client::Method;

async fn receipts_for_granted_clients_of_confirmed_transactions(app: TestApp) {
    let t = app.create(5_000).await;
    let key = &t.transaction_key;
    assert_eq!(
        code_of(
            app.client
                .request_json(Method::GET, &format!("transaction/{key}/receipt"), None)
                .await
        ),
        "invalid_state"
    );
    let code = app.code(app.alice()).await;
    app.client
        .reserve_with_code(key, &code, None)
        .await
        .unwrap();
    app.client.confirm_transaction(key, None).await.unwrap();
    let r = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{key}/receipt?locale=en"),
            None,
        )
        .await
        .unwrap();
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
    let lt = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{key}/receipt?locale=lt&width=16"),
            None,
        )
        .await
        .unwrap();
    let lt = lt["text_for_customer"].as_str().unwrap();
    assert!(lt.contains("Operacijos ID:"), "{lt}");
    assert!(lt.split("\r\n").all(|l| l.chars().count() <= 16), "{lt}");
    let ru = app
        .client
        .request_json(
            Method::GET,
            &format!("transaction/{key}/receipt?locale=ru"),
            None,
        )
        .await
        .unwrap();
    assert!(
        ru["text_for_customer"]
            .as_str()
            .unwrap()
            .contains("Итого: 50.00 EUR")
    );
    assert_eq!(
        code_of(
            app.client
                .request_json(
                    Method::GET,
                    &format!("transaction/{key}/receipt?locale=de"),
                    None
                )
                .await
        ),
        "invalid_request"
    );
    assert_eq!(
        code_of(
            app.client
                .request_json(
                    Method::GET,
                    &format!("transaction/{key}/receipt?width=2"),
                    None
                )
                .await
        ),
        "invalid_request"
    );
    // A client not granted receipts.
    let creds = walletd::service::admin::create_client(
        &app.state,
        app.demo.project_id,
        walletd::service::admin::ALL_GRANTS,
    )
    .await
    .unwrap();
    let plain =
        wallet_client::Client::new(&app.base_url, &creds.mac_id, &creds.mac_secret).unwrap();
    assert_eq!(
        code_of(
            plain
                .request_json(Method::GET, &format!("transaction/{key}/receipt"), None)
                .await
        ),
        "forbidden"
    );
}
on_both!(receipts_for_granted_clients_of_confirmed_transactions);
