//! The marker file, `<our cache dir>/hook-marker`: its mtime tells every shell's hook that
//! something it depends on changed (an allow, a deny, a login, a logout), so each runs once more
//! at its next prompt. The commands that change those things touch it.

use std::path::PathBuf;

use crate::env::Environment;
use crate::fs::{self, FileMode, FsError};

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
    Some(crate::dirs::cache_dir(env)?.join("hook-marker"))
}

/// Sets the marker's mtime to now by replacing it atomically (0600, in a private directory):
/// a rename replaces whatever is at the path, so a symlink planted there is never followed.
pub fn touch(env: &Environment) -> Result<(), MarkerError> {
    let path = self::path(env).ok_or(MarkerError::NoCacheDir)?;
    let now = std::time::SystemTime::now();
    // The content only helps a person looking at the file; the hook reads the mtime.
    let seconds = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    fs::write_atomic(&path, format!("{seconds}\n").as_bytes(), FileMode::Private)?;
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

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_marker_is_replaced_never_followed() {
        use std::os::unix::fs::PermissionsExt as _;
        let home = tempfile::tempdir().expect("tempdir");
        let env = Environment::from_pairs([("HOME", home.path().to_string_lossy())]);
        let marker = path(&env).expect("marker path");
        std::fs::create_dir_all(marker.parent().expect("dir")).expect("mkdir");
        let victim = home.path().join("victim");
        std::fs::write(&victim, "precious\n").expect("write");
        std::os::unix::fs::symlink(&victim, &marker).expect("plant");
        touch(&env).expect("touch");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "precious\n");
        let meta = std::fs::symlink_metadata(&marker).expect("marker");
        assert!(meta.file_type().is_file(), "the link itself was replaced");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}
