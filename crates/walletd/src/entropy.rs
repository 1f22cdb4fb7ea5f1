//! Where the service's randomness comes from (transaction keys, reservation codes, correlation
//! keys, tokens and credentials): the operating system's CSPRNG in production, a fixed sequence
//! from a seed in simulations, so that a seed replays the same run.

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::{Arc, Mutex};

/// The source of the service's random values. [`Entropy::system`] (the default) seeds a fresh
/// ChaCha12 from the thread's OS-seeded CSPRNG for every draw; [`Entropy::seeded`] draws from
/// one generator seeded by the caller, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct Entropy(Option<Arc<Mutex<StdRng>>>);

impl Entropy {
    /// Production: unpredictable values.
    pub fn system() -> Entropy {
        Entropy(None)
    }

    /// A fixed sequence from `seed`: never for production, where values must be unpredictable.
    pub fn seeded(seed: u64) -> Entropy {
        Entropy(Some(Arc::new(Mutex::new(StdRng::seed_from_u64(seed)))))
    }

    /// Runs `draw` with the generator.
    pub fn draw<T>(&self, draw: impl FnOnce(&mut StdRng) -> T) -> T {
        match &self.0 {
            None => draw(&mut StdRng::from_rng(&mut rand::rng())),
            Some(shared) => {
                let mut rng = shared
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                draw(&mut rng)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn a_seed_replays_and_the_system_does_not() {
        let draw = |e: &Entropy| e.draw(|r| r.random::<u64>());
        let (a, b) = (Entropy::seeded(7), Entropy::seeded(7));
        assert_eq!([draw(&a), draw(&a)], [draw(&b), draw(&b)]);
        assert_ne!(draw(&a), draw(&a), "a seeded source moves on");
        let system = Entropy::system();
        assert_ne!(draw(&system), draw(&system));
    }
}
