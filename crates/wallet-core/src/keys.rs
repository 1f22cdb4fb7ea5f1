//! Unguessable identifiers handed to clients.
//!
//! Every function here draws from the random source its caller passes, so that a test can fix
//! the seed and replay a key. The keys are secrets or must be unguessable, so outside tests the
//! caller passes a CSPRNG: the thread's generator, `ThreadRng` (ChaCha12, reseeded from the OS).
//! The `CryptoRng` bound refuses the fast generators that are not cryptographic.

use rand::{CryptoRng, RngExt};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of a `transaction_key`: 20 base62 characters, about 119 bits.
pub const TRANSACTION_KEY_LEN: usize = 20;

/// A fresh random base62 string of `len` characters drawn from `rng`.
pub fn random_base62(rng: &mut impl CryptoRng, len: usize) -> String {
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// Leading characters of a time-ordered key ([`new_transaction_key`], [`time_ordered_base62`],
/// the SDK's nonces and idempotency keys) that say when it was made: wall-clock milliseconds since the UNIX epoch, base62, most
/// significant first (62^7 ms is 111 years: they wrap in 2081, which costs only the ordering
/// below, for a moment).
pub const TIME_PREFIX_LEN: usize = 7;

/// [`TIME_PREFIX_LEN`] base62 digits of `millis`, most significant first. Base62 digits
/// are in ASCII order, so these sort as the times do.
pub fn time_prefix(millis: u64) -> [u8; TIME_PREFIX_LEN] {
    let mut time = [0u8; TIME_PREFIX_LEN];
    let mut rest = millis;
    for digit in time.iter_mut().rev() {
        *digit = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    time
}

/// A key of `len` base62 characters made at `millis`: [`time_prefix`], then random characters.
/// For `len` > [`TIME_PREFIX_LEN`].
///
/// Why the time: keys made close in time sort next to each other, so a B-tree index on them gains
/// entries at its end, on pages that a group commit shares, instead of one random page each (and
/// its page split, and on PostgreSQL its full-page image after a checkpoint). On SQLite a random
/// key cost about 1.3 pages of WAL per insert (bench/README.md).
pub fn time_ordered_base62(rng: &mut impl CryptoRng, millis: u64, len: usize) -> String {
    let mut key: String = time_prefix(millis).iter().map(|&b| b as char).collect();
    key.push_str(&random_base62(rng, len.saturating_sub(TIME_PREFIX_LEN)));
    key
}

/// A new `transaction_key`, made at `millis` (wall-clock milliseconds since the UNIX epoch):
/// URL-safe, so the PHP client can concatenate it into paths; [`TIME_PREFIX_LEN`]
/// characters of `millis`, then random ones (13, about 77 bits: still unguessable). The time
/// orders the indexes on the key (the transaction's, its payments', its events'):
/// [`time_ordered_base62`].
pub fn new_transaction_key(rng: &mut impl CryptoRng, millis: u64) -> crate::ids::TransactionKey {
    crate::ids::TransactionKey::issued(time_ordered_base62(rng, millis, TRANSACTION_KEY_LEN))
}

/// Letters and digits a holder cannot misread on a phone (no 0/O, 1/I).
const CORRELATION: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A FLASH SMS `correlation_key`: 4 characters shown both in the SMS and on the client's page,
/// so that the holder can tell she is confirming the right transaction.
pub fn new_correlation_key(rng: &mut impl CryptoRng) -> String {
    (0..4)
        .map(|_| CORRELATION[rng.random_range(0..CORRELATION.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TransactionKey;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn seeded(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    #[test]
    fn keys_are_base62_and_distinct() {
        let mut rng = seeded(1);
        let a = new_transaction_key(&mut rng, 1_763_800_000_000);
        let b = new_transaction_key(&mut rng, 1_763_800_000_000);
        assert_eq!(a.len(), 20);
        assert!(TransactionKey::parse(&a).is_some());
        assert_ne!(a, b, "the same millisecond, different random parts");
        assert_eq!(a[..7], b[..7]);
        assert!(TransactionKey::parse("../etc").is_none());
    }

    #[test]
    fn a_seed_replays_the_same_keys() {
        let t = 1_763_800_000_000;
        let draw = |seed| {
            let mut rng = seeded(seed);
            (
                new_transaction_key(&mut rng, t),
                random_base62(&mut rng, 43),
                new_correlation_key(&mut rng),
            )
        };
        assert_eq!(draw(7), draw(7));
        let (a, b) = (draw(7), draw(8));
        assert_ne!(a.0, b.0);
        assert_ne!(a.1, b.1);
    }

    #[test]
    fn every_seed_draws_from_the_alphabets() {
        let mut correlation_keys = std::collections::HashSet::new();
        for seed in 0..500 {
            let mut rng = seeded(seed);
            let key = random_base62(&mut rng, 43);
            assert_eq!(key.len(), 43);
            assert!(key.bytes().all(|b| BASE62.contains(&b)), "{key}");
            let correlation = new_correlation_key(&mut rng);
            assert_eq!(correlation.len(), 4);
            assert!(
                correlation.bytes().all(|b| CORRELATION.contains(&b)),
                "{correlation}"
            );
            correlation_keys.insert(correlation);
        }
        // 500 draws of 32^4 ≈ 10^6 keys: a handful of collisions at most, not a stuck generator.
        assert!(correlation_keys.len() > 490, "{}", correlation_keys.len());
    }

    proptest::proptest! {
        #[test]
        fn time_ordered_keys_sort_in_the_order_they_were_made(
            seed: u64,
            t in 0u64..62u64.pow(7) - 1,
            step in 1u64..1_000_000,
            len in 8usize..64,
        ) {
            let later = (t + step).min(62u64.pow(7) - 1);
            proptest::prop_assume!(later > t);
            let mut rng = seeded(seed);
            let a = time_ordered_base62(&mut rng, t, len);
            let b = time_ordered_base62(&mut rng, later, len);
            proptest::prop_assert!(a < b, "{a} made before {b}");
            proptest::prop_assert_eq!(a.len(), len);
            proptest::prop_assert!(TransactionKey::parse(&a).is_some());
            let time = time_prefix(t);
            proptest::prop_assert_eq!(&a.as_bytes()[..TIME_PREFIX_LEN], time.as_slice());
        }

        #[test]
        fn keys_sort_in_the_order_they_were_made(
            seed: u64,
            t in 0u64..62u64.pow(7) - 1,
            step in 1u64..1_000_000,
        ) {
            let later = (t + step).min(62u64.pow(7) - 1);
            proptest::prop_assume!(later > t);
            let mut rng = seeded(seed);
            let (a, b) = (new_transaction_key(&mut rng, t), new_transaction_key(&mut rng, later));
            proptest::prop_assert!(a < b, "{a} made before {b}");
            proptest::prop_assert_eq!(a.len(), TRANSACTION_KEY_LEN);
        }
    }
}
