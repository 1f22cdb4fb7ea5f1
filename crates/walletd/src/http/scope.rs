//! What a holder's access token may call: every `/rest/v1` route names the scopes that grant it
//! (docs/decisions.md, "Holders' access tokens"), and a request signed with a token whose scope
//! grants none of them is `forbidden` before its handler runs. Client credentials are not
//! limited here (a client's grants are its operations' business).

use crate::caller::Caller;
use crate::error::ApiError;
use crate::service::scopes;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The holder's wallet, and acting with the client in its app: the default scope.
const WALLET: &[&str] = &["wallet"];

/// `(METHOD, route, scopes)`: a token's scope must grant one of `scopes`; none listed, any token
/// may call the route (what it shows is then the operation's business).
pub const ROUTE_SCOPES: &[(&str, &str, &[&str])] = &[
    // Transactions, payments and allowances: the client's, which a token calls as its manager
    // (`manager_id`), or the holder accepting on her own wallet.
    ("POST", "/rest/v1/transaction", WALLET),
    ("GET", "/rest/v1/transaction/{key}", WALLET),
    ("DELETE", "/rest/v1/transaction/{key}", WALLET),
    ("PUT", "/rest/v1/transaction/{key}/reserve", WALLET),
    ("PUT", "/rest/v1/transaction/{key}/confirm", WALLET),
    ("GET", "/rest/v1/transaction/{key}/receipt", WALLET),
    (
        "GET",
        "/rest/v1/transaction/{key}/inquired-information",
        WALLET,
    ),
    ("PUT", "/rest/v1/transaction/{key}/password", WALLET),
    ("PUT", "/rest/v1/transaction/{key}/reserve/{wallet}", WALLET),
    ("PUT", "/rest/v1/transaction/{key}/flash/{wallet}", WALLET),
    ("GET", "/rest/v1/transaction/{key}/type/{wallet}", WALLET),
    ("POST", "/rest/v1/transaction/renew/{key}", WALLET),
    ("GET", "/rest/v1/transactions", WALLET),
    ("POST", "/rest/v1/payment", WALLET),
    ("GET", "/rest/v1/payment/{id}", WALLET),
    ("DELETE", "/rest/v1/payment/{id}", WALLET),
    ("PUT", "/rest/v1/payment/{id}/freeze", WALLET),
    ("PUT", "/rest/v1/payment/{id}/finalize", WALLET),
    ("GET", "/rest/v1/payments", WALLET),
    ("POST", "/rest/v1/allowance", WALLET),
    ("GET", "/rest/v1/allowance/{id}", WALLET),
    ("DELETE", "/rest/v1/allowance/{id}", WALLET),
    ("GET", "/rest/v1/allowance/active/{wallet}", WALLET),
    ("DELETE", "/rest/v1/allowance/active/{wallet}", WALLET),
    ("GET", "/rest/v1/allowance/limit/{wallet}", WALLET),
    // Wallets: her wallet, its balance and statements, and the lookups.
    // Her wallet itself (id, owner, account number) for any token: what every scope is about.
    ("GET", "/rest/v1/wallet/{id}", &[]),
    ("GET", "/rest/v1/wallet/{id}/balance", &["balance"]),
    ("GET", "/rest/v1/wallet/{id}/statements", &["statements"]),
    (
        "GET",
        "/rest/v1/wallet/{id}/sufficient-amount",
        &["check_has_sufficient_balance", "balance"],
    ),
    ("GET", "/rest/v1/wallet", &["wallet", "wallet_list"]),
    ("GET", "/rest/v1/wallet/barcode", &["wallet", "wallet_list"]),
    ("GET", "/rest/v1/wallets", &["wallet_list"]),
    // Users: her id for any token, each part for its own scope.
    ("GET", "/rest/v1/user/{id}", &[]),
    ("GET", "/rest/v1/user/{id}/email", &["email"]),
    ("GET", "/rest/v1/user/{id}/phone", &["phone"]),
    ("GET", "/rest/v1/user/{id}/confirmed-phones", &["phone"]),
    ("GET", "/rest/v1/user/{id}/wallets", &["wallet_list"]),
    ("GET", "/rest/v1/user/{id}/address", &["address"]),
    ("GET", "/rest/v1/user/{id}/identity", &["identity"]),
    ("GET", "/rest/v1/user/{id}/pes", &["pep"]),
];

/// The scopes that grant `method` on `route`; `None` for a route the table lacks.
pub fn needed(method: &str, route: &str) -> Option<&'static [&'static str]> {
    ROUTE_SCOPES
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
        .map(|(_, _, scopes)| *scopes)
}

/// Why a token whose scope is `scope` may not call `method` on `route`, if it may not. A route
/// the table lacks is refused to every token.
pub fn refusal(scope: &str, method: &str, route: &str) -> Option<ApiError> {
    let Some(needed) = needed(method, route) else {
        return Some(ApiError::Forbidden(format!(
            "{method} {route} is not for holders' access tokens"
        )));
    };
    if needed.is_empty() || needed.iter().any(|n| scopes::grants(scope, n)) {
        return None;
    }
    Some(ApiError::Forbidden(format!(
        "the access token's scope does not grant {method} {route}: it needs scope {}",
        needed.join(" or ")
    )))
}

/// The middleware (after authentication, which leaves the [`Caller`]): a token's request whose
/// scope grants the route goes on; another is refused.
pub async fn enforce(request: Request, next: Next) -> Response {
    let scope = request.extensions().get::<Caller>().and_then(|c| {
        // A holder's token always has a scope; client credentials none, and pass.
        c.holder.and(c.scope.as_deref())
    });
    if let Some(scope) = scope {
        let route = request.extensions().get::<MatchedPath>();
        let route = route.map_or("", MatchedPath::as_str);
        if let Some(refused) = refusal(scope, request.method().as_str(), route) {
            return refused.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation of `/rest/v1` the document describes.
    fn api_operations() -> Vec<(String, String)> {
        let doc = super::super::openapi::document();
        let mut ops = Vec::new();
        for (path, item) in doc.paths.paths.iter() {
            if !path.starts_with("/rest/v1/") {
                continue;
            }
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, _) in methods.iter().filter(|(_, present)| *present) {
                ops.push((method.to_string(), path.clone()));
            }
        }
        ops
    }

    #[test]
    fn every_api_route_names_its_scopes_and_every_entry_is_a_route() {
        let ops = api_operations();
        for (method, path) in &ops {
            assert!(
                needed(method, path).is_some(),
                "{method} {path} has no scope"
            );
        }
        assert_eq!(ops.len(), ROUTE_SCOPES.len(), "an entry names no route");
    }

    #[test]
    fn a_route_is_granted_by_one_of_its_scopes() {
        let balance = "/rest/v1/wallet/{id}/balance";
        assert!(refusal("balance_offline email", "GET", balance).is_none());
        let refused = refusal("wallet statements", "GET", balance).unwrap();
        assert_eq!(refused.code(), "forbidden");
        assert!(
            refused.to_string().contains("needs scope balance"),
            "{refused}"
        );
        assert!(refusal("email", "GET", "/rest/v1/user/{id}").is_none());
        assert!(refusal("wallet", "GET", "/rest/v1/nowhere").is_some());
    }
}
