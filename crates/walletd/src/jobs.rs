//! Background work: failing reservations past their deadline, forgetting old nonces, delivering
//! callbacks; and the metrics' upkeep.

use crate::state::AppState;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often, at most, the sweeper counts the callback outbox's backlog for its gauges (a query
/// that reads every undelivered row: a scrape never runs it).
pub const OUTBOX_GAUGES_EVERY: Duration = Duration::from_secs(10);

/// Runs the sweeper every `interval` until `shutdown` turns true.
pub async fn sweeper(state: AppState, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut outbox_counted: Option<Instant> = None;
    loop {
        if let Err(e) = sweep_once(&state).await {
            tracing::warn!(error = %e, "sweep failed; will retry");
        }
        if outbox_counted.is_none_or(|at| at.elapsed() >= OUTBOX_GAUGES_EVERY) {
            outbox_counted = Some(Instant::now());
            let now = crate::clock::wall_now();
            if let Err(e) = crate::telemetry::refresh_outbox(&state.store, now).await {
                tracing::warn!(error = %e, "counting the callback outbox failed");
            }
        }
        state.telemetry.upkeep();
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One pass over everything time-driven (see `service::lifecycle::sweep`).
pub async fn sweep_once(state: &AppState) -> anyhow::Result<usize> {
    crate::service::lifecycle::sweep(state).await
}

/// Delivers recorded callbacks until `shutdown` turns true: claims due rows one by one (up to
/// `settings.concurrency` in flight, so a slow receiver does not hold up the others), and looks
/// again every `settings.poll` when none is due. On shutdown it stops claiming and lets the
/// attempts in flight finish (each is bounded by the request timeout); anything not recorded as
/// delivered is attempted again by the next start, from the database.
pub async fn callback_worker(
    state: AppState,
    settings: crate::callbacks::delivery::DeliverySettings,
    mut shutdown: watch::Receiver<bool>,
) {
    use crate::callbacks::delivery as callbacks;
    use std::sync::Arc;
    let deliverer = match callbacks::Deliverer::new(settings) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            tracing::error!(error = %e, "callback delivery cannot start");
            return;
        }
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        if *shutdown.borrow() {
            break;
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        match callbacks::claim_next(&state).await {
            Ok(Some(row)) => {
                let (state, deliverer) = (state.clone(), deliverer.clone());
                in_flight.spawn(async move {
                    callbacks::attempt(&state, &deliverer, row).await;
                    drop(permit);
                });
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "claiming callbacks failed; will retry"),
        }
        drop(permit);
        tokio::select! {
            _ = tokio::time::sleep(settings.poll) => {}
            _ = shutdown.changed() => break,
        }
    }
    while in_flight.join_next().await.is_some() {}
}
