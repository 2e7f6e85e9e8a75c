//! One apply at a time per host. IPVS itself has no transactions: two
//! `lvslab apply` runs (or one and the live server's apply) that plan from
//! the same table and then both execute would each undo or duplicate the
//! other's work. Like dpkg's lock, a `flock(2)` on a file in /run (the
//! kernel releases it when the process dies, so a crash never leaves it
//! held) makes the second one stop with a clear message instead.
//!
//! The lock lives in a directory only its owner can enter (`/run/lvslab/`,
//! mode 0700), in a file of mode 0600: a lock file other users can open
//! is a lock any local user can take and hold, blocking every apply
//! forever. A directory that is not ours, is a symbolic link or that
//! others can write to is refused, never used; one others can only enter
//! (as `mkdir -p` leaves it) is closed to 0700 first. `LVSLAB_RUN_DIR` names another
//! directory (for tests, or a service user's own runtime directory).

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The directory of the lock (tmpfs: gone at reboot, like the IPVS table).
pub const RUN_DIR: &str = "/run/lvslab";
/// The lock file's name in it.
pub const LOCK_FILE: &str = "apply.lock";

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
    #[error("refusing the apply lock directory {0}: {1}")]
    Unsafe(String, String),
}

/// The directory for lvslab's lock and token files.
pub fn run_dir() -> PathBuf {
    std::env::var_os("LVSLAB_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(RUN_DIR))
}

/// This process's effective user id (the owner of its `/proc/self`).
pub fn euid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// `dir`, created 0700 if missing, checked to be a real directory that
/// this user (or root) owns and nobody else can enter.
pub fn private_dir(dir: &Path) -> Result<&Path, LockError> {
    let name = || dir.display().to_string();
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(LockError::Open(name(), e)),
    }
    let m = std::fs::symlink_metadata(dir).map_err(|e| LockError::Open(name(), e))?;
    if !m.file_type().is_dir() {
        return Err(LockError::Unsafe(
            name(),
            "it is not a directory (a symbolic link?)".into(),
        ));
    }
    let me = euid();
    if m.uid() != 0 && Some(m.uid()) != me {
        return Err(LockError::Unsafe(
            name(),
            format!("it belongs to uid {}, not to this user or root", m.uid()),
        ));
    }
    if m.mode() & 0o022 != 0 {
        // Others could have put anything in it: do not use it.
        return Err(LockError::Unsafe(
            name(),
            format!(
                "its mode is {:o}: other users can write to it (remove it, or chmod 700 it)",
                m.mode() & 0o777
            ),
        ));
    }
    if m.mode() & 0o077 != 0 {
        // Ours (or root's, and we are root) but enterable by others, as
        // `mkdir -p` leaves it: close it.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| LockError::Open(name(), e))?;
    }
    Ok(dir)
}

impl ApplyLock {
    /// Take the host's lock (in [`run_dir`]) without waiting.
    pub fn take() -> Result<ApplyLock, LockError> {
        ApplyLock::try_take_in(&run_dir())
    }

    /// Take the lock in `dir` without waiting.
    pub fn try_take_in(dir: &Path) -> Result<ApplyLock, LockError> {
        let path = private_dir(dir)?.join(LOCK_FILE);
        let name = || path.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| LockError::Open(name(), e))?;
        // An older one may have been created with a laxer umask.
        let m = file.metadata().map_err(|e| LockError::Open(name(), e))?;
        if m.mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| LockError::Open(name(), e))?;
        }
        match file.try_lock() {
            Ok(()) => Ok(ApplyLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy(name())),
            Err(TryLockError::Error(e)) => Err(LockError::Open(name(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("lvslab-lock-{tag}-{}", std::process::id()))
    }

    #[test]
    fn a_second_taker_is_refused_until_the_first_lets_go() {
        let d = temp("busy");
        let first = ApplyLock::try_take_in(&d).unwrap();
        // flock(2) locks belong to the open file: a second open conflicts
        // even in the same process, as another process's would.
        let e = ApplyLock::try_take_in(&d).unwrap_err();
        assert!(matches!(e, LockError::Busy(_)), "{e}");
        assert!(e.to_string().contains("another apply is running"));
        drop(first);
        let again = ApplyLock::try_take_in(&d).unwrap();
        drop(again);
        let e = ApplyLock::try_take_in(Path::new("/nonexistent-dir/x")).unwrap_err();
        assert!(matches!(e, LockError::Open(..)), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_lock_is_private_and_lax_places_are_refused() {
        let d = temp("modes");
        let l = ApplyLock::try_take_in(&d).unwrap();
        let dm = std::fs::metadata(&d).unwrap().mode() & 0o777;
        let fm = std::fs::metadata(d.join(LOCK_FILE)).unwrap().mode() & 0o777;
        assert_eq!((dm, fm), (0o700, 0o600));
        drop(l);
        // A lock file someone made world-writable is made private again.
        std::fs::set_permissions(d.join(LOCK_FILE), std::fs::Permissions::from_mode(0o666))
            .unwrap();
        drop(ApplyLock::try_take_in(&d).unwrap());
        let fm = std::fs::metadata(d.join(LOCK_FILE)).unwrap().mode() & 0o777;
        assert_eq!(fm, 0o600);
        // A directory others can enter is closed; one they can write to is
        // refused.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        drop(ApplyLock::try_take_in(&d).unwrap());
        assert_eq!(std::fs::metadata(&d).unwrap().mode() & 0o777, 0o700);
        for mode in [0o777, 0o730, 0o703] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = ApplyLock::try_take_in(&d).unwrap_err();
            assert!(matches!(e, LockError::Unsafe(..)), "{e}");
            assert!(e.to_string().contains("can write to it"), "{e}");
        }
        // So is a symbolic link to a good one.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = temp("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&d, &link).unwrap();
        let e = ApplyLock::try_take_in(&link).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}
