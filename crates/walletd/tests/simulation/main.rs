//! A seeded deterministic simulation of walletd's service over a SQLite store: random
//! interleavings of creation (payments with price rules or freezes, allowances with windows and
//! a validity), reservation codes issued and used, reservations by code, by PIN (right, wrong,
//! guessed up to the lockout) and under an allowance, at prices chosen within the rules; FLASH
//! SMS sent and answered (by SMS or logged in), the confirmation page presented, taken over,
//! accepted (or waiting for funds until a top-up or the sweep) and rejected; confirmations with
//! reduction, revocations, payments canceled, finalized or given a new freeze end, allowances
//! canceled, top-ups, clock jumps with the sweep (deadlines, deletion by age, freeze ends) or
//! without it (a deadline then found by the next call), and restarts (the state dropped and the
//! store opened again from its file), by the demo project's two clients and a stranger's. The
//! model (`world`) says what each call must answer; after every step `invariants` reads the
//! store: the ledger sound, no account below zero, holds equal to the payments that hold,
//! status changes only as the spec and `wallet_core::status` allow, no allowance past its
//! limits, every transaction, payment and wallet as the model expects.
//!
//! `cargo test -p walletd --test simulation` runs 300 seeds of 60 steps. A failure names its
//! seed and step:
//!
//! ```text
//! WALLETD_SIM_SEED=<n> WALLETD_SIM_STEPS=<steps> cargo test -p walletd --test simulation  # one seed
//! WALLETD_SIM_SEEDS=1000000 WALLETD_SIM_STEPS=200 cargo test --release -p walletd --test simulation
//! ```
//!
//! `WALLETD_SIM_FIRST` moves the first seed, so that machines can share a range.

mod expect;
mod invariants;
mod operations;
mod state;
mod template;
mod world;

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::Arc;

/// Seeds (with their steps) that once found a bug, run first.
const REGRESSIONS: &[(u64, usize)] = &[
    // Deletion by age turned a canceled payment of a `new` transaction into a `deleted` one.
    (6, 100),
];

fn env(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number")),
    )
}

/// One run: `steps` random steps from `seed`, each followed by every invariant.
async fn run(
    template: Arc<template::Template>,
    seed: u64,
    steps: usize,
) -> Result<Reached, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = template.world(seed).await;
    let mut last = Vec::new();
    for step in 0..steps {
        let did = operations::step(&mut w, &mut rng).await;
        let did =
            did.map_err(|e| format!("step {step}: {e}\nlast steps:\n  {}", last.join("\n  ")))?;
        last.push(format!("{step}: {did}"));
        if last.len() > 10 {
            last.remove(0);
        }
        if let Err(e) = invariants::check(&mut w).await {
            return Err(format!(
                "after step {step}: {e}\nlast steps:\n  {}",
                last.join("\n  ")
            ));
        }
    }
    let reached = reached(&w);
    w.remove().await;
    Ok(reached)
}

/// What a run reached: statuses, ways of reserving, holders' answers, freeze changes, refusals.
type Reached = std::collections::BTreeSet<String>;

fn reached(w: &world::World) -> Reached {
    let mut r = w.reached.clone();
    for p in w.transactions.iter().flat_map(|t| &t.payments) {
        if p.state == world::PayState::Canceled {
            r.insert("canceled".into());
        }
    }
    r
}

/// What the runs of `cargo test` must reach together, so that a simulation that stopped reaching
/// something fails rather than passing by doing nothing.
const MUST_REACH: &[&str] = &[
    "new",
    "waiting",
    "waiting_funds",
    "reserved",
    "confirmed",
    "revoked",
    "rejected",
    "failed",
    "failed when touched",
    "deleted",
    "canceled",
    "reserved by code",
    "reserved by PIN",
    "reserved under an allowance",
    "reserved within an allowance's windows",
    "reserved with price rules",
    "allowance exceeded",
    "allowance canceled",
    "PIN locked",
    "FLASH sent",
    "FLASH reserved under an allowance",
    "FLASH answered by SMS",
    "FLASH answered logged in",
    "page presented",
    "accepted on the page",
    "waiting for funds",
    "reserved when funds arrived",
    "rejected on the page",
    "frozen and done",
    "freeze ended",
    "freeze moved",
    "freeze removed",
    "allowance",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_service_keeps_its_invariants() {
    let steps = env("WALLETD_SIM_STEPS").unwrap_or(60) as usize;
    let seeds: Vec<(u64, usize)> = match env("WALLETD_SIM_SEED") {
        Some(one) => vec![(one, steps)],
        None => {
            let first = env("WALLETD_SIM_FIRST").unwrap_or(0);
            let n = env("WALLETD_SIM_SEEDS").unwrap_or(300);
            let fresh = (first..first + n).map(|seed| (seed, steps));
            REGRESSIONS.iter().copied().chain(fresh).collect()
        }
    };
    let template = Arc::new(template::Template::build().await);
    let many = seeds.len() >= 100;
    let mut all = Reached::new();
    for (seed, steps) in seeds {
        let failure = match tokio::spawn(run(template.clone(), seed, steps)).await {
            Ok(Ok(reached)) => {
                all.extend(reached);
                continue;
            }
            Ok(Err(e)) => e,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
                Err(e) => e.to_string(),
            },
        };
        panic!(
            "seed {seed} failed: {failure}\nreplay: WALLETD_SIM_SEED={seed} WALLETD_SIM_STEPS={steps} cargo test -p walletd --test simulation"
        );
    }
    let missed: Vec<_> = MUST_REACH.iter().filter(|m| !all.contains(**m)).collect();
    assert!(
        !many || missed.is_empty(),
        "the runs never reached {missed:?}"
    );
}
