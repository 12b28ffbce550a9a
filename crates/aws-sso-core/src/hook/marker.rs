//! The marker file, `<our cache dir>/hook-marker`: its mtime tells every shell's hook that
//! something it depends on changed (an allow, a deny, a login, a logout), so each runs once more
//! at its next prompt. The commands that change those things touch it.

use std::io::Write as _;
use std::path::PathBuf;

use crate::cache::our_cache_dir;
use crate::env::Environment;
use crate::fs::{self, FsError};

/// Why the marker could not be touched.
#[derive(Debug, thiserror::Error)]
pub enum MarkerError {
    #[error(
        "cannot find where to keep the shell hook's marker file: set HOME, or XDG_CACHE_HOME to an absolute path"
    )]
    NoCacheDir,
    #[error(transparent)]
    File(#[from] FsError),
}

/// `<our cache dir>/hook-marker`: its mtime tells the shell hook that something it depends on
/// changed (an allow, a deny, a login, a logout).
pub fn path(env: &Environment) -> Option<PathBuf> {
    Some(our_cache_dir(env)?.join("hook-marker"))
}

/// Sets the marker's mtime to now, creating it (in a private directory) when missing.
pub fn touch(env: &Environment) -> Result<(), MarkerError> {
    let path = self::path(env).ok_or(MarkerError::NoCacheDir)?;
    fs::create_private_dir(fs::parent_dir(&path))?;
    let fail = |action, source| FsError { action, path: path.clone(), source };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| fail("open", e))?;
    let now = std::time::SystemTime::now();
    // The content only helps a person looking at the file; the hook reads the mtime.
    let seconds = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    writeln!(file, "{seconds}").map_err(|e| fail("write", e))?;
    file.set_modified(now).map_err(|e| fail("set the modification time of", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_created_and_its_mtime_moves() {
        let home = tempfile::tempdir().expect("tempdir");
        let env = Environment::from_pairs([("HOME", home.path().to_string_lossy())]);
        let marker = path(&env).expect("marker path");
        assert_eq!(marker, home.path().join(".cache/aws-sso/hook-marker"));
        touch(&env).expect("touch");
        assert!(marker.is_file());
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options()
            .write(true)
            .open(&marker)
            .and_then(|f| f.set_modified(long_ago))
            .expect("backdate");
        touch(&env).expect("touch again");
        let mtime = std::fs::metadata(&marker).and_then(|m| m.modified()).expect("mtime");
        assert!(mtime > long_ago + std::time::Duration::from_secs(86_400), "{mtime:?}");
        assert!(matches!(touch(&Environment::default()), Err(MarkerError::NoCacheDir)));
    }
}
