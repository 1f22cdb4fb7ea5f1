//! Human summaries: short, aligned, and free of secrets (no reservation code is ever in them, and
//! the MAC secret never reaches this module).

use std::error::Error as _;
use std::fmt::Write;
use wallet_client::Error;
use wallet_client::types::{Transaction, Wallet, WalletBalance};
use wallet_core::ids::WalletId;
use wallet_core::money::{Currency, format_decimal};

/// The receipt of a completed cash-out: what the cashier needs to hand out and to file.
pub fn receipt(tx: &Transaction, requested: i64, currency: Currency) -> String {
    let amount = amounts(tx)
        .unwrap_or_else(|| format!("{} {currency}", format_decimal(requested, currency)));
    let mut s = format!("Cash-out confirmed: hand {amount} to the customer.\n");
    row(&mut s, "transaction", &tx.transaction_key);
    row(&mut s, "status", tx.status.as_str());
    row(&mut s, "amount", &amount);
    if let Some(w) = tx.wallet {
        row(&mut s, "wallet", &w.to_string());
    }
    if let Some(t) = tx.confirmed_at {
        row(&mut s, "confirmed_at", &utc(t));
    }
    s
}

/// A transaction with one line per payment.
pub fn transaction(tx: &Transaction) -> String {
    let mut s = String::new();
    row(&mut s, "transaction", &tx.transaction_key);
    row(&mut s, "status", tx.status.as_str());
    if let Some(kind) = tx.kind {
        row(&mut s, "type", kind.as_str());
    }
    if let Some(a) = amounts(tx) {
        row(&mut s, "amount", &a);
    }
    if let Some(w) = tx.wallet {
        row(&mut s, "wallet", &w.to_string());
    }
    if let Some(c) = &tx.correlation_key {
        row(&mut s, "correlation", c);
    }
    if let Some(r) = &tx.redirect_uri {
        row(&mut s, "redirect_uri", r);
    }
    row(&mut s, "created_at", &utc(tx.created_at));
    if let Some(t) = tx.confirmed_at {
        row(&mut s, "confirmed_at", &utc(t));
    }
    if let Some(until) = tx.reserve.as_ref().and_then(|r| r.until) {
        row(&mut s, "reserved_until", &utc(until));
    }
    for p in &tx.payments {
        let mut line = format!(
            "{}  {} {}  {}",
            p.id,
            p.price_decimal,
            p.currency,
            p.status.as_str()
        );
        if let Some(d) = &p.description {
            line.push_str("  ");
            line.push_str(d);
        }
        row(&mut s, "payment", &line);
    }
    s
}

/// A wallet and its account.
pub fn wallet(w: &Wallet) -> String {
    let mut s = String::new();
    row(&mut s, "wallet", &w.id.to_string());
    row(&mut s, "owner", &w.owner.to_string());
    row(&mut s, "account", &w.account.number);
    if let Some(name) = w
        .account
        .owner_display_name
        .as_ref()
        .or(w.account.owner_title.as_ref())
    {
        row(&mut s, "owner_name", name);
    }
    if let Some(d) = &w.account.description {
        row(&mut s, "description", d);
    }
    s
}

/// One line per currency.
pub fn balance(id: WalletId, b: &WalletBalance) -> String {
    let mut s = String::new();
    row(&mut s, "wallet", &id.to_string());
    if b.is_empty() {
        row(&mut s, "balance", "no accounts");
    }
    for (currency, c) in b {
        row(
            &mut s,
            currency,
            &format!(
                "at disposal {}  reserved {}",
                c.at_disposal_decimal, c.reserved_decimal
            ),
        );
    }
    s
}

/// One line for a failed call: the API's code and description first, since that is what an
/// operator looks up; transport errors with their cause chain (without repeats).
pub fn error_line(e: &Error) -> String {
    match e {
        Error::Api {
            status,
            error,
            description,
        } => match description {
            Some(d) => format!("{error}: {d} (HTTP {status})"),
            None => format!("{error} (HTTP {status})"),
        },
        _ => {
            let mut line = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                let text = cause.to_string();
                if !line.contains(&text) {
                    line.push_str(": ");
                    line.push_str(&text);
                }
                source = cause.source();
            }
            line
        }
    }
}

/// The payments' amounts, e.g. `50.00 EUR` (several joined with ` + `).
fn amounts(tx: &Transaction) -> Option<String> {
    (!tx.payments.is_empty()).then(|| {
        tx.payments
            .iter()
            .map(|p| format!("{} {}", p.price_decimal, p.currency))
            .collect::<Vec<_>>()
            .join(" + ")
    })
}

fn row(s: &mut String, label: &str, value: &str) {
    let _ = writeln!(s, "{label:<14} {value}");
}

/// A UNIX time as `YYYY-MM-DD hh:mm:ss UTC (ts)`: readable on a receipt, exact for a script.
pub fn utc(ts: i64) -> String {
    match jiff::Timestamp::from_second(ts) {
        Ok(t) => format!("{} ({ts})", t.strftime("%Y-%m-%d %H:%M:%S UTC")),
        Err(_) => ts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx() -> Transaction {
        serde_json::from_str(
            r#"{"transaction_key":"ATaNL6X6CivO2Ou0FMPt","created_at":1585146000,"status":"confirmed",
            "type":"reservation_code","wallet":14471,"confirmed_at":1585146195,
            "payments":[{"id":186975531,"transaction_key":"ATaNL6X6CivO2Ou0FMPt","created_at":1585146000,
            "status":"confirmed","price":5000,"currency":"EUR","price_decimal":"50.00","description":"Cash withdrawal"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC (0)");
        assert_eq!(utc(1585146195), "2020-03-25 14:23:15 UTC (1585146195)");
        assert_eq!(utc(951782400), "2000-02-29 00:00:00 UTC (951782400)");
    }

    #[test]
    fn the_receipt_has_what_the_cashier_needs() {
        let r = receipt(&tx(), 5000, Currency::parse("EUR").unwrap());
        assert!(r.starts_with("Cash-out confirmed: hand 50.00 EUR"));
        for want in [
            "ATaNL6X6CivO2Ou0FMPt",
            "confirmed",
            "14471",
            "2020-03-25 14:23:15 UTC",
        ] {
            assert!(r.contains(want), "{want} in {r}");
        }
        let t = transaction(&tx());
        assert!(
            t.contains("186975531  50.00 EUR  confirmed  Cash withdrawal"),
            "{t}"
        );
    }

    #[test]
    fn api_errors_lead_with_their_code() {
        let e = Error::Api {
            status: 400,
            error: "code_expired".into(),
            description: Some("Reservation code has expired".into()),
        };
        assert_eq!(
            error_line(&e),
            "code_expired: Reservation code has expired (HTTP 400)"
        );
    }
}
