//! Fresh databases for tests: a temporary SQLite file, or a new schema in the
//! PostgreSQL named by `WALLETD_TEST_POSTGRES` (default: the local `test` database).

use crate::{Backend, Store};

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("WALLETD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database URL for a fresh, empty database of `backend`.
pub async fn fresh_database(backend: Backend) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = format!(
        "walletd_test_{now}_{}",
        wallet_core::keys::random_base62(&mut rand::rng(), 12).to_lowercase()
    );
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&postgres_url())
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

/// A connected store on a fresh database of `backend`.
pub async fn fresh_store(backend: Backend) -> Store {
    Store::connect(&fresh_database(backend).await)
        .await
        .expect("connect to test database")
}

/// Both backends, for tests that must pass on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Drops test schemas created more than an hour ago (earlier runs), so they do not pile up.
async fn drop_old_schemas(conn: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'walletd\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in names {
        let created: u64 = name
            .split('_')
            .nth(2)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        if created + 3600 < now && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}
