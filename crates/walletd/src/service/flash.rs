//! FLASH SMS: the client asks walletd to text the holder (`PUT transaction/{key}/flash/{wallet}`),
//! the transaction waits with a `correlation_key`, and the holder's answer reserves or rejects it.

use super::transactions::actor;
use super::transactions::allowance::covers;
use super::transactions::hold::{hold_funds, reservable};
use super::transactions::lock::begin_change;
use super::transactions::release::{release_all, wait_for_holder};
use super::transactions::reserve::try_with_allowance;
use super::transactions::validate::selected_prices;
use super::transactions::view::{view, view_and_notify};
use crate::error::{ApiError, ApiResult};
use crate::sms::Sms;
use crate::state::AppState;
use crate::telemetry::Flow;
use wallet_client::types as wire;
use wallet_core::keys::new_correlation_key;
use wallet_core::money::format_decimal;
use wallet_core::{
    PaymentStatus, TransactionKey, TransactionStatus, TransactionType, UserId, WalletId,
};
use wallet_store::{ClientRow, PaymentRow, Store, Tx};

/// `PUT transaction/{key}/flash/{wallet}`: with `use_allowance` and an active allowance that
/// covers it, the transaction is reserved at once (`automatic`); otherwise the holder gets a
/// FLASH SMS and the transaction is `waiting` with a `correlation_key`.
pub async fn send(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    wallet_id: WalletId,
) -> ApiResult<wire::Transaction> {
    if !client.has_grant(TransactionType::Flash.as_str()) {
        return Err(ApiError::UnsupportedGrantType(
            "this client may not send FLASH SMS confirmations".into(),
        ));
    }
    let (mut tx, t, now) = begin_change(state, client, key).await?;
    if t.status != TransactionStatus::New {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; only new transactions can be sent to the holder",
            t.status
        )));
    }
    let phone = confirmed_phone(&mut tx, wallet_id).await?;
    let r = reservable(&mut tx, t, now).await?;
    let included = tx.allowance_of(key).await?;
    if r.t.use_allowance
        && included.is_none()
        && let Some(a) = tx.active_allowance(client.id, wallet_id, now).await?
    {
        let selected = selected_prices(&r.payments, None)?;
        if covers(&mut tx, &a, &r.payments, &selected, now)
            .await?
            .is_ok()
        {
            let written = try_with_allowance(&mut tx, client, r, wallet_id, now).await??;
            return written.commit(tx).await;
        }
    }
    let correlation = free_correlation_key(&mut tx, &phone, &state.entropy).await?;
    // The holder must answer by the reservation deadline.
    wait_for_holder(
        &mut tx,
        key,
        TransactionStatus::Waiting,
        TransactionType::Flash,
        wallet_id,
        r.deadline,
        now,
    )
    .await?;
    tx.set_correlation_key(key, Some(&correlation)).await?;
    let project = tx
        .project(client.project_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("client without project")))?;
    let body = sms_text(&project.name, &r.payments, &correlation);
    state
        .sms
        .send(
            &mut tx,
            Sms {
                phone: &phone,
                body: &body,
                transaction_key: key,
            },
            now,
        )
        .await?;
    tx.append_event(
        key,
        now,
        &actor(client),
        "waiting",
        Some(&format!("flash wallet {wallet_id}")),
    )
    .await?;
    let view = view(&mut tx, key).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// The holder's confirmed phone number: where the FLASH SMS goes (`phone_not_confirmed` if none).
async fn confirmed_phone(tx: &mut Tx, wallet_id: WalletId) -> ApiResult<String> {
    let wallet = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    let holder = tx
        .holder(wallet.owner_user_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("wallet {wallet_id} has no holder")))?;
    match (&holder.phone, holder.phone_confirmed) {
        (Some(p), true) => Ok(p.clone()),
        _ => Err(ApiError::PhoneNotConfirmed(
            "the wallet holder has no confirmed phone number".into(),
        )),
    }
}

/// A correlation key that no other transaction waiting for this phone's answer has, so the
/// holder's answer names one transaction.
async fn free_correlation_key(
    tx: &mut Tx,
    phone: &str,
    entropy: &crate::entropy::Entropy,
) -> ApiResult<String> {
    let taken: Vec<String> = tx
        .waiting_flash_of_phone(phone)
        .await?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    Ok(loop {
        let k = entropy.draw(new_correlation_key);
        if !taken.contains(&k) {
            break k;
        }
    })
}

/// The text of the FLASH SMS: who asks, for how much, and how to answer.
fn sms_text(project_name: &str, payments: &[PaymentRow], correlation: &str) -> String {
    let mut amounts: std::collections::BTreeMap<wallet_core::Currency, i64> = Default::default();
    for p in payments {
        *amounts.entry(p.currency).or_default() += p.price;
    }
    let what = if amounts.is_empty() {
        "approve an allowance".to_string()
    } else {
        let list: Vec<String> = amounts
            .iter()
            .map(|(c, a)| format!("{} {c}", format_decimal(*a, *c)))
            .collect();
        format!("pay {}", list.join(" + "))
    };
    format!(
        "{project_name}: {what}? Code {correlation}. Reply \"{correlation} YES\" to accept or \"{correlation} NO\" to reject."
    )
}

/// The holder's answer to a FLASH SMS, as the gateway received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject,
}

/// Reads `"<correlation_key> YES|NO"` (also `ACCEPT`/`REJECT`, `Y`/`N`, any case).
pub fn parse_answer(text: &str) -> Option<(String, Answer)> {
    let mut words = text.split_whitespace();
    let key = words.next()?.to_ascii_uppercase();
    let answer = match words.next()?.to_ascii_uppercase().as_str() {
        "YES" | "Y" | "ACCEPT" => Answer::Accept,
        "NO" | "N" | "REJECT" => Answer::Reject,
        _ => return None,
    };
    words.next().is_none().then_some((key, answer))
}

/// The holder with `phone` answered a FLASH SMS: the waiting transaction with that
/// correlation key is reserved (funds held) or rejected, and the client gets a callback.
pub async fn answer(
    store: &Store,
    now: i64,
    phone: &str,
    text: &str,
) -> ApiResult<wire::Transaction> {
    let (correlation, answer) = parse_answer(text)
        .ok_or_else(|| ApiError::invalid("the answer must be \"<code> YES\" or \"<code> NO\""))?;
    let mut tx = store.write().await?;
    let key = tx
        .waiting_flash_of_phone(phone)
        .await?
        .into_iter()
        .find(|(_, k)| *k == correlation)
        .map(|(key, _)| key)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no transaction waits for an answer with code {correlation} from this phone"
            ))
        })?;
    let (data, flow) = decide_in(&mut tx, now, &key, Holder::Phone(phone), answer).await?;
    tx.commit().await?;
    flow.committed();
    Ok(data)
}

/// Who answers a FLASH confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    /// By SMS from this phone: the wallet's holder must have it as her confirmed phone. The
    /// event log names the wallet (`holder:{wallet}`).
    Phone(&'a str),
    /// Logged in on walletd's pages as this user, the wallet's owner. The event log names the
    /// user (`holder:user:{id}`), as the confirmation page does.
    User(UserId),
}

/// The holder accepts (funds held: `reserved`, or `confirmed` with `auto_confirm`) or rejects
/// FLASH transaction `key`, exactly as her SMS answer does; the client hears of it by callback.
/// Accepted in the holder app (`Holder::User`), the transaction's `type` becomes `mobile_app`.
/// The transaction must be `waiting`, `type: flash`, on one of the holder's wallets: another
/// holder's transaction is `not_found`, one not waiting for her answer `invalid_state`.
pub async fn decide(
    store: &Store,
    now: i64,
    key: &TransactionKey,
    holder: Holder<'_>,
    answer: Answer,
) -> ApiResult<wire::Transaction> {
    let mut tx = store.write().await?;
    let (data, flow) = decide_in(&mut tx, now, key, holder, answer).await?;
    tx.commit().await?;
    flow.committed();
    Ok(data)
}

async fn decide_in(
    tx: &mut Tx,
    now: i64,
    key: &TransactionKey,
    holder: Holder<'_>,
    answer: Answer,
) -> ApiResult<(wire::Transaction, Flow)> {
    let t = tx
        .transaction_for_update(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let owner = match t.wallet_id {
        Some(w) => tx.wallet(w).await?.map(|w| w.owner_user_id),
        None => None,
    };
    let holders = match (owner, holder) {
        (Some(owner), Holder::User(user)) => owner == user,
        (Some(owner), Holder::Phone(phone)) => tx
            .holder(owner)
            .await?
            .is_some_and(|h| h.phone_confirmed && h.phone.as_deref() == Some(phone)),
        (None, _) => false,
    };
    let Some(wallet) = t.wallet_id.filter(|_| holders) else {
        // Another holder's transaction: as if it did not exist.
        return Err(ApiError::not_found_transaction(key));
    };
    super::transactions::expire::refuse_if_due(&t, now)?;
    if t.status != TransactionStatus::Waiting || t.kind != Some(TransactionType::Flash) {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; it is not waiting for a FLASH answer",
            t.status
        )));
    }
    // Accepted by SMS it is `flash`; in her holder app, `mobile_app`.
    let (actor, kind) = match holder {
        Holder::Phone(_) => (format!("holder:{wallet}"), TransactionType::Flash),
        Holder::User(user) => (format!("holder:user:{user}"), TransactionType::MobileApp),
    };
    let flow = match answer {
        Answer::Accept => {
            let r = reservable(tx, t, now).await?;
            let selected = selected_prices(&r.payments, None)?;
            let written = hold_funds(tx, &actor, r, wallet, &selected, kind, None, now).await?;
            written.flow
        }
        Answer::Reject => {
            release_all(tx, &t, TransactionStatus::Rejected, now).await?;
            tx.set_correlation_key(key, None).await?;
            tx.append_event(key, now, &actor, "rejected", Some("flash"))
                .await?;
            Flow::default()
        }
    };
    Ok((view_and_notify(tx, key).await?, flow))
}

/// A FLASH transaction waiting for the holder's answer, as the holder app lists it.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub transaction_key: TransactionKey,
    pub correlation_key: String,
    pub project_name: String,
    /// The total of each currency, e.g. `12.99 EUR`.
    pub totals: Vec<String>,
}

/// The FLASH transactions waiting for `user_id`'s answer, oldest first.
pub async fn waiting_of_user(store: &Store, user_id: UserId) -> ApiResult<Vec<Waiting>> {
    let mut tx = store.read().await?;
    let mut list = Vec::new();
    for (key, correlation) in tx.waiting_flash_of_user(user_id).await? {
        let Some(t) = tx.transaction(&key).await? else {
            continue;
        };
        let project_name = tx
            .project(t.project_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let mut amounts: std::collections::BTreeMap<wallet_core::Currency, i64> =
            Default::default();
        for p in tx.payments_of(&key).await? {
            if p.status != PaymentStatus::Canceled {
                *amounts.entry(p.currency).or_default() += p.price;
            }
        }
        list.push(Waiting {
            transaction_key: key,
            correlation_key: correlation,
            project_name,
            totals: amounts
                .iter()
                .map(|(c, a)| format!("{} {c}", format_decimal(*a, *c)))
                .collect(),
        });
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_leniently_but_exactly() {
        assert_eq!(
            parse_answer("rg5a yes"),
            Some(("RG5A".into(), Answer::Accept))
        );
        assert_eq!(
            parse_answer(" RG5A  NO "),
            Some(("RG5A".into(), Answer::Reject))
        );
        assert_eq!(parse_answer("RG5A"), None);
        assert_eq!(parse_answer("RG5A MAYBE"), None);
        assert_eq!(parse_answer("RG5A YES please"), None);
    }
}
