//! Cross-process locks: one login, refresh or role-credential fetch per session at a time.
//!
//! Locks are advisory `flock`-style locks (std `File::lock`) on files in our own cache directory,
//! never in `~/.aws`, so the AWS CLI's directories stay clean. The OS releases a lock when its
//! process dies, so a killed process never leaves one behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::cache::{CacheError, RoleCredentialsKey, our_cache_dir, sha1_hex};
use crate::env::Environment;
use crate::fs::{create_private_dir, parent_dir};

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
    pub fn acquire(path: &Path) -> Result<FileLock, CacheError> {
        let file = open_lock_file(path)?;
        file.lock().map_err(|e| CacheError::io("lock", path, e))?;
        Ok(FileLock { file })
    }

    /// Takes the lock at `path` if it is free; `None` when another holder has it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>, CacheError> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(CacheError::io("lock", path, e)),
        }
    }

    /// [`FileLock::acquire`] on a blocking thread, for async callers.
    pub async fn acquire_async(path: PathBuf) -> Result<FileLock, CacheError> {
        let waiting_on = path.clone();
        match tokio::task::spawn_blocking(move || FileLock::acquire(&path)).await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(CacheError::LockInterrupted { path: waiting_on }),
        }
    }
}

fn open_lock_file(path: &Path) -> Result<File, CacheError> {
    create_private_dir(parent_dir(path))?;
    let mut options = OpenOptions::new();
    // Never truncate: the file may be locked by someone else right now.
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| CacheError::io("open the lock file", path, e))
}

/// `<our cache dir>/locks`. Without a home directory (where nothing else works either) the
/// system temporary directory stands in, so a lock can still be taken.
fn locks_dir(env: &Environment) -> PathBuf {
    our_cache_dir(env).unwrap_or_else(|| std::env::temp_dir().join("aws-sso")).join("locks")
}

/// The lock around login and token refresh of a session: `identifier` is the sso-session name,
/// or the start URL of a legacy profile (what the token file is named after).
pub fn session_lock_path(env: &Environment, identifier: &str) -> PathBuf {
    locks_dir(env).join(format!("login-{}.lock", sha1_hex(identifier)))
}

/// The lock around fetching one role's credentials.
pub fn role_lock_path(env: &Environment, key: &RoleCredentialsKey) -> PathBuf {
    locks_dir(env).join(format!("role-{}.lock", key.cache_key()))
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

    #[test]
    fn lock_paths_live_in_our_cache_dir() {
        let env = Environment::from_pairs([("HOME", "/home/me")]);
        assert_eq!(
            session_lock_path(&env, "admin"),
            Path::new(
                "/home/me/.cache/aws-sso/locks/login-d033e22ae348aeb5660fc2140aec35850c4da997.lock"
            )
        );
        let key = RoleCredentialsKey::Session {
            session_name: "my-sso".to_owned(),
            account_id: "012345678912".to_owned(),
            role_name: "SSORole".to_owned(),
        };
        assert_eq!(
            role_lock_path(&env, &key),
            Path::new(
                "/home/me/.cache/aws-sso/locks/role-6eeddf27be175542f3ea0a5ab0565fb1a98e5017.lock"
            )
        );
        let nowhere = session_lock_path(&Environment::default(), "admin");
        assert!(nowhere.starts_with(std::env::temp_dir()), "{}", nowhere.display());
    }
}
