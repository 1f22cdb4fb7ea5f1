//! MAC authentication: what passes, and that each failed check is a 401 `unauthorized` naming it.

use crate::helpers::{TestApp, signed_ok};
use crate::on_both;
use walletd::clock::wall_now;

/// A body `POST transaction` accepts.
const CREATE: &str =
    r#"{"payments":[{"description":"x","price_decimal":"1.00","currency":"EUR"}]}"#;

async fn good_signature_and_awkward_nonces_pass(app: TestApp) {
    let t = app.create(100).await;
    let path = format!("/rest/v1/transaction/{}", t.transaction_key);
    // The PHP client's nonces include spaces, commas and '='.
    let (status, body) = app
        .raw("GET", &path)
        .nonce("),$9#b( |bK^H.wHhx;Q,F.Oil=JOrhg")
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transaction_key"], t.transaction_key.as_str());
    // Query strings are part of what is signed.
    signed_ok(&app, "GET", &format!("{path}?x=1&y=a%20b"), "").await;
}
on_both!(good_signature_and_awkward_nonces_pass);

async fn each_failed_check_is_unauthorized(app: TestApp) {
    let create = || app.raw("POST", "/rest/v1/transaction").body(CREATE);
    let cases = [
        ("stale", create().at(wall_now() - 120).nonce("n1")),
        ("stale", create().at(wall_now() + 120).nonce("n2")),
        ("signature", create().nonce("n3").secret("not-the-secret")),
        (
            "body hash",
            create().nonce("n4").signing_body(r#"{"payments":[]}"#),
        ),
    ];
    for (what, request) in cases {
        let (status, answer) = request.send().await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["error"], "unauthorized");
        assert!(
            answer["error_description"].as_str().unwrap().contains(what),
            "{what}: {answer}"
        );
    }
    let ts = wall_now();
    let (first, _) = create().at(ts).nonce("same nonce").send().await;
    assert_eq!(first, 200);
    let (second, answer) = create().at(ts).nonce("same nonce").send().await;
    assert_eq!(second, 401, "replay accepted: {answer}");
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("nonce")
    );

    // No header, a foreign scheme, an unknown id.
    let wallet = app.url("/rest/v1/wallet/1");
    let resp = reqwest::Client::new().get(&wallet).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = reqwest::Client::new()
        .get(&wallet)
        .header("Authorization", "Bearer abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = app
        .raw("GET", "/rest/v1/wallet/1")
        .by("nobody", "x")
        .nonce("n")
        .send_with(&[])
        .await;
    assert_eq!(resp.status().as_u16(), 401);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["error_description"], "unknown MAC id");
}
on_both!(each_failed_check_is_unauthorized);

async fn php_client_headers_are_accepted(app: TestApp) {
    let t = app.create(100).await;
    let path = format!("/rest/v1/transaction/{}", t.transaction_key);
    // GET as curl sends it for the PHP client: form content type and an empty body.
    let header = app
        .raw("GET", &path)
        .parameters(&[("project_id", "5"), ("location_id", "a b")])
        .authorization();
    let resp = reqwest::Client::new()
        .get(app.url(&path))
        .header("Authorization", header)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Content-Length", "0")
        .header("User-Agent", "Paysera WalletApi PHP library")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    // A JSON body with the spec's charset parameter, escaped slashes as PHP's json_encode writes them.
    let body = r#"{"payments":[{"description":"a\/b","price_decimal":"12.99","currency":"EUR"}],"use_allowance":true,"suggest_allowance":false}"#;
    let resp = app
        .raw("POST", "/rest/v1/transaction")
        .body(body)
        .send_with(&[("Content-Type", "application/json;charset=utf-8")])
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let t: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(t["payments"][0]["price"], 1299);
    assert_eq!(t["payments"][0]["price_decimal"], "12.99");
    assert_eq!(t["payments"][0]["description"], "a/b");
}
on_both!(php_client_headers_are_accepted);

/// The nonce is recorded by the request's own write transaction (or afterwards when it commits
/// nothing): replays racing the original are refused too, a change is made once, and a replayed
/// read or refusal is refused as well.
async fn replays_are_refused_even_when_concurrent(app: TestApp) {
    let ts = wall_now();
    let send = || {
        app.raw("POST", "/rest/v1/transaction")
            .body(CREATE)
            .at(ts)
            .nonce("raced")
            .send()
    };
    let (a, b, c, d, e, f) = tokio::join!(send(), send(), send(), send(), send(), send());
    let answers = [a, b, c, d, e, f];
    let created: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 401, "{answer}");
        assert!(
            answer["error_description"]
                .as_str()
                .unwrap()
                .contains("nonce")
        );
    }
    // The refused ones wrote nothing: on PostgreSQL each create is one statement, run alone,
    // which the nonce's refusal fails whole.
    let found = signed_ok(&app, "GET", "/rest/v1/transactions", "").await;
    assert_eq!(found["_metadata"]["total"], 1, "{found}");

    // A read, and a refusal (404), commit nothing: their nonces are recorded all the same.
    let key = created[0].1["transaction_key"].as_str().unwrap();
    for (path, first_status, nonce) in [
        (format!("/rest/v1/transaction/{key}"), 200, "read"),
        ("/rest/v1/transaction/nosuchkey".to_string(), 404, "refused"),
    ] {
        let ts = wall_now();
        let (first, answer) = app.raw("GET", &path).at(ts).nonce(nonce).send().await;
        assert_eq!(first, first_status, "{answer}");
        let (again, answer) = app.raw("GET", &path).at(ts).nonce(nonce).send().await;
        assert_eq!(again, 401, "replayed {path}: {answer}");
    }
}
on_both!(replays_are_refused_even_when_concurrent);
