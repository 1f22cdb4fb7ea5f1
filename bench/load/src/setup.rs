//! Everything a load run needs, written to walletd's database before the clock starts.
//!
//! A cash-out point (a project with its beneficiary wallet and an API client), `wallets` payer
//! wallets each topped up for the flows it will pay, and one reservation code per flow. All of it
//! goes straight into the store through `wallet_store`'s typed writes — the same ones `walletd
//! admin project create`, `admin top-up` and `admin reservation-code` use — in batches, because one
//! process and one commit per code would take longer than the run. The running server sees the
//! rows like any written by an admin command on the same database.

use anyhow::Context;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wallet_core::codes::ReservationCode;
use wallet_core::keys::random_base62;
use wallet_core::{AccountId, ClientId, Currency, ProjectId, WalletId};
use wallet_store::{Store, Tx};

/// Rows per database transaction while seeding.
const BATCH: usize = 1000;

/// A password hash no password matches: bench users never log in.
const NO_LOGIN: &str = "!bench-no-login";

/// What to create.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    pub database: String,
    /// Payer wallets (1 puts every payer on one wallet).
    pub wallets: usize,
    /// Reservation codes, one per flow the run may start.
    pub codes: usize,
    /// API clients of the cash-out point (the tills share them).
    pub clients: usize,
    /// Minor units each flow pays; each wallet gets exactly what its codes will take.
    pub amount: i64,
    /// Seconds the codes stay valid.
    pub valid_for: i64,
}

/// What was created.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub project_id: ProjectId,
    /// The beneficiary wallet of every flow: the hot account.
    pub project_wallet: WalletId,
    /// `(mac_id, mac_secret)` of each API client.
    pub clients: Vec<(String, String)>,
    pub payer_wallets: Vec<WalletId>,
    /// Bare 28-digit codes, in the order the tills take them.
    pub codes: Vec<String>,
}

/// A 64-bit mix (splitmix64): spreads code `i` over the payer wallets without a RNG dependency.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Index of the payer wallet of code `i` among `wallets` wallets.
pub fn payer_of(seed: u64, i: usize, wallets: usize) -> usize {
    (mix(seed ^ i as u64) % wallets as u64) as usize
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A cash-out point as [`insert_cash_out_point`] writes it.
#[derive(Debug, Clone)]
pub struct CashOutPoint {
    pub project_id: ProjectId,
    /// The beneficiary wallet of every flow, and its EUR account: the hot account.
    pub wallet: WalletId,
    pub account: AccountId,
    /// The ids of its API clients, in the order of the credentials given.
    pub clients: Vec<ClientId>,
}

/// Writes a cash-out point: a project named `name` with its own wallet (owned by a user
/// `owner_email` who never logs in) and that wallet's EUR account, and one API client with the
/// `reservation_code` grant per `(mac_id, mac_secret)`. `walletd-limit` seeds the same rows.
pub async fn insert_cash_out_point(
    tx: &mut Tx,
    name: &str,
    owner_email: &str,
    credentials: &[(String, String)],
    now: i64,
) -> anyhow::Result<CashOutPoint> {
    let owner = tx.insert_user(owner_email, NO_LOGIN, now).await?;
    let wallet = tx.insert_wallet(owner, now).await?;
    let project_id = tx.insert_project(name, wallet, now).await?;
    let mut clients = Vec::with_capacity(credentials.len());
    for (mac_id, mac_secret) in credentials {
        let id = tx
            .insert_client(project_id, mac_id, mac_secret, "reservation_code", now)
            .await?;
        clients.push(id);
    }
    let account = tx.wallet_account(wallet, Currency::parse("EUR")?).await?;
    Ok(CashOutPoint {
        project_id,
        wallet,
        account,
        clients,
    })
}

/// Creates the cash-out point, the payers and the codes.
pub async fn prepare(cfg: &SetupConfig) -> anyhow::Result<Prepared> {
    anyhow::ensure!(cfg.wallets >= 1, "at least one payer wallet");
    anyhow::ensure!(cfg.amount >= 1, "the amount must be positive");
    let started = Instant::now();
    let store = Store::connect(&cfg.database)
        .await
        .with_context(|| format!("cannot open {}", cfg.database))?;
    let now = unix_now();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let tag = format!("{now}-{}", random_base62(&mut rand::rng(), 6));

    let mut tx = store.write().await?;
    let code_key = code_key(&mut tx).await?;
    let clients: Vec<(String, String)> = (0..cfg.clients.max(1))
        .map(|_| {
            let rng = &mut rand::rng();
            (random_base62(rng, 10), random_base62(rng, 32))
        })
        .collect();
    let point = insert_cash_out_point(
        &mut tx,
        &format!("load-{tag}"),
        &format!("project+load-{tag}@walletd.invalid"),
        &clients,
        now,
    )
    .await?;
    tx.commit().await?;

    let payer_wallets = insert_payers(&store, cfg.wallets, &tag, now).await?;
    // Which wallet pays which flow.
    let owners: Vec<usize> = (0..cfg.codes)
        .map(|i| payer_of(seed, i, cfg.wallets))
        .collect();
    fund_payers(&store, &payer_wallets, &owners, cfg.amount, now).await?;
    let valid = (now, now + cfg.valid_for);
    let codes = insert_codes(&store, &code_key, &payer_wallets, &owners, valid).await?;
    store.close().await;
    eprintln!(
        "walletd-load: set up project {} (hot wallet {}), {} payer wallets, {} codes in {:.1} s",
        point.project_id,
        point.wallet,
        cfg.wallets,
        codes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Prepared {
        project_id: point.project_id,
        project_wallet: point.wallet,
        clients,
        payer_wallets,
        codes,
    })
}

/// The key reservation codes are hashed under: the server's (created on its first start), or
/// created here exactly as the server would.
async fn code_key(tx: &mut Tx) -> anyhow::Result<Vec<u8>> {
    let fresh = random_base62(&mut rand::rng(), 43);
    Ok(tx
        .setting_or_insert("code_hash_key", &fresh)
        .await?
        .into_bytes())
}

/// `wallets` payers, each a user and a wallet; their wallet ids.
async fn insert_payers(
    store: &Store,
    wallets: usize,
    tag: &str,
    now: i64,
) -> anyhow::Result<Vec<WalletId>> {
    let mut payer_wallets = Vec::with_capacity(wallets);
    for chunk_start in (0..wallets).step_by(BATCH) {
        let mut tx = store.write().await?;
        for i in chunk_start..(chunk_start + BATCH).min(wallets) {
            let user = tx
                .insert_user(
                    &format!("payer{i}+load-{tag}@walletd.invalid"),
                    NO_LOGIN,
                    now,
                )
                .await?;
            payer_wallets.push(tx.insert_wallet(user, now).await?);
        }
        tx.commit().await?;
    }
    Ok(payer_wallets)
}

/// Tops each payer up from the top-up source with exactly what its flows (`owners`: the payer of
/// each flow) will take, `amount` each (and one flow's worth if it pays none).
async fn fund_payers(
    store: &Store,
    payer_wallets: &[WalletId],
    owners: &[usize],
    amount: i64,
    now: i64,
) -> anyhow::Result<()> {
    let eur = Currency::parse("EUR")?;
    let mut flows_of = vec![0i64; payer_wallets.len()];
    for &w in owners {
        flows_of[w] += 1;
    }
    for chunk_start in (0..payer_wallets.len()).step_by(BATCH) {
        let mut tx = store.write().await?;
        let source = tx.system_account("topup", eur).await?;
        for w in chunk_start..(chunk_start + BATCH).min(payer_wallets.len()) {
            let account = tx.wallet_account(payer_wallets[w], eur).await?;
            tx.transfer_from_system(source, account, flows_of[w].max(1) * amount, "topup", now)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// One code per flow, of the payer `owners` says, valid from `valid.0` until `valid.1`; the bare
/// codes, in flow order.
async fn insert_codes(
    store: &Store,
    code_key: &[u8],
    payer_wallets: &[WalletId],
    owners: &[usize],
    (now, expires_at): (i64, i64),
) -> anyhow::Result<Vec<String>> {
    let mut codes = Vec::with_capacity(owners.len());
    for chunk in owners.chunks(BATCH) {
        let mut tx = store.write().await?;
        for &w in chunk {
            let code = ReservationCode::generate(&mut rand::rng());
            tx.insert_code(
                &code.keyed_hash(code_key),
                payer_wallets[w],
                None,
                None,
                now,
                expires_at,
            )
            .await?;
            codes.push(code.expose().to_string());
        }
        tx.commit().await?;
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payers_are_spread_over_every_wallet() {
        let wallets = 50;
        let mut seen = vec![0usize; wallets];
        for i in 0..5000 {
            seen[payer_of(42, i, wallets)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50 && n < 150), "{seen:?}");
        assert!((0..100).all(|i| payer_of(7, i, 1) == 0));
    }
}
