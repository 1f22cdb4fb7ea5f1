//! Payments to people who may not have a wallet yet. A payment's `beneficiary` is a wallet
//! (`{id}`), the project's by default, or a person by `{email}` or `{phone}`: a person who has a
//! wallet is paid to it; one who has none yet is recorded (`Tx::insert_payment_contact`) and the
//! transaction, once reserved, waits in `waiting_registration` with the money held on the payer
//! until a user with that confirmed contact is created ([`resolve_for_user`]).
//!
//! A payment waiting for its person shows a beneficiary without `id` and keeps its project's
//! wallet as a placeholder, never paid: a transaction with such a payment never gets past
//! `waiting_registration` but to `revoked` or `failed`, which release the hold.

use super::beneficiary::Contact;
use super::expire::{expire_locked, is_due};
use super::waits;
use crate::error::ApiResult;
use serde_json::Value;
use std::collections::BTreeSet;
use wallet_core::{PaymentId, TransactionKey, TransactionStatus, WalletId};
use wallet_store::{PaymentRow, Tx};

/// Whether payment `p` still waits for its beneficiary to register: its beneficiary is shown
/// without a wallet id.
pub(crate) fn awaits_person(p: &PaymentRow) -> bool {
    p.beneficiary_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .is_some_and(|b| b.is_object() && b.get("id").is_none())
}

/// Resolves to their wallets the beneficiaries of `payments` (one transaction's) whose person
/// has one now, in the rows too. Answers the ids of the payments still waiting for their person.
/// No query unless a payment waits.
pub(crate) async fn resolve_known(
    tx: &mut Tx,
    key: &TransactionKey,
    payments: &mut [PaymentRow],
) -> ApiResult<BTreeSet<PaymentId>> {
    if !payments.iter().any(awaits_person) {
        return Ok(BTreeSet::new());
    }
    let mut waiting = BTreeSet::new();
    for c in tx.payment_contacts_of(key).await? {
        let contact = match (c.email, c.phone) {
            (Some(e), _) => Contact::Email(e),
            (None, Some(p)) => Contact::Phone(p),
            (None, None) => continue,
        };
        let (email, phone) = contact.parts();
        match tx.wallet_of_contact(email, phone).await? {
            Some((_, wallet)) => {
                let shown = contact.shown(Some(wallet));
                tx.resolve_payment_contact(c.payment_id, wallet, &shown.to_string())
                    .await?;
                if let Some(p) = payments.iter_mut().find(|p| p.id == c.payment_id) {
                    p.beneficiary_wallet_id = wallet;
                    p.beneficiary_json = Some(shown.to_string());
                }
            }
            None => {
                waiting.insert(c.payment_id);
            }
        }
    }
    Ok(waiting)
}

/// A user was created (or confirmed a contact) with `email` and/or confirmed `phone` and has
/// `wallet`: every payment waiting for that person is paid to it, and each transaction left
/// waiting for nobody continues to `reserved` (then `confirmed` with `auto_confirm`), with its
/// callback (or waits for a payment's password, `waiting_password`). In the caller's database transaction, so in the user's creation's. Answers the keys
/// of the transactions whose payments were resolved.
pub(crate) async fn resolve_for_user(
    tx: &mut Tx,
    email: Option<&str>,
    phone: Option<&str>,
    wallet: WalletId,
    now: i64,
) -> ApiResult<Vec<TransactionKey>> {
    let keys: BTreeSet<TransactionKey> = tx
        .payment_contacts_for(email, phone)
        .await?
        .into_iter()
        .map(|c| c.transaction_key)
        .collect();
    let mut resolved = Vec::new();
    for key in keys {
        // Locked first: every change to a transaction's payments happens under its lock.
        let Some(t) = tx.transaction_for_update(&key).await? else {
            continue;
        };
        if t.status.is_final() {
            continue;
        }
        if t.status.holds_funds() && is_due(&t, now) {
            expire_locked(tx, &t, now).await?;
            continue;
        }
        let mut any = false;
        for c in tx.payment_contacts_of(&key).await? {
            let contact = match (&c.email, &c.phone) {
                (Some(e), _) if Some(e.as_str()) == email => Contact::Email(e.clone()),
                (None, Some(p)) if Some(p.as_str()) == phone => Contact::Phone(p.clone()),
                _ => continue,
            };
            // The payer paying herself is no payment: that one keeps waiting (and fails at
            // the deadline).
            if t.wallet_id == Some(wallet) {
                continue;
            }
            let shown = contact.shown(Some(wallet)).to_string();
            tx.resolve_payment_contact(c.payment_id, wallet, &shown)
                .await?;
            any = true;
        }
        if !any {
            continue;
        }
        tx.append_event(
            &key,
            now,
            "system",
            "beneficiary_registered",
            Some(&format!("wallet {wallet}")),
        )
        .await?;
        if t.status == TransactionStatus::WaitingRegistration
            && tx.payment_contacts_of(&key).await?.is_empty()
        {
            let written =
                waits::continue_held(tx, &t, now, "system", "every beneficiary registered").await?;
            written.notify(tx).await?;
        }
        resolved.push(key);
    }
    Ok(resolved)
}
