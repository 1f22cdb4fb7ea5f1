//! Operator actions behind `walletd demo` and `walletd admin …`, run directly on the store.

use crate::credentials::hash_secret;
use crate::error::{ApiError, ApiResult};
use crate::service::transactions::beneficiary::{normalize_email, normalize_phone};
use crate::service::transactions::people::resolve_for_user;
use crate::service::wallets::balance_unchecked;
use crate::state::AppState;
use serde::Serialize;
use wallet_client::types::WalletBalance;
use wallet_core::codes::{DEFAULT_VALIDITY_SECS, ReservationCode};
use wallet_core::ids::{ProjectId, TransactionKey, UserId, WalletId};
use wallet_core::keys::random_base62;
use wallet_core::money::{Currency, parse_decimal};
use wallet_store::{ErrorKind, Tx};

/// Every reservation type; a new client is granted all unless told otherwise.
pub const ALL_GRANTS: &str = "reservation_code,pin,automatic,flash,page";
/// The demo client also gets receipts, which the spec enables "only for some clients", and wallet
/// lookups by contact (`lookup`), which the real API gives only to clients it permits.
pub const DEMO_GRANTS: &str = "reservation_code,pin,automatic,flash,page,receipt,lookup";

/// `{"project_id", "wallet_id"}`.
#[derive(Debug, Serialize)]
pub struct CreatedProject {
    pub project_id: ProjectId,
    pub wallet_id: WalletId,
}

/// `{"mac_id", "mac_secret"}`: the secret is shown once, to the operator.
#[derive(Debug, Serialize)]
pub struct CreatedClient {
    pub mac_id: String,
    pub mac_secret: String,
}

/// `{"reservation_code", "qr", "barcode", "expires_at"}`.
#[derive(Debug, Serialize)]
pub struct IssuedCode {
    pub reservation_code: String,
    pub qr: String,
    pub barcode: String,
    pub expires_at: i64,
}

/// A wallet holder of the demo.
#[derive(Debug, Serialize)]
pub struct DemoUser {
    pub user_id: UserId,
    pub email: String,
    pub password: String,
    pub pin: String,
    /// Confirmed, so FLASH SMS work for the demo holders.
    pub phone: String,
    pub wallet_id: WalletId,
}

/// What `walletd demo --json` prints.
#[derive(Debug, Serialize)]
pub struct Demo {
    pub project_id: ProjectId,
    pub project_wallet_id: WalletId,
    pub client: CreatedClient,
    pub users: Vec<DemoUser>,
}

/// What `walletd admin user create` makes.
#[derive(Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub phone: Option<String>,
    /// A random one (shown once) when not given.
    pub password: Option<String>,
    pub pin: Option<String>,
}

/// `{"user_id", "wallet_id", "email", "email_confirmed", "phone", "phone_confirmed",
/// "password" (only when walletd made it), "resolved_transactions"}`.
#[derive(Debug, Serialize)]
pub struct CreatedUser {
    pub user_id: UserId,
    pub wallet_id: WalletId,
    pub email: String,
    pub email_confirmed: bool,
    pub phone: Option<String>,
    pub phone_confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Transactions whose payments to this person now go to the new wallet.
    pub resolved_transactions: Vec<TransactionKey>,
}

/// `walletd admin user create`: a wallet holder with confirmed contacts and a wallet. Payments
/// waiting for that email or phone are paid to the new wallet, in the same database transaction
/// (`people::resolve_for_user`).
pub async fn create_user(state: &AppState, new: NewUser) -> ApiResult<CreatedUser> {
    let email = normalize_email(&new.email)?;
    let phone = new.phone.as_deref().map(normalize_phone).transpose()?;
    let pin_ok = |p: &String| (4..=12).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit());
    if new.pin.as_ref().is_some_and(|p| !pin_ok(p)) {
        return Err(ApiError::invalid("a PIN is 4 to 12 digits"));
    }
    if new.password.as_ref().is_some_and(|p| p.chars().count() < 8) {
        return Err(ApiError::invalid("a password has at least 8 characters"));
    }
    let made = new
        .password
        .is_none()
        .then(|| random_base62(&mut rand::rng(), 16));
    let password = new
        .password
        .as_ref()
        .or(made.as_ref())
        .expect("one of them");
    let password_hash = hash_secret(password)?;
    let pin_hash = new.pin.as_deref().map(hash_secret).transpose()?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    if let Some(p) = &phone
        && tx.user_by_phone(p).await?.is_some()
    {
        return Err(ApiError::invalid(format!(
            "another user has the confirmed phone {p}"
        )));
    }
    let user_id = match tx.insert_user(&email, &password_hash, now).await {
        Ok(id) => id,
        Err(e) if e.kind() == Some(ErrorKind::Conflict) => {
            return Err(ApiError::invalid(format!(
                "a user with email {email} exists"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(h) = &pin_hash {
        tx.set_pin_hash(user_id, h).await?;
    }
    if phone.is_some() {
        let confirmed = wallet_store::HolderUpdate {
            phone: Some(phone.clone()),
            phone_confirmed: Some(true),
            ..Default::default()
        };
        tx.update_holder(user_id, &confirmed).await?;
    }
    let wallet_id = tx.insert_wallet(user_id, now).await?;
    let resolved_transactions =
        resolve_for_user(&mut tx, Some(&email), phone.as_deref(), wallet_id, now).await?;
    tx.commit().await?;
    Ok(CreatedUser {
        user_id,
        wallet_id,
        email,
        email_confirmed: true,
        phone_confirmed: phone.is_some(),
        phone,
        password: made,
        resolved_transactions,
    })
}

async fn create_project_in(tx: &mut Tx, name: &str, now: i64) -> ApiResult<CreatedProject> {
    let owner_email = format!(
        "project+{}@walletd.invalid",
        name.to_lowercase().replace(' ', "-")
    );
    let password_hash = hash_secret(&random_base62(&mut rand::rng(), 32))?;
    let owner = tx.insert_user(&owner_email, &password_hash, now).await;
    let owner = match owner {
        Ok(id) => id,
        Err(e) if e.kind() == Some(ErrorKind::Conflict) => {
            return Err(ApiError::invalid(format!(
                "a project named {name:?} exists"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let wallet_id = tx.insert_wallet(owner, now).await?;
    let project_id = match tx.insert_project(name, wallet_id, now).await {
        Ok(id) => id,
        Err(e) if e.kind() == Some(ErrorKind::Conflict) => {
            return Err(ApiError::invalid(format!(
                "a project named {name:?} exists"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(CreatedProject {
        project_id,
        wallet_id,
    })
}

/// `walletd admin project create --name NAME`.
pub async fn create_project(state: &AppState, name: &str) -> ApiResult<CreatedProject> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid("project name must not be empty"));
    }
    let mut tx = state.store.write().await?;
    let created = create_project_in(&mut tx, name, state.now()).await?;
    tx.commit().await?;
    Ok(created)
}

async fn create_client_in(
    tx: &mut Tx,
    project_id: ProjectId,
    grants: &str,
    now: i64,
) -> ApiResult<CreatedClient> {
    if tx.project(project_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "project {project_id} was not found"
        )));
    }
    let client = CreatedClient {
        mac_id: random_base62(&mut rand::rng(), 10),
        mac_secret: random_base62(&mut rand::rng(), 32),
    };
    tx.insert_client(project_id, &client.mac_id, &client.mac_secret, grants, now)
        .await?;
    Ok(client)
}

/// `walletd admin client create --project ID`.
pub async fn create_client(
    state: &AppState,
    project_id: ProjectId,
    grants: &str,
) -> ApiResult<CreatedClient> {
    let mut tx = state.store.write().await?;
    let client = create_client_in(&mut tx, project_id, grants, state.now()).await?;
    tx.commit().await?;
    Ok(client)
}

async fn top_up_in(
    tx: &mut Tx,
    wallet_id: WalletId,
    amount: i64,
    currency: Currency,
    now: i64,
) -> ApiResult<()> {
    if amount <= 0 {
        return Err(ApiError::invalid("top-up amount must be positive"));
    }
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    let source = tx.system_account("topup", currency).await?;
    let account = tx.wallet_account(wallet_id, currency).await?;
    tx.transfer_from_system(source, account, amount, "topup", now)
        .await?;
    Ok(())
}

/// `walletd admin top-up --wallet ID --amount 100.00 --currency EUR`; returns the new balance.
pub async fn top_up(
    state: &AppState,
    wallet_id: WalletId,
    amount: &str,
    currency: &str,
) -> ApiResult<WalletBalance> {
    let currency = Currency::parse(currency)?;
    let amount = parse_decimal(amount, currency)?;
    let mut tx = state.store.write().await?;
    let now = state.now();
    top_up_in(&mut tx, wallet_id, amount, currency, now).await?;
    tx.commit().await?;
    // Money arrived: transactions accepted on the page while the wallet was short continue.
    super::page::resume_waiting_funds(&state.store, now, Some(wallet_id)).await?;
    let mut tx = state.store.read().await?;
    balance_unchecked(&mut tx, wallet_id).await
}

/// `walletd admin balance --wallet ID`.
pub async fn balance(state: &AppState, wallet_id: WalletId) -> ApiResult<WalletBalance> {
    let mut tx = state.store.read().await?;
    balance_unchecked(&mut tx, wallet_id).await
}

/// `walletd admin reservation-code --wallet ID [--max-amount 50.00] [--valid-for 300]`.
pub async fn issue_code(
    state: &AppState,
    wallet_id: WalletId,
    max_amount: Option<&str>,
    currency: &str,
    valid_for: Option<i64>,
) -> ApiResult<IssuedCode> {
    let currency = Currency::parse(currency)?;
    let max = max_amount.map(|m| parse_decimal(m, currency)).transpose()?;
    if max.is_some_and(|m| m <= 0) {
        return Err(ApiError::invalid("max amount must be positive"));
    }
    let valid_for = valid_for.unwrap_or(DEFAULT_VALIDITY_SECS);
    if !(1..=86_400).contains(&valid_for) {
        return Err(ApiError::invalid(
            "valid-for must be between 1 and 86400 seconds",
        ));
    }
    let now = state.now();
    let code = state.entropy.draw(ReservationCode::generate);
    let mut tx = state.store.write().await?;
    if tx.wallet(wallet_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "wallet {wallet_id} was not found"
        )));
    }
    let restricted_currency = max.map(|_| currency.code());
    tx.insert_code(
        &code.keyed_hash(&state.code_key),
        wallet_id,
        max,
        restricted_currency,
        now,
        now + valid_for,
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedCode {
        reservation_code: code.expose().to_string(),
        qr: code.qr_text(),
        barcode: code.barcode_text(),
        expires_at: now + valid_for,
    })
}

/// The demo holders: fixed, documented credentials, so that a second `walletd demo` prints the same.
const DEMO_USERS: [(&str, &str, &str, &str); 2] = [
    (
        "alice@example.com",
        "alice-demo-password",
        "1234",
        "+37060000001",
    ),
    (
        "bob@example.com",
        "bob-demo-password",
        "4321",
        "+37060000002",
    ),
];
/// Each demo holder starts with this many EUR.
const DEMO_BALANCE: i64 = 100_000;

/// `walletd demo`: a project with a client and two funded holders, created once.
pub async fn demo(state: &AppState) -> ApiResult<Demo> {
    let now = state.now();
    let eur = Currency::parse("EUR")?;
    let mut tx = state.store.write().await?;
    let (project, client) = match tx.project_by_name("demo").await? {
        Some(p) => {
            let c = tx
                .first_client_of(p.id)
                .await?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("demo project has no client")))?;
            (
                CreatedProject {
                    project_id: p.id,
                    wallet_id: p.wallet_id,
                },
                CreatedClient {
                    mac_id: c.mac_id,
                    mac_secret: c.mac_secret,
                },
            )
        }
        None => {
            let p = create_project_in(&mut tx, "demo", now).await?;
            let c = create_client_in(&mut tx, p.project_id, DEMO_GRANTS, now).await?;
            (p, c)
        }
    };
    let mut users = Vec::new();
    for (email, password, pin, phone) in DEMO_USERS {
        let (user_id, wallet_id) = match tx.user_by_email(email).await? {
            Some(u) => {
                let wallet = *tx.wallets_of_user(u.id).await?.first().ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("demo user without wallet"))
                })?;
                (u.id, wallet)
            }
            None => {
                let user_id = tx.insert_user(email, &hash_secret(password)?, now).await?;
                tx.set_pin_hash(user_id, &hash_secret(pin)?).await?;
                let confirmed_phone = wallet_store::HolderUpdate {
                    phone: Some(Some(phone.to_string())),
                    phone_confirmed: Some(true),
                    ..Default::default()
                };
                tx.update_holder(user_id, &confirmed_phone).await?;
                let wallet_id = tx.insert_wallet(user_id, now).await?;
                top_up_in(&mut tx, wallet_id, DEMO_BALANCE, eur, now).await?;
                (user_id, wallet_id)
            }
        };
        users.push(DemoUser {
            user_id,
            email: email.to_string(),
            password: password.to_string(),
            pin: pin.to_string(),
            phone: phone.to_string(),
            wallet_id,
        });
    }
    tx.commit().await?;
    Ok(Demo {
        project_id: project.project_id,
        project_wallet_id: project.wallet_id,
        client,
        users,
    })
}
