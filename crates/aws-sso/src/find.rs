//! Where the commands are: the directory of the running `aws-sso` first, then each PATH entry.
//! A command NAME is the executable file `aws-sso-NAME` in one of them; the first one found wins.
//! What counts as executable is the `which` crate's answer: the execute permission for this user
//! on Unix, an extension of PATHEXT (`.exe`, `.cmd`, …) on Windows.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// What every command's file name starts with.
pub const PREFIX: &str = "aws-sso-";

/// The directories searched, in order: beside the running binary (its real location, so a
/// symlink to it in `~/bin` still finds the suite it belongs to), then PATH.
pub fn search_dirs() -> Vec<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.canonicalize().unwrap_or(exe))
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    dirs(beside, &std::env::var_os("PATH").unwrap_or_default())
}

/// `beside`, then every entry of `path`, each once. An empty entry, which a shell reads as the
/// current directory, is skipped: a command must not depend on where the user stands.
pub fn dirs(beside: Option<PathBuf>, path: &OsStr) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in beside.into_iter().chain(std::env::split_paths(path)) {
        if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// The program that runs command `name`: the first executable `aws-sso-NAME` in `dirs`.
pub fn program(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    // A separator would let `aws-sso ../x` reach outside the searched directories.
    if name.is_empty() || name.contains(std::path::is_separator) {
        return None;
    }
    let file = format!("{PREFIX}{name}");
    dirs.iter().find_map(|dir| executable_in(dir, &file))
}

/// Every command in `dirs`, by name, with the program that runs it; a name found again in a
/// later directory is shadowed by the first, as [`program`] would choose.
pub fn all(dirs: &[PathBuf]) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(name) = command_name(&file_name) else { continue };
            if found.contains_key(name) {
                continue;
            }
            // The program this directory gives the name, as `program` finds it.
            if let Some(path) = executable_in(dir, &format!("{PREFIX}{name}")) {
                found.insert(name.to_owned(), path);
            }
        }
    }
    found
}

/// `aws-sso-NAME` → `NAME`; on Windows the extension goes too (`aws-sso-NAME.exe`, `.cmd`).
fn command_name(file_name: &OsStr) -> Option<&str> {
    let name = file_name.to_str()?.strip_prefix(PREFIX)?;
    let name = if cfg!(windows) { Path::new(name).file_stem()?.to_str()? } else { name };
    (!name.is_empty()).then_some(name)
}

/// The executable `file` of `dir` (a file, or a link to one), with one of PATHEXT's extensions
/// on Windows. Given as a path, `which` looks at that one file: `dir` is never split as a PATH
/// list (it may hold the separator) and a relative `dir` stays relative to where we are.
fn executable_in(dir: &Path, file: &str) -> Option<PathBuf> {
    which::which_in(dir.join(file), None::<&OsStr>, ".").ok()
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn write(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn the_first_directory_wins() {
        let first = tempfile::tempdir().expect("tempdir");
        let second = tempfile::tempdir().expect("tempdir");
        let winner = write(first.path(), "aws-sso-ls", 0o755);
        write(second.path(), "aws-sso-ls", 0o755);
        let plugin = write(second.path(), "aws-sso-hello", 0o755);
        let dirs = [first.path().to_path_buf(), second.path().to_path_buf()];

        assert_eq!(program(&dirs, "ls"), Some(winner.clone()));
        assert_eq!(program(&dirs, "hello"), Some(plugin.clone()));
        assert_eq!(program(&dirs, "nope"), None);
        let all = all(&dirs);
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            [("hello".to_owned(), plugin), ("ls".to_owned(), winner)]
        );
    }

    #[test]
    fn only_executable_files_named_aws_sso_something_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "aws-sso-notes", 0o644);
        write(dir.path(), "aws-sso-", 0o755);
        write(dir.path(), "aws-sso", 0o755);
        write(dir.path(), "other-tool", 0o755);
        std::fs::create_dir(dir.path().join("aws-sso-dir")).expect("mkdir");
        std::os::unix::fs::symlink(dir.path().join("aws-sso-notes"), dir.path().join("aws-sso-x"))
            .expect("symlink");
        let linked = write(dir.path(), "target", 0o755);
        let link = dir.path().join("aws-sso-linked");
        std::os::unix::fs::symlink(&linked, &link).expect("symlink");
        let dirs = [dir.path().to_path_buf()];

        assert_eq!(all(&dirs).into_keys().collect::<Vec<_>>(), ["linked"]);
        for name in ["notes", "", "dir", "x"] {
            assert_eq!(program(&dirs, name), None, "{name:?}");
        }
        assert_eq!(program(&dirs, "linked"), Some(link));
    }

    #[test]
    fn a_name_cannot_reach_outside_the_searched_directories() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(root.path().join("aws-sso-sub")).expect("mkdir");
        write(&root.path().join("aws-sso-sub"), "tool", 0o755);
        assert_eq!(program(&[root.path().to_path_buf()], "sub/tool"), None);
    }

    #[test]
    fn beside_comes_first_and_each_directory_once() {
        let path = std::env::join_paths(["/usr/bin", "", "/opt/x", "/usr/bin"]).expect("join");
        assert_eq!(
            dirs(Some(PathBuf::from("/opt/x")), &path),
            [PathBuf::from("/opt/x"), PathBuf::from("/usr/bin")]
        );
        assert_eq!(dirs(None, OsStr::new("")), Vec::<PathBuf>::new());
    }
}
