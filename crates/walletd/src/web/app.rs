//! The holder app: balances, statements, reservation codes, FLASH confirmations waiting.

use crate::state::AppState;
use axum::Router;

/// Routes of `/frontend/app`.
pub fn router() -> Router<AppState> {
    Router::new()
}
