//! Wallet holders: what the operator knows of them, and the SMS outbox they are texted through.

use super::super::output::{lines, print};
use crate::service::{admin, operator};
use crate::state::AppState;
use clap::Subcommand;
use wallet_core::ids::UserId;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a wallet holder with a wallet; the email and phone count as confirmed. Payments
    /// waiting for that email or phone go to the new wallet.
    Create {
        #[arg(long)]
        email: String,
        /// Phone number in international form (e.g. +37060000001).
        #[arg(long)]
        phone: Option<String>,
        /// The holder's password (at least 8 characters); a random one is made and shown once
        /// when not given.
        #[arg(long)]
        password: Option<String>,
        /// The holder's PIN (4 to 12 digits); none when not given.
        #[arg(long)]
        pin: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change what the operator knows of a holder; options not given stay as they are.
    Set {
        #[arg(long)]
        user: UserId,
        /// Phone number (E.164, e.g. +37060000001); a new number is unconfirmed unless --phone-confirmed true.
        #[arg(long, conflicts_with = "no_phone")]
        phone: Option<String>,
        /// Remove the phone number.
        #[arg(long)]
        no_phone: bool,
        #[arg(long)]
        phone_confirmed: Option<bool>,
        #[arg(long)]
        identity_verified: Option<bool>,
        /// A restricted holder can make no transactions (client_restricted).
        #[arg(long)]
        restricted: Option<bool>,
        /// natural or legal.
        #[arg(long)]
        person_type: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl UserCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            UserCommand::Create {
                email,
                phone,
                password,
                pin,
                json,
            } => {
                let new = admin::NewUser {
                    email,
                    phone,
                    password,
                    pin,
                };
                let u = admin::create_user(state, new).await?;
                print(&u, json, |u| {
                    let phone = u.phone.as_deref().map(|p| format!(", {p}"));
                    format!(
                        "user {} with wallet {} ({}{})",
                        u.user_id,
                        u.wallet_id,
                        u.email,
                        phone.unwrap_or_default()
                    )
                })
            }
            UserCommand::Set {
                user,
                phone,
                no_phone,
                phone_confirmed,
                identity_verified,
                restricted,
                person_type,
                json,
            } => {
                let update = wallet_store::HolderUpdate {
                    phone: if no_phone {
                        Some(None)
                    } else {
                        phone.map(Some)
                    },
                    phone_confirmed,
                    identity_verified,
                    restricted,
                    person_type,
                };
                let h = operator::set_holder(state, user, update).await?;
                print(&h, json, |h| format!("{h:?}"))
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// Messages sent to holders' phones, newest first.
    List {
        #[arg(long)]
        phone: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Deliver a holder's SMS answer, e.g. --text "RG5A YES" (what an SMS gateway does).
    Answer {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        json: bool,
    },
}

impl SmsCommand {
    pub(super) async fn run(self, state: &AppState) -> anyhow::Result<()> {
        match self {
            SmsCommand::List { phone, limit, json } => {
                let list = operator::sms_list(state, phone.as_deref(), limit).await?;
                print(&list, json, |l| {
                    lines(l, "no messages", |m| {
                        format!("#{} to {}: {}", m.id, m.phone, m.body)
                    })
                })
            }
            SmsCommand::Answer { phone, text, json } => {
                let t =
                    crate::service::flash::answer(&state.store, state.now(), &phone, &text).await?;
                print(&t, json, |t| {
                    format!("transaction {} is {}", t.transaction_key, t.status)
                })
            }
        }
    }
}
