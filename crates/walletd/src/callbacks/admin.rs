//! The operators' view of the outbox: `walletd admin callbacks list|redeliver` and a project's
//! default callback URI.

use crate::clock::wall_now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde::Serialize;
use wallet_core::ids::{ProjectId, TransactionKey};
use wallet_store::{CallbackFilter, CallbackRow};

/// One line of `walletd admin callbacks list`.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackView {
    pub id: i64,
    pub project_id: ProjectId,
    pub transaction_key: Option<TransactionKey>,
    pub object: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub uri: String,
    /// `delivered`, `pending` (will be attempted) or `failed` (given up: redeliver to retry).
    pub state: &'static str,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

impl From<CallbackRow> for CallbackView {
    fn from(r: CallbackRow) -> Self {
        let state = match (r.delivered_at, r.next_attempt_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "pending",
            (None, None) => "failed",
        };
        CallbackView {
            id: r.id,
            project_id: r.project_id,
            transaction_key: r.transaction_key,
            object: r.object,
            event_type: r.event_type,
            uri: r.uri,
            state,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            last_attempt_at: r.last_attempt_at,
            delivered_at: r.delivered_at,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
        }
    }
}

/// `walletd admin callbacks list`: newest first.
pub async fn list(
    state: &AppState,
    filter: &CallbackFilter,
    limit: i64,
) -> ApiResult<Vec<CallbackView>> {
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 10000"));
    }
    let mut tx = state.store.read().await?;
    let rows = tx.callbacks(filter, limit).await?;
    Ok(rows.into_iter().map(CallbackView::from).collect())
}

/// `walletd admin callbacks redeliver --id N`: due now, even if it was delivered.
pub async fn redeliver(state: &AppState, id: i64) -> ApiResult<CallbackView> {
    let mut tx = state.store.write().await?;
    if !tx.requeue_callback(id, wall_now()).await? {
        return Err(ApiError::NotFound(format!("callback {id} was not found")));
    }
    let row = tx
        .callback(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("callback {id} was not found")))?;
    tx.commit().await?;
    Ok(row.into())
}

/// `{"project_id", "callback_uri"}`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectCallback {
    pub project_id: ProjectId,
    pub callback_uri: Option<String>,
}

/// `walletd admin project set-callback --project ID (--uri URI | --none)`: the default URI of
/// callbacks for the project's transactions that name none.
pub async fn set_project_callback(
    state: &AppState,
    project_id: ProjectId,
    uri: Option<&str>,
) -> ApiResult<ProjectCallback> {
    if let Some(u) = uri {
        let absolute = u.starts_with("http://") || u.starts_with("https://");
        if !absolute || u.len() > 2048 || u.chars().any(char::is_whitespace) {
            return Err(ApiError::invalid(
                "the callback URI must be an absolute http:// or https:// URI of at most 2048 characters",
            ));
        }
    }
    let mut tx = state.store.write().await?;
    if !tx.set_project_callback_uri(project_id, uri).await? {
        return Err(ApiError::NotFound(format!(
            "project {project_id} was not found"
        )));
    }
    tx.commit().await?;
    Ok(ProjectCallback {
        project_id,
        callback_uri: uri.map(str::to_string),
    })
}
