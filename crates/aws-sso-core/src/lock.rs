//! Cross-process locks: one login, refresh or role-credential fetch per session at a time.
//!
//! Locks are advisory `flock`-style locks (std `File::lock`) on files in our own cache directory
//! ([`crate::cache::locks`] names them), never in `~/.aws`, so the AWS CLI's directories stay clean. The OS releases a lock when its
//! process dies, so a killed process never leaves one behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::fs::{FsError, create_private_dir, parent_dir};

/// A lock that could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("could not {action} {}: {}; {}", path.display(), crate::fs::plain(source), crate::fs::io_hint(source))]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("waiting for the lock {} was interrupted; run the command again", path.display())]
    Interrupted { path: PathBuf },
}

impl LockError {
    /// `true` when the lock file cannot be created at all (a read-only file system, a directory
    /// we may not write, a file where its directory should be): waiting would never help, so a
    /// caller may go on without the lock.
    pub fn cannot_create(&self) -> bool {
        use std::io::ErrorKind as Kind;
        match self {
            LockError::Io { action, source, .. } => {
                *action != "lock"
                    && matches!(
                        source.kind(),
                        Kind::ReadOnlyFilesystem
                            | Kind::PermissionDenied
                            | Kind::NotADirectory
                            | Kind::AlreadyExists
                    )
            }
            LockError::Interrupted { .. } => false,
        }
    }
}

impl From<FsError> for LockError {
    fn from(e: FsError) -> Self {
        LockError::Io { action: e.action, path: e.path, source: e.source }
    }
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct FileLock {
    // Held only so that closing it on drop releases the lock.
    #[allow(dead_code)]
    file: File,
}

impl FileLock {
    /// Waits until the lock at `path` is free and takes it. Creates the lock file (0600) and its
    /// directory (0700) when missing. Blocks the thread: async callers use
    /// [`FileLock::acquire_async`].
    pub fn acquire(path: &Path) -> Result<FileLock, LockError> {
        let file = open_lock_file(path)?;
        file.lock().map_err(|e| LockError::Io {
            action: "lock",
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(FileLock { file })
    }

    /// Takes the lock at `path` if it is free; `None` when another holder has it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>, LockError> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => {
                Err(LockError::Io { action: "lock", path: path.to_path_buf(), source: e })
            }
        }
    }

    /// [`FileLock::acquire`] on a blocking thread, for async callers.
    pub async fn acquire_async(path: PathBuf) -> Result<FileLock, LockError> {
        let waiting_on = path.clone();
        match tokio::task::spawn_blocking(move || FileLock::acquire(&path)).await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(LockError::Interrupted { path: waiting_on }),
        }
    }
}

fn open_lock_file(path: &Path) -> Result<File, LockError> {
    create_private_dir(parent_dir(path))?;
    let mut options = OpenOptions::new();
    // Never truncate: the file may be locked by someone else right now.
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| LockError::Io {
        action: "open the lock file",
        path: path.to_path_buf(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_second_holder_waits_until_the_first_drops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("locks").join("login.lock");
        let first = FileLock::acquire(&path).expect("first");

        let (tx, rx) = mpsc::channel();
        let waiter_path = path.clone();
        let waiter = std::thread::spawn(move || {
            let lock = FileLock::acquire(&waiter_path).expect("second");
            tx.send(()).expect("send");
            drop(lock);
        });

        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "second got the lock early");
        assert!(FileLock::try_acquire(&path).expect("try").is_none());
        drop(first);
        rx.recv_timeout(Duration::from_secs(10)).expect("second gets the lock after the drop");
        waiter.join().expect("join");
        assert!(FileLock::try_acquire(&path).expect("try").is_some());
    }

    #[test]
    fn try_acquire_takes_a_free_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.lock");
        let held = FileLock::try_acquire(&path).expect("try").expect("free");
        assert!(FileLock::try_acquire(&path).expect("try").is_none());
        drop(held);
        assert!(FileLock::try_acquire(&path).expect("try").is_some());
    }

    #[cfg(unix)]
    #[test]
    fn creates_a_private_file_in_a_private_dir() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("aws-sso").join("locks").join("a.lock");
        let _lock = FileLock::acquire(&path).expect("lock");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("aws-sso").join("locks")), 0o700);
        assert_eq!(mode(&dir.path().join("aws-sso")), 0o700);
    }

    #[tokio::test]
    async fn acquire_async_waits_without_blocking_the_runtime() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.lock");
        let first = FileLock::acquire(&path).expect("first");
        let waiting = tokio::spawn(FileLock::acquire_async(path.clone()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished());
        drop(first);
        let second = waiting.await.expect("join").expect("second");
        drop(second);
        assert!(FileLock::try_acquire(&path).expect("try").is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_in_a_directory_we_may_not_write_cannot_be_created() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let locked = dir.path().join("ro");
        std::fs::create_dir(&locked).expect("mkdir");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).expect("chmod");
        let result = FileLock::acquire(&locked.join("locks").join("a.lock"));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        // Root writes anywhere: then the lock is simply taken.
        if let Err(e) = result {
            assert!(e.cannot_create(), "{e}");
        }

        // A file where the locks directory should be: the same, for root too.
        std::fs::write(dir.path().join("locks"), "").expect("write");
        let err = FileLock::acquire(&dir.path().join("locks").join("a.lock")).expect_err("no dir");
        assert!(err.cannot_create(), "{err}");
        let err = FileLock::acquire(&dir.path().join("locks").join("x").join("a.lock"))
            .expect_err("no dir");
        assert!(err.cannot_create(), "{err}");
        assert!(!LockError::Interrupted { path: locked }.cannot_create());
    }
}
