//! A temporary directory for the unit tests that need files of their own, removed when dropped.

use std::path::PathBuf;

pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A new directory `walletd_{what}_{process}_{random}` in the system's temporary directory.
    pub(crate) fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "walletd_{what}_{}_{}",
            std::process::id(),
            wallet_core::keys::random_base62(&mut rand::rng(), 8)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// The file `name` in the directory.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
