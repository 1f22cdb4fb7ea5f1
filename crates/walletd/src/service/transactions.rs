//! Transactions: create, read, revoke, reserve by reservation code, confirm, expire.

use crate::auth::Caller;
use crate::clock::wall_millis;
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::state::AppState;
use serde_json::Value;
use std::collections::BTreeMap;
use wallet_client::types::{
    self as wire, CallbackUri, ConfirmPrices, NewPayment, NewTransaction, PaymentRef,
};
use wallet_core::keys::new_transaction_key;
use wallet_core::money::{Currency, parse_decimal};
use wallet_core::payment::{FreezeSpec, reduce_price};
use wallet_core::reserve::ReserveSpec;
use wallet_core::status::Event;
use wallet_core::{PaymentStatus, TransactionStatus};
use wallet_store::{
    ClientRow, NewPaymentRow, PaymentChange, PaymentRow, TransactionRow, TransactionState, Tx,
};

/// Most payments one transaction may group.
pub const MAX_PAYMENTS: usize = 100;
/// Longest free-text field (description, purpose, URIs).
pub const MAX_TEXT: usize = 2048;

fn check_text(field: &str, value: &Option<String>) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > MAX_TEXT => Err(ApiError::invalid(format!(
            "{field} is longer than {MAX_TEXT} characters"
        ))),
        _ => Ok(()),
    }
}

fn check_uri(field: &str, value: &Option<String>) -> ApiResult<()> {
    check_text(field, value)?;
    match value {
        Some(v) if !(v.starts_with("http://") || v.starts_with("https://")) => {
            Err(ApiError::invalid(format!(
                "{field} must be an absolute http:// or https:// URI"
            )))
        }
        _ => Ok(()),
    }
}

/// Amount of a payment request: exactly one of `price` (minor units) and `price_decimal`.
fn requested_amount(
    price: Option<i64>,
    price_decimal: &Option<String>,
    currency: Currency,
) -> ApiResult<i64> {
    let amount = match (price, price_decimal) {
        (Some(p), None) => p,
        (None, Some(d)) => parse_decimal(d, currency)?,
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give either price or price_decimal, not both",
            ));
        }
        (None, None) => return Err(ApiError::invalid("price or price_decimal is required")),
    };
    if amount <= 0 {
        return Err(ApiError::invalid("price must be positive"));
    }
    Ok(amount)
}

/// A validated inline payment, before it has an id.
struct PaymentDraft {
    row: NewPaymentRow,
    explicit_beneficiary: bool,
}

fn draft_payment(
    p: &NewPayment,
    key: &str,
    project_id: i64,
    project_wallet: i64,
    now: i64,
) -> ApiResult<PaymentDraft> {
    let currency = Currency::parse(&p.currency)?;
    let price = requested_amount(p.price, &p.price_decimal, currency)?;
    check_text("description", &p.description)?;
    check_text("purpose", &p.purpose)?;
    if let Some(rules) = &p.price_rules {
        rules.validate().map_err(ApiError::from)?;
    }
    let freeze = FreezeSpec::from_request(
        p.freeze.as_ref().map(|f| (f.for_seconds, f.until)),
        p.freeze_for,
        p.freeze_until,
        now,
    )
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let (freeze_for, freeze_until) = match freeze {
        Some(FreezeSpec::For(seconds)) => (Some(seconds), None),
        Some(FreezeSpec::Until(at)) => (None, Some(at)),
        None => (None, None),
    };
    let (beneficiary_wallet_id, beneficiary_json) = match &p.beneficiary {
        None | Some(Value::Null) => (project_wallet, None),
        Some(Value::Number(n)) => {
            let id = n
                .as_i64()
                .ok_or_else(|| ApiError::invalid("beneficiary must be a wallet id"))?;
            (id, Some(serde_json::json!({ "id": id })))
        }
        Some(Value::Object(o)) => match o.get("id").and_then(Value::as_i64) {
            Some(id) => (id, Some(serde_json::json!({ "id": id }))),
            None if o.contains_key("email") || o.contains_key("phone") => {
                return Err(ApiError::invalid(
                    "beneficiary by email or phone is not supported by this walletd version yet; give {\"id\": wallet_id}",
                ));
            }
            None => return Err(ApiError::invalid("beneficiary must be {\"id\": wallet_id}")),
        },
        Some(_) => return Err(ApiError::invalid("beneficiary must be {\"id\": wallet_id}")),
    };
    Ok(PaymentDraft {
        explicit_beneficiary: beneficiary_json.is_some(),
        row: NewPaymentRow {
            transaction_key: key.to_string(),
            project_id,
            price,
            currency,
            description: p.description.clone(),
            parameters: p.parameters.as_ref().map(Value::to_string),
            price_rules: p
                .price_rules
                .as_ref()
                .map(|r| serde_json::to_string(r).expect("rules serialize")),
            purpose: p.purpose.clone(),
            beneficiary_wallet_id,
            beneficiary_json: beneficiary_json.map(|v| v.to_string()),
            freeze_for,
            freeze_until,
            created_at: now,
        },
    })
}

/// Reads a transaction and its payments as the API shows them.
pub(crate) async fn view(tx: &mut Tx, key: &str) -> ApiResult<wire::Transaction> {
    let t = tx
        .transaction(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    render_row(tx, &t).await
}

/// A transaction row with its payments and allowance, as the API shows it.
pub(crate) async fn render_row(tx: &mut Tx, t: &TransactionRow) -> ApiResult<wire::Transaction> {
    let payments = tx.payments_of(&t.key).await?;
    let allowance = tx.allowance_of(&t.key).await?;
    Ok(render::transaction(t, &payments, allowance.as_ref()))
}

/// The new payments of a transaction being created, as they are inserted.
#[derive(Default)]
struct NewRows {
    /// Not inserted yet.
    drafts: Vec<NewPaymentRow>,
    /// Inserted, as stored, in order.
    written: Vec<PaymentRow>,
    /// The transaction's own row is inserted.
    inserted: bool,
}

impl NewRows {
    /// Inserts the drafts, after the transaction's row `t` the first time.
    async fn insert(&mut self, tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
        let drafts = std::mem::take(&mut self.drafts);
        if !self.inserted {
            self.inserted = true;
            let rows = tx.insert_transaction_with_payments(t, &drafts, now).await?;
            self.written.extend(rows);
            return Ok(());
        }
        for d in &drafts {
            self.written.push(tx.insert_payment_row(d).await?);
        }
        Ok(())
    }
}

/// A transaction and all its payments as a change leaves them (the change applied to the rows it
/// read: `Tx::set_transaction_and_payments`), the payments in creation order: the change answers
/// from them instead of reading them back.
pub(crate) struct Written {
    pub t: TransactionRow,
    pub payments: Vec<PaymentRow>,
}

impl Written {
    /// The transaction as written, with its changed payments and the ones left as they were.
    pub(crate) fn new(
        t: TransactionRow,
        mut unchanged: Vec<PaymentRow>,
        changed: Vec<PaymentRow>,
    ) -> Written {
        unchanged.extend(changed);
        unchanged.sort_by_key(|p| p.id);
        Written {
            t,
            payments: unchanged,
        }
    }

    /// The transaction as the API shows it: what [`view`] would read, without reading it.
    pub(crate) async fn render(&self, tx: &mut Tx) -> ApiResult<wire::Transaction> {
        let allowance = tx.allowance_of(&self.t.key).await?;
        Ok(render::transaction(
            &self.t,
            &self.payments,
            allowance.as_ref(),
        ))
    }
}

/// Reads transaction `key` as the API shows it and queues its callback: after a change the
/// client did not make (a holder's decision, deletion by age).
pub(crate) async fn view_and_notify(
    tx: &mut Tx,
    key: &str,
    now: i64,
) -> ApiResult<wire::Transaction> {
    let t = tx
        .transaction(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let data = render_row(tx, &t).await?;
    crate::callbacks::enqueue_transaction(tx, &t, &data, now).await?;
    Ok(data)
}

/// Locks the caller's transaction; another project's transaction does not exist for the caller.
pub(crate) async fn lock_own(
    tx: &mut Tx,
    key: &str,
    client: &ClientRow,
) -> ApiResult<TransactionRow> {
    lock_own_with_code(tx, key, client, None).await
}

/// [`lock_own`], and with `code_hash` the reservation code with that keyed hash too, in the
/// same statement ([`Tx::code_for_update`] then answers it).
async fn lock_own_with_code(
    tx: &mut Tx,
    key: &str,
    client: &ClientRow,
    code_hash: Option<&str>,
) -> ApiResult<TransactionRow> {
    let t = match code_hash {
        Some(hash) => tx.transaction_and_code_for_update(key, hash).await?,
        None => tx.transaction_for_update(key).await?,
    };
    match t {
        Some(t) if t.project_id == client.project_id => Ok(t),
        _ => Err(ApiError::not_found_transaction(key)),
    }
}

/// Whether the transaction's deadline passed: a reservation's, or (`waiting`, `waiting_funds`)
/// the time by which the holder had to accept and the money had to be there.
fn is_due(t: &TransactionRow, now: i64) -> bool {
    let waits = matches!(
        t.status,
        TransactionStatus::Waiting | TransactionStatus::WaitingFunds
    );
    (t.status.holds_funds() || waits) && t.reserved_until.is_some_and(|deadline| now >= deadline)
}

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
    if req.payments.is_empty() && req.allowance.is_none() {
        return Err(ApiError::invalid(
            "payments is required (a non-empty array of payments or payment ids) unless an allowance is given",
        ));
    }
    let restrictions = req
        .restrictions
        .as_ref()
        .map(super::payer::validate_restrictions)
        .transpose()?;
    if req.payments.len() > MAX_PAYMENTS {
        return Err(ApiError::invalid(format!(
            "a transaction groups at most {MAX_PAYMENTS} payments"
        )));
    }
    let nested = req.reserve.as_ref();
    let reserve = ReserveSpec::from_request(
        nested.and_then(|r| r.for_seconds),
        nested.and_then(|r| r.until),
        nested.is_some(),
        req.reserve_for,
        req.reserve_until,
        now,
    )?;
    check_uri("redirect_uri", &req.redirect_uri)?;
    let (callback_uri, callbacks_disabled) = match &req.callback_uri {
        None => (None, false),
        Some(CallbackUri::Disabled) => (None, true),
        Some(CallbackUri::Uri(u)) => {
            check_uri("callback_uri", &Some(u.clone()))?;
            (Some(u.clone()), false)
        }
    };
    if let Some(user) = &req.user
        && !user.get("email").is_some_and(Value::is_string)
    {
        return Err(ApiError::invalid(
            "user must be an object with a string email",
        ));
    }
    if req.inquiries.as_ref().is_some_and(|i| !i.is_array()) {
        return Err(ApiError::invalid("inquiries must be an array"));
    }
    let auto_confirm = req.auto_confirm.unwrap_or(false);

    let mut tx = state.store.write().await?;
    // The project as authentication read it, unless it has limits to read here.
    let (project_wallet_id, limits) = match caller.project {
        Some(p) if !p.limited => (p.wallet_id, Vec::new()),
        _ => {
            let (project, limits) = tx
                .project_with_limits(client.project_id)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("client {} has no project", client.id))
                })?;
            (project.wallet_id, limits)
        }
    };
    let key = new_transaction_key(&mut rand::rng(), wall_millis());
    let row = TransactionRow {
        key: key.clone(),
        project_id: client.project_id,
        client_id: client.id,
        status: TransactionStatus::New,
        kind: None,
        wallet_id: None,
        created_at: now,
        confirmed_at: None,
        reserve,
        reserved_until: None,
        use_allowance: req.use_allowance.unwrap_or(true),
        suggest_allowance: req.suggest_allowance.unwrap_or(false),
        auto_confirm,
        redirect_uri: req.redirect_uri.clone(),
        callback_uri,
        callbacks_disabled,
        user_json: req.user.as_ref().map(Value::to_string),
        inquiries_json: req.inquiries.as_ref().map(Value::to_string),
        restrictions_json: restrictions.map(|r| r.to_string()),
        correlation_key: None,
    };
    let mut all_explicit = true;
    // New payments wait in `drafts` until a regrouped one or the end: the transaction's row
    // and the first of them are one statement (PostgreSQL), and their ids follow the request.
    let mut new_rows = NewRows::default();
    let mut regrouped = false;
    for (i, p) in req.payments.iter().enumerate() {
        match p {
            PaymentRef::New(p) => {
                let draft = draft_payment(p, &key, client.project_id, project_wallet_id, now)
                    .map_err(|e| prefix_error(e, &format!("payments[{i}]: ")))?;
                // The project's own wallet exists (a foreign key); a named one may not.
                if draft.explicit_beneficiary
                    && tx.wallet(draft.row.beneficiary_wallet_id).await?.is_none()
                {
                    return Err(ApiError::invalid(format!(
                        "payments[{i}]: beneficiary wallet {} does not exist",
                        draft.row.beneficiary_wallet_id
                    )));
                }
                all_explicit &= draft.explicit_beneficiary;
                new_rows.drafts.push(draft.row);
            }
            PaymentRef::Id(id) => {
                new_rows.insert(&mut tx, &row, now).await?;
                all_explicit &= regroup_payment(&mut tx, *id, &key, client, now).await?;
                regrouped = true;
            }
        }
    }
    new_rows.insert(&mut tx, &row, now).await?;
    if let Some(a) = &req.allowance {
        super::allowances::attach(&mut tx, client, &key, a, now).await?;
    }
    if auto_confirm && !(all_explicit && (req.allowance.is_none() || req.payments.is_empty())) {
        return Err(ApiError::invalid(
            "auto_confirm is only available for a transaction of only an allowance, or of only payments that name their beneficiary",
        ));
    }
    // The payments as written; read back only if some were regrouped.
    let payments = match regrouped {
        false => new_rows.written,
        true => tx.payments_of(&key).await?,
    };
    check_project_limits(&limits, &payments)?;
    tx.append_event(
        &key,
        now,
        &format!("client:{}", client.mac_id),
        "created",
        None,
    )
    .await?;
    // The rows just written, not read back: only an attached allowance is.
    let allowance = match &req.allowance {
        Some(_) => tx.allowance_of(&key).await?,
        None => None,
    };
    let view = render::transaction(&row, &payments, allowance.as_ref());
    Ok((tx, view))
}

pub(crate) fn prefix_error(e: ApiError, prefix: &str) -> ApiError {
    match e {
        ApiError::InvalidRequest(m) => ApiError::InvalidRequest(format!("{prefix}{m}")),
        ApiError::InvalidState(m) => ApiError::InvalidState(format!("{prefix}{m}")),
        other => other,
    }
}

/// Moves an existing `new` payment of the caller's project into transaction `key`;
/// a transaction left without payments is deleted. Returns whether it names a beneficiary.
async fn regroup_payment(
    tx: &mut Tx,
    id: i64,
    key: &str,
    client: &ClientRow,
    now: i64,
) -> ApiResult<bool> {
    let payment = match tx.payment_for_update(id).await? {
        Some(p) if p.project_id == client.project_id => p,
        _ => return Err(ApiError::invalid(format!("payment {id} was not found"))),
    };
    if payment.transaction_key == key {
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
    tx.append_event(
        &old.key,
        now,
        &format!("client:{}", client.mac_id),
        "payment_moved",
        Some(&format!("{id} -> {key}")),
    )
    .await?;
    delete_if_empty(tx, &old, now).await?;
    Ok(payment.beneficiary_json.is_some())
}

/// A `new` transaction left with neither payments nor a live allowance is deleted.
pub(crate) async fn delete_if_empty(tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
    let payments = tx.payments_of(&t.key).await?;
    let allowance = tx
        .allowance_of(&t.key)
        .await?
        .filter(|a| a.transaction_key == t.key && a.status == "new");
    if payments.is_empty() && allowance.is_none() {
        let state = TransactionState {
            status: TransactionStatus::Deleted,
            ..t.state()
        };
        tx.set_transaction_state(&t.key, &state, now).await?;
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

/// `GET transaction/{key}`: a reservation past its deadline is failed first, so a read never shows it reserved.
pub async fn get(state: &AppState, client: &ClientRow, key: &str) -> ApiResult<wire::Transaction> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let t = tx
        .transaction(key)
        .await?
        .filter(|t| t.project_id == client.project_id)
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    if is_due(&t, now) {
        drop(tx);
        expire_if_due(state, key).await?;
        tx = state.store.read().await?;
    }
    view(&mut tx, key).await
}

/// Releases every hold of a transaction and marks it `status` (revoked, failed).
pub(crate) async fn release_all(
    tx: &mut Tx,
    t: &TransactionRow,
    status: TransactionStatus,
    now: i64,
) -> ApiResult<()> {
    for p in tx
        .payments_of(&t.key)
        .await?
        .into_iter()
        .filter(|p| p.status != PaymentStatus::Canceled)
    {
        if let Some(hold) = p.hold_id {
            tx.release_hold(hold, now).await?;
        }
        tx.update_payment(
            p.id,
            status.into(),
            p.price,
            p.payer_wallet_id,
            p.hold_id,
            None,
        )
        .await?;
    }
    tx.set_transaction_state(
        &t.key,
        &TransactionState {
            status,
            ..t.state()
        },
        now,
    )
    .await?;
    super::allowances::ended(tx, &t.key).await?;
    Ok(())
}

/// Puts a transaction and its payments in a status that waits for the holder (`waiting`,
/// `waiting_funds`) on `wallet`, nothing held, to be decided by `deadline` (the sweeper fails it
/// after).
pub(crate) async fn wait_for_holder(
    tx: &mut Tx,
    key: &str,
    status: TransactionStatus,
    kind: wallet_core::TransactionType,
    wallet: i64,
    deadline: i64,
    now: i64,
) -> ApiResult<()> {
    for p in tx.payments_of(key).await? {
        if p.status != PaymentStatus::Canceled {
            tx.update_payment(p.id, status.into(), p.price, None, None, None)
                .await?;
        }
    }
    let waiting = TransactionState {
        status,
        kind: Some(kind),
        wallet_id: Some(wallet),
        reserved_until: Some(deadline),
        confirmed_at: None,
    };
    tx.set_transaction_state(key, &waiting, now).await?;
    Ok(())
}

/// Fails a transaction whose reservation deadline passed, releasing its funds. `true` if it did.
pub async fn expire_if_due(state: &AppState, key: &str) -> ApiResult<bool> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let Some(t) = tx.transaction_for_update(key).await? else {
        return Ok(false);
    };
    if !is_due(&t, now) {
        return Ok(false);
    }
    expire_locked(&mut tx, &t, now).await?;
    tx.commit().await?;
    tracing::info!(transaction_key = key, "reservation expired; funds released");
    Ok(true)
}

/// Fails a locked transaction whose deadline passed, releasing its holds.
async fn expire_locked(tx: &mut Tx, t: &TransactionRow, now: i64) -> ApiResult<()> {
    let to = t.status.apply(Event::Expire)?;
    release_all(tx, t, to, now).await?;
    let detail = t.reserved_until.map(|d| format!("deadline {d}"));
    tx.append_event(&t.key, now, "system", "expired", detail.as_deref())
        .await?;
    let data = view(tx, &t.key).await?;
    crate::callbacks::enqueue_transaction(tx, t, &data, now).await?;
    Ok(())
}

/// Opens the write transaction of a client's change to its transaction `key`, with the row locked.
/// A reservation past its deadline is failed first (and that is committed), so no change acts on it.
pub(crate) async fn begin_change(
    state: &AppState,
    client: &ClientRow,
    key: &str,
) -> ApiResult<(Tx, TransactionRow, i64)> {
    begin_change_with_code(state, client, key, None).await
}

/// [`begin_change`], locking the reservation code with keyed hash `code_hash` with the
/// transaction (see [`lock_own_with_code`]).
pub(crate) async fn begin_change_with_code(
    state: &AppState,
    client: &ClientRow,
    key: &str,
    code_hash: Option<&str>,
) -> ApiResult<(Tx, TransactionRow, i64)> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let t = lock_own_with_code(&mut tx, key, client, code_hash).await?;
    if is_due(&t, now) {
        expire_locked(&mut tx, &t, now).await?;
        tx.commit().await?;
        return Err(expired_error());
    }
    Ok((tx, t, now))
}

/// `DELETE transaction/{key}`: a new transaction is deleted; a waiting or reserved one is revoked and its funds released.
pub async fn revoke(
    state: &AppState,
    client: &ClientRow,
    key: &str,
) -> ApiResult<wire::Transaction> {
    let (mut tx, t, now) = begin_change(state, client, key).await?;
    revoke_locked(&mut tx, &t, &format!("client:{}", client.mac_id), now).await?;
    let view = view(&mut tx, key).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Revokes (or deletes, if new) a locked transaction, releasing its funds.
pub(crate) async fn revoke_locked(
    tx: &mut Tx,
    t: &TransactionRow,
    actor: &str,
    now: i64,
) -> ApiResult<()> {
    if is_due(t, now) {
        return Err(expired_error());
    }
    let to = t.status.apply(Event::Revoke)?;
    release_all(tx, t, to, now).await?;
    tx.append_event(&t.key, now, actor, to.as_str(), None)
        .await?;
    Ok(())
}

pub(crate) fn expired_error() -> ApiError {
    ApiError::InvalidState(
        "the reservation deadline passed: the transaction failed and its funds were released"
            .into(),
    )
}

/// The freeze a payment asked for, if any.
pub fn freeze_of(p: &PaymentRow) -> Option<FreezeSpec> {
    match (p.freeze_for, p.freeze_until) {
        (Some(seconds), _) => Some(FreezeSpec::For(seconds)),
        (None, Some(at)) => Some(FreezeSpec::Until(at)),
        (None, None) => None,
    }
}

/// Confirms every payment at the given (or reserved) price. An unfrozen payment is settled to
/// its beneficiary at once (`done`); a frozen one stays held for the payer and shows as incoming
/// for the beneficiary (`confirmed`) until its freeze ends, it is finalized or canceled.
pub(crate) async fn settle(
    tx: &mut Tx,
    t: &TransactionRow,
    payments: &[PaymentRow],
    prices: &BTreeMap<i64, i64>,
    now: i64,
) -> ApiResult<Written> {
    let to = t.status.apply(Event::Confirm)?;
    let mut unchanged = Vec::new();
    let mut changes = Vec::with_capacity(payments.len());
    for p in payments {
        if p.status == PaymentStatus::Canceled {
            unchanged.push(p.clone());
            continue;
        }
        let hold = p.hold_id.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("reserved payment {} has no hold", p.id))
        })?;
        let amount = prices.get(&p.id).copied().unwrap_or(p.price);
        let beneficiary = tx
            .wallet_account(p.beneficiary_wallet_id, p.currency)
            .await?;
        if let Some(freeze) = freeze_of(p) {
            if !tx.reduce_hold(hold, amount).await? {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "hold {hold} of payment {} is not active",
                    p.id
                )));
            }
            tx.add_incoming(beneficiary, amount).await?;
            let freeze_until = Some(freeze.ends_at(now));
            tx.set_freeze_until(p.id, freeze_until).await?;
            let change = PaymentChange {
                id: p.id,
                status: PaymentStatus::Confirmed,
                price: amount,
                payer_wallet_id: p.payer_wallet_id,
                hold_id: p.hold_id,
                confirmed_at: Some(now),
            };
            let frozen = PaymentRow {
                freeze_until,
                ..p.clone()
            };
            changes.push((frozen, change));
            continue;
        }
        // The hold as reserve placed it: on the payer's account, of the payment's price then.
        let payer_wallet = p.payer_wallet_id.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("reserved payment {} has no payer", p.id))
        })?;
        let payer_account = tx.wallet_account(payer_wallet, p.currency).await?;
        tx.settle_hold_at_commit(
            hold,
            payer_account,
            p.price,
            beneficiary,
            amount,
            &t.key,
            p.id,
            now,
        )
        .await?;
        let change = PaymentChange {
            id: p.id,
            status: PaymentStatus::Done,
            price: amount,
            payer_wallet_id: p.payer_wallet_id,
            hold_id: p.hold_id,
            confirmed_at: Some(now),
        };
        changes.push((p.clone(), change));
    }
    let confirmed = TransactionState {
        status: to,
        confirmed_at: Some(now),
        ..t.state()
    };
    let (t, changed) = tx
        .set_transaction_and_payments(t, &confirmed, &changes, now)
        .await?;
    super::allowances::activate(tx, &t, now).await?;
    Ok(Written::new(t, unchanged, changed))
}

/// The same or a lower price for `payment`, given as `price` (minor units) or `price_decimal`
/// in the payment's own currency: what confirm and finalize accept.
pub fn reduced_price(
    payment: &PaymentRow,
    price: Option<i64>,
    price_decimal: Option<&str>,
    currency: &str,
) -> ApiResult<i64> {
    let currency = Currency::parse(currency)?;
    if currency != payment.currency {
        return Err(ApiError::invalid(format!(
            "payment {} is in {}, not {currency}",
            payment.id, payment.currency
        )));
    }
    let amount = match (price, price_decimal) {
        (Some(p), None) => p,
        (None, Some(d)) => parse_decimal(d, currency)?,
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of price and price_decimal for each payment",
            ));
        }
    };
    Ok(reduce_price(payment.price, amount)?)
}

/// `PUT transaction/{key}/confirm`, optionally reducing payments' prices.
pub async fn confirm(
    state: &AppState,
    client: &ClientRow,
    key: &str,
    prices: Option<ConfirmPrices>,
) -> ApiResult<wire::Transaction> {
    let (mut tx, t, now) = begin_change(state, client, key).await?;
    t.status.apply(Event::Confirm)?;
    let payments = tx.payments_of(key).await?;
    let mut reduced = BTreeMap::new();
    for (id_text, price) in prices.into_iter().flatten() {
        let payment = id_text
            .parse::<i64>()
            .ok()
            .and_then(|id| payments.iter().find(|p| p.id == id))
            .ok_or_else(|| {
                ApiError::invalid(format!("payment {id_text:?} is not in this transaction"))
            })?;
        let amount = reduced_price(
            payment,
            price.price,
            price.price_decimal.as_deref(),
            &price.currency,
        )?;
        reduced.insert(payment.id, amount);
    }
    let written = settle(&mut tx, &t, &payments, &reduced, now).await?;
    let detail = (!reduced.is_empty()).then(|| format!("reduced {reduced:?}"));
    tx.append_event(
        key,
        now,
        &format!("client:{}", client.mac_id),
        "confirmed",
        detail.as_deref(),
    )
    .await?;
    let view = written.render(&mut tx).await?;
    crate::idempotency::commit_answer(tx, &view).await?;
    Ok(view)
}

/// Keys of reservations past their deadline (for the sweeper).
pub async fn due_reservations(state: &AppState, limit: i64) -> ApiResult<Vec<String>> {
    let mut tx = state.store.read().await?;
    Ok(tx.due_reservations(state.now(), limit).await?)
}

/// Audit trail of a transaction (admin and tests).
pub async fn events(
    state: &AppState,
    key: &str,
) -> ApiResult<Vec<(i64, String, String, Option<String>)>> {
    let mut tx = state.store.read().await?;
    Ok(tx.events_of(key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(price: i64) -> NewPayment {
        NewPayment {
            price: Some(price),
            currency: "EUR".into(),
            ..Default::default()
        }
    }

    #[test]
    fn drafts_refuse_bad_amounts_and_currencies() {
        assert!(draft_payment(&payment(0), "k", 1, 2, 0).is_err());
        assert!(draft_payment(&payment(-5), "k", 1, 2, 0).is_err());
        let bad_currency = NewPayment {
            currency: "EURO".into(),
            ..payment(5)
        };
        assert!(draft_payment(&bad_currency, "k", 1, 2, 0).is_err());
        let both = NewPayment {
            price_decimal: Some("1.00".into()),
            ..payment(100)
        };
        assert!(draft_payment(&both, "k", 1, 2, 0).is_err());
        let decimal = NewPayment {
            price: None,
            price_decimal: Some("12.1".into()),
            ..payment(1)
        };
        let d = draft_payment(&decimal, "k", 1, 2, 0).unwrap();
        assert_eq!(d.row.price, 1210);
        assert_eq!(d.row.beneficiary_wallet_id, 2, "project wallet by default");
        assert!(!d.explicit_beneficiary);
        let to = NewPayment {
            beneficiary: Some(serde_json::json!({"id": 9})),
            ..payment(1)
        };
        assert!(
            draft_payment(&to, "k", 1, 2, 0)
                .unwrap()
                .explicit_beneficiary
        );
    }
}

/// `{"text_for_customer", "text_for_merchant"}`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub text_for_customer: String,
    pub text_for_merchant: String,
}

/// `GET transaction/{key}/receipt`: only for clients granted `receipt`, only for confirmed transactions.
pub async fn receipt(
    state: &AppState,
    client: &ClientRow,
    key: &str,
    locale: Option<&str>,
    width: Option<&str>,
) -> ApiResult<Receipt> {
    if !client.has_grant("receipt") {
        return Err(ApiError::Forbidden(
            "receipts are not enabled for this client".into(),
        ));
    }
    let locale = match locale {
        None => crate::receipt::Locale::En,
        Some(l) => crate::receipt::Locale::parse(l)
            .ok_or_else(|| ApiError::invalid(format!("locale {l:?} is not one of en, lt, ru")))?,
    };
    let width = width
        .map(|w| w.parse::<usize>().ok().filter(|w| (10..=500).contains(w)))
        .map(|w| w.ok_or_else(|| ApiError::invalid("width must be a whole number from 10 to 500")))
        .transpose()?;
    let t = get(state, client, key).await?;
    if t.status != TransactionStatus::Confirmed {
        return Err(ApiError::InvalidState(format!(
            "transaction is {}; receipts exist for confirmed transactions",
            t.status
        )));
    }
    let (text_for_customer, text_for_merchant) = crate::receipt::texts(&t, locale, width);
    Ok(Receipt {
        text_for_customer,
        text_for_merchant,
    })
}

/// Paging and filters of `GET transactions` / `GET payments`, as given in the query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchQuery {
    pub status: Option<String>,
    pub wallet: Option<String>,
    pub beneficiary: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

pub use wallet_client::types::Metadata;

/// `{"transactions": […], "_metadata": {…}}`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct TransactionPage {
    pub transactions: Vec<wire::Transaction>,
    #[serde(rename = "_metadata")]
    pub metadata: Metadata,
}

/// An optional integer query parameter (empty means absent).
pub(crate) fn int_param(name: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| ApiError::invalid(format!("{name} must be an integer")))
        })
        .transpose()
}

/// Turns query parameters into a store filter. `valid` lists the accepted statuses.
pub fn search_filter(
    client: &ClientRow,
    q: &SearchQuery,
    valid: &[&str],
    default_week: Option<i64>,
) -> ApiResult<wallet_store::SearchFilter> {
    let statuses: Vec<String> = q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if valid.contains(&s) {
                Ok(s.to_string())
            } else {
                Err(ApiError::invalid(format!("unknown status {s:?}")))
            }
        })
        .collect::<ApiResult<_>>()?;
    let limit = int_param("limit", &q.limit)?.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit must be from 1 to 200"));
    }
    let offset = int_param("offset", &q.offset)?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset must not be negative"));
    }
    let mut to = int_param("to", &q.to)?;
    let mut from = int_param("from", &q.from)?;
    if let Some(now) = default_week {
        // `to` defaults to now and `from` to a week before `to` (the spec's defaults for transactions).
        let t = *to.get_or_insert(now);
        from.get_or_insert(t - 7 * 86_400);
    }
    Ok(wallet_store::SearchFilter {
        project_id: client.project_id,
        statuses,
        wallet: int_param("wallet", &q.wallet)?,
        beneficiary: int_param("beneficiary", &q.beneficiary)?,
        from,
        to,
        limit,
        offset,
    })
}

/// `GET transactions`: the caller's project's transactions, newest first.
pub async fn search(
    state: &AppState,
    client: &ClientRow,
    q: &SearchQuery,
) -> ApiResult<TransactionPage> {
    let valid: Vec<&str> = TransactionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = search_filter(client, q, &valid, Some(state.now()))?;
    let mut tx = state.store.read().await?;
    let (total, rows) = tx.search_transactions(&filter).await?;
    let mut transactions = Vec::with_capacity(rows.len());
    for t in rows {
        transactions.push(render_row(&mut tx, &t).await?);
    }
    Ok(TransactionPage {
        transactions,
        metadata: Metadata {
            total,
            offset: filter.offset,
            limit: filter.limit,
        },
    })
}

/// `POST transaction/renew/{key}`: a new transaction like a `deleted`, `rejected`, `failed` or
/// `revoked` one, with copies of its payments and allowance; the old one stays as it is, for the history.
pub async fn renew(
    state: &AppState,
    client: &ClientRow,
    key: &str,
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
    let new_key = new_transaction_key(&mut rand::rng(), wall_millis());
    let reserve = match old.reserve {
        ReserveSpec::Until { at, .. } if at <= now => ReserveSpec::Default,
        spec => spec,
    };
    let row = TransactionRow {
        key: new_key.clone(),
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
    for p in tx.payments_of(key).await? {
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
            freeze_for: p.freeze_for,
            freeze_until: if p.freeze_for.is_some() {
                None
            } else {
                p.freeze_until.filter(|u| *u > now)
            },
            created_at: now,
        };
        tx.insert_payment(&copy).await?;
    }
    if let Some(a) = tx.allowance_of(key).await? {
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
    let actor = format!("client:{}", client.mac_id);
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
