//! Receipts of confirmed transactions (`GET transaction/{key}/receipt`): text for the customer
//! and for the merchant, in English, Lithuanian or Russian, lines ended by CRLF and wrapped at a
//! given width. Pure text building, tested on its own.

use wallet_client::types::Transaction;
use wallet_core::money::{Currency, format_decimal};
use wallet_core::{ProjectId, TransactionType, WalletId};

/// A receipt language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    Lt,
    Ru,
}

impl Locale {
    /// `en`, `lt` or `ru`; anything else is refused.
    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en" => Some(Locale::En),
            "lt" => Some(Locale::Lt),
            "ru" => Some(Locale::Ru),
            _ => None,
        }
    }
}

struct Words {
    transaction: &'static str,
    merchant: &'static str,
    wallet: &'static str,
    date: &'static str,
    total: &'static str,
    confirmed_with: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            transaction: "Transaction ID",
            merchant: "Merchant ID",
            wallet: "Wallet ID",
            date: "Date",
            total: "Total",
            confirmed_with: "Confirmed with",
        },
        Locale::Lt => Words {
            transaction: "Operacijos ID",
            merchant: "Prekybininko ID",
            wallet: "Piniginės ID",
            date: "Data",
            total: "Iš viso",
            confirmed_with: "Patvirtinta",
        },
        Locale::Ru => Words {
            transaction: "ID операции",
            merchant: "ID продавца",
            wallet: "ID кошелька",
            date: "Дата",
            total: "Итого",
            confirmed_with: "Подтверждено",
        },
    }
}

fn method(locale: Locale, kind: Option<TransactionType>) -> &'static str {
    use TransactionType as T;
    match (locale, kind) {
        (Locale::En, Some(T::ReservationCode)) => "reservation code",
        (Locale::En, Some(T::Pin)) => "PIN code",
        (Locale::En, Some(T::Flash)) => "FLASH SMS",
        (Locale::En, Some(T::Page)) => "confirmation page",
        (Locale::En, _) => "allowance",
        (Locale::Lt, Some(T::ReservationCode)) => "rezervacijos kodu",
        (Locale::Lt, Some(T::Pin)) => "PIN kodu",
        (Locale::Lt, Some(T::Flash)) => "FLASH SMS žinute",
        (Locale::Lt, Some(T::Page)) => "patvirtinimo puslapyje",
        (Locale::Lt, _) => "leidimu",
        (Locale::Ru, Some(T::ReservationCode)) => "кодом резервации",
        (Locale::Ru, Some(T::Pin)) => "PIN-кодом",
        (Locale::Ru, Some(T::Flash)) => "FLASH SMS",
        (Locale::Ru, Some(T::Page)) => "на странице подтверждения",
        (Locale::Ru, _) => "разрешением",
    }
}

/// Breaks `line` into pieces of at most `width` characters, at spaces where it can.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = line.chars().collect();
    while rest.len() > width {
        let cut = rest[..=width]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|p| *p > 0)
            .unwrap_or(width);
        out.push(
            rest[..cut]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        rest = rest[cut..]
            .iter()
            .collect::<String>()
            .trim_start()
            .chars()
            .collect();
    }
    out.push(rest.into_iter().collect());
    out
}

fn date(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// `(text_for_customer, text_for_merchant)` of a confirmed transaction.
pub fn texts(t: &Transaction, locale: Locale, width: Option<usize>) -> (String, String) {
    let w = words(locale);
    let mut body = Vec::new();
    if let Some(at) = t.confirmed_at {
        body.push(format!("{}: {}", w.date, date(at)));
    }
    let mut totals: std::collections::BTreeMap<&str, i64> = Default::default();
    for p in &t.payments {
        let label = p.description.as_deref().unwrap_or("-");
        body.push(format!("{label}: {} {}", p.price_decimal, p.currency));
        *totals.entry(p.currency.as_str()).or_default() += p.price;
    }
    for (code, cents) in totals {
        let decimal = Currency::parse(code)
            .map(|c| format_decimal(cents, c))
            .unwrap_or_else(|_| cents.to_string());
        body.push(format!("{}: {decimal} {code}", w.total));
    }
    body.push(format!("{} {}", w.confirmed_with, method(locale, t.kind)));
    let head = format!("{}: {}", w.transaction, t.transaction_key);
    let customer = [
        vec![
            head.clone(),
            format!("{}: {}", w.merchant, t.project_id.map_or(0, ProjectId::get)),
        ],
        body.clone(),
    ]
    .concat();
    let merchant = [
        vec![
            head,
            format!("{}: {}", w.wallet, t.wallet.map_or(0, WalletId::get)),
        ],
        body,
    ]
    .concat();
    let render = |lines: Vec<String>| {
        lines
            .iter()
            .flat_map(|l| match width {
                Some(w) => wrap(l, w),
                None => vec![l.clone()],
            })
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    (render(customer), render(merchant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_hard_breaks_long_words() {
        assert_eq!(wrap("Transaction ID: abc", 40), vec!["Transaction ID: abc"]);
        assert_eq!(
            wrap("Transaction ID: abcdef", 16),
            vec!["Transaction ID:", "abcdef"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        for piece in wrap("Подтверждено кодом резервации очень длинная строка", 12)
        {
            assert!(piece.chars().count() <= 12, "{piece}");
        }
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(date(1_355_314_392), "2012-12-12 12:13:12 UTC");
    }
}
