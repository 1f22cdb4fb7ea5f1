//! `walletd serve` as a real process: graceful shutdown on SIGTERM, one log line per request, and
//! no secret in its logs, in either log format, even at `RUST_LOG=trace`.

use crate::helpers::{calling_back, one_payment, reserved_for, walletd_json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use wallet_client::Client;
use wallet_client::mac::{MacHeader, new_nonce, sign};

const ADMIN_TOKEN: &str = "admin-token-Zq81vX";
const METRICS_TOKEN: &str = "metrics-token-Jk27pW";
/// A PIN only a leak could print (alice's real one, 1234, is too common a string to look for).
const WRONG_PIN: &str = "80512973";
/// Secrets sent where a careless log would show them: a query string, a path.
const IN_QUERY: &str = "query-secret-Hh3u0c";
const IN_PATH: &str = "path-secret-Ty6m2n";
/// A callback receiver's token in its URI (nothing listens there: the delivery fails, logged).
const CALLBACK_TOKEN: &str = "callback-token-Pp4e1r";

/// A running `walletd serve`, logging everything (`RUST_LOG=trace`) in `format`.
struct Logged {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

/// The address in the "walletd listening" line, in either format.
fn listening_addr(line: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(line) {
        return (v["message"] == "walletd listening").then(|| v["addr"].as_str().unwrap().into());
    }
    let addr = line
        .contains("walletd listening")
        .then(|| line.split("addr=").nth(1))??;
    Some(addr.trim().to_string())
}

fn serve_logging_everything(database: &str, format: &str) -> Logged {
    let mut child = Command::new(env!("CARGO_BIN_EXE_walletd"))
        .args(["--database", database, "--log-format", format, "serve"])
        .args(["--listen", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN])
        .args(["--metrics-token", METRICS_TOKEN])
        .env("RUST_LOG", "trace")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let reader = {
        let log = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = listening_addr(&line) {
                    let _ = addr_tx.send(addr);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        })
    };
    let addr = addr_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("server starts");
    Logged {
        child,
        addr,
        log,
        reader,
    }
}

impl Logged {
    /// Waits (at most 20 s) until the log has `text`.
    fn wait_for(&self, text: &str) {
        for _ in 0..200 {
            if self.log.lock().unwrap().contains(text) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no {text:?} in the log");
    }

    /// Stops it with SIGTERM, which it must obey cleanly; its whole log.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        self.reader.join().unwrap();
        assert!(exit.success(), "walletd did not stop cleanly: {exit:?}");
        self.log.lock().unwrap().clone()
    }
}

/// Requests signed by hand as one MAC client, remembering every signature sent.
struct Signer<'a> {
    url: String,
    port: u16,
    id: &'a str,
    secret: &'a str,
    macs: Vec<String>,
}

impl Signer<'_> {
    async fn send(&mut self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let now = walletd::clock::wall_now();
        let header = sign(
            self.id,
            self.secret.as_bytes(),
            now,
            &new_nonce(),
            method,
            path,
            "127.0.0.1",
            self.port,
            body.as_bytes(),
            &[],
        );
        self.macs.push(MacHeader::parse(&header).unwrap().mac);
        let response = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .header("Authorization", header)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

/// Every secret one run used: a cash-out by code, a wrong code, a wrong and a right PIN, a
/// holder's password and the token it gave, the admin and metrics tokens, and secrets in a query
/// string and a path. Returns `(what, secret)` pairs that must not be in the log.
async fn use_every_secret(demo: &Value, addr: &str, database: &str) -> Vec<(String, String)> {
    let url = format!("http://{addr}");
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    let alice = demo["users"][0]["wallet_id"].as_i64().unwrap().to_string();
    let (mac_id, secret) = (&demo["client"]["mac_id"], &demo["client"]["mac_secret"]);
    let (mac_id, secret) = (mac_id.as_str().unwrap(), secret.as_str().unwrap());
    let mut secrets = vec![("MAC secret".to_string(), secret.to_string())];
    let client = Client::new(&url, mac_id, secret).unwrap();
    let code = walletd_json(
        database,
        &["admin", "reservation-code", "--wallet", &alice, "--json"],
    );
    let code = code["reservation_code"].as_str().unwrap().to_string();
    let eur = wallet_core::Currency::parse("EUR").unwrap();
    client.cash_out(&code, 1_000, eur, "Cash").await.unwrap();
    // A wrong code is logged as a failure, not echoed.
    let t = client.create_transaction(&one_payment(100)).await.unwrap();
    let wrong = "9".repeat(28);
    let refused = client.reserve_with_code(&t.transaction_key, &wrong, None);
    assert!(refused.await.is_err());
    secrets.push(("reservation code".into(), code));
    secrets.push(("wrong code".into(), wrong));

    let mut signer = Signer {
        url: url.clone(),
        port,
        id: mac_id,
        secret,
        macs: Vec::new(),
    };
    let (_, t) = signer
        .send("POST", "/rest/v1/transaction", &one_payment_json())
        .await;
    let pin_path = format!(
        "/rest/v1/transaction/{}/reserve/{alice}",
        t["transaction_key"].as_str().unwrap()
    );
    let (status, _) = signer
        .send("PUT", &pin_path, &json!({"pin": WRONG_PIN}).to_string())
        .await;
    assert_eq!(status, 400);
    let (status, answer) = signer
        .send("PUT", &pin_path, &json!({"pin": "1234"}).to_string())
        .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("reserved")));
    secrets.push(("wrong PIN".into(), WRONG_PIN.into()));
    for pin in ["\"1234\"", "pin=1234", "pin: 1234"] {
        secrets.push(("PIN".into(), pin.into()));
    }
    secrets.extend(holder_token_secrets(&mut signer).await);
    for mac in std::mem::take(&mut signer.macs) {
        secrets.push(("a request's mac=".into(), mac));
    }
    secrets.extend(operator_secrets(&url).await);
    secrets
}

/// A transaction reserved for a minute once reserved, whose callbacks go to a URI with a token.
fn one_payment_json() -> String {
    let uri = format!("http://127.0.0.1:9/callback?token={CALLBACK_TOKEN}");
    serde_json::to_string(&reserved_for(calling_back(one_payment(300), &uri), 60)).unwrap()
}

/// A holder's password grant, and a call with the token it gave.
async fn holder_token_secrets(signer: &mut Signer<'_>) -> Vec<(String, String)> {
    let form = "grant_type=password&username=alice%40example.com&password=alice-demo-password&scope=wallet";
    let (status, token) = signer.send("POST", "/oauth/v1/token", form).await;
    assert_eq!(status, 200, "{token}");
    let (access, key) = (token["access_token"].as_str(), token["mac_key"].as_str());
    let holder = Client::new(&signer.url, access.unwrap(), key.unwrap()).unwrap();
    let wallet = holder.request_json(wallet_client::Method::GET, "wallet/me", None);
    wallet.await.unwrap();
    ["access_token", "mac_key", "refresh_token"]
        .iter()
        .map(|f| (f.to_string(), token[f].as_str().unwrap().to_string()))
        .chain([("password".into(), "alice-demo-password".into())])
        .collect()
}

/// The admin and metrics tokens, a token in a query string, a secret in an unknown path; and
/// the request id echoed.
async fn operator_secrets(url: &str) -> Vec<(String, String)> {
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{url}{path}"));
    let bearer = |t: &str| format!("Bearer {t}");
    let admin = get("/admin/v1/clock").header("Authorization", bearer(ADMIN_TOKEN));
    assert_eq!(admin.send().await.unwrap().status(), 200);
    // The PIN's reservation expires: its callback is attempted, and fails.
    let advance = http.post(format!("{url}/admin/v1/clock/advance"));
    let advance = advance.header("Authorization", bearer(ADMIN_TOKEN));
    let advance = advance.body(json!({"seconds": 120}).to_string()).send();
    assert_eq!(advance.await.unwrap().status(), 200);
    let metrics = get("/metrics").header("Authorization", bearer(METRICS_TOKEN));
    assert_eq!(metrics.send().await.unwrap().status(), 200);
    assert_eq!(get("/metrics").send().await.unwrap().status(), 401);
    let health =
        get(&format!("/healthz?access_token={IN_QUERY}")).header("X-Request-Id", "proc-test-1");
    let health = health.send().await.unwrap();
    assert_eq!(health.headers()["x-request-id"], "proc-test-1");
    let unknown = get(&format!("/no/such/{IN_PATH}")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    [
        ("admin token", ADMIN_TOKEN),
        ("metrics token", METRICS_TOKEN),
        ("token in a query string", IN_QUERY),
        ("secret in a path", IN_PATH),
        ("callback URI's token", CALLBACK_TOKEN),
    ]
    .map(|(what, s)| (what.to_string(), s.to_string()))
    .into()
}

/// The request lines of a log, as `(route, method, status, request id)`, in either format.
fn request_lines(log: &str, json: bool) -> Vec<(String, String, u64, String)> {
    let lines = log.lines().filter(|l| l.contains("answered"));
    if json {
        return lines
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["target"] == "walletd::request")
            .map(|v| {
                assert!(v["latency_ms"].as_f64().is_some(), "{v}");
                let text = |f: &Value| f.as_str().unwrap().to_string();
                let id = text(&v["span"]["request_id"]);
                (
                    text(&v["route"]),
                    text(&v["method"]),
                    v["status"].as_u64().unwrap(),
                    id,
                )
            })
            .collect();
    }
    let field = |l: &str, f: &str| {
        let rest = l
            .split(&format!(" {f}="))
            .nth(1)
            .unwrap_or_else(|| panic!("{f} in {l}"));
        rest.split(' ').next().unwrap().to_string()
    };
    lines
        .filter(|l| l.contains("walletd::request"))
        .map(|l| {
            assert!(l.contains(" latency_ms="), "{l}");
            let id = l.split("request{request_id=").nth(1).unwrap();
            let id = id.split('}').next().unwrap().to_string();
            (
                field(l, "route"),
                field(l, "method"),
                field(l, "status").parse().unwrap(),
                id,
            )
        })
        .collect()
}

async fn serve_logs_every_request_and_no_secret(format: &str) {
    let database = wallet_store::testing::fresh_database(wallet_store::Backend::Sqlite).await;
    let demo = walletd_json(&database, &["demo", "--json"]);
    let server = serve_logging_everything(&database, format);
    let secrets = use_every_secret(&demo, &server.addr, &database).await;
    server.wait_for("callback failed");
    let log = server.stop();
    assert!(
        log.contains("shutdown signal received") && log.contains("walletd stopped"),
        "{log}"
    );
    for (what, secret) in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{what} appears in the {format} log"
        );
    }
    assert!(
        !log.to_lowercase().contains("authorization"),
        "headers are not logged"
    );
    assert!(!log.contains('\u{1b}'), "no colour off a terminal");
    let json = format == "json";
    if json {
        for line in log.lines() {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
    }
    let requests = request_lines(&log, json);
    let has = |route: &str, method: &str, status: u64| {
        requests
            .iter()
            .any(|(r, m, s, _)| (r.as_str(), m.as_str(), *s) == (route, method, status))
    };
    assert!(has("/rest/v1/transaction", "POST", 200), "{requests:?}");
    assert!(
        has("/rest/v1/transaction/{key}/reserve", "PUT", 200),
        "{requests:?}"
    );
    assert!(
        has("/rest/v1/transaction/{key}/reserve/{wallet}", "PUT", 400),
        "{requests:?}"
    );
    assert!(has("unmatched", "GET", 404), "{requests:?}");
    assert!(
        requests
            .iter()
            .any(|(r, _, _, id)| r == "/healthz" && id == "proc-test-1")
    );
    let made = requests
        .iter()
        .find(|(r, ..)| r == "/rest/v1/transaction")
        .unwrap();
    assert!(made.3.len() == 32 && made.3.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_every_request_and_no_secret_as_text() {
    serve_logs_every_request_and_no_secret("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_every_request_and_no_secret_as_json() {
    serve_logs_every_request_and_no_secret("json").await;
}
