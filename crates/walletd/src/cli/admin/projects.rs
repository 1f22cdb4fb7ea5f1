//! Projects (merchants, cash-out points) and their API clients.

use super::super::output::print;
use crate::callbacks;
use crate::service::{admin, oauth, operator};
use crate::state::AppState;
use clap::Subcommand;
use wallet_core::ids::ProjectId;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project with its own beneficiary wallet.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Set or remove the most one transaction may total in a currency (limit_violation).
    SetLimit {
        #[arg(long)]
        project: ProjectId,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Decimal amount, e.g. 500.00.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        max_amount: Option<String>,
        #[arg(long)]
        none: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set the project's default callback URI (for transactions that give none), or clear it.
    SetCallback {
        #[arg(long)]
        project: ProjectId,
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        uri: Option<String>,
        /// Clear the default: transactions without their own callback_uri get no callbacks.
        #[arg(long)]
        none: bool,
        #[arg(long)]
        json: bool,
    },
}

impl ProjectCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            ProjectCommand::Create { name, json } => {
                let p = admin::create_project(state, &name).await?;
                print(&p, json, |p| {
                    format!("project {} with wallet {}", p.project_id, p.wallet_id)
                })
            }
            ProjectCommand::SetLimit {
                project,
                currency,
                max_amount,
                none: _,
                json,
            } => {
                let max_amount = max_amount.as_deref();
                let l = operator::set_project_limit(state, project, &currency, max_amount).await?;
                print(&l, json, |l| match &l.max_amount {
                    Some(m) => format!(
                        "project {}: at most {m} {} per transaction",
                        l.project_id, l.currency
                    ),
                    None => format!("project {}: no limit in {}", l.project_id, l.currency),
                })
            }
            ProjectCommand::SetCallback {
                project,
                uri,
                none: _,
                json,
            } => {
                let p = callbacks::set_project_callback(state, project, uri.as_deref()).await?;
                print(&p, json, |p| match &p.callback_uri {
                    Some(u) => format!("project {}: callbacks go to {u}", p.project_id),
                    None => format!("project {}: no default callback URI", p.project_id),
                })
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create MAC credentials for a project.
    Create {
        #[arg(long)]
        project: ProjectId,
        /// Reservation types the client may use, comma-separated.
        #[arg(long, default_value = admin::ALL_GRANTS)]
        grants: String,
        /// A redirect URI of the OAuth authorization code grant (repeat for several).
        #[arg(long)]
        redirect_uri: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Replace the client's OAuth redirect URIs: the only places its holders' browsers are sent
    /// back to with a code (none: the client cannot use the authorization code grant).
    SetRedirectUris {
        /// The client's MAC id.
        #[arg(long)]
        client: String,
        /// An absolute http(s) URI, compared exactly (repeat for several).
        #[arg(long)]
        redirect_uri: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

impl ClientCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            ClientCommand::Create {
                project,
                grants,
                redirect_uri,
                json,
            } => {
                for uri in &redirect_uri {
                    oauth::check_redirect_uri(uri)?;
                }
                let c = admin::create_client(state, project, &grants).await?;
                if !redirect_uri.is_empty() {
                    oauth::set_redirect_uris(state, &c.mac_id, &redirect_uri).await?;
                }
                print(&c, json, |c| {
                    format!(
                        "WALLET_MAC_ID={} WALLET_MAC_SECRET={}",
                        c.mac_id, c.mac_secret
                    )
                })
            }
            ClientCommand::SetRedirectUris {
                client,
                redirect_uri,
                json,
            } => {
                let r = oauth::set_redirect_uris(state, &client, &redirect_uri).await?;
                print(&r, json, |r| match r.redirect_uris.as_slice() {
                    [] => format!("client {}: no redirect URIs", r.mac_id),
                    uris => format!("client {}: redirect URIs {}", r.mac_id, uris.join(" ")),
                })
            }
        }
    }
}
