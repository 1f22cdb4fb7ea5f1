//! A seeded deterministic simulation of the domain core: random interleavings of top-ups,
//! creation, codes, allowances, reservations (by code, by allowance, with chosen prices),
//! confirmations with reduction, revocations, frozen payments finalized, canceled or given a new
//! end (`PUT payment/{id}/freeze` as `FreezeSpec` reads it), and clock jumps that fire deadlines,
//! deletion by age and freeze ends — every invariant checked after every step (`invariants`).
//!
//! `cargo test -p wallet-core --test simulation` runs 300 seeds. A failure names its seed:
//!
//! ```text
//! WALLETD_SIM_SEED=<n> cargo test -p wallet-core --test simulation   # replays one seed
//! WALLETD_SIM_SEEDS=1000000 cargo test --release -p wallet-core --test simulation
//! ```
//!
//! `WALLETD_SIM_SEEDS` runs seeds `0..n` (`WALLETD_SIM_FIRST` moves the start, so machines can
//! share a range); `WALLETD_SIM_STEPS` sets the steps per seed (200).

mod invariants;
mod model;
mod operations;

use rand::SeedableRng;
use rand::rngs::StdRng;

/// Seeds that once found a bug, run first (none in the core so far).
const REGRESSIONS: &[u64] = &[];

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number"))
    })
}

/// One run: `steps` random steps from `seed`, each followed by every invariant.
fn run(seed: u64, steps: usize) -> Result<model::World, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = model::World::new(1_700_000_000);
    for a in 1..=model::WALLETS {
        w.top_up(a, 0, 50_000);
        w.top_up(a, 1, 50_000);
    }
    let mut last = Vec::new();
    for step in 0..steps {
        let did = operations::step(&mut w, &mut rng).map_err(|e| format!("step {step}: {e}"))?;
        last.push(format!("{step}: {did}"));
        if last.len() > 8 {
            last.remove(0);
        }
        invariants::check(&w).map_err(|e| {
            format!(
                "after step {step} ({did}): {e}\nlast steps:\n  {}",
                last.join("\n  ")
            )
        })?;
    }
    Ok(w)
}

/// What the runs reached, so that a simulation that stopped reaching something fails.
#[derive(Default)]
struct Reached {
    statuses: std::collections::BTreeSet<&'static str>,
    code_uses: usize,
    allowance_spends: usize,
    finalized_frozen: usize,
    canceled_frozen: usize,
    refrozen: usize,
}

impl Reached {
    fn add(&mut self, w: &model::World) {
        for t in &w.transactions {
            self.statuses.extend(t.history.iter().map(|s| s.as_str()));
            for p in &t.payments {
                match (p.freeze_for, p.settled) {
                    (Some(_), model::Settled::Done(_)) => self.finalized_frozen += 1,
                    (_, model::Settled::Canceled) => self.canceled_frozen += 1,
                    _ => {}
                }
            }
        }
        self.refrozen += w.refrozen;
        self.code_uses += w.code_uses.iter().map(Vec::len).sum::<usize>();
        self.allowance_spends += w.allowances.iter().map(|a| a.spent.len()).sum::<usize>();
    }
}

#[test]
fn simulated_core_keeps_its_invariants() {
    let steps = env("WALLETD_SIM_STEPS").unwrap_or(200) as usize;
    let seeds: Vec<u64> = match env("WALLETD_SIM_SEED") {
        Some(one) => vec![one],
        None => {
            let first = env("WALLETD_SIM_FIRST").unwrap_or(0);
            let n = env("WALLETD_SIM_SEEDS").unwrap_or(300);
            REGRESSIONS
                .iter()
                .copied()
                .chain(first..first + n)
                .collect()
        }
    };
    let many = seeds.len() >= 100;
    let mut reached = Reached::default();
    for seed in seeds {
        let outcome = std::panic::catch_unwind(|| run(seed, steps));
        let failure = match outcome {
            Ok(Ok(w)) => {
                reached.add(&w);
                continue;
            }
            Ok(Err(e)) => e,
            Err(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        };
        panic!(
            "seed {seed} failed: {failure}\nreplay: WALLETD_SIM_SEED={seed} cargo test -p wallet-core --test simulation"
        );
    }
    if many {
        let all = [
            "new",
            "reserved",
            "confirmed",
            "revoked",
            "failed",
            "deleted",
        ];
        assert!(
            all.iter().all(|s| reached.statuses.contains(s)),
            "reached only {:?}",
            reached.statuses
        );
        assert!(
            reached.code_uses > 0 && reached.allowance_spends > 0,
            "no code or allowance used"
        );
        assert!(
            reached.refrozen > 0,
            "no freeze was given a new end ({} finalized)",
            reached.finalized_frozen
        );
        assert!(
            reached.finalized_frozen > 0 && reached.canceled_frozen > 0,
            "frozen payments: {} finalized, {} canceled",
            reached.finalized_frozen,
            reached.canceled_frozen
        );
    }
}
