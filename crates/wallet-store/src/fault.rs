//! A commit whose outcome the caller never learns, for tests (`testing` feature; nothing in a
//! build without it): the connection lost after `COMMIT` was sent, as in a failover
//! (`bench/failover.sh`). The transaction commits, and [`crate::Tx::commit`] reports it
//! unavailable all the same.

use crate::Result;
#[cfg(feature = "testing")]
use std::sync::{Arc, atomic::AtomicU32, atomic::Ordering};

/// The commits still to report lost, shared by a store and its transactions.
#[derive(Clone, Default)]
pub(crate) struct CommitFaults {
    #[cfg(feature = "testing")]
    lost: Arc<AtomicU32>,
}

impl CommitFaults {
    /// After a commit of an API request's transaction: the error to report instead of success, if
    /// one is due.
    pub(crate) fn after_commit(&self) -> Result<()> {
        #[cfg(feature = "testing")]
        if self
            .lost
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(crate::StoreError::db(
                crate::ErrorKind::Unavailable,
                "the connection was lost after COMMIT (a fault injected by a test)",
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl crate::Store {
    /// Tests: the next `n` commits that record an API request ([`crate::serve_request`]) commit,
    /// then fail as unavailable, as if the connection were lost before the answer to `COMMIT`.
    pub fn lose_commit_outcomes(&self, n: u32) {
        self.commit_faults.lost.fetch_add(n, Ordering::SeqCst);
    }
}
