//! Files we write: atomically, and private when they may hold a secret.
//!
//! A file is written to a temporary file in the same directory, fsynced and renamed over the
//! target: a crash or Ctrl-C leaves the old file or the new one, never half of one. A `kill -9`
//! between the two can leave the private temporary file behind; the next write of the same file
//! removes it once it is old enough not to be another writer's. Directories we create are 0700.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What failed, on which path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {}", path.display(), plain(source))]
pub struct FsError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// An I/O error without the path some wrappers (tempfile) append, since ours says it already.
pub(crate) fn plain(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" at path ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// What a person can do about a failed write: free space when that is the cause, else check
/// ownership and permissions. Written once here for every error type that reports one.
pub(crate) fn io_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge | io::ErrorKind::QuotaExceeded => {
            "free some disk space (or raise the file-size limit) and run the command again; the previous file is unchanged"
        }
        _ => "check that you own it and that its permissions allow this",
    }
}

impl FsError {
    fn new(action: &'static str, path: &Path, source: io::Error) -> Self {
        // tempfile wraps errors with the temporary file's path; keep the kind and the reason
        // only, since the message names the real file.
        let source = match source.get_ref() {
            Some(_) => io::Error::new(source.kind(), plain(&source)),
            None => source,
        };
        Self { action, path: path.to_path_buf(), source }
    }
}

/// The mode a written file gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileMode {
    /// 0600, always: caches that hold tokens or credentials.
    Private,
    /// The mode the file had; 0600 for a new file (a user's `~/.aws/config`).
    KeepExisting,
}

/// Writes `bytes` to `path` atomically.
///
/// Creates the parent directory (0700) when it is missing; an existing directory keeps its mode,
/// since `~/.aws` and its subdirectories belong to the user and the AWS CLI.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: FileMode) -> Result<(), FsError> {
    let dir = parent_dir(path);
    create_private_dir(dir)?;
    let keep = match mode {
        FileMode::Private => None,
        FileMode::KeepExisting => match fs::metadata(path) {
            Ok(meta) => Some(meta.permissions()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(FsError::new("read the permissions of", path, e)),
        },
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // The temporary file is created 0600 by tempfile, and deleted on drop if anything fails.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .rand_bytes(TEMPORARY_RANDOM_CHARS)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| FsError::new("create a temporary file in", dir, e))?;
    // Errors name the file the user knows, not the temporary one (which is gone with them).
    temp.write_all(bytes).map_err(|e| FsError::new("write", path, e))?;
    if let Some(permissions) = keep {
        temp.as_file()
            .set_permissions(permissions)
            .map_err(|e| FsError::new("set the permissions of", path, e))?;
    }
    temp.as_file().sync_all().map_err(|e| FsError::new("flush to disk", path, e))?;
    temp.persist(path).map_err(|e| FsError::new("replace", path, e.error))?;
    sync_dir(dir);
    sweep_stale_temporaries(dir, name);
    Ok(())
}

/// The random characters between a temporary file's `.NAME.` and `.tmp`.
const TEMPORARY_RANDOM_CHARS: usize = 6;

/// How old a temporary file of ours must be before it counts as left behind. A write holds its
/// temporary file for milliseconds; anything this old belongs to a process that was killed
/// between creating it and renaming it (a `kill -9`, a power cut).
const STALE_TEMPORARY: Duration = Duration::from_secs(10 * 60);

/// Removes the temporary files that earlier writes of `name` left in `dir` when they were killed
/// mid-write (`.NAME.XXXXXX.tmp`, created by [`write_atomic`]). Only files older than
/// [`STALE_TEMPORARY`] go, so a concurrent writer's file is never touched. Best effort: the
/// write itself has succeeded, and a leftover that cannot be removed now can be removed later.
fn sweep_stale_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else { continue };
        let ours = file_name.starts_with(&prefix)
            && file_name.ends_with(".tmp")
            && file_name.len() == prefix.len() + TEMPORARY_RANDOM_CHARS + ".tmp".len();
        if !ours {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TEMPORARY));
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates `dir` and its missing parents with mode 0700. Existing directories are left alone.
pub fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| FsError::new("create the directory", dir, e))
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes the rename itself durable; best effort, as not every filesystem can sync a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The bytes of `path`, or `None` when there is no such file.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, FsError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FsError::new("read", path, e)),
    }
}

/// Removes `path`; `Ok(false)` when it did not exist.
pub fn remove_file_if_exists(path: &Path) -> Result<bool, FsError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FsError::new("remove", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
        write_atomic(path, bytes, FileMode::Private)
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn creates_missing_dirs_and_writes_the_bytes() {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join(".aws/sso/cache/abc.json");
        write_private(&path, b"{\"a\": 1}").expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"{\"a\": 1}");
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&home.path().join(".aws/sso/cache")), 0o700);
            assert_eq!(mode(&home.path().join(".aws")), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn leaves_the_mode_of_an_existing_dir_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let home = tempfile::tempdir().expect("tempdir");
        let dir = home.path().join("cache");
        fs::create_dir(&dir).expect("mkdir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        write_private(&dir.join("x.json"), b"x").expect("write");
        assert_eq!(mode(&dir), 0o755);
        assert_eq!(mode(&dir.join("x.json")), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn replacing_a_world_readable_file_makes_it_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token.json");
        fs::write(&path, "old").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&path, b"new").expect("write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn replaces_the_old_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token.json");
        write_private(&path, b"first, longer content").expect("write");
        write_private(&path, b"second").expect("write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "second");
        assert_eq!(names_in(dir.path()), ["token.json"]);
    }

    #[test]
    fn a_failed_replace_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A non-empty directory where the file should go: the rename must fail.
        let path = dir.path().join("token.json");
        fs::create_dir(&path).expect("mkdir");
        fs::write(path.join("keep"), "old").expect("write");
        let err = write_private(&path, b"new").expect_err("cannot replace a directory");
        assert!(err.to_string().contains("token.json"), "{err}");
        assert_eq!(names_in(dir.path()), ["token.json"]);
        assert_eq!(fs::read_to_string(path.join("keep")).expect("read"), "old");
    }

    #[test]
    fn a_write_sweeps_the_temporary_files_that_killed_writes_left_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token.json");
        let leftover = |name: &str, age: Duration| {
            let file = File::create(dir.path().join(name)).expect("create");
            file.set_modified(std::time::SystemTime::now() - age).expect("age it");
        };
        let hour = Duration::from_secs(3600);
        // Left by a `kill -9` an hour ago: swept.
        leftover(".token.json.a1B2c3.tmp", hour);
        // A concurrent writer's, seconds old: kept.
        leftover(".token.json.d4E5f6.tmp", Duration::from_secs(5));
        // Another file's leftover, and a file of the user's that only looks alike: kept.
        leftover(".other.json.g7H8i9.tmp", hour);
        leftover(".token.json.notes.tmp", hour);
        write_private(&path, b"new").expect("write");
        assert_eq!(
            names_in(dir.path()),
            [
                ".other.json.g7H8i9.tmp",
                ".token.json.d4E5f6.tmp",
                ".token.json.notes.tmp",
                "token.json"
            ]
        );
    }

    #[test]
    fn remove_reports_whether_there_was_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.json");
        fs::write(&path, "x").expect("write");
        assert!(remove_file_if_exists(&path).expect("remove"));
        assert!(!path.exists());
        assert!(!remove_file_if_exists(&path).expect("remove again"));
    }

    #[test]
    fn reading_a_missing_file_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read_if_exists(&dir.path().join("nope.json")).expect("read"), None);
    }
}
