//! Each shell's stamp file, `<our cache dir>/hook/stamp-<pid>`: its mtime is the newest mtime
//! the hook saw of the project file and the marker, so the shell's own test (with builtins
//! only) tells whether either changed since. Stamps of shells that are gone are swept.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::env::Environment;

/// Sets the stamp of the shell `shell_pid` (else of our parent) to `newest`, the newest mtime of
/// the project file and the marker, so the shell runs the hook again only once either is newer.
/// `None` when it cannot be written: the shell then runs the hook whenever either exists.
pub(super) fn write(
    env: &Environment,
    shell_pid: Option<u32>,
    newest: Option<SystemTime>,
) -> Option<PathBuf> {
    let pid = shell_pid.unwrap_or_else(parent_pid);
    let path = crate::dirs::cache_dir(env)?.join("hook").join(format!("{STAMP_PREFIX}{pid}"));
    let newest = newest.unwrap_or(SystemTime::UNIX_EPOCH);
    let result = crate::fs::create_private_dir(crate::fs::parent_dir(&path))
        .map_err(|e| e.to_string())
        .and_then(|()| {
            open_stamp(&path)
                .and_then(|f| f.set_modified(newest))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        });
    match result {
        Ok(()) => {
            sweep_stamps(crate::fs::parent_dir(&path), &path, SystemTime::now());
            Some(path)
        }
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    }
}

/// Opens the stamp at `path` for writing, never through a symlink (one planted there would have
/// us touch its target): anything but a regular file is removed, and a new stamp is created
/// with `create_new`, which refuses to follow a link.
fn open_stamp(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    // Private like every file of ours, though it holds nothing: only its mtime counts.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {
            let file = options.open(path)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                if meta.permissions().mode() & 0o777 != 0o600 {
                    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                }
            }
            Ok(file)
        }
        Ok(_) => {
            std::fs::remove_file(path)?;
            options.create_new(true).open(path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => options.create_new(true).open(path),
        Err(e) => Err(e),
    }
}

/// What every stamp file's name starts with; the shell's pid follows.
const STAMP_PREFIX: &str = "stamp-";

/// A stamp the hook has not rewritten for this long belongs to a shell that is gone, or idle
/// for so long that one more hook run costs it nothing.
pub(super) const STAMP_KEPT_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// Removes the stamps of other shells that have exited (on Linux, where `/proc` says so) or that
/// the hook has not rewritten for [`STAMP_KEPT_FOR`], so that one file per shell ever started
/// does not pile up. Removing a live shell's stamp is harmless: its next prompt finds the stamp
/// missing and runs the hook once, which writes it again. The age is the stamp's change time,
/// since its mtime is set to that of the project file or the marker.
pub(super) fn sweep_stamps(dir: &Path, own: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(pid) = entry.file_name().to_str().and_then(stamp_pid) else { continue };
        if path == own {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() && (shell_is_gone(pid) || changed_before(&meta, now - STAMP_KEPT_FOR)) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The shell pid a stamp file is named for (`stamp-PID`, as [`write`] names it).
fn stamp_pid(file_name: &str) -> Option<u32> {
    let digits = file_name.strip_prefix(STAMP_PREFIX)?;
    digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
}

/// Whether `/proc` says that no process `pid` exists (never on systems without `/proc`).
fn shell_is_gone(pid: u32) -> bool {
    cfg!(target_os = "linux")
        && Path::new("/proc/self").exists()
        && !Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(unix)]
fn changed_before(meta: &std::fs::Metadata, when: SystemTime) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let when = when.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u64::try_from(meta.ctime()).is_ok_and(|ctime| ctime < when)
}

#[cfg(not(unix))]
fn changed_before(meta: &std::fs::Metadata, when: SystemTime) -> bool {
    meta.modified().is_ok_and(|t| t < when)
}

/// The mtime of `path`, when it can be read.
pub(super) fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(unix)]
fn parent_pid() -> u32 {
    std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn parent_pid() -> u32 {
    0
}
