//! One apply at a time per host. IPVS itself has no transactions: two
//! `lvslab apply` runs (or one and the live server's apply) that plan from
//! the same table and then both execute would each undo or duplicate the
//! other's work. Like dpkg's lock, a `flock(2)` on a file in /run (the
//! kernel releases it when the process dies, so a crash never leaves it
//! held) makes the second one stop with a clear message instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Where the lock lives (tmpfs: gone at reboot, like the IPVS table).
pub const LOCK_PATH: &str = "/run/lvslab-apply.lock";

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct ApplyLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another apply is running on this host (it holds {0}); wait for it to finish, then run again")]
    Busy(String),
    #[error("cannot open the apply lock {0}: {1}")]
    Open(String, std::io::Error),
}

impl ApplyLock {
    /// Take the lock at `path` without waiting.
    pub fn try_take(path: &Path) -> Result<ApplyLock, LockError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| LockError::Open(path.display().to_string(), e))?;
        match file.try_lock() {
            Ok(()) => Ok(ApplyLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy(path.display().to_string())),
            Err(TryLockError::Error(e)) => Err(LockError::Open(path.display().to_string(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_until_the_first_lets_go() {
        let p = std::env::temp_dir().join(format!("lvslab-lock-test-{}", std::process::id()));
        let first = ApplyLock::try_take(&p).unwrap();
        // flock(2) locks belong to the open file: a second open conflicts
        // even in the same process, as another process's would.
        let e = ApplyLock::try_take(&p).unwrap_err();
        assert!(matches!(e, LockError::Busy(_)), "{e}");
        assert!(e.to_string().contains("another apply is running"));
        drop(first);
        let again = ApplyLock::try_take(&p).unwrap();
        drop(again);
        let e = ApplyLock::try_take(Path::new("/nonexistent-dir/x.lock")).unwrap_err();
        assert!(matches!(e, LockError::Open(..)), "{e}");
        std::fs::remove_file(&p).unwrap();
    }
}
