//! How commands print: pretty JSON with `--json`, else one human line (or a few).

use serde::Serialize;
use wallet_client::types::WalletBalance;

pub(super) fn print<T: Serialize>(
    value: &T,
    json: bool,
    human: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{}", human(value));
    }
    Ok(())
}

pub(super) fn balance_text(b: &WalletBalance) -> String {
    if b.is_empty() {
        return "no accounts yet".into();
    }
    b.iter()
        .map(|(cur, v)| {
            format!(
                "{cur}: {} at disposal, {} reserved",
                v.at_disposal_decimal, v.reserved_decimal
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Items one per line, or `empty` when there are none.
pub(super) fn lines<T>(items: &[T], empty: &str, line: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return empty.to_string();
    }
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}
