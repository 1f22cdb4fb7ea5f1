//! The state walletd's own commands build on a run's database.

use std::sync::Arc;
use walletd::clock::ManualClock;
use walletd::state::AppState;

/// The state walletd's own commands build on `database`, on the run's clock and randomness from
/// `seed`, with the wrong-code limit (counted in wall-clock minutes) lifted so that nothing
/// depends on real time.
pub async fn open_state(database: &str, clock: &ManualClock, seed: u64) -> AppState {
    let state = walletd::cli::admin::admin_state(database)
        .await
        .expect("state");
    let limits = walletd::limits::Limits {
        code_failures_per_minute: i64::MAX,
        ..Default::default()
    };
    AppState {
        clock: Arc::new(clock.clone()),
        limits: Arc::new(limits),
        entropy: walletd::entropy::Entropy::seeded(seed),
        ..state
    }
}
