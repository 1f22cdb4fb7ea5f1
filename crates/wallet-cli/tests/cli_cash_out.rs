//! The `wallet` binary end to end against a raw TCP server with scripted answers: the calls it
//! makes, what it prints, its exit status, and that neither the secret nor the code is printed.

use std::process::{Command, Output, Stdio};
use tokio::task::JoinHandle;
use wallet_client::testing::{Seen, serve_script};

const SECRET: &str = "IrdTc8uQodU7PRpLzzLTW6wqZAO6tAMU";
const CODE: &str = "0154742514278159925679172111";

/// The scripted server of `wallet_client::testing` and its base URL.
async fn server(answers: Vec<(u16, String)>) -> (String, JoinHandle<Vec<Seen>>) {
    let (port, seen) = serve_script(answers).await;
    (format!("http://127.0.0.1:{port}"), seen)
}

fn transaction(status: &str, price: i64, decimal: &str) -> String {
    let extra = match status {
        "new" => "",
        "reserved" => r#""type":"reservation_code","wallet":14471,"#,
        _ => r#""type":"reservation_code","wallet":14471,"confirmed_at":1585146195,"#,
    };
    format!(
        r#"{{"transaction_key":"ATaNL6X6CivO2Ou0FMPt","created_at":1585146000,"status":"{status}",{extra}"payments":[{{"id":186975531,"transaction_key":"ATaNL6X6CivO2Ou0FMPt","created_at":1585146000,"status":"{status}","price":{price},"currency":"EUR","price_decimal":"{decimal}","description":"Cash withdrawal"}}]}}"#
    )
}

/// The answers to a cash-out that goes through: created, reserved, confirmed.
fn cash_out_answers(price: i64, decimal: &str) -> Vec<(u16, String)> {
    ["new", "reserved", "confirmed"]
        .map(|status| (200, transaction(status, price, decimal)))
        .into()
}

async fn wallet(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let url = url.to_string();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wallet"))
            .args(&args)
            .env("WALLET_URL", url)
            .env("WALLET_MAC_ID", "wkVd93h2uS")
            .env("WALLET_MAC_SECRET", SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn text(o: &Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!all.contains(SECRET), "the secret was printed: {all}");
    assert!(
        !all.contains(CODE),
        "the reservation code was printed: {all}"
    );
    all
}

/// `wallet cash-out --code <code> --amount <amount>`, then `extra`, with `stdin`.
async fn cash_out(
    url: &str,
    code: &str,
    amount: &str,
    extra: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut args = vec!["cash-out", "--code", code, "--amount", amount];
    args.extend_from_slice(extra);
    wallet(url, &args, stdin).await
}

/// [`text`] of a run that must have succeeded.
fn succeeded(o: &Output) -> String {
    let all = text(o);
    assert!(o.status.success(), "{all}");
    all
}

#[tokio::test]
async fn cash_out_prints_a_receipt() {
    let (url, seen) = server(cash_out_answers(5000, "50.00")).await;
    let qr = format!("PAYSERA${CODE}");
    let out = cash_out(&url, &qr, "50.00", &[], None).await;
    let all = succeeded(&out);
    assert!(
        all.contains("Cash-out confirmed: hand 50.00 EUR to the customer."),
        "{all}"
    );
    assert!(
        all.contains("ATaNL6X6CivO2Ou0FMPt") && all.contains("14471"),
        "{all}"
    );
    assert!(all.contains("2020-03-25 14:23:15 UTC"), "{all}");
    let seen = seen.await.unwrap();
    let lines: Vec<String> = seen.iter().map(Seen::line).collect();
    assert_eq!(
        lines,
        [
            "POST /rest/v1/transaction",
            "PUT /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/reserve",
            "PUT /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/confirm",
        ]
    );
    let created = seen[0].json();
    assert_eq!(created["payments"][0]["price"], 5000);
    assert_eq!(created["payments"][0]["description"], "Cash withdrawal");
}

#[tokio::test]
async fn cash_out_json_prints_the_confirmed_transaction_and_reads_the_code_from_stdin() {
    let (url, _seen) = server(cash_out_answers(1299, "12.99")).await;
    let scanned = format!("9999{CODE}\n");
    let out = cash_out(&url, "-", "12.99", &["--json"], Some(&scanned)).await;
    succeeded(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "confirmed");
    assert_eq!(v["payments"][0]["price_decimal"], "12.99");
}

#[tokio::test]
async fn an_api_refusal_exits_1_with_its_code() {
    let (url, seen) = server(vec![
        (200, transaction("new", 5000, "50.00")),
        (
            400,
            r#"{"error":"not_enough_funds","error_description":"Not enough money in wallet"}"#
                .into(),
        ),
        (200, transaction("new", 5000, "50.00")),
    ])
    .await;
    let out = cash_out(&url, CODE, "50", &[], None).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("not_enough_funds: Not enough money in wallet (HTTP 400)"),
        "{all}"
    );
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[2].line(),
        "DELETE /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt"
    );
}

#[tokio::test]
async fn bad_amounts_and_codes_exit_2_without_a_request() {
    // Nothing listens at this URL, so any request would exit 3.
    let url = "http://127.0.0.1:9";
    for amount in ["50.5e1", "50,00", "12.345", "0", "-5"] {
        let out = cash_out(url, CODE, amount, &[], None).await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{amount}: {all}");
        assert!(all.contains("--amount"), "{all}");
    }
    let out = cash_out(url, "PAYSERA$123", "5", &[], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not a reservation code"));
}

#[tokio::test]
async fn confirm_with_a_price_reads_the_currency_from_the_transaction() {
    let (url, seen) = server(vec![
        (200, transaction("reserved", 5000, "50.00")),
        (200, transaction("confirmed", 4000, "40.00")),
    ])
    .await;
    let out = wallet(
        &url,
        &[
            "transaction",
            "confirm",
            "ATaNL6X6CivO2Ou0FMPt",
            "--price",
            "186975531=40.00",
        ],
        None,
    )
    .await;
    let all = succeeded(&out);
    assert!(all.contains("186975531  40.00 EUR  confirmed"), "{all}");
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].line(),
        "GET /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt"
    );
    assert_eq!(
        seen[1].line(),
        "PUT /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/confirm"
    );
    let body = seen[1].json();
    assert_eq!(
        body,
        serde_json::json!({"186975531": {"price": 4000, "currency": "EUR"}})
    );
}

#[tokio::test]
async fn wallet_balance_prints_each_currency() {
    let (url, seen) = server(vec![(
        200,
        r#"{"EUR":{"at_disposal":1234,"at_disposal_decimal":"12.34","reserved":500,"reserved_decimal":"5.00"}}"#
            .into(),
    )])
    .await;
    let out = wallet(&url, &["wallet", "balance", "14471"], None).await;
    let all = succeeded(&out);
    assert!(all.contains("EUR"), "{all}");
    assert!(all.contains("at disposal 12.34  reserved 5.00"), "{all}");
    assert_eq!(
        seen.await.unwrap()[0].line(),
        "GET /rest/v1/wallet/14471/balance"
    );
}

#[tokio::test]
async fn create_with_a_redirect_uri_sends_it() {
    let (url, seen) = server(vec![(200, transaction("new", 1234, "12.34"))]).await;
    let out = wallet(
        &url,
        &[
            "transaction",
            "create",
            "--amount",
            "12.34",
            "--description",
            "Order 7",
            "--redirect-uri",
            "https://shop.example/done?order=7",
        ],
        None,
    )
    .await;
    succeeded(&out);
    let seen = seen.await.unwrap();
    assert_eq!(seen[0].line(), "POST /rest/v1/transaction");
    let body = seen[0].json();
    assert_eq!(body["redirect_uri"], "https://shop.example/done?order=7");
    assert_eq!(body["payments"][0]["price"], 1234);
    assert_eq!(body["payments"][0]["description"], "Order 7");
}

#[tokio::test]
async fn flash_puts_to_the_wallet_and_shows_the_correlation_key() {
    let waiting = transaction("new", 1234, "12.34").replacen(
        r#""status":"new","#,
        r#""status":"waiting","type":"flash","correlation_key":"RG5A","#,
        1,
    );
    let (url, seen) = server(vec![(200, waiting.clone()), (200, waiting)]).await;
    let flash = [
        "transaction",
        "flash",
        "ATaNL6X6CivO2Ou0FMPt",
        "--wallet",
        "2",
    ];
    let all = succeeded(&wallet(&url, &flash, None).await);
    assert!(all.contains("waiting") && all.contains("RG5A"), "{all}");
    let out = wallet(&url, &[&flash[..], &["--json"]].concat(), None).await;
    succeeded(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["correlation_key"], "RG5A");
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].line(),
        "PUT /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/flash/2"
    );
    assert_eq!(seen[0].text(), "");
}
