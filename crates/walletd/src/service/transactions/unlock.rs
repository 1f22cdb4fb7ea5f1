//! Giving a payment's password while its transaction waits for it (`waiting_password`): by the
//! client (`PUT transaction/{key}/password`) or by the beneficiary signed in on walletd's pages.
//! Wrong passwords are counted per payment in a commit of their own and limited as PINs are;
//! once every awaited password is given the transaction continues ([`waits::continue_held`]).
//!
//! The password is checked (Argon2, slow on purpose) between a read and the write transaction,
//! so that no lock waits for it; the write transaction checks everything again.

use super::events::actor;
use super::lock::{begin_change, begin_other_change};
use super::password::{awaits_password, check_value, password_of, stored};
use super::reserve::MAX_PIN_FAILURES;
use super::view::Written;
use super::waits;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use wallet_client::types::{self as wire, PasswordRequest};
use wallet_core::password::PaymentPassword;
use wallet_core::{PaymentId, TransactionKey, TransactionStatus, UserId};
use wallet_store::{ClientRow, PaymentRow, TransactionRow, Tx};

/// Most wrong passwords of one payment, as for a PIN; then every attempt, the right password too,
/// is `user_error_limit_exceeded`.
pub const MAX_PASSWORD_FAILURES: i64 = MAX_PIN_FAILURES;

/// Who gives a password.
#[derive(Clone, Copy)]
pub(crate) enum Giver<'a> {
    /// The transaction's client, through the API.
    Client(&'a ClientRow),
    /// The user whose wallet the payment pays, on walletd's pages.
    Beneficiary(UserId),
}

impl Giver<'_> {
    fn actor(&self) -> String {
        match self {
            Giver::Client(c) => actor(c),
            Giver::Beneficiary(user) => format!("beneficiary:user:{user}"),
        }
    }
}

/// `PUT transaction/{key}/password` with `{"payment_id", "password"}`.
pub async fn give_password(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
    req: PasswordRequest,
) -> ApiResult<wire::Transaction> {
    let payment_id = req
        .payment_id
        .ok_or_else(|| ApiError::invalid("payment_id is required"))?;
    let password = req
        .password
        .as_deref()
        .ok_or_else(|| ApiError::invalid("password is required"))
        .and_then(|p| check_value(p, "password"))?;
    let (tx, written) = unlock(state, key, payment_id, password, Giver::Client(client)).await?;
    written.commit(tx).await
}

/// The beneficiary signed in as `user` gives the password of payment `payment_id`. Her change:
/// the transaction's callback is queued if it moved on.
pub async fn give_password_as_beneficiary(
    state: &AppState,
    user: UserId,
    payment_id: PaymentId,
    password: &str,
) -> ApiResult<wire::Transaction> {
    let password = check_value(password, "password")?;
    let key = {
        let mut tx = state.store.read().await?;
        tx.payment(payment_id)
            .await?
            .ok_or_else(|| payment_not_found(payment_id))?
            .transaction_key
    };
    let giver = Giver::Beneficiary(user);
    let (mut tx, written) = unlock(state, &key, payment_id, password, giver).await?;
    if written.t.status != TransactionStatus::WaitingPassword {
        written.notify(&mut tx).await?;
    }
    let view = written.render(&mut tx).await?;
    tx.commit().await?;
    written.flow.committed();
    Ok(view)
}

fn payment_not_found(id: PaymentId) -> ApiError {
    ApiError::NotFound(format!("payment {id} was not found"))
}

/// Checks the password and, if right, unlocks the payment in a write transaction left open for
/// the caller to commit. A wrong one is counted (committed) and refused.
async fn unlock(
    state: &AppState,
    key: &TransactionKey,
    payment_id: PaymentId,
    password: String,
    giver: Giver<'_>,
) -> ApiResult<(Tx, Written)> {
    let hash = {
        let mut tx = state.store.read().await?;
        let t = tx
            .transaction(key)
            .await?
            .ok_or_else(|| ApiError::not_found_transaction(key))?;
        attempt(&mut tx, &t, payment_id, giver).await?.2
    };
    if !crate::credentials::verify_secret(password, hash).await? {
        let mut tx = state.store.write().await?;
        let failures = tx.record_payment_password_failure(payment_id).await?;
        tx.commit().await?;
        let left = (MAX_PASSWORD_FAILURES - failures).max(0);
        return Err(ApiError::InvalidCode(format!(
            "the password of payment {payment_id} is incorrect; {left} attempts left"
        )));
    }
    let (mut tx, t, now) = match giver {
        Giver::Client(client) => begin_change(state, client, key).await?,
        Giver::Beneficiary(_) => begin_other_change(state, key).await?,
    };
    // Checked again under the lock: another call may have given it, or used up the attempts.
    let (p, password, _) = attempt(&mut tx, &t, payment_id, giver).await?;
    let actor = giver.actor();
    tx.set_payment_password_json(p.id, &stored(&password.unlocked()))
        .await?;
    tx.append_event(key, now, &actor, "password_given", Some(&p.id.to_string()))
        .await?;
    let payments = tx.payments_of(key).await?;
    let written = match payments.iter().any(awaits_password) {
        true => Written::new(t, payments, Vec::new()),
        false => waits::continue_held(&mut tx, &t, now, &actor, "every password given").await?,
    };
    Ok((tx, written))
}

/// Checks that `giver` may try payment `payment_id`'s password now: the transaction is the
/// client's (or the payment pays the beneficiary's wallet), it waits for a password, the payment
/// is in it and its password is awaited, and the attempts are not used up. Answers the payment,
/// its password and the hash to check.
async fn attempt(
    tx: &mut Tx,
    t: &TransactionRow,
    payment_id: PaymentId,
    giver: Giver<'_>,
) -> ApiResult<(PaymentRow, PaymentPassword, String)> {
    let key = &t.transaction_key;
    let p = tx
        .payment(payment_id)
        .await?
        .filter(|p| &p.transaction_key == key)
        .ok_or_else(|| payment_not_found(payment_id))?;
    let allowed = match giver {
        Giver::Client(c) => t.project_id == c.project_id,
        Giver::Beneficiary(user) => tx
            .wallet(p.beneficiary_wallet_id)
            .await?
            .is_some_and(|w| w.owner_user_id == user),
    };
    if !allowed {
        // Another project's transaction, another holder's payment: as if it did not exist.
        return Err(match giver {
            Giver::Client(_) => ApiError::not_found_transaction(key),
            Giver::Beneficiary(_) => payment_not_found(payment_id),
        });
    }
    if t.status != TransactionStatus::WaitingPassword {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; a password is given only while it is waiting_password",
            t.status
        )));
    }
    let password = password_of(&p).filter(PaymentPassword::awaited);
    let secret = tx.payment_password(payment_id).await?;
    let (Some(password), Some((hash, failures))) = (password, secret) else {
        return Err(ApiError::InvalidState(format!(
            "payment {payment_id} waits for no password"
        )));
    };
    if failures >= MAX_PASSWORD_FAILURES {
        return Err(ApiError::UserErrorLimitExceeded(format!(
            "the password of payment {payment_id} was given wrong {MAX_PASSWORD_FAILURES} times; no more attempts: the client may revoke the transaction"
        )));
    }
    Ok((p, password, hash))
}

/// A payment to a holder's wallet whose password she may give, as her pages list it.
pub struct AwaitedPassword {
    pub payment_id: PaymentId,
    /// `12.99 EUR`.
    pub amount: String,
    pub description: Option<String>,
}

/// The payments to `user`'s wallets whose awaited password she may give now, oldest first.
pub async fn awaited_by(state: &AppState, user: UserId) -> ApiResult<Vec<AwaitedPassword>> {
    let mut tx = state.store.read().await?;
    let payments = tx.payments_waiting_password_to(user).await?;
    Ok(payments
        .into_iter()
        .filter(awaits_password)
        .map(|p| AwaitedPassword {
            payment_id: p.id,
            amount: format!(
                "{} {}",
                wallet_core::money::format_decimal(p.price, p.currency),
                p.currency.code()
            ),
            description: p.description,
        })
        .collect())
}
