//! The crash check: every request walletd acknowledged must still be there after a `kill -9` and
//! a restart. The load run writes what was acknowledged (`--acked FILE`: one `<key> <status>`
//! line per answered create, reserve and confirm); `--verify-acked FILE` reads the database and
//! counts the transactions that are behind what their last acknowledged answer said.

use anyhow::Context;
use std::collections::HashMap;
use std::io::Write;
use wallet_core::ids::TransactionKey;
use wallet_store::Store;

/// How far along the flow a status is; statuses outside the flow rank nowhere.
fn rank(status: &str) -> Option<u8> {
    match status {
        "new" => Some(0),
        "reserved" => Some(1),
        "confirmed" => Some(2),
        _ => None,
    }
}

/// Writes the acknowledged requests, one `<key> <status>` line each.
pub fn write(
    path: &std::path::Path,
    acked: &[(TransactionKey, &'static str)],
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for (key, status) in acked {
        writeln!(out, "{key} {status}")?;
    }
    out.flush()?;
    Ok(())
}

/// The furthest acknowledged status of each transaction.
pub fn parse(text: &str) -> anyhow::Result<HashMap<String, &'static str>> {
    let mut furthest: HashMap<String, &'static str> = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, status) = line
            .split_once(' ')
            .with_context(|| format!("not `<key> <status>`: {line:?}"))?;
        let status: &'static str = match status.trim() {
            "new" => "new",
            "reserved" => "reserved",
            "confirmed" => "confirmed",
            other => anyhow::bail!("unknown status {other:?}"),
        };
        let entry = furthest.entry(key.to_string()).or_insert(status);
        if rank(status) > rank(entry) {
            *entry = status;
        }
    }
    Ok(furthest)
}

/// Whether a transaction now `found` (None: missing) keeps an acknowledged `acked` status.
pub fn kept(acked: &str, found: Option<&str>) -> bool {
    match found.and_then(rank) {
        Some(now) => rank(acked).is_some_and(|a| now >= a),
        None => false,
    }
}

/// What `--verify-acked` found.
pub struct Verified {
    /// Acknowledged transactions.
    pub acked: usize,
    /// Acknowledged transactions not in the database as far as their last answer said.
    pub lost: usize,
    /// A few of those, for the log.
    pub examples: Vec<String>,
    /// Every ledger invariant holds (money neither created nor lost, see `Tx::ledger_check`).
    pub ledger_sound: bool,
}

/// Checks every acknowledged transaction against the database, and the ledger's invariants.
pub async fn verify(database: &str, path: &std::path::Path) -> anyhow::Result<Verified> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let furthest = parse(&text)?;
    let store = Store::connect(database).await?;
    let mut tx = store.read().await?;
    let mut lost = Vec::new();
    for (key, acked) in &furthest {
        let row = tx.transaction(&TransactionKey::issued(key.clone())).await?;
        let found = row.as_ref().map(|t| t.status.as_str());
        if !kept(acked, found) {
            lost.push(format!(
                "{key}: acknowledged {acked}, now {}",
                found.unwrap_or("missing")
            ));
        }
    }
    let check = tx.ledger_check().await?;
    if !check.is_sound() {
        eprintln!("walletd-load: the ledger is not sound: {check:?}");
    }
    drop(tx);
    store.close().await;
    let n = lost.len();
    lost.truncate(10);
    Ok(Verified {
        acked: furthest.len(),
        lost: n,
        examples: lost,
        ledger_sound: check.is_sound(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_furthest_acknowledgement_counts() {
        let f = parse("k1 new\nk1 reserved\nk2 new\nk1 confirmed\nk3 reserved\n").unwrap();
        assert_eq!(f["k1"], "confirmed");
        assert_eq!(f["k2"], "new");
        assert_eq!(f["k3"], "reserved");
        assert!(parse("k1 paid\n").is_err());
        assert!(parse("k1\n").is_err());
    }

    #[test]
    fn a_transaction_may_be_further_along_never_behind() {
        assert!(kept("new", Some("new")));
        assert!(kept("new", Some("confirmed")));
        assert!(kept("reserved", Some("confirmed")));
        assert!(!kept("confirmed", Some("reserved")));
        assert!(!kept("reserved", Some("new")));
        assert!(!kept("new", None));
        assert!(!kept("reserved", Some("revoked")));
    }
}
