//! Fresh databases for tests: a temporary SQLite file, or a new schema in the tests' PostgreSQL
//! (`WALLETD_TEST_POSTGRES`, else a throw-away cluster, else none: [`postgres`]).

mod postgres;

use crate::{Backend, Store};

pub use postgres::ENV as POSTGRES_ENV;

/// The backends the tests run on here: SQLite always, PostgreSQL when there is one
/// ([`postgres`]: set `WALLETD_TEST_POSTGRES` to require it).
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    all.extend(available(Backend::Postgres).then_some(Backend::Postgres));
    all
}

/// Whether the tests can run on `backend` here. A test of PostgreSQL only returns early when not.
pub fn available(backend: Backend) -> bool {
    match backend {
        Backend::Sqlite => true,
        Backend::Postgres => postgres::url().is_some(),
    }
}

/// The PostgreSQL server tests use; panics when there is none ([`available`] tells).
fn postgres_url() -> &'static str {
    postgres::url().expect("no PostgreSQL for the tests: check testing::available first")
}

/// Now (UNIX seconds) and a fresh name `{prefix}_{now}_{random}` for a test's schema or database;
/// the time in the name lets a later run drop what old runs left.
fn unique_name(prefix: &str) -> (u64, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let random = wallet_core::keys::random_base62(&mut rand::rng(), 12).to_lowercase();
    (now, format!("{prefix}_{now}_{random}"))
}

/// A database URL for a fresh, empty database of `backend`.
pub async fn fresh_database(backend: Backend) -> String {
    let (now, name) = unique_name("walletd_test");
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(postgres_url())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL at {} is needed by the tests: {e}",
                        postgres_url()
                    )
                });
            drop_old_schemas(&mut conn, now).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
                .execute(&mut conn)
                .await
                .expect("create test schema");
            let sep = if postgres_url().contains('?') {
                '&'
            } else {
                '?'
            };
            format!("{}{sep}options=-c%20search_path%3D{name}", postgres_url())
        }
    }
}

/// Names a PgBouncer in transaction mode in front of the tests' PostgreSQL, as
/// `postgres://user@host:port` (no database): the tests through a pooler run only when it is set.
pub const PGBOUNCER_ENV: &str = "WALLETD_TEST_PGBOUNCER";

/// The URL, through the PgBouncer of [`PGBOUNCER_ENV`], of a fresh database made on the tests'
/// PostgreSQL, with `pgbouncer=true`; `None` without one. A database, not a schema as
/// [`fresh_database`] makes: a pooler in transaction mode keeps no session's `search_path`.
pub async fn fresh_pgbouncer_database() -> Option<String> {
    use sqlx::Connection;
    let pgbouncer = std::env::var(PGBOUNCER_ENV)
        .ok()
        .filter(|u| !u.is_empty())?;
    let (now, name) = unique_name("walletd_pool");
    let mut conn = sqlx::PgConnection::connect(postgres_url())
        .await
        .expect("the tests' PostgreSQL");
    drop_old_databases(&mut conn, now).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    Some(format!(
        "{}/{name}?pgbouncer=true",
        pgbouncer.trim_end_matches('/')
    ))
}

/// Drops the databases [`fresh_pgbouncer_database`] made more than an hour ago.
async fn drop_old_databases(conn: &mut sqlx::PgConnection, now: u64) {
    let list = "SELECT datname::text FROM pg_database WHERE datname LIKE 'walletd\\_pool\\_%'";
    drop_old(conn, now, list, |name| {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    })
    .await;
}

/// Drops what `list` names (test schemas or databases) that was made more than an hour ago
/// (earlier runs), with the statement `drop` makes of each name, so they do not pile up.
async fn drop_old(
    conn: &mut sqlx::PgConnection,
    now: u64,
    list: &'static str,
    drop: impl Fn(&str) -> String,
) {
    let names: Vec<String> = sqlx::query_scalar(list)
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    for name in names
        .into_iter()
        .filter(|n| made_before(n, now.saturating_sub(3600)))
    {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop(&name)))
            .execute(&mut *conn)
            .await;
    }
}

/// Whether a test schema or database `name` (`walletd_<what>_<seconds>_<random>`) was made
/// before `time`; never for a name of another form.
fn made_before(name: &str, time: u64) -> bool {
    let made: Option<u64> = name.split('_').nth(2).and_then(|t| t.parse().ok());
    let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plain && made.is_some_and(|m| m < time)
}

/// A connected store on a fresh database of `backend`.
pub async fn fresh_store(backend: Backend) -> Store {
    Store::connect(&fresh_database(backend).await)
        .await
        .expect("connect to test database")
}

/// Drops test schemas created more than an hour ago (earlier runs).
async fn drop_old_schemas(conn: &mut sqlx::PgConnection, now: u64) {
    let list = "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'walletd\\_test\\_%'";
    drop_old(conn, now, list, |name| {
        format!("DROP SCHEMA IF EXISTS {name} CASCADE")
    })
    .await;
}

/// The fixtures of the store's tests: rows and a small world (a funded holder, a project with its
/// client, transactions with payments), built the one way every test builds them.
pub mod fixtures {
    use crate::{
        Backend, IdempotentAnswer, NewAllowanceRow, NewPaymentRow, Store, TransactionRow, Tx,
    };
    use wallet_core::ledger::AccountBalance;
    use wallet_core::{
        AccountId, ClientId, Currency, PaymentId, ProjectId, TransactionKey, TransactionStatus,
        UserId, WalletId,
    };

    /// Transaction key `text`, as if walletd had issued it (the tests name theirs `k1`, `k2` …).
    pub fn key(text: &str) -> TransactionKey {
        TransactionKey::issued(text.to_string())
    }

    /// The currency of the fixtures.
    pub fn eur() -> Currency {
        Currency::parse("EUR").expect("EUR is a currency")
    }

    /// A `new` transaction row of `project` and `client`, created at time 0.
    pub fn new_transaction(key: &str, project: ProjectId, client: ClientId) -> TransactionRow {
        TransactionRow {
            transaction_key: TransactionKey::issued(key.into()),
            project_id: project,
            client_id: client,
            status: TransactionStatus::New,
            kind: None,
            wallet_id: None,
            created_at: 0,
            confirmed_at: None,
            reserve: Default::default(),
            reserved_until: None,
            use_allowance: false,
            suggest_allowance: false,
            auto_confirm: false,
            redirect_uri: None,
            callback_uri: None,
            callbacks_disabled: false,
            user_json: None,
            inquiries_json: None,
            restrictions_json: None,
            correlation_key: None,
            manager_id: None,
            location_id: None,
        }
    }

    /// A `new` EUR payment of `price` in transaction `key`, to `beneficiary`.
    pub fn new_payment(
        key: &str,
        project: ProjectId,
        beneficiary: WalletId,
        price: i64,
    ) -> NewPaymentRow {
        NewPaymentRow {
            transaction_key: TransactionKey::issued(key.into()),
            project_id: project,
            price,
            currency: eur(),
            description: None,
            parameters: None,
            price_rules: None,
            purpose: None,
            beneficiary_wallet_id: beneficiary,
            beneficiary_json: None,
            password_json: None,
            freeze_for: None,
            freeze_until: None,
            created_at: 0,
        }
    }

    /// A `new` EUR allowance of at most `max_price` a payment, in transaction `key`.
    pub fn new_allowance(
        key: &str,
        project: ProjectId,
        client: ClientId,
        max_price: i64,
    ) -> NewAllowanceRow {
        NewAllowanceRow {
            transaction_key: TransactionKey::issued(key.into()),
            project_id: project,
            client_id: client,
            optional: false,
            currency: eur(),
            max_price: Some(max_price),
            limits: Vec::new(),
            description: None,
            valid_for: None,
            valid_until: None,
            created_at: 0,
        }
    }

    /// An account's money: `balance`, of which `reserved` is held.
    pub fn money(balance: i64, reserved: i64) -> AccountBalance {
        AccountBalance { balance, reserved }
    }

    /// A stored answer of status 200 with `body`, as a request gets it at commit.
    pub fn ok_answer(body: &str) -> IdempotentAnswer {
        IdempotentAnswer {
            request_hash: "h".into(),
            status: 200,
            body: body.into(),
        }
    }

    /// A fresh store of `backend` and a write transaction on it.
    pub async fn writing(backend: Backend) -> (Store, Tx) {
        let store = super::fresh_store(backend).await;
        let tx = store.write().await.expect("write");
        (store, tx)
    }

    /// [`writing`], with the user `email` inserted in the transaction.
    pub async fn with_user(backend: Backend, email: &str) -> (Store, Tx, UserId) {
        let (store, mut tx) = writing(backend).await;
        let user = tx.insert_user(email, "x", 0).await.expect("user");
        (store, tx, user)
    }

    /// A user `email` with a wallet holding `amount` EUR, topped up from the system account
    /// `topup`: (wallet, account).
    pub async fn funded_wallet(tx: &mut Tx, email: &str, amount: i64) -> (WalletId, AccountId) {
        let user = tx.insert_user(email, "x", 0).await.expect("user");
        let wallet = tx.insert_wallet(user, 0).await.expect("wallet");
        let account = tx.wallet_account(wallet, eur()).await.expect("account");
        let source = tx.system_account("topup", eur()).await.expect("topup");
        tx.transfer_from_system(source, account, amount, "topup", 0)
            .await
            .expect("top-up");
        (wallet, account)
    }

    /// A fresh store with one holder whose wallet holds `amount` EUR: (store, wallet, account).
    pub async fn funded(backend: Backend, amount: i64) -> (Store, WalletId, AccountId) {
        let store = super::fresh_store(backend).await;
        let mut tx = store.write().await.expect("write");
        let (wallet, account) =
            funded_wallet(&mut tx, &format!("u{amount}@example.com"), amount).await;
        tx.commit().await.expect("commit");
        (store, wallet, account)
    }

    /// Where most store tests start, on a fresh database: a holder whose wallet holds some EUR
    /// (committed) and the project `p` with its `new` transaction `t`, inserted in a write
    /// transaction that [`scene`] leaves open.
    pub struct Scene {
        pub store: Store,
        pub wallet: WalletId,
        pub account: AccountId,
        pub project_wallet: WalletId,
        pub project: ProjectId,
        pub t: TransactionRow,
    }

    /// The [`Scene`] of a holder with `amount` EUR and the transaction `key`, and its open write
    /// transaction.
    pub async fn scene(backend: Backend, amount: i64, key: &str) -> (Scene, Tx) {
        let (store, wallet, account) = funded(backend, amount).await;
        let mut tx = store.write().await.expect("write");
        let (project_wallet, project, t) = project_with_transaction(&mut tx, key).await;
        let scene = Scene {
            store,
            wallet,
            account,
            project_wallet,
            project,
            t,
        };
        (scene, tx)
    }

    impl Scene {
        /// A new EUR payment of `price` to the project, in its transaction `t`.
        pub fn pay(&self, price: i64) -> NewPaymentRow {
            self.pay_in(self.t.transaction_key.as_str(), price)
        }

        /// A new EUR payment of `price` to the project, in its transaction `key`.
        pub fn pay_in(&self, key: &str, price: i64) -> NewPaymentRow {
            new_payment(key, self.project, self.project_wallet, price)
        }
    }

    /// The project `p` (its owner, its wallet) and its API client `id`: (project wallet, project,
    /// client). Once per database: the names are unique.
    pub async fn insert_project(tx: &mut Tx) -> (WalletId, ProjectId, ClientId) {
        let owner = tx
            .insert_user("owner@p.example", "x", 0)
            .await
            .expect("owner");
        let wallet = tx.insert_wallet(owner, 0).await.expect("wallet");
        let project = tx.insert_project("p", wallet, 0).await.expect("project");
        let client = tx
            .insert_client(project, "id", "secret", "reservation_code", 0)
            .await
            .expect("client");
        (wallet, project, client)
    }

    /// [`insert_project`] and its `new` transaction `key`: (project wallet, project, the
    /// transaction).
    pub async fn project_with_transaction(
        tx: &mut Tx,
        key: &str,
    ) -> (WalletId, ProjectId, TransactionRow) {
        let (wallet, project, client) = insert_project(tx).await;
        let t = new_transaction(key, project, client);
        tx.insert_transaction(&t, 0).await.expect("transaction");
        (wallet, project, t)
    }

    /// [`insert_project`] with ten `new` transactions `k0`…`k9`, each of one payment of `price`,
    /// committed: (project wallet, project, client, the payments).
    pub async fn ten_transactions(
        store: &Store,
        price: i64,
    ) -> (WalletId, ProjectId, ClientId, Vec<PaymentId>) {
        let mut tx = store.write().await.expect("write");
        let (wallet, project, client) = insert_project(&mut tx).await;
        let mut payments = Vec::new();
        for i in 0..10 {
            let t = new_transaction(&format!("k{i}"), project, client);
            tx.insert_transaction(&t, 0).await.expect("transaction");
            let p = new_payment(&t.transaction_key, project, wallet, price);
            payments.push(tx.insert_payment(&p).await.expect("payment"));
        }
        tx.commit().await.expect("commit");
        (wallet, project, client, payments)
    }
}
