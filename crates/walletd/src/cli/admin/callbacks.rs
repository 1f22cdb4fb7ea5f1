//! The callback outbox: what was sent where, and redelivery.

use super::super::output::{lines, print};
use crate::callbacks::{self, CallbackView};
use crate::state::AppState;
use clap::Subcommand;
use wallet_core::ids::TransactionKey;
use wallet_store::CallbackFilter;

#[derive(Debug, Subcommand)]
pub enum CallbacksCommand {
    /// Recorded callbacks, newest first.
    List {
        /// Only those not delivered yet (pending or given up).
        #[arg(long)]
        undelivered: bool,
        /// Only those of one transaction.
        #[arg(long)]
        transaction: Option<TransactionKey>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Queue a callback for delivery now, even if it was delivered.
    Redeliver {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

impl CallbacksCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            CallbacksCommand::List {
                undelivered,
                transaction,
                limit,
                json,
            } => {
                let filter = CallbackFilter {
                    undelivered,
                    transaction_key: transaction,
                };
                let list = callbacks::list(state, &filter, limit).await?;
                print(&list, json, |l| lines(l, "no callbacks", callback_line))
            }
            CallbacksCommand::Redeliver { id, json } => {
                let c = callbacks::redeliver(state, id).await?;
                print(&c, json, |c| format!("queued: {}", callback_line(c)))
            }
        }
    }
}

fn callback_line(c: &CallbackView) -> String {
    let or_dash = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
    format!(
        "#{} {} {}.{} -> {} [{}] attempts {} last status {} delivered {} next {}",
        c.id,
        c.transaction_key.as_deref().unwrap_or("-"),
        c.object,
        c.event_type,
        c.uri,
        c.state,
        c.attempts,
        or_dash(c.last_status),
        or_dash(c.delivered_at),
        or_dash(c.next_attempt_at),
    )
}
