//! The `payment` resource on its own: `GET payment/{id}`, `GET payments`, and `POST payment` (a
//! payment in a transaction of its own). What happens to a frozen payment is in
//! `transactions::freeze`.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::service::transactions::read::metadata;
use crate::service::transactions::{SearchQuery, create_unanswered, search_filter};
use crate::state::AppState;
use wallet_client::types::{self as wire, PaymentPage};
use wallet_core::{PaymentId, PaymentStatus};
use wallet_store::ClientRow;

fn not_found(id: PaymentId) -> ApiError {
    ApiError::NotFound(format!("payment {id} was not found"))
}

/// `GET payment/{id}`.
pub async fn get(state: &AppState, client: &ClientRow, id: PaymentId) -> ApiResult<wire::Payment> {
    let mut tx = state.store.read().await?;
    match tx.payment(id).await? {
        Some(p) if p.project_id == client.project_id => Ok(render::payment(&p)),
        _ => Err(not_found(id)),
    }
}

/// `GET payments`: the caller's project's payments, newest first.
pub async fn search(
    state: &AppState,
    client: &ClientRow,
    q: &SearchQuery,
) -> ApiResult<PaymentPage> {
    let valid: Vec<&str> = PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = search_filter(client, q, &valid, None)?;
    let mut tx = state.store.read().await?;
    let (total, rows) = tx.search_payments(&filter).await?;
    Ok(PaymentPage {
        payments: rows.iter().map(render::payment).collect(),
        metadata: metadata(total, &filter),
    })
}

/// `POST payment`: a payment in a transaction of its own, created with default parameters.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    payment: wire::NewPayment,
) -> ApiResult<wire::Payment> {
    let req = wire::NewTransaction {
        payments: vec![wire::PaymentRef::New(Box::new(payment))],
        ..Default::default()
    };
    let t = create_unanswered(state, caller, req).await?;
    let (tx, t) = t;
    let payment = t
        .payments
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("payment vanished")))?;
    crate::idempotency::commit_answer(tx, &payment).await?;
    Ok(payment)
}
