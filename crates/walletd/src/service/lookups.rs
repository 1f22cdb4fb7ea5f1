//! Wallets found by what is known of their holder: `GET wallets?email=|phone=|email_hash=|phone_hash=`
//! (many at once, as the PHP client's `getWalletsByContacts` asks), `GET wallet?…` (one, by one
//! criterion) and `GET wallet/barcode?…` (the barcode of the wallet found).
//!
//! Who sees what (docs/decisions.md, "Wallet lookups"): a client granted `lookup` finds any
//! holder's wallet (its id, owner and account number: nothing personal); any other caller finds
//! only the wallets it may read anyway (its project's, or the token holder's own), and everything
//! else is answered as not found — so that a lookup is no oracle on who has a wallet.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::service::wallets::{readable, view};
use crate::state::AppState;
use wallet_client::types::{Wallet, WalletsByContact};
use wallet_core::contacts::{
    email_key, is_contact_hash, phone_key, wallet_barcode, wallet_of_barcode,
};
use wallet_core::ids::{UserId, WalletId};
use wallet_store::{ContactKind, Tx};

/// The grant that lets a client find any holder's wallet.
pub const LOOKUP_GRANT: &str = "lookup";
/// The most contacts one `GET wallets` may ask about.
pub const MAX_CONTACTS: usize = 100;

/// The query's parameters, decoded, in order. A name's PHP list suffix (`email[]`, `email[0]`)
/// is dropped; another bracket (`card[paysera]`) is kept.
fn parameters(query: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    let query = query.unwrap_or("");
    crate::json::refuse_encoded_nul(query.as_bytes())?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::invalid(format!("the query string: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(name, value)| {
            let list = name.split_once('[').and_then(|(base, rest)| {
                rest.strip_suffix(']')
                    .filter(|i| i.bytes().all(|b| b.is_ascii_digit()))
                    .map(|_| base.len())
            });
            let name = match list {
                Some(n) => name[..n].to_string(),
                None => name,
            };
            (name, value)
        })
        .collect())
}

/// What `GET wallets` asks: each contact as sent, with its kind and its key (normal form or hash).
fn contacts(query: Option<&str>) -> ApiResult<Vec<(ContactKind, String, String)>> {
    let mut asked = Vec::new();
    for (name, value) in parameters(query)? {
        let kind = match name.as_str() {
            "email" => ContactKind::Email,
            "phone" => ContactKind::Phone,
            "email_hash" => ContactKind::EmailHash,
            "phone_hash" => ContactKind::PhoneHash,
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown parameter {other:?}: search by email, phone, email_hash or phone_hash"
                )));
            }
        };
        for sent in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            asked.push((kind, sent.to_string(), contact_key(kind, sent)?));
        }
    }
    if asked.is_empty() {
        return Err(ApiError::invalid(
            "give at least one email, phone, email_hash or phone_hash (comma-separated)",
        ));
    }
    if asked.len() > MAX_CONTACTS {
        return Err(ApiError::invalid(format!(
            "at most {MAX_CONTACTS} contacts per request"
        )));
    }
    Ok(asked)
}

/// The key a contact of `kind` is looked up by; a value that cannot be one is `invalid_request`.
fn contact_key(kind: ContactKind, sent: &str) -> ApiResult<String> {
    match kind {
        ContactKind::Email if sent.contains('@') => Ok(email_key(sent)),
        ContactKind::Email => Err(ApiError::invalid(format!(
            "email {sent:?} is not an e-mail address"
        ))),
        ContactKind::Phone => {
            let key = phone_key(sent);
            if key.is_empty() {
                return Err(ApiError::invalid(format!("phone {sent:?} has no digits")));
            }
            Ok(key)
        }
        ContactKind::EmailHash | ContactKind::PhoneHash if is_contact_hash(sent) => {
            Ok(sent.to_ascii_lowercase())
        }
        ContactKind::EmailHash | ContactKind::PhoneHash => Err(ApiError::invalid(format!(
            "{sent:?} is not a SHA-1 (40 hex digits) of a contact's normal form"
        ))),
    }
}

/// Whether the caller sees the wallet of `owner` in a lookup.
async fn found(tx: &mut Tx, caller: &Caller, wallet: WalletId, owner: UserId) -> ApiResult<bool> {
    Ok(caller.client.has_grant(LOOKUP_GRANT) || readable(tx, caller, wallet, owner).await?)
}

/// `GET wallets?…`: the wallets of the contacts asked, keyed by each contact as it was sent.
pub async fn wallets_by_contacts(
    state: &AppState,
    caller: &Caller,
    query: Option<&str>,
) -> ApiResult<WalletsByContact> {
    let asked = contacts(query)?;
    let mut tx = state.store.read().await?;
    let mut answer = WalletsByContact::new();
    for kind in [
        ContactKind::Email,
        ContactKind::Phone,
        ContactKind::EmailHash,
        ContactKind::PhoneHash,
    ] {
        let of_kind: Vec<&(ContactKind, String, String)> =
            asked.iter().filter(|(k, _, _)| *k == kind).collect();
        let mut keys: Vec<String> = of_kind.iter().map(|(_, _, key)| key.clone()).collect();
        keys.sort();
        keys.dedup();
        for (key, wallet, owner) in tx.wallets_by_contact(kind, &keys).await? {
            if !found(&mut tx, caller, wallet, owner).await? {
                continue;
            }
            for (_, sent, _) in of_kind.iter().filter(|(_, _, k)| *k == key) {
                answer.insert(sent.clone(), view(wallet, owner));
            }
        }
    }
    Ok(answer)
}

/// The one criterion of `GET wallet?…` and `GET wallet/barcode?…`.
enum Criterion {
    Contact(ContactKind, String),
    User(UserId),
    Wallet(WalletId),
}

/// Search criteria of the real API that walletd keeps nothing for: never found.
const UNKEPT: [&str; 5] = [
    "person_code",
    "company_code",
    "card",
    "licence_plate",
    "nfc",
];

/// Reads the one criterion of the query (`not_found` for what walletd keeps nothing of).
fn criterion(state: &AppState, query: Option<&str>) -> ApiResult<(String, Criterion)> {
    let mut params = parameters(query)?;
    if params.len() != 1 {
        return Err(ApiError::invalid(
            "give exactly one of email, phone, user_id, account_number or barcode",
        ));
    }
    let (name, value) = params.remove(0);
    let base = name.split('[').next().unwrap_or_default();
    let what = format!("{name} {value:?}");
    let nothing = || ApiError::NotFound(format!("no wallet has {what}"));
    let c = match base {
        "email" => Criterion::Contact(ContactKind::Email, contact_key(ContactKind::Email, &value)?),
        "phone" => Criterion::Contact(ContactKind::Phone, contact_key(ContactKind::Phone, &value)?),
        "user_id" => Criterion::User(
            value
                .trim()
                .parse()
                .map_err(|_| ApiError::invalid(format!("user_id {value:?} is not an id")))?,
        ),
        "account_number" => Criterion::Wallet(
            value
                .trim()
                .strip_prefix("EVP")
                .and_then(|n| n.parse().ok())
                .ok_or_else(nothing)?,
        ),
        "barcode" => {
            Criterion::Wallet(wallet_of_barcode(&state.code_key, &value).ok_or_else(nothing)?)
        }
        unkept if UNKEPT.contains(&unkept) => {
            return Err(ApiError::NotFound(format!(
                "walletd keeps no {unkept}: no wallet has {what}"
            )));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "unknown parameter {other:?}: search by email, phone, user_id, account_number or barcode"
            )));
        }
    };
    Ok((what, c))
}

/// The wallet the query's criterion names, if the caller may find it (else `not_found`).
async fn find(state: &AppState, caller: &Caller, query: Option<&str>) -> ApiResult<Wallet> {
    let (what, c) = criterion(state, query)?;
    let mut tx = state.store.read().await?;
    let wallet = match c {
        Criterion::Contact(kind, key) => tx
            .wallets_by_contact(kind, &[key])
            .await?
            .first()
            .map(|(_, w, owner)| (*w, *owner)),
        Criterion::User(user) => tx.wallets_of_user(user).await?.first().map(|w| (*w, user)),
        Criterion::Wallet(id) => tx.wallet(id).await?.map(|w| (w.id, w.owner_user_id)),
    };
    if let Some((w, owner)) = wallet
        && found(&mut tx, caller, w, owner).await?
    {
        return Ok(view(w, owner));
    }
    Err(ApiError::NotFound(format!("no wallet has {what}")))
}

/// `GET wallet?…`: the wallet one criterion names.
pub async fn wallet_by(
    state: &AppState,
    caller: &Caller,
    query: Option<&str>,
) -> ApiResult<Wallet> {
    find(state, caller, query).await
}

/// `GET wallet/barcode?…`: the barcode of the wallet one criterion names.
pub async fn barcode_by(
    state: &AppState,
    caller: &Caller,
    query: Option<&str>,
) -> ApiResult<String> {
    let wallet = find(state, caller, query).await?;
    Ok(wallet_barcode(&state.code_key, wallet.id))
}
