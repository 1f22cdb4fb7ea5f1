//! The scopes of holders' access tokens: the names the PHP client knows
//! (`Paysera_WalletApi_OAuth_Consumer::SCOPE_*`) and walletd's own `wallet`, parsed once for
//! every grant, and read by every check of what a token may do ([`grants`]). A token's scope is
//! stored as the space-separated names, each once, in the order asked.

use crate::error::{ApiError, ApiResult};

/// The scope of a token asked without one: the holder's wallet.
pub const DEFAULT_SCOPE: &str = "wallet";

/// Every scope a token may carry.
pub const KNOWN: &[&str] = &[
    "wallet",
    "balance",
    "balance_offline",
    "statements",
    "recent_statements",
    "statements_offline",
    "phone_confirmation",
    "phone_confirmation_offline",
    "phone",
    "phone_offline",
    "email",
    "email_offline",
    "address",
    "address_offline",
    "identity",
    "identity_offline",
    "full_name",
    "full_name_offline",
    "identification_level",
    "identification_level_offline",
    "wallet_list",
    "wallet_list_offline",
    "dob",
    "dob_offline",
    "gender",
    "gender_offline",
    "user_info",
    "identification_data",
    "identification_data_offline",
    "initiate_transfers",
    "check_has_sufficient_balance",
    "pep",
];

/// The names of a scope, asked or stored: separated by spaces (OAuth) or commas.
pub fn names(scope: &str) -> impl Iterator<Item = &str> {
    scope
        .split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|n| !n.is_empty())
}

/// Whether a token's `scope` grants `name`: it names it, or its `_offline` form.
pub fn grants(scope: &str, name: &str) -> bool {
    names(scope).any(|g| g == name || g.strip_suffix("_offline") == Some(name))
}

/// The scope a request asks for, normalised: absent or empty is [`DEFAULT_SCOPE`]; a name walletd
/// does not know is `invalid_scope`.
pub fn parse(asked: Option<&str>) -> ApiResult<String> {
    let mut kept: Vec<&str> = Vec::new();
    for name in names(asked.unwrap_or("")) {
        if !KNOWN.contains(&name) {
            let shown: String = name.chars().take(64).collect();
            return Err(ApiError::InvalidScope(format!(
                "scope {shown:?} is unknown; the scopes are the PHP client's SCOPE_* names and \"wallet\""
            )));
        }
        if !kept.contains(&name) {
            kept.push(name);
        }
    }
    if kept.is_empty() {
        return Ok(DEFAULT_SCOPE.to_string());
    }
    Ok(kept.join(" "))
}

/// The scope a refresh asks for, at most the one `granted`: none asked keeps `granted`; a name
/// outside it is `invalid_scope` (RFC 6749 §6: a refresh may only narrow).
pub fn narrowed(asked: Option<&str>, granted: &str) -> ApiResult<String> {
    if asked.is_none_or(|a| a.trim().is_empty()) {
        return Ok(granted.to_string());
    }
    let scope = parse(asked)?;
    let held: Vec<&str> = names(granted).collect();
    if let Some(wider) = names(&scope).find(|n| !held.contains(n)) {
        return Err(ApiError::InvalidScope(format!(
            "scope {wider:?} was not granted to this token; a refresh may only narrow its scope ({granted:?})"
        )));
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_and_refuses_unknown_names() {
        assert_eq!(parse(None).unwrap(), "wallet");
        assert_eq!(parse(Some("  ")).unwrap(), "wallet");
        assert_eq!(
            parse(Some("balance  statements balance")).unwrap(),
            "balance statements"
        );
        assert_eq!(
            parse(Some("balance admin")).unwrap_err().code(),
            "invalid_scope"
        );
    }

    #[test]
    fn a_scope_grants_its_names_and_their_offline_forms() {
        assert_eq!(
            parse(Some("balance,statements")).unwrap(),
            "balance statements"
        );
        assert!(grants("email balance_offline", "balance"));
        assert!(grants("email,phone", "phone"));
        assert!(!grants("balance", "balance_offline"));
        assert!(!grants("statements", "balance"));
        assert!(!grants("", "wallet"));
    }

    #[test]
    fn a_refresh_only_narrows() {
        let granted = "balance statements";
        assert_eq!(narrowed(None, granted).unwrap(), granted);
        assert_eq!(narrowed(Some(""), granted).unwrap(), granted);
        assert_eq!(narrowed(Some("statements"), granted).unwrap(), "statements");
        let wider = narrowed(Some("statements email"), granted).unwrap_err();
        assert_eq!(wider.code(), "invalid_scope");
    }
}
