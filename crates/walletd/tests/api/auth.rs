//! MAC authentication: what passes, and that each failed check is a 401 `unauthorized` naming it.

use crate::helpers::{TestApp, raw, signed};
use crate::on_both;
use walletd::clock::wall_now;

async fn good_signature_and_awkward_nonces_pass(app: TestApp) {
    let t = app.create(100).await;
    let path = format!("/rest/v1/transaction/{}", t.transaction_key);
    let secret = app.demo.client.mac_secret.clone();
    // The PHP client's nonces include spaces, commas and '='.
    let (status, body) = raw(
        &app,
        "GET",
        &path,
        "",
        wall_now(),
        "),$9#b( |bK^H.wHhx;Q,F.Oil=JOrhg",
        &secret,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transaction_key"], t.transaction_key.as_str());
    // Query strings are part of what is signed.
    let (status, body) = signed(&app, "GET", &format!("{path}?x=1&y=a%20b"), "").await;
    assert_eq!(status, 200, "{body}");
}
on_both!(good_signature_and_awkward_nonces_pass);

async fn each_failed_check_is_unauthorized(app: TestApp) {
    let path = "/rest/v1/transaction";
    let body = r#"{"payments":[{"description":"x","price_decimal":"1.00","currency":"EUR"}]}"#;
    let secret = app.demo.client.mac_secret.clone();
    let cases = [
        (
            "stale",
            raw(
                &app,
                "POST",
                path,
                body,
                wall_now() - 120,
                "n1",
                &secret,
                None,
            )
            .await,
        ),
        (
            "stale",
            raw(
                &app,
                "POST",
                path,
                body,
                wall_now() + 120,
                "n2",
                &secret,
                None,
            )
            .await,
        ),
        (
            "signature",
            raw(
                &app,
                "POST",
                path,
                body,
                wall_now(),
                "n3",
                "not-the-secret",
                None,
            )
            .await,
        ),
        (
            "body hash",
            raw(
                &app,
                "POST",
                path,
                body,
                wall_now(),
                "n4",
                &secret,
                Some(r#"{"payments":[]}"#),
            )
            .await,
        ),
    ];
    for (what, (status, answer)) in cases {
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["error"], "unauthorized");
        assert!(
            answer["error_description"].as_str().unwrap().contains(what),
            "{what}: {answer}"
        );
    }
    let ts = wall_now();
    let (first, _) = raw(&app, "POST", path, body, ts, "same nonce", &secret, None).await;
    assert_eq!(first, 200);
    let (second, answer) = raw(&app, "POST", path, body, ts, "same nonce", &secret, None).await;
    assert_eq!(second, 401, "replay accepted: {answer}");
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("nonce")
    );

    // No header, a foreign scheme, an unknown id.
    let resp = reqwest::Client::new()
        .get(app.url("/rest/v1/wallet/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = reqwest::Client::new()
        .get(app.url("/rest/v1/wallet/1"))
        .header("Authorization", "Bearer abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let header = wallet_client::mac::sign(
        "nobody",
        b"x",
        wall_now(),
        "n",
        "GET",
        "/rest/v1/wallet/1",
        "127.0.0.1",
        app.port,
        b"",
        &[],
    );
    let resp = reqwest::Client::new()
        .get(app.url("/rest/v1/wallet/1"))
        .header("Authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["error_description"], "unknown MAC id");
}
on_both!(each_failed_check_is_unauthorized);

async fn php_client_headers_are_accepted(app: TestApp) {
    let t = app.create(100).await;
    let path = format!("/rest/v1/transaction/{}", t.transaction_key);
    // GET as curl sends it for the PHP client: form content type and an empty body.
    let header = wallet_client::mac::sign(
        &app.demo.client.mac_id,
        app.demo.client.mac_secret.as_bytes(),
        wall_now(),
        &wallet_client::mac::new_nonce(),
        "GET",
        &path,
        "127.0.0.1",
        app.port,
        b"",
        &[
            ("project_id".into(), "5".into()),
            ("location_id".into(), "a b".into()),
        ],
    );
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
    let header = wallet_client::mac::sign(
        &app.demo.client.mac_id,
        app.demo.client.mac_secret.as_bytes(),
        wall_now(),
        &wallet_client::mac::new_nonce(),
        "POST",
        "/rest/v1/transaction",
        "127.0.0.1",
        app.port,
        body.as_bytes(),
        &[],
    );
    let resp = reqwest::Client::new()
        .post(app.url("/rest/v1/transaction"))
        .header("Authorization", header)
        .header("Content-Type", "application/json;charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
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
    let path = "/rest/v1/transaction";
    let body = r#"{"payments":[{"description":"x","price_decimal":"1.00","currency":"EUR"}]}"#;
    let secret = app.demo.client.mac_secret.clone();
    let ts = wall_now();
    let send = || raw(&app, "POST", path, body, ts, "raced", &secret, None);
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
    let (status, found) = signed(&app, "GET", "/rest/v1/transactions", "").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["_metadata"]["total"], 1, "{found}");

    // A read, and a refusal (404), commit nothing: their nonces are recorded all the same.
    let key = created[0].1["transaction_key"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, first_status, nonce) in [
        (format!("/rest/v1/transaction/{key}"), 200, "read"),
        ("/rest/v1/transaction/nosuchkey".to_string(), 404, "refused"),
    ] {
        let ts = wall_now();
        let (first, answer) = raw(&app, "GET", &path, "", ts, nonce, &secret, None).await;
        assert_eq!(first, first_status, "{answer}");
        let (again, answer) = raw(&app, "GET", &path, "", ts, nonce, &secret, None).await;
        assert_eq!(again, 401, "replayed {path}: {answer}");
    }
}
on_both!(replays_are_refused_even_when_concurrent);
