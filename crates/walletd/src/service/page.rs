//! The confirmation page (`type: page`): the holder, logged in on walletd's own pages, sees the
//! transaction (it is `waiting` while shown) and accepts it (funds reserved, or `waiting_funds`
//! until money arrives) or rejects it. Every change here was made by the holder, not by the
//! client, so each one fires a callback.

use super::offers::{self, Suggested};
use super::transactions::allowance;
use super::transactions::expire::{is_due, refuse_if_due};
use super::transactions::hold::{hold_funds, reservable};
use super::transactions::inquiries;
use super::transactions::release::{release_all, wait_for_holder};
use super::transactions::validate::selected_prices;
use super::transactions::view::view_and_notify;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::telemetry::Flow;
use wallet_client::types as wire;
use wallet_core::inquiries::{Answers, Form, Inquiry};
use wallet_core::{
    PaymentStatus, TransactionKey, TransactionStatus, TransactionType, UserId, WalletId,
};
use wallet_store::{AllowanceRow, PaymentRow, Store, TransactionRow, Tx};

/// What the confirmation page shows for a transaction the holder may decide on.
#[derive(Debug, Clone)]
pub struct Presented {
    pub transaction: TransactionRow,
    pub project_name: String,
    pub payments: Vec<PaymentRow>,
    pub allowance: Option<AllowanceRow>,
    /// The holder's wallet the transaction waits on.
    pub wallet_id: WalletId,
    /// What the client asks the holder for.
    pub inquiries: Vec<Inquiry>,
    /// The allowance the page offers (`suggest_allowance`).
    pub suggested: Option<Suggested>,
}

/// What the holder chose on the page besides accepting.
pub struct Choice<'a> {
    /// She ticked the transaction's optional allowance.
    pub with_allowance: bool,
    /// She ticked the allowance the page suggested.
    pub with_suggested: bool,
    /// Her answers to the inquiries.
    pub answers: &'a (dyn Form + Sync),
}

/// The answers of a holder asked nothing: no inquiry is shared, no field filled.
pub struct NoAnswers;

impl Form for NoAnswers {
    fn shared(&self, _inquiry: usize) -> bool {
        false
    }
    fn field(&self, _inquiry: usize, _item: usize, _part: &str) -> Option<&str> {
        None
    }
}

impl Choice<'static> {
    /// A decision without answers or the suggested allowance: the transaction's optional
    /// allowance ticked or not (what a caller other than the page's form decides).
    pub fn plain(with_allowance: bool) -> Choice<'static> {
        Choice {
            with_allowance,
            with_suggested: false,
            answers: &NoAnswers,
        }
    }
}

/// Why the page shows a notice instead of the accept/reject form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// The holder can accept or reject.
    Decide,
    /// The transaction is past deciding (or another holder's); the page says its status.
    Notice(TransactionStatus),
    /// Opening the page reserved it under the client's active allowance (`use_allowance`): the
    /// page goes on as after an acceptance.
    ByAllowance(TransactionStatus),
}

fn actor(user_id: UserId) -> String {
    format!("holder:user:{user_id}")
}

/// Locks transaction `key` and checks the holder may act on it: `waiting` (or `waiting_funds`)
/// on one of her wallets.
async fn lock_for_holder(
    tx: &mut Tx,
    key: &TransactionKey,
    user_id: UserId,
) -> ApiResult<(TransactionRow, Vec<WalletId>)> {
    let t = tx
        .transaction_for_update(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let wallets = tx.wallets_of_user(user_id).await?;
    Ok((t, wallets))
}

/// The holder opened the confirmation page of `key`. A `new` transaction (or one waiting on the
/// page for another holder) becomes `waiting`, `type: page`, on the holder's first wallet, with the
/// reservation deadline as the time to decide by.
pub async fn present(
    state: &AppState,
    key: &TransactionKey,
    user_id: UserId,
) -> ApiResult<(Shown, Presented)> {
    if let Some(status) = offers::reserve_by_allowance(state, key, user_id).await? {
        let mut tx = state.store.read().await?;
        let first_wallet = first_wallet(&mut tx, user_id).await?;
        let presented = presented(&mut tx, key, first_wallet, state.now()).await?;
        return Ok((Shown::ByAllowance(status), presented));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let (t, wallets) = lock_for_holder(&mut tx, key, user_id).await?;
    let Some(&first_wallet) = wallets.first() else {
        return Err(ApiError::Forbidden("you have no wallet to pay from".into()));
    };
    let mine = t.wallet_id.is_some_and(|w| wallets.contains(&w));
    let takes_over = match t.status {
        TransactionStatus::New => true,
        TransactionStatus::Waiting => !mine && t.kind == Some(TransactionType::Page),
        _ => false,
    };
    let shown = if is_due(&t, now) {
        // Past its deadline: failed, as a read shows it; the sweep fails it in the store.
        Shown::Notice(TransactionStatus::Failed)
    } else if takes_over {
        wait_on_page(&mut tx, &t, user_id, first_wallet, now).await?;
        Shown::Decide
    } else if mine
        && matches!(
            t.status,
            TransactionStatus::Waiting | TransactionStatus::WaitingFunds
        )
    {
        if t.status == TransactionStatus::Waiting {
            Shown::Decide
        } else {
            Shown::Notice(t.status)
        }
    } else if mine || t.status.is_final() || t.status.holds_funds() {
        Shown::Notice(t.status)
    } else {
        return Err(ApiError::Forbidden(
            "this transaction waits for another confirmation".into(),
        ));
    };
    let presented = presented(&mut tx, key, first_wallet, now).await?;
    tx.commit().await?;
    Ok((shown, presented))
}

/// The holder takes transaction `t` over on the page: it waits for her decision on her first
/// wallet (`waiting`, `type: page`), by the deadline its reservation would have.
async fn wait_on_page(
    tx: &mut Tx,
    t: &TransactionRow,
    user_id: UserId,
    first_wallet: WalletId,
    now: i64,
) -> ApiResult<()> {
    let client = tx.client_by_id(t.client_id).await?;
    if !client.is_some_and(|c| c.has_grant(TransactionType::Page.as_str())) {
        return Err(ApiError::Forbidden(
            "the client of this transaction may not use the confirmation page".into(),
        ));
    }
    let key = &t.transaction_key;
    wait_for_holder(
        tx,
        key,
        TransactionStatus::Waiting,
        TransactionType::Page,
        first_wallet,
        decide_by(t, now)?,
        now,
    )
    .await?;
    tx.append_event(
        key,
        now,
        &actor(user_id),
        "waiting",
        Some(&format!("page wallet {first_wallet}")),
    )
    .await?;
    view_and_notify(tx, key).await?;
    Ok(())
}

/// What the page shows of transaction `key`, as it is now.
async fn presented(
    tx: &mut Tx,
    key: &TransactionKey,
    first_wallet: WalletId,
    now: i64,
) -> ApiResult<Presented> {
    let t = tx
        .transaction(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let project_name = tx
        .project(t.project_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let payments = tx
        .payments_of(key)
        .await?
        .into_iter()
        .filter(|p| p.status != PaymentStatus::Canceled)
        .collect::<Vec<_>>();
    let allowance = tx.allowance_of(key).await?;
    let wallet_id = t.wallet_id.unwrap_or(first_wallet);
    let suggested = offers::suggestion(tx, &t, &payments, wallet_id, now).await?;
    Ok(Presented {
        wallet_id,
        inquiries: inquiries::of(&t)?,
        transaction: t,
        project_name,
        payments,
        allowance,
        suggested,
    })
}

/// The holder's first wallet, which the page pays from.
async fn first_wallet(tx: &mut Tx, user_id: UserId) -> ApiResult<WalletId> {
    tx.wallets_of_user(user_id)
        .await?
        .first()
        .copied()
        .ok_or_else(|| ApiError::Forbidden("you have no wallet to pay from".into()))
}

/// Locks `key` for a decision of the holder: it must be `waiting` on one of her wallets.
async fn lock_waiting(
    tx: &mut Tx,
    key: &TransactionKey,
    user_id: UserId,
    now: i64,
) -> ApiResult<(TransactionRow, WalletId)> {
    let (t, wallets) = lock_for_holder(tx, key, user_id).await?;
    refuse_if_due(&t, now)?;
    match t.wallet_id {
        Some(w) if wallets.contains(&w) && t.status == TransactionStatus::Waiting => Ok((t, w)),
        _ => Err(ApiError::InvalidState(format!(
            "transaction is {}; it is not waiting for your decision",
            t.status
        ))),
    }
}

/// The holder accepted on the page. Funds are held (`reserved`, or `confirmed` with
/// `auto_confirm`); when the wallet is short of money the transaction is `waiting_funds` and
/// [`resume_waiting_funds`] reserves it once money arrives. Her answers to the inquiries are
/// recorded; an optional allowance is declined unless ticked (a required one is accepted with
/// the transaction); a suggested one is given when ticked.
pub async fn accept(
    state: &AppState,
    key: &TransactionKey,
    user_id: UserId,
    choice: &Choice<'_>,
) -> ApiResult<wire::Transaction> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let (t, wallet) = lock_waiting(&mut tx, key, user_id, now).await?;
    let answers = inquiries::answers(&t, choice.answers)?;
    holder_choices(&mut tx, &t, wallet, choice, answers.as_ref(), now).await?;
    match reserve_now(&mut tx, &actor(user_id), t.clone(), wallet, now).await {
        Ok(flow) => {
            let data = view_and_notify(&mut tx, key).await?;
            tx.commit().await?;
            flow.committed();
            Ok(data)
        }
        Err(ApiError::NotEnoughFunds(_)) => {
            // Nothing of the attempt may stay: start again and only mark the wait.
            tx.rollback().await?;
            let mut tx = state.store.write().await?;
            let (t, wallet) = lock_waiting(&mut tx, key, user_id, now).await?;
            holder_choices(&mut tx, &t, wallet, choice, answers.as_ref(), now).await?;
            wait_for_holder(
                &mut tx,
                key,
                TransactionStatus::WaitingFunds,
                TransactionType::Page,
                wallet,
                decide_by(&t, now)?,
                now,
            )
            .await?;
            tx.append_event(key, now, &actor(user_id), "waiting_funds", None)
                .await?;
            let data = view_and_notify(&mut tx, key).await?;
            tx.commit().await?;
            Ok(data)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// Writes what the holder chose with her acceptance of locked `t`: the optional allowance
/// declined unless ticked, the suggested one given if ticked, her answers to the inquiries.
async fn holder_choices(
    tx: &mut Tx,
    t: &TransactionRow,
    wallet: WalletId,
    choice: &Choice<'_>,
    answers: Option<&Answers>,
    now: i64,
) -> ApiResult<()> {
    let key = &t.transaction_key;
    decline_optional_allowance(tx, key, choice.with_allowance).await?;
    if choice.with_suggested {
        offers::give_suggested(tx, t, wallet, now).await?;
    }
    if let Some(answers) = answers {
        inquiries::record(tx, key, answers, now).await?;
    }
    Ok(())
}

/// The deadline of a transaction shown or accepted at `now`: the one its reservation would have.
fn decide_by(t: &TransactionRow, now: i64) -> ApiResult<i64> {
    t.reserve
        .deadline(now)
        .map_err(|_| ApiError::InvalidState("the transaction's reserve.until has passed".into()))
}

/// Unless the holder ticked it, an optional allowance of `key` is not given (`deleted`); a
/// required one goes with the acceptance.
async fn decline_optional_allowance(
    tx: &mut Tx,
    key: &TransactionKey,
    with_allowance: bool,
) -> ApiResult<()> {
    if !with_allowance
        && let Some(a) = tx.allowance_of(key).await?
        && a.optional
        && a.status == "new"
    {
        tx.set_allowance_status(a.id, "deleted", None).await?;
        allowance::notify(tx, a.id).await?;
    }
    Ok(())
}

/// Holds the funds of locked transaction `t` on `wallet` at its payments' own prices. Answers
/// what it did, to count once committed.
async fn reserve_now(
    tx: &mut Tx,
    actor: &str,
    t: TransactionRow,
    wallet: WalletId,
    now: i64,
) -> ApiResult<Flow> {
    let r = reservable(tx, t, now).await?;
    let selected = selected_prices(&r.payments, None)?;
    let written = hold_funds(
        tx,
        actor,
        r,
        wallet,
        &selected,
        TransactionType::Page,
        None,
        now,
    )
    .await?;
    Ok(written.flow)
}

/// The holder rejected on the page (or while it waited for funds): `rejected`, nothing held.
pub async fn reject(
    state: &AppState,
    key: &TransactionKey,
    user_id: UserId,
) -> ApiResult<wire::Transaction> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let (t, wallets) = lock_for_holder(&mut tx, key, user_id).await?;
    let mine = t.wallet_id.is_some_and(|w| wallets.contains(&w));
    if mine {
        refuse_if_due(&t, now)?;
    }
    if !mine
        || !matches!(
            t.status,
            TransactionStatus::Waiting | TransactionStatus::WaitingFunds
        )
    {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; it is not waiting for your decision",
            t.status
        )));
    }
    release_all(&mut tx, &t, TransactionStatus::Rejected, now).await?;
    tx.set_correlation_key(key, None).await?;
    tx.append_event(key, now, &actor(user_id), "rejected", Some("page"))
        .await?;
    let data = view_and_notify(&mut tx, key).await?;
    tx.commit().await?;
    Ok(data)
}

/// Tries again every `waiting_funds` transaction (of `wallet`, or of all wallets), oldest first:
/// each one whose wallet now has the money is reserved, with a callback. One database
/// transaction per attempt, so a refusal leaves nothing behind. Returns how many were reserved.
pub async fn resume_waiting_funds(
    store: &Store,
    now: i64,
    wallet: Option<WalletId>,
) -> ApiResult<usize> {
    let keys = {
        let mut tx = store.read().await?;
        tx.waiting_funds(wallet, 100).await?
    };
    let mut reserved = 0;
    for key in keys {
        if !might_be_covered(store, &key).await? {
            continue;
        }
        let mut tx = store.write().await?;
        let Some(t) = tx.transaction_for_update(&key).await? else {
            continue;
        };
        let Some(payer) = t.wallet_id else { continue };
        // One past its deadline is the sweep's to fail, not to reserve.
        if t.status != TransactionStatus::WaitingFunds || is_due(&t, now) {
            continue;
        }
        match reserve_now(&mut tx, "system", t, payer, now).await {
            Ok(flow) => {
                view_and_notify(&mut tx, &key).await?;
                tx.commit().await?;
                flow.committed();
                reserved += 1;
                tracing::info!(transaction_key = %key, "funds arrived; transaction reserved");
            }
            Err(ApiError::NotEnoughFunds(_)) => tx.rollback().await?,
            Err(e) => {
                tx.rollback().await?;
                tracing::info!(transaction_key = %key, error = %e, "waiting for funds: still refused");
            }
        }
    }
    Ok(reserved)
}

/// A read-only first look: whether the payer's balance covers every currency of `key` now. Saves
/// a write transaction per sweep for each transaction that is still short.
async fn might_be_covered(store: &Store, key: &TransactionKey) -> ApiResult<bool> {
    let mut tx = store.read().await?;
    let Some(wallet) = tx.transaction(key).await?.and_then(|t| t.wallet_id) else {
        return Ok(false);
    };
    let mut needed: std::collections::BTreeMap<String, i64> = Default::default();
    for p in tx.payments_of(key).await? {
        if p.status != PaymentStatus::Canceled {
            *needed.entry(p.currency.code().to_string()).or_default() += p.price;
        }
    }
    let balance = super::wallets::balance_unchecked(&mut tx, wallet).await?;
    Ok(needed.iter().all(|(currency, amount)| {
        balance
            .get(currency.as_str())
            .is_some_and(|b| b.at_disposal >= *amount)
    }))
}
