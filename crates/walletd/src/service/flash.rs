//! FLASH SMS: the client asks walletd to text the holder (`PUT transaction/{key}/flash/{wallet}`),
//! the transaction waits with a `correlation_key`, and the holder's answer reserves or rejects it.

use super::reserve::{hold_funds, reservable, selected_prices, try_with_allowance};
use super::transactions::{begin_change, release_all, view};
use crate::error::{ApiError, ApiResult};
use crate::sms::Sms;
use crate::state::AppState;
use wallet_client::types as wire;
use wallet_core::keys::new_correlation_key;
use wallet_core::money::format_decimal;
use wallet_core::{PaymentStatus, TransactionStatus, TransactionType};
use wallet_store::{ClientRow, Store, TransactionState};

/// `PUT transaction/{key}/flash/{wallet}`: with `use_allowance` and an active allowance that
/// covers it, the transaction is reserved at once (`automatic`); otherwise the holder gets a
/// FLASH SMS and the transaction is `waiting` with a `correlation_key`.
pub async fn send(
    state: &AppState,
    client: &ClientRow,
    key: &str,
    wallet_id: i64,
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
    let wallet = tx
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {wallet_id} was not found")))?;
    let holder = tx
        .holder(wallet.owner_user_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("wallet {wallet_id} has no holder")))?;
    let phone = match (&holder.phone, holder.phone_confirmed) {
        (Some(p), true) => p.clone(),
        _ => {
            return Err(ApiError::PhoneNotConfirmed(
                "the wallet holder has no confirmed phone number".into(),
            ));
        }
    };
    let r = reservable(&mut tx, t, now).await?;
    let included = tx.allowance_of(key).await?;
    if r.t.use_allowance
        && included.is_none()
        && let Some(a) = tx.active_allowance(client.id, wallet_id, now).await?
    {
        let selected = selected_prices(&r.payments, None)?;
        if super::allowances::covers(&mut tx, &a, &r.payments, &selected, now)
            .await?
            .is_ok()
        {
            try_with_allowance(&mut tx, client, r, wallet_id, now).await??;
            let view = view(&mut tx, key).await?;
            crate::idempotency::commit_answer(tx, &view).await?;
            return Ok(view);
        }
    }
    let taken: Vec<String> = tx
        .waiting_flash_of_phone(&phone)
        .await?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    let correlation = loop {
        let k = new_correlation_key();
        if !taken.contains(&k) {
            break k;
        }
    };
    for p in &r.payments {
        tx.update_payment(p.id, PaymentStatus::Waiting, p.price, None, None, None)
            .await?;
    }
    let waiting = TransactionState {
        status: TransactionStatus::Waiting,
        kind: Some(TransactionType::Flash),
        wallet_id: Some(wallet_id),
        // The holder must answer by the reservation deadline; the sweeper fails it after.
        reserved_until: Some(r.deadline),
        confirmed_at: None,
    };
    tx.set_transaction_state(key, &waiting, now).await?;
    tx.set_correlation_key(key, Some(&correlation)).await?;
    let project = tx
        .project(client.project_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("client without project")))?;
    let mut amounts: std::collections::BTreeMap<wallet_core::Currency, i64> = Default::default();
    for p in &r.payments {
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
    let body = format!(
        "{}: {what}? Code {correlation}. Reply \"{correlation} YES\" to accept or \"{correlation} NO\" to reject.",
        project.name
    );
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
        &format!("client:{}", client.mac_id),
        "waiting",
        Some(&format!("flash wallet {wallet_id}")),
    )
    .await?;
    let view = view(&mut tx, key).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
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
    let t = tx
        .transaction_for_update(&key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(&key))?;
    let wallet = t
        .wallet_id
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("waiting transaction without wallet")))?;
    let actor = format!("holder:{wallet}");
    match answer {
        Answer::Accept => {
            let r = reservable(&mut tx, t, now).await?;
            let selected = selected_prices(&r.payments, None)?;
            hold_funds(
                &mut tx,
                &actor,
                r,
                wallet,
                &selected,
                TransactionType::Flash,
                None,
                now,
            )
            .await?;
        }
        Answer::Reject => {
            release_all(&mut tx, &t, TransactionStatus::Rejected, now).await?;
            tx.set_correlation_key(&key, None).await?;
            tx.append_event(&key, now, &actor, "rejected", Some("flash"))
                .await?;
        }
    }
    let t = tx
        .transaction(&key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(&key))?;
    let data = view(&mut tx, &key).await?;
    crate::callbacks::enqueue_transaction(&mut tx, &t, &data, now).await?;
    tx.commit().await?;
    Ok(data)
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
