//! Holding a transaction's funds: what every way of reserving ends in (reservation code, PIN,
//! allowance, the confirmation page, a FLASH SMS answer).

use super::view::Written;
use super::{allowance, password, payer, people, settle};
use crate::error::{ApiError, ApiResult};
use crate::telemetry::Flow;
use std::collections::BTreeMap;
use wallet_core::status::Event;
use wallet_core::{AllowanceId, PaymentStatus, TransactionStatus, TransactionType, WalletId};
use wallet_store::{PaymentChange, PaymentRow, TransactionRow, TransactionState, Tx};

/// A transaction opened for reservation: locked, with its payments.
pub(crate) struct Reservable {
    pub t: TransactionRow,
    /// The payments to reserve: all but the canceled ones.
    pub payments: Vec<PaymentRow>,
    /// The canceled payments, left as they are (the answer still shows them).
    pub canceled: Vec<PaymentRow>,
    pub deadline: i64,
}

/// Checks a locked transaction may be reserved now, and loads its payments.
pub(crate) async fn reservable(tx: &mut Tx, t: TransactionRow, now: i64) -> ApiResult<Reservable> {
    t.status.apply(Event::Reserve)?;
    if !matches!(
        t.status,
        TransactionStatus::New | TransactionStatus::Waiting | TransactionStatus::WaitingFunds
    ) {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; only new transactions can be reserved",
            t.status
        )));
    }
    let deadline = t.reserve.deadline(now).map_err(|_| {
        ApiError::InvalidState(
            "the transaction's reserve.until has passed; create a new transaction".into(),
        )
    })?;
    let (canceled, payments) = tx
        .payments_of(&t.transaction_key)
        .await?
        .into_iter()
        .partition(|p| p.status == PaymentStatus::Canceled);
    Ok(Reservable {
        t,
        payments,
        canceled,
        deadline,
    })
}

/// Holds every payment's price on the payer's wallet and moves the transaction to `reserved`
/// (then `confirmed`, with `auto_confirm`). `allowance` is the active allowance it was reserved
/// under, if any. Any refusal leaves nothing written: the caller's database transaction is dropped.
/// Answers the transaction as written.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn hold_funds(
    tx: &mut Tx,
    actor: &str,
    r: Reservable,
    payer_wallet: WalletId,
    selected: &[i64],
    kind: TransactionType,
    allowance: Option<AllowanceId>,
    now: i64,
) -> ApiResult<Written> {
    let mut r = r;
    let key = r.t.transaction_key.clone();
    // A person named as a beneficiary may have registered since; one who has not is waited for.
    let unregistered = people::resolve_known(tx, &key, &mut r.payments).await?;
    // A payment's password is asked once every beneficiary is known (`Event::unless_awaiting`).
    let awaited = Event::Reserve.unless_awaiting(
        !unregistered.is_empty(),
        r.payments.iter().any(password::awaits_password),
    );
    let to = r.t.status.apply(awaited)?;
    let beneficiaries: Vec<WalletId> = r
        .payments
        .iter()
        .filter(|p| !unregistered.contains(&p.id))
        .map(|p| p.beneficiary_wallet_id)
        .collect();
    let payer_row = tx
        .payer(payer_wallet, &beneficiaries)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("wallet {payer_wallet} was not found")))?;
    payer::check(tx, &r.t, &payer_row, &r.payments, selected, now).await?;
    let payer = payer_row.wallet;
    // Checked at commit (the payer's account row is then locked for less time) where a shortage
    // only refuses the client's request with `not_enough_funds`: reserve by code, PIN, allowance.
    // The holder's own answers (the confirmation page, where the transaction then waits for the
    // funds, FLASH SMS and the holder app) check them now.
    let at_commit = !matches!(
        kind,
        TransactionType::Page | TransactionType::Flash | TransactionType::MobileApp
    );
    let mut changes = Vec::with_capacity(r.payments.len());
    for (p, amount) in r.payments.iter().zip(selected) {
        if !unregistered.contains(&p.id) {
            check_beneficiary(tx, p, payer.id, payer_row.pays_only_active).await?;
        }
        let account = tx.wallet_account(payer.id, p.currency).await?;
        let hold = if at_commit {
            tx.place_hold_at_commit(account, p.id, *amount, now).await?
        } else {
            tx.place_hold(account, p.id, *amount, now).await?
        };
        let hold = hold.ok_or_else(|| {
            ApiError::NotEnoughFunds(format!(
                "there is not enough {} in the wallet for this transaction",
                p.currency
            ))
        })?;
        if let Some(a) = allowance {
            tx.set_payment_allowance(p.id, a).await?;
        }
        let change = PaymentChange {
            id: p.id,
            status: to.into(),
            price: *amount,
            payer_wallet_id: Some(payer.id),
            hold_id: Some(hold),
            confirmed_at: None,
        };
        changes.push((p.clone(), change));
    }
    let key = &key;
    allowance::accepted_by(tx, key, payer.id).await?;
    if r.t.correlation_key.is_some() {
        tx.set_correlation_key(key, None).await?;
    }
    let reserved = TransactionState {
        status: to,
        kind: Some(kind),
        wallet_id: Some(payer.id),
        reserved_until: Some(r.deadline),
        confirmed_at: None,
    };
    let (t, changed) = tx
        .set_transaction_and_payments(&r.t, &reserved, &changes, now)
        .await?;
    let mut written = Written::new(t, r.canceled, changed);
    written.flow = Flow::reserved(kind);
    let detail = format!("{kind} wallet {}", payer.id);
    tx.append_event(key, now, actor, to.as_str(), Some(&detail))
        .await?;
    if to != TransactionStatus::Reserved {
        // The client is told of the wait by callback too, even when it reserved: what ends the
        // wait (the person registering, the beneficiary giving the password) may be no call of
        // its own. The holder's own answers (page,
        // FLASH) queue their callback themselves.
        if at_commit {
            written.notify(tx).await?;
        }
        return Ok(written);
    }
    if !written.t.auto_confirm {
        return Ok(written);
    }
    let mut written =
        settle::settle(tx, &written.t, &written.payments, &BTreeMap::new(), now).await?;
    written.flow.reserved = true;
    tx.append_event(key, now, "system", "confirmed", Some("auto_confirm"))
        .await?;
    Ok(written)
}

/// The beneficiary must be an active wallet other than the payer's. `all_active`: every
/// beneficiary of the transaction is active (read with the payer); if not, this one is read.
async fn check_beneficiary(
    tx: &mut Tx,
    p: &PaymentRow,
    payer: WalletId,
    all_active: bool,
) -> ApiResult<()> {
    if p.beneficiary_wallet_id == payer {
        return Err(ApiError::PaymentToSameAccount(format!(
            "payment {} would pay wallet {payer} from itself",
            p.id
        )));
    }
    if all_active {
        return Ok(());
    }
    match tx.wallet(p.beneficiary_wallet_id).await? {
        Some(w) if w.active => Ok(()),
        _ => Err(ApiError::BeneficiaryAccountInactive(format!(
            "the beneficiary wallet of payment {} is inactive and cannot accept payments",
            p.id
        ))),
    }
}
