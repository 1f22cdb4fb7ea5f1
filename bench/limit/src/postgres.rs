//! The limit on PostgreSQL: a fresh database with walletd's schema, seeded, and `flow.sql` run by
//! pgbench with one client per till; per-request latencies from pgbench's per-transaction log.

use crate::pgbench_log::Tally;
use crate::{Common, fresh_name, schema_and_cash_out_point, unix_now};
use anyhow::{Context, ensure};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, PgPool};
use std::path::Path;
use std::process::Command;
use walletd_load::report::Report;
use walletd_load::setup::CashOutPoint;

/// The pgbench script (also at `bench/limit/flow.sql`).
const FLOW_SQL: &str = include_str!("../flow.sql");

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let scheme_end = head.find("://").context("not a postgres:// URL")? + 3;
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    Ok(match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    })
}

pub async fn run(
    common: &Common,
    admin_url: &str,
    pgbench: &str,
    jobs: usize,
) -> anyhow::Result<Report> {
    let name = fresh_name();
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await
        .with_context(|| format!("cannot connect to {admin_url}"))?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let url = with_database(admin_url, &name)?;
    let result = measure(common, &url, pgbench, jobs).await;
    if common.keep {
        eprintln!("walletd-limit: kept database {name}");
    } else {
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await?;
    }
    admin.close().await;
    result
}

/// The payers (a user, a wallet and a funded EUR account each) and every client's codes, in SQL:
/// one statement each rather than a round trip per row.
async fn seed_payers(
    pool: &PgPool,
    common: &Common,
    hot_wallet: i64,
    now: i64,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO users (email, password_hash, created_at) SELECT 'limit-payer-' || g || '@walletd.invalid', '!', $1 FROM generate_series(1, $2) g",
    )
    .bind(now)
    .bind(common.wallets() as i64)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO wallets (owner_user_id, created_at) SELECT id, $1 FROM users WHERE email LIKE 'limit-payer-%' ORDER BY id",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO accounts (wallet_id, currency, balance, reserved) SELECT id, 'EUR', 1000000000000, 0 FROM wallets WHERE id <> $1",
    )
    .bind(hot_wallet)
    .execute(&mut *tx)
    .await?;
    // Client c's n-th code (hashed as flow.sql looks it up), bound to a random payer.
    sqlx::query(
        "WITH payers AS (SELECT row_number() OVER (ORDER BY id) - 1 AS i, id FROM wallets WHERE id <> $1), \
              codes AS (SELECT c, n, floor(random() * (SELECT count(*) FROM payers))::bigint AS i \
                        FROM generate_series(0, $2 - 1) c, generate_series(0, $3 - 1) n) \
         INSERT INTO reservation_codes (code_hash, wallet_id, created_at, expires_at) \
         SELECT encode(sha256(convert_to('c-' || codes.c || '-' || codes.n, 'UTF8')), 'hex'), payers.id, $4, $4 + 86400 \
         FROM codes JOIN payers ON payers.i = codes.i",
    )
    .bind(hot_wallet)
    .bind(common.tills as i64)
    .bind(common.codes_per_till() as i64)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

async fn measure(common: &Common, url: &str, pgbench: &str, jobs: usize) -> anyhow::Result<Report> {
    let now = unix_now();
    let seeding = std::time::Instant::now();
    let point = schema_and_cash_out_point(url, now).await?;
    let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
    seed_payers(&pool, common, point.wallet.get(), now).await?;
    pool.close().await;
    eprintln!(
        "walletd-limit: seeded {url} in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let dir = std::env::temp_dir().join(fresh_name());
    std::fs::create_dir_all(&dir)?;
    let result = run_pgbench(common, url, pgbench, jobs, &point, now, &dir);
    if !common.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run_pgbench(
    common: &Common,
    url: &str,
    pgbench: &str,
    jobs: usize,
    point: &CashOutPoint,
    now: i64,
    dir: &Path,
) -> anyhow::Result<Report> {
    let script = dir.join("flow.sql");
    std::fs::write(&script, FLOW_SQL)?;
    let prefix = dir.join("pgbench");
    let mut cmd = Command::new(pgbench);
    cmd.args(["-n", "-M", "prepared"])
        .args(["-c", &common.tills.to_string()])
        .args(["-j", &jobs.clamp(1, common.tills.max(1)).to_string()])
        .args(["-T", &format!("{}", common.seconds.ceil() as u64)])
        .args(["-D", "phase=0", "-D", "n=0"])
        .args(["-D", &format!("project_id={}", point.project_id)])
        .args(["-D", &format!("api_client={}", point.clients[0])])
        .args(["-D", &format!("hot_wallet={}", point.wallet)])
        .args(["-D", &format!("hot_account={}", point.account)])
        .args(["-D", &format!("amount={}", common.amount)])
        .args(["-D", &format!("now={now}")])
        .arg("-f")
        .arg(&script)
        .arg("-l")
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(url);
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {pgbench}; install PostgreSQL's client tools"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stdout.lines().chain(stderr.lines()) {
        eprintln!("pgbench: {line}");
    }
    let aborted = stderr.lines().filter(|l| l.contains(" aborted ")).count() as u64;
    ensure!(
        out.status.success() || aborted > 0,
        "pgbench failed ({})",
        out.status
    );

    let mut tally = Tally::default();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("pgbench."));
        if is_log {
            tally.add(&std::fs::read_to_string(&path)?)?;
        }
    }
    eprintln!(
        "walletd-limit: postgres: {} flows in {:.2} s; {}",
        tally.flows,
        tally.elapsed().as_secs_f64(),
        tally.latencies.breakdown()
    );
    Ok(Report::new(
        "postgres",
        common.mode(),
        common.tills,
        tally.flows,
        tally.elapsed(),
        &tally.latencies,
        tally.failed + aborted,
        0.0,
    )
    .with_instances(0))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://h:5433", "x").unwrap(),
            "postgresql://h:5433/x"
        );
        assert!(with_database("nonsense", "x").is_err());
    }
}
