//! Embedded migrations: one folder per dialect, applied in order, each once.

use crate::{Backend, Result, Store};

struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../migrations/sqlite/0002_callbacks.sql"),
        postgres: include_str!("../migrations/postgres/0002_callbacks.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../migrations/sqlite/0003_lifecycle.sql"),
        postgres: include_str!("../migrations/postgres/0003_lifecycle.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../migrations/sqlite/0004_authorising.sql"),
        postgres: include_str!("../migrations/postgres/0004_authorising.sql"),
    },
    Migration {
        version: 5,
        sqlite: include_str!("../migrations/sqlite/0005_tokens.sql"),
        postgres: include_str!("../migrations/postgres/0005_tokens.sql"),
    },
    Migration {
        version: 6,
        sqlite: include_str!("../migrations/sqlite/0006_web.sql"),
        postgres: include_str!("../migrations/postgres/0006_web.sql"),
    },
    Migration {
        version: 7,
        sqlite: include_str!("../migrations/sqlite/0007_rate_shards.sql"),
        postgres: include_str!("../migrations/postgres/0007_rate_shards.sql"),
    },
    Migration {
        version: 8,
        sqlite: include_str!("../migrations/sqlite/0008_account_changes.sql"),
        postgres: include_str!("../migrations/postgres/0008_account_changes.sql"),
    },
    Migration {
        version: 9,
        sqlite: include_str!("../migrations/sqlite/0009_active_holds.sql"),
        postgres: include_str!("../migrations/postgres/0009_active_holds.sql"),
    },
    Migration {
        version: 10,
        sqlite: include_str!("../migrations/sqlite/0010_refuse.sql"),
        postgres: include_str!("../migrations/postgres/0010_refuse.sql"),
    },
    Migration {
        version: 11,
        sqlite: include_str!("../migrations/sqlite/0011_partial_payment_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0011_partial_payment_indexes.sql"),
    },
    Migration {
        version: 12,
        sqlite: include_str!("../migrations/sqlite/0012_contact_keys.sql"),
        postgres: include_str!("../migrations/postgres/0012_contact_keys.sql"),
    },
    Migration {
        version: 13,
        sqlite: include_str!("../migrations/sqlite/0013_oauth.sql"),
        postgres: include_str!("../migrations/postgres/0013_oauth.sql"),
    },
    Migration {
        version: 14,
        sqlite: include_str!("../migrations/sqlite/0014_people.sql"),
        postgres: include_str!("../migrations/postgres/0014_people.sql"),
    },
    Migration {
        version: 15,
        sqlite: include_str!("../migrations/sqlite/0015_payment_passwords.sql"),
        postgres: include_str!("../migrations/postgres/0015_payment_passwords.sql"),
    },
    Migration {
        version: 16,
        sqlite: include_str!("../migrations/sqlite/0016_inquiries.sql"),
        postgres: include_str!("../migrations/postgres/0016_inquiries.sql"),
    },
    Migration {
        version: 17,
        sqlite: include_str!("../migrations/sqlite/0017_transaction_origin.sql"),
        postgres: include_str!("../migrations/postgres/0017_transaction_origin.sql"),
    },
];

/// The migration whose new columns the store fills for the users already there (SHA-1 is not SQL).
const CONTACT_KEYS: i64 = 12;

/// Applies pending migrations inside one write transaction (so concurrent starters do not race).
pub(crate) async fn run(store: &Store) -> Result<()> {
    let mut tx = store.write().await?;
    if store.backend() == Backend::Postgres {
        tx.conn()
            .execute_batch("SELECT pg_advisory_xact_lock(4242424242)")
            .await?;
    }
    tx.conn()
        .execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await?;
    for m in MIGRATIONS {
        let applied: Option<i64> = tx
            .optional_scalar(
                "SELECT version FROM schema_migrations WHERE version = $1",
                (m.version,),
            )
            .await?;
        if applied.is_some() {
            continue;
        }
        let script = match store.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        tx.conn().execute_batch(script).await?;
        if m.version == CONTACT_KEYS {
            tx.fill_contact_keys().await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        tx.exec(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            (m.version, now),
        )
        .await?;
        tracing::info!(version = m.version, "applied migration");
    }
    tx.commit().await
}

impl Store {
    /// The migrations of this build the database has not applied (empty: up to date). Its one
    /// query also tells that the database answers (readiness checks).
    pub async fn pending_migrations(&self) -> Result<Vec<i64>> {
        let mut tx = self.read().await?;
        let applied: Vec<i64> = tx
            .all_scalars("SELECT version FROM schema_migrations", ())
            .await?;
        let pending = MIGRATIONS.iter().map(|m| m.version);
        Ok(pending.filter(|v| !applied.contains(v)).collect())
    }
}
