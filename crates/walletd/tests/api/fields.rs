//! The fields a transaction and its payments show once known: a payment's `transfer_id` (its hold,
//! the same number in the statements), and a transaction's `manager_id` (the holder whose token
//! created it) and `location_id` (from the MAC `ext`).

use crate::helpers::{TestApp, call, one_payment};
use crate::lookups::{issue_token, token_of};
use crate::on_both;
use serde_json::Value;
use wallet_client::Method;

async fn a_payment_names_its_transfer_from_reserve_to_the_statements(app: TestApp) {
    let t = app.create(1_200).await;
    let key = t.transaction_key.as_str();
    assert_eq!(t.payments[0].transfer_id, None, "no money moved yet");
    let reserved = app.reserve(key, app.alice()).await;
    let transfer = reserved.payments[0]
        .transfer_id
        .expect("the hold is its transfer");
    let payment = app.client.get_payment(t.payments[0].id).await.unwrap();
    assert_eq!(payment.transfer_id, Some(transfer));
    let confirmed = app.confirm(key).await;
    assert_eq!(confirmed.payments[0].transfer_id, Some(transfer));
    // Both sides of the movement name it: the payer's line and the beneficiary's.
    let project = format!("wallet/{}/statements", app.demo.project_wallet_id);
    assert_eq!(
        app.get(&project).await["statements"][0]["transfer_id"],
        transfer
    );
    let alice = token_of(&app, 0, &app.demo.client.mac_id, "statements").await;
    let hers = call(&alice, Method::GET, "wallet/me/statements", None).await;
    let line = &hers["statements"][0];
    assert_eq!(
        (line["direction"].as_str(), &line["transfer_id"]),
        (Some("out"), &transfer.into())
    );
    // Another payment's transfer is another number.
    let other = app.reserved(300).await;
    assert_ne!(other.payments[0].transfer_id, Some(transfer));
}
on_both!(a_payment_names_its_transfer_from_reserve_to_the_statements);

/// `POST transaction` of one payment, signed by `mac_id`/`secret` with these MAC `ext`
/// parameters: `(status, answer)`.
async fn create_signed(
    app: &TestApp,
    (mac_id, secret): (&str, &str),
    parameters: &[(&str, &str)],
) -> (u16, Value) {
    let body = serde_json::to_string(&one_payment(100)).unwrap();
    app.raw("POST", "/rest/v1/transaction")
        .by(mac_id, secret)
        .parameters(parameters)
        .body(&body)
        .send()
        .await
}

async fn a_transaction_shows_its_manager_and_location(app: TestApp) {
    let client = (
        app.demo.client.mac_id.as_str(),
        app.demo.client.mac_secret.as_str(),
    );
    // Client credentials, no location: neither field.
    let (status, plain) = create_signed(&app, client, &[]).await;
    assert_eq!(status, 200, "{plain}");
    assert!(plain.get("manager_id").is_none() && plain.get("location_id").is_none());
    // The PHP client's `walletClient(['location_id' => 12])`.
    let (_, located) =
        create_signed(&app, client, &[("project_id", "5"), ("location_id", "12")]).await;
    assert_eq!(located["location_id"], 12);
    let key = located["transaction_key"].as_str().unwrap();
    let got = app.get(&format!("transaction/{key}")).await;
    assert_eq!(
        (&got["location_id"], got.get("manager_id")),
        (&12.into(), None)
    );
    for bad in ["a b", "0", "-3", "12.5", "+7", "99999999999999999999"] {
        let (status, e) = create_signed(&app, client, &[("location_id", bad)]).await;
        assert_eq!(
            (status, e["error"].as_str()),
            (400, Some("invalid_request")),
            "{bad}"
        );
        let description = e["error_description"].as_str().unwrap();
        assert!(description.contains("location_id"), "{description}");
    }
    // Created with alice's token: she is its manager, as the client then reads it too.
    let alice = app.demo.users[0].user_id.get();
    let token = issue_token(&app, 0, client.0, "wallet").await;
    let by_token = (token.as_str(), "holder-mac-key");
    let (status, managed) = create_signed(&app, by_token, &[("location_id", "7")]).await;
    assert_eq!(status, 200, "{managed}");
    assert_eq!(
        (&managed["manager_id"], &managed["location_id"]),
        (&alice.into(), &7.into())
    );
    let key = managed["transaction_key"].as_str().unwrap();
    let got = app.get(&format!("transaction/{key}")).await;
    assert_eq!(got["manager_id"], alice);
    // The other calls ignore `location_id`, whatever its value.
    let path = format!("/rest/v1/transaction/{key}");
    let (status, _) = app
        .raw("GET", &path)
        .parameters(&[("location_id", "a b")])
        .send()
        .await;
    assert_eq!(status, 200);
}
on_both!(a_transaction_shows_its_manager_and_location);
