//! Inquiries: checked at `POST transaction` and returned as given, answered by the holder on the
//! confirmation page, read by the client at `GET transaction/{key}/inquired-information`.

use crate::helpers::{TestApp, call, issued};
use crate::on_both;
use crate::pages::{alice_on, confirm_path};
use serde_json::{Value, json};
use wallet_client::Method;

fn payment() -> Value {
    json!([{"description": "Ticket", "price": 700, "currency": "EUR"}])
}

fn asked() -> Value {
    json!([
        {"identifier": "kyc", "type": "required", "description": "Who buys the ticket",
         "items": [{"identifier": "who", "type": "user_identity", "title": "Buyer"}]},
        {"identifier": "extra", "type": "optional",
         "items": [{"identifier": "pc", "type": "person_code", "title": "Person code"}]}
    ])
}

async fn create(app: &TestApp, inquiries: Value) -> Result<Value, wallet_client::Error> {
    let body = json!({"payments": payment(), "inquiries": inquiries});
    app.client
        .request_json(Method::POST, "transaction", Some(&body))
        .await
}

async fn malformed_inquiries_are_refused(app: TestApp) {
    let cases = [
        (json!({"identifier": "x"}), "must be an array"),
        (json!([{"identifier": "x", "items": []}]), "1 to 10 items"),
        (
            json!([{"identifier": "x", "items": [{"identifier": "i", "type": "passport"}]}]),
            "unknown variant",
        ),
        (
            json!([{"identifier": "x", "items": [{"identifier": "i", "type": "person_code"}]},
                   {"identifier": "x", "items": [{"identifier": "i", "type": "person_code"}]}]),
            "repeats",
        ),
        (
            json!([{"items": [{"identifier": "i", "type": "person_code"}]}]),
            "identifier",
        ),
    ];
    for (inquiries, why) in cases {
        let e = create(&app, inquiries.clone()).await.unwrap_err();
        assert_eq!(e.api_code(), Some("invalid_request"), "{inquiries}");
        let text = format!("{e:?}");
        assert!(text.contains("inquiries") && text.contains(why), "{text}");
    }
    let t = create(&app, asked()).await.unwrap();
    assert_eq!(t["inquiries"], asked(), "returned as given");
}
on_both!(malformed_inquiries_are_refused);

async fn the_holder_answers_on_the_page_and_the_client_reads_them(app: TestApp) {
    let t = create(&app, asked()).await.unwrap();
    let key = t["transaction_key"].as_str().unwrap().to_string();
    let info = format!("transaction/{key}/inquired-information");
    assert_eq!(
        app.get(&info).await,
        json!({"items": []}),
        "not answered yet"
    );
    let (mut b, csrf) = alice_on(&app, &key).await;
    let page = b.get(&confirm_path(&key)).await;
    assert!(page.body.contains("Who buys the ticket"), "{}", page.body);
    for field in [
        "inquiry.0.0.name",
        "inquiry.0.0.nationality",
        "inquiry.1.share",
        "inquiry.1.0",
    ] {
        assert!(page.body.contains(&format!("name=\"{field}\"")), "{field}");
    }
    // The required identity must be given whole.
    let path = confirm_path(&key);
    let missing = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("decision", "accept"),
                ("inquiry.0.0.name", "Ona"),
            ],
        )
        .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(
        missing.body.contains("Buyer: the surname"),
        "{}",
        missing.body
    );
    assert_eq!(app.status(&key).await.as_str(), "waiting");
    let done = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("decision", "accept"),
                ("inquiry.0.0.name", "Ona"),
                ("inquiry.0.0.surname", "Onaitė"),
                ("inquiry.0.0.nationality", "lt"),
                ("inquiry.0.0.code", "38001010000"),
                ("inquiry.1.0", "not shared, so not kept"),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(app.status(&key).await.as_str(), "reserved");
    let expected = json!({"items": [{
        "inquiry_identifier": "kyc", "item_identifier": "who", "item_type": "user_identity",
        "value": {"name": "Ona", "surname": "Onaitė", "nationality": "LT", "code": "38001010000"}
    }]});
    assert_eq!(app.get(&info).await, expected);
    let sdk = app
        .client
        .get_inquired_information(&issued(&key))
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(sdk).unwrap(), expected);
    // Only the transaction's own project reads them.
    let stranger = app.stranger("page").await;
    let code = crate::helpers::refused(&stranger, Method::GET, &info, None).await;
    assert_eq!(code, "not_found");
}
on_both!(the_holder_answers_on_the_page_and_the_client_reads_them);

async fn a_shared_optional_inquiry_gives_its_items(app: TestApp) {
    let inquiries = json!([{"identifier": "extra", "type": "optional",
        "items": [{"identifier": "pc", "type": "person_code"}]}]);
    let t = create(&app, inquiries).await.unwrap();
    let key = t["transaction_key"].as_str().unwrap().to_string();
    let (mut b, csrf) = alice_on(&app, &key).await;
    let path = confirm_path(&key);
    let bad = [
        ("csrf", csrf.as_str()),
        ("decision", "accept"),
        ("inquiry.0.share", "1"),
        ("inquiry.0.0", "no spaces"),
    ];
    let refused = b.post(&path, &bad).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("pc: the person code"),
        "{}",
        refused.body
    );
    let form = [
        ("csrf", csrf.as_str()),
        ("decision", "accept"),
        ("inquiry.0.share", "1"),
        ("inquiry.0.0", " 123-AB "),
    ];
    assert_eq!(b.post(&path, &form).await.status, 200);
    let info = call(
        &app.client,
        Method::GET,
        &format!("transaction/{key}/inquired-information"),
        None,
    )
    .await;
    assert_eq!(info["items"][0]["item_type"], "person_code");
    assert_eq!(info["items"][0]["value"], "123-AB");
}
on_both!(a_shared_optional_inquiry_gives_its_items);
