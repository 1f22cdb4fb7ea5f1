//! Creating transactions: `POST transaction` (inline payments, existing payments regrouped, an
//! allowance), and `POST transaction/renew/{key}`.

use super::beneficiary::{Beneficiary, Contact};
use super::events::actor;
use super::lock::lock_own;
use super::password;
use super::validate::{self, PaymentDraft, draft_payment, prefix_error};
use super::view::view;
use crate::caller::Caller;
use crate::clock::wall_millis;
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::state::AppState;
use serde_json::Value;
use std::collections::BTreeMap;
use wallet_client::types::{self as wire, AllowanceRef, NewTransaction, PaymentRef};
use wallet_core::keys::new_transaction_key;
use wallet_core::money::Currency;
use wallet_core::reserve::ReserveSpec;
use wallet_core::{PaymentId, PaymentStatus, TransactionKey, TransactionStatus, WalletId};
use wallet_store::{ClientRow, NewPaymentRow, PaymentRow, TransactionRow, TransactionState, Tx};

/// `POST transaction`.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: NewTransaction,
) -> ApiResult<wire::Transaction> {
    let (tx, view) = create_unanswered(state, caller, req).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Creates the transaction and its payments in an open database transaction, for the caller to commit.
pub(crate) async fn create_unanswered(
    state: &AppState,
    caller: &Caller,
    req: NewTransaction,
) -> ApiResult<(Tx, wire::Transaction)> {
    let client = &caller.client;
    let now = state.now();
    let terms = validate::transaction_terms(&req, now)?;
    let location_id = caller.location_id()?;
    let hashes = password::hash_passwords(&req.payments).await?;
    let mut tx = state.store.write().await?;
    let (project_wallet_id, limits) = project_of(&mut tx, caller).await?;
    let transaction_key = state
        .entropy
        .draw(|rng| new_transaction_key(rng, wall_millis()));
    let mut row = new_row(&req, terms, client, transaction_key, now);
    // A holder's token creates as the client's manager (docs/decisions.md, "Transactions").
    (row.manager_id, row.location_id) = (caller.holder, location_id);
    let key = &row.transaction_key;
    let new = NewPayments {
        payments: &req.payments,
        hashes,
        project_wallet_id,
    };
    let written = write_payments(&mut tx, new, &row, client).await?;
    if let Some(a) = &req.allowance {
        attach(&mut tx, client, key, a, now).await?;
    }
    let only_allowance_or_payments = req.allowance.is_none() || req.payments.is_empty();
    if row.auto_confirm && !(written.all_explicit && only_allowance_or_payments) {
        return Err(ApiError::invalid(
            "auto_confirm is only available for a transaction of only an allowance, or of only payments that name their beneficiary",
        ));
    }
    // The payments as written; read back only if some were regrouped.
    let payments = match written.regrouped {
        false => written.rows,
        true => tx.payments_of(key).await?,
    };
    check_project_limits(&limits, &payments)?;
    tx.append_event(key, now, &actor(client), "created", None)
        .await?;
    // The rows just written, not read back: only an attached allowance is.
    let allowance = match &req.allowance {
        Some(_) => tx.allowance_of(key).await?,
        None => None,
    };
    let view = render::transaction(&row, &payments, allowance.as_ref());
    Ok((tx, view))
}

/// The project's wallet (where payments go by default) and its limits per transaction: as
/// authentication read them, unless the project has limits, which are read here.
async fn project_of(tx: &mut Tx, caller: &Caller) -> ApiResult<(WalletId, Vec<(Currency, i64)>)> {
    if let Some(p) = caller.project
        && !p.limited
    {
        return Ok((p.wallet_id, Vec::new()));
    }
    let client = &caller.client;
    let (project, limits) = tx
        .project_with_limits(client.project_id)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("client {} has no project", client.id))
        })?;
    Ok((project.wallet_id, limits))
}

/// The row of a new transaction as the request and its checked terms make it.
fn new_row(
    req: &NewTransaction,
    terms: validate::NewTransactionTerms,
    client: &ClientRow,
    transaction_key: TransactionKey,
    now: i64,
) -> TransactionRow {
    TransactionRow {
        transaction_key,
        project_id: client.project_id,
        client_id: client.id,
        status: TransactionStatus::New,
        kind: None,
        wallet_id: None,
        created_at: now,
        confirmed_at: None,
        reserve: terms.reserve,
        reserved_until: None,
        use_allowance: req.use_allowance.unwrap_or(true),
        suggest_allowance: req.suggest_allowance.unwrap_or(false),
        auto_confirm: terms.auto_confirm,
        redirect_uri: req.redirect_uri.clone(),
        callback_uri: terms.callback_uri,
        callbacks_disabled: terms.callbacks_disabled,
        user_json: req.user.as_ref().map(Value::to_string),
        inquiries_json: req.inquiries.as_ref().map(Value::to_string),
        restrictions_json: terms.restrictions.map(|r| r.to_string()),
        correlation_key: None,
        manager_id: None,
        location_id: None,
    }
}

/// The payments of a new transaction, as [`write_payments`] left them.
struct WrittenPayments {
    /// The inline payments as inserted, in order (without the regrouped ones).
    rows: Vec<PaymentRow>,
    /// Some payments were existing ones, moved in: the transaction's payments must be read back.
    regrouped: bool,
    /// Every payment names its beneficiary (what `auto_confirm` needs).
    all_explicit: bool,
}

/// The payments of `POST transaction`, with what was made of them before the database
/// transaction.
struct NewPayments<'a> {
    payments: &'a [PaymentRef],
    /// The hash of each inline payment's awaited password, by position.
    hashes: Vec<Option<String>>,
    /// Where payments go by default.
    project_wallet_id: WalletId,
}

/// Writes transaction `t` and its payments: inline ones inserted, existing ones moved in.
async fn write_payments(
    tx: &mut Tx,
    new: NewPayments<'_>,
    t: &TransactionRow,
    client: &ClientRow,
) -> ApiResult<WrittenPayments> {
    let NewPayments {
        payments,
        mut hashes,
        project_wallet_id,
    } = new;
    let (key, now) = (&t.transaction_key, t.created_at);
    let mut all_explicit = true;
    // New payments wait in `drafts` until a regrouped one or the end: the transaction's row
    // and the first of them are one statement (PostgreSQL), and their ids follow the request.
    let mut new_rows = NewRows::default();
    let mut regrouped = false;
    for (i, p) in payments.iter().enumerate() {
        match p {
            PaymentRef::New(p) => {
                let draft = draft_payment(p, key, client.project_id, project_wallet_id, now)
                    .map_err(|e| prefix_error(e, &format!("payments[{i}]: ")))?;
                all_explicit &= draft.explicit_beneficiary;
                let (row, contact) = look_up_beneficiary(tx, draft)
                    .await
                    .map_err(|e| prefix_error(e, &format!("payments[{i}]: ")))?;
                new_rows.drafts.push(row);
                new_rows.contacts.push(contact);
                new_rows.hashes.push(hashes[i].take());
            }
            PaymentRef::Id(id) => {
                new_rows.insert(tx, t, now).await?;
                all_explicit &= regroup_payment(tx, *id, key, client, now).await?;
                regrouped = true;
            }
        }
    }
    new_rows.insert(tx, t, now).await?;
    Ok(WrittenPayments {
        rows: new_rows.written,
        regrouped,
        all_explicit,
    })
}

/// The new payments of a transaction being created, as they are inserted.
#[derive(Default)]
struct NewRows {
    /// Not inserted yet.
    drafts: Vec<NewPaymentRow>,
    /// Each draft's person without a wallet yet, if it names one.
    contacts: Vec<Option<Contact>>,
    /// Each draft's password hash, if it has an awaited password.
    hashes: Vec<Option<String>>,
    /// Inserted, as stored, in order.
    written: Vec<PaymentRow>,
    /// The transaction's own row is inserted.
    inserted: bool,
}

impl NewRows {
    /// Inserts the drafts, after the transaction's row `t` the first time.
    async fn insert(&mut self, tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
        let drafts = std::mem::take(&mut self.drafts);
        let contacts = std::mem::take(&mut self.contacts);
        let hashes = std::mem::take(&mut self.hashes);
        let rows = if !self.inserted {
            self.inserted = true;
            tx.insert_transaction_with_payments(t, &drafts, now).await?
        } else {
            let mut rows = Vec::with_capacity(drafts.len());
            for d in &drafts {
                rows.push(tx.insert_payment_row(d).await?);
            }
            rows
        };
        for ((row, contact), hash) in rows.iter().zip(&contacts).zip(&hashes) {
            if let Some(c) = contact {
                let (email, phone) = c.parts();
                tx.insert_payment_contact(row.id, email, phone, now).await?;
            }
            if let Some(hash) = hash {
                tx.insert_payment_password(row.id, hash).await?;
            }
        }
        self.written.extend(rows);
        Ok(())
    }
}

/// The row of a drafted payment with its beneficiary looked up: a named wallet must exist, a
/// person with a wallet is paid to it, and a person without one is answered to be recorded.
async fn look_up_beneficiary(
    tx: &mut Tx,
    draft: PaymentDraft,
) -> ApiResult<(NewPaymentRow, Option<Contact>)> {
    let mut row = draft.row;
    match draft.beneficiary {
        Beneficiary::Project => Ok((row, None)),
        // The project's own wallet exists (a foreign key); a named one may not.
        Beneficiary::Wallet(id) => match tx.wallet(id).await? {
            Some(_) => Ok((row, None)),
            None => Err(ApiError::invalid(format!(
                "beneficiary wallet {id} does not exist"
            ))),
        },
        Beneficiary::Person(contact) => {
            let (email, phone) = contact.parts();
            match tx.wallet_of_contact(email, phone).await? {
                Some((_, wallet)) => {
                    row.beneficiary_wallet_id = wallet;
                    row.beneficiary_json = Some(contact.shown(Some(wallet)).to_string());
                    Ok((row, None))
                }
                None => Ok((row, Some(contact))),
            }
        }
        Beneficiary::Barcode(_) => Err(ApiError::invalid(
            "beneficiary.barcode names no wallet: walletd issues no wallet barcodes; give {\"id\"}, {\"email\"} or {\"phone\"}",
        )),
    }
}

/// Moves an existing `new` payment of the caller's project into transaction `key`;
/// a transaction left without payments is deleted. Returns whether it names a beneficiary.
async fn regroup_payment(
    tx: &mut Tx,
    id: PaymentId,
    key: &TransactionKey,
    client: &ClientRow,
    now: i64,
) -> ApiResult<bool> {
    let payment = match tx.payment_for_update(id).await? {
        Some(p) if p.project_id == client.project_id => p,
        _ => return Err(ApiError::invalid(format!("payment {id} was not found"))),
    };
    if payment.transaction_key == *key {
        return Err(ApiError::invalid(format!("payment {id} is listed twice")));
    }
    let old = tx
        .transaction_for_update(&payment.transaction_key)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("payment {id} has no transaction")))?;
    if old.status != TransactionStatus::New || payment.status != PaymentStatus::New {
        return Err(ApiError::InvalidState(format!(
            "payment {id} is {}; only new payments can be grouped into a transaction",
            payment.status
        )));
    }
    tx.move_payment(id, key).await?;
    moved_out(
        tx,
        &old,
        client,
        "payment_moved",
        &format!("{id} -> {key}"),
        now,
    )
    .await?;
    Ok(payment.beneficiary_json.is_some())
}

/// Groups the allowance of `POST transaction` into the new transaction `key`: a new one from
/// `data`, or the caller's existing `new` one by `id` (which leaves its old transaction).
pub(crate) async fn attach(
    tx: &mut Tx,
    client: &ClientRow,
    key: &TransactionKey,
    r: &AllowanceRef,
    now: i64,
) -> ApiResult<()> {
    let optional = r.optional.unwrap_or(false);
    match (&r.id, &r.data) {
        (Some(_), Some(_)) | (None, None) => Err(ApiError::invalid(
            "allowance needs exactly one of id and data",
        )),
        (None, Some(data)) => {
            let row = validate::draft_allowance(data, key, client, optional, now)
                .map_err(|e| prefix_error(e, "allowance: "))?;
            tx.insert_allowance(&row).await?;
            Ok(())
        }
        (Some(id), None) => {
            let a = match tx.allowance_for_update(*id).await? {
                Some(a) if a.project_id == client.project_id => a,
                _ => return Err(ApiError::invalid(format!("allowance {id} was not found"))),
            };
            let old = tx
                .transaction_for_update(&a.transaction_key)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("allowance {id} has no transaction"))
                })?;
            if a.status != "new" || old.status != wallet_core::TransactionStatus::New {
                return Err(ApiError::InvalidState(format!(
                    "allowance {id} is {}; only new allowances can be grouped into a transaction",
                    a.status
                )));
            }
            tx.move_allowance(a.id, key, optional).await?;
            let moved = format!("{id} -> {key}");
            moved_out(tx, &old, client, "allowance_moved", &moved, now).await
        }
    }
}

/// Transaction `old` lost a payment or its allowance to a new transaction: the event says so, and
/// `old` is deleted if nothing is left in it.
async fn moved_out(
    tx: &mut Tx,
    old: &TransactionRow,
    client: &ClientRow,
    event: &str,
    detail: &str,
    now: i64,
) -> ApiResult<()> {
    let key = &old.transaction_key;
    tx.append_event(key, now, &actor(client), event, Some(detail))
        .await?;
    delete_if_empty(tx, old, now).await
}

/// A `new` transaction left with neither payments nor a live allowance is deleted.
pub(crate) async fn delete_if_empty(tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
    let payments = tx.payments_of(&t.transaction_key).await?;
    let allowance = tx
        .allowance_of(&t.transaction_key)
        .await?
        .filter(|a| a.transaction_key == t.transaction_key && a.status == "new");
    if payments.is_empty() && allowance.is_none() {
        let state = TransactionState {
            status: TransactionStatus::Deleted,
            ..t.state()
        };
        tx.set_transaction_state(&t.transaction_key, &state, now)
            .await?;
    }
    Ok(())
}

/// `limit_violation`: the project's limit per transaction and currency (set by the operator).
fn check_project_limits(limits: &[(Currency, i64)], payments: &[PaymentRow]) -> ApiResult<()> {
    let mut totals: BTreeMap<Currency, i64> = BTreeMap::new();
    for p in payments {
        *totals.entry(p.currency).or_default() += p.price;
    }
    for (currency, total) in totals {
        if let Some(&(_, max)) = limits.iter().find(|(c, _)| *c == currency)
            && total > max
        {
            return Err(ApiError::LimitViolation(format!(
                "the transaction totals {} {currency}, above this project's limit of {} {currency} per transaction",
                wallet_core::money::format_decimal(total, currency),
                wallet_core::money::format_decimal(max, currency)
            )));
        }
    }
    Ok(())
}

/// `POST transaction/renew/{key}`: a new transaction like a `deleted`, `rejected`, `failed` or
/// `revoked` one, with copies of its payments and allowance; the old one stays as it is, for the history.
pub async fn renew(
    state: &AppState,
    client: &ClientRow,
    key: &TransactionKey,
) -> ApiResult<wire::Transaction> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let old = lock_own(&mut tx, key, client).await?;
    if !matches!(
        old.status,
        TransactionStatus::Deleted
            | TransactionStatus::Rejected
            | TransactionStatus::Failed
            | TransactionStatus::Revoked
    ) {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; only deleted, rejected, failed or revoked transactions can be renewed",
            old.status
        )));
    }
    let new_key = state
        .entropy
        .draw(|rng| new_transaction_key(rng, wall_millis()));
    let reserve = match old.reserve {
        ReserveSpec::Until { at, .. } if at <= now => ReserveSpec::Default,
        spec => spec,
    };
    let row = TransactionRow {
        transaction_key: new_key.clone(),
        client_id: client.id,
        status: TransactionStatus::New,
        kind: None,
        wallet_id: None,
        created_at: now,
        confirmed_at: None,
        reserve,
        reserved_until: None,
        ..old.clone()
    };
    tx.insert_transaction(&row, now).await?;
    copy_contents(&mut tx, key, &new_key, client, now).await?;
    let actor = actor(client);
    tx.append_event(key, now, &actor, "renewed", Some(&new_key))
        .await?;
    tx.append_event(
        &new_key,
        now,
        &actor,
        "created",
        Some(&format!("renewal of {key}")),
    )
    .await?;
    let view = view(&mut tx, &new_key).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Copies the payments and the allowance of transaction `old_key` into the renewal `new_key`,
/// as new ones (a freeze whose end has passed is dropped).
async fn copy_contents(
    tx: &mut Tx,
    old_key: &TransactionKey,
    new_key: &TransactionKey,
    client: &ClientRow,
    now: i64,
) -> ApiResult<()> {
    let contacts = tx.payment_contacts_of(old_key).await?;
    for p in tx.payments_of(old_key).await? {
        // The copy's password is awaited again, under the same hash.
        let password_json = password::password_of(&p).map(|pw| password::stored(&pw.renewed()));
        let (old_id, has_password) = (p.id, p.password_json.is_some());
        let copy = NewPaymentRow {
            transaction_key: new_key.clone(),
            project_id: p.project_id,
            price: p.price,
            currency: p.currency,
            description: p.description,
            parameters: p.parameters,
            price_rules: p.price_rules,
            purpose: p.purpose,
            beneficiary_wallet_id: p.beneficiary_wallet_id,
            beneficiary_json: p.beneficiary_json,
            password_json,
            freeze_for: p.freeze_for,
            freeze_until: if p.freeze_for.is_some() {
                None
            } else {
                p.freeze_until.filter(|u| *u > now)
            },
            created_at: now,
        };
        let id = tx.insert_payment(&copy).await?;
        // A person still without a wallet is waited for by the copy too.
        if let Some(c) = contacts.iter().find(|c| c.payment_id == p.id) {
            tx.insert_payment_contact(id, c.email.as_deref(), c.phone.as_deref(), now)
                .await?;
        }
        if has_password {
            tx.copy_payment_password(old_id, id).await?;
        }
    }
    if let Some(a) = tx.allowance_of(old_key).await? {
        let copy = wallet_store::NewAllowanceRow {
            transaction_key: new_key.clone(),
            project_id: a.project_id,
            client_id: client.id,
            optional: a.optional,
            currency: a.currency,
            max_price: a.max_price,
            limits: a.limits,
            description: a.description,
            valid_for: a.valid_for,
            valid_until: a.valid_until,
            created_at: now,
        };
        tx.insert_allowance(&copy).await?;
    }
    Ok(())
}
