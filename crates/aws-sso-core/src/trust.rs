//! Which project files (`.aws-sso.yaml`) may be acted on (docs/ARCHITECTURE.md §6).
//!
//! A project file is trusted when its path and content were allowed with `aws-sso-env allow`,
//! or when it lies under a `trusted_paths` directory of config.yaml. An allow is a small JSON
//! file, `<data dir>/allow/<sha256(canonical path)>`, holding the path and the SHA-256 of the
//! allowed content: an edit changes the hash and so revokes the trust. The file is bound as found:
//! its directory is canonical (symlinked directories resolved), but the file itself must not be a
//! symlink, so a repository cannot borrow the trust of a file allowed elsewhere by linking to it.
//! The record also keeps the account id the file meant when it was allowed, when that was known
//! ([`allowed_account_id`]); when it was not (the account list was not cached yet), the first
//! resolution of that content records it ([`record_first_use`]), so that a later change of
//! meaning is caught from then on. A file under `trusted_paths` is trusted by its place, whatever
//! it says: it has no record, and a change of its content or of what its account name means is
//! never asked about. A file owned by another user, or writable by others, is refused whatever
//! the list says: someone else could make it name any account.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::project::{PROJECT_FILE_NAME, ProjectFile, sha256_hex};
use crate::config::settings::Settings;
use crate::env::Environment;
use crate::fs::{self, FileMode, FsError};

/// How much a project file is trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Allowed with `aws-sso-env allow`, and unchanged since.
    Allowed,
    /// Under this directory of `trusted_paths` (as configured, `~` expanded).
    TrustedPrefix(PathBuf),
    /// Never allowed, or denied.
    NotAllowed,
    /// Allowed once, but its content changed since: it must be allowed again.
    ChangedSinceAllowed,
}

impl Trust {
    /// Whether the file may be acted on.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Trust::Allowed | Trust::TrustedPrefix(_))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(
        "cannot find where to keep the list of allowed project files: set HOME, or XDG_DATA_HOME to an absolute path"
    )]
    NoDataDir,

    #[error("cannot find {}: {source}; check that the file exists", path.display())]
    Resolve {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "{} is owned by another user (uid {owner}; you are uid {me}), who could make it name any account, so it is not used. If you trust its content, take it over: {}",
        path.display(),
        crate::shell::CommandLine::new("sudo chown \"$(id -un)\"").quoted(&path.to_string_lossy())
    )]
    NotOwned { path: PathBuf, owner: u32, me: u32 },

    #[error(
        "{} is writable by {who} (mode {mode:03o}), who could make it name any account, so it is not used. Fix it with: {}",
        path.display(),
        crate::shell::CommandLine::new("chmod go-w").quoted(&path.to_string_lossy())
    )]
    WritableByOthers { path: PathBuf, mode: u32, who: &'static str },

    #[error(
        "{} is a symbolic link to {}, so it is not used: a project file is trusted only as the file it is, where it is, or a repository could borrow the trust of a file allowed elsewhere. Replace the link with a file of its own, review it, then run: {}",
        path.display(),
        target.display(),
        crate::shell::CommandLine::new("aws-sso-env allow").quoted(&path.to_string_lossy())
    )]
    Symlink { path: PathBuf, target: PathBuf },

    #[error(transparent)]
    File(#[from] FsError),
}

/// The allow record of the project file at `canonical` (its key, [`file_key`]).
pub fn allow_record_path(env: &Environment, canonical: &Path) -> Option<PathBuf> {
    Some(crate::dirs::data_dir(env)?.join("allow").join(sha256_hex(&path_bytes(canonical))))
}

/// What an allow record holds.
#[derive(Debug, Serialize, Deserialize)]
struct AllowRecord {
    path: String,
    sha256: String,
    /// The account id the file resolved to when it was allowed, when that was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
}

/// How much `project` is trusted. Refused (an error) when the file is owned by another user or
/// writable by others.
pub fn trust_of(
    env: &Environment,
    settings: &Settings,
    project: &ProjectFile,
) -> Result<Trust, TrustError> {
    check_ownership(&project.path)?;
    let canonical = file_key(&project.path)?;
    let record = record_of(env, &canonical)?;
    if record.as_ref().is_some_and(|record| record.sha256 == project.sha256) {
        return Ok(Trust::Allowed);
    }
    if let Some(prefix) = trusted_prefix(settings, &canonical) {
        return Ok(Trust::TrustedPrefix(prefix));
    }
    Ok(if record.is_some() { Trust::ChangedSinceAllowed } else { Trust::NotAllowed })
}

/// The configured `trusted_paths` entry `canonical` lies under. Prefixes are compared whole
/// component by whole component, after resolving their symlinks; relative ones (`~` that was
/// never expanded) never match.
fn trusted_prefix(settings: &Settings, canonical: &Path) -> Option<PathBuf> {
    settings
        .trusted_paths
        .iter()
        .filter(|prefix| prefix.is_absolute())
        .find(|prefix| {
            let resolved = std::fs::canonicalize(prefix).unwrap_or_else(|_| prefix.to_path_buf());
            canonical.starts_with(resolved)
        })
        .cloned()
}

/// The allow record of the file keyed `canonical`, when it is for that path.
fn record_of(env: &Environment, canonical: &Path) -> Result<Option<AllowRecord>, TrustError> {
    Ok(match allow_record_path(env, canonical) {
        Some(record_path) => read_record(&record_path)?,
        None => None,
    }
    .filter(|record| record.path == canonical.to_string_lossy()))
}

/// The account id `project` resolved to when it was allowed, if the allow of this very content
/// recorded one: a file whose account name later means another account must be allowed again.
pub fn allowed_account_id(env: &Environment, project: &ProjectFile) -> Option<String> {
    let record = record_of(env, &file_key(&project.path).ok()?).ok()??;
    (record.sha256 == project.sha256).then_some(record.account_id?)
}

/// Completes the allow record of `project` with `account_id`, the account its content resolved
/// to, when the allow of this very content recorded none (it was allowed before the account list
/// was cached); from then on a change of what the file means is refused ([`allowed_account_id`]).
/// `true` when it wrote the record. Nothing happens to a file trusted only by `trusted_paths`,
/// to an edited file, or to a record that already has an id. A failure to write is logged and
/// changes nothing: the file was allowed, and stays usable.
pub fn record_first_use(env: &Environment, project: &ProjectFile, account_id: &str) -> bool {
    let Ok(canonical) = file_key(&project.path) else { return false };
    let Ok(Some(record)) = record_of(env, &canonical) else { return false };
    if record.sha256 != project.sha256 || record.account_id.is_some() {
        return false;
    }
    let Some(record_path) = allow_record_path(env, &canonical) else { return false };
    // Read again under the lock: an allow of new content meanwhile must not be overwritten.
    let _lock = record_lock(env, &record_path);
    let Ok(Some(mut record)) = record_of(env, &canonical) else { return false };
    if record.sha256 != project.sha256 || record.account_id.is_some() {
        return false;
    }
    record.account_id = Some(account_id.to_owned());
    match write_record(&record_path, &record) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(
                "cannot record that {} means account {account_id}: {e}",
                project.path.display()
            );
            false
        }
    }
}

/// The lock around changing the allow record at `record_path`; `None` (the change goes on
/// without it) when the lock cannot be taken, as on a read-only home where nothing is written.
fn record_lock(env: &Environment, record_path: &Path) -> Option<crate::lock::FileLock> {
    match crate::lock::FileLock::acquire(&crate::cache::locks::allow_lock_path(env, record_path)) {
        Ok(lock) => Some(lock),
        Err(e) => {
            tracing::debug!("changing {} without its lock: {e}", record_path.display());
            None
        }
    }
}

/// Writes an allow record, atomically, 0600.
fn write_record(record_path: &Path, record: &AllowRecord) -> Result<(), TrustError> {
    let mut bytes = serde_json::to_vec_pretty(record).unwrap_or_default();
    bytes.push(b'\n');
    // Not a secret, but private all the same: nobody else may add to what this user trusts.
    fs::write_atomic(record_path, &bytes, FileMode::Private)?;
    Ok(())
}

/// Records the path and content of `project` as allowed (atomically, in a private directory),
/// with the account id it resolves to now when that is known. Refused when the file is a
/// symlink, owned by another user or writable by others.
pub fn allow(
    env: &Environment,
    project: &ProjectFile,
    account_id: Option<&str>,
) -> Result<(), TrustError> {
    check_ownership(&project.path)?;
    let canonical = file_key(&project.path)?;
    let record_path = allow_record_path(env, &canonical).ok_or(TrustError::NoDataDir)?;
    let record = AllowRecord {
        path: canonical.to_string_lossy().into_owned(),
        sha256: project.sha256.clone(),
        account_id: account_id.map(str::to_owned),
    };
    let _lock = record_lock(env, &record_path);
    write_record(&record_path, &record)
}

/// Removes the allow of the project file at `path` (or in the directory `path`); `true` when it
/// was allowed. The file itself may already be gone.
pub fn deny(env: &Environment, path: &Path) -> Result<bool, TrustError> {
    let path = if path.is_dir() { path.join(PROJECT_FILE_NAME) } else { path.to_path_buf() };
    // The file itself need not exist: its directory is what resolves.
    let canonical = file_key(&path)?;
    let Some(record_path) = allow_record_path(env, &canonical) else { return Ok(false) };
    let _lock = record_lock(env, &record_path);
    Ok(fs::remove_file_if_exists(&record_path)?)
}

/// Refuses a project file that is a symlink (docs/ARCHITECTURE.md §6), or owned by someone other
/// than the current user, or writable by its group or by others. Ownership is always accepted on
/// systems without Unix permissions.
pub fn check_ownership(path: &Path) -> Result<(), TrustError> {
    let link = std::fs::symlink_metadata(path)
        .map_err(|source| TrustError::Resolve { path: path.to_owned(), source })?;
    if link.file_type().is_symlink() {
        let target = std::fs::read_link(path).unwrap_or_default();
        return Err(TrustError::Symlink { path: path.to_owned(), target });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = link;
        let me = current_uid();
        ownership_problem(path, meta.uid(), meta.mode(), me).map_or(Ok(()), Err)
    }
    #[cfg(not(unix))]
    {
        let _ = link;
        Ok(())
    }
}

/// What is wrong with a file of `owner` and `mode` for the user `me`, if anything.
#[cfg(unix)]
fn ownership_problem(path: &Path, owner: u32, mode: u32, me: u32) -> Option<TrustError> {
    if owner != me {
        return Some(TrustError::NotOwned { path: path.to_owned(), owner, me });
    }
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => "its group and by others",
        (true, false) => "its group",
        (false, true) => "others",
        (false, false) => return None,
    };
    Some(TrustError::WritableByOthers { path: path.to_owned(), mode: mode & 0o7777, who })
}

/// The effective user id of this process: the owner of the files it creates.
#[cfg(unix)]
fn current_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// What an allow is keyed by: the canonical directory of `path` joined with its file name. The
/// file name is never resolved, so a link to an allowed file is another file (§6).
fn file_key(path: &Path) -> Result<PathBuf, TrustError> {
    let resolve = |source| TrustError::Resolve { path: path.to_owned(), source };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return std::fs::canonicalize(path).map_err(resolve);
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    Ok(std::fs::canonicalize(dir).map_err(resolve)?.join(name))
}

fn read_record(path: &Path) -> Result<Option<AllowRecord>, TrustError> {
    let Some(bytes) = fs::read_if_exists(path)? else { return Ok(None) };
    match serde_json::from_slice(&bytes) {
        Ok(record) => Ok(Some(record)),
        Err(e) => {
            // Ours, and only ever a list of permissions: unreadable means not allowed.
            tracing::warn!("ignoring the unreadable allow record {}: {e}", path.display());
            Ok(None)
        }
    }
}

/// The bytes a path is hashed from: the OS bytes on Unix, UTF-8 (lossy) elsewhere.
fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().as_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::project::load_project_file;

    struct Home {
        dir: tempfile::TempDir,
        env: Environment,
    }

    impl Home {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let env = Environment::from_pairs([("HOME", dir.path().to_string_lossy())]);
            Home { dir, env }
        }

        /// A project directory holding a `.aws-sso.yaml` with `text`, mode 0644.
        fn project(&self, name: &str, text: &str) -> PathBuf {
            let dir = self.dir.path().join(name);
            std::fs::create_dir_all(&dir).expect("mkdir");
            let file = dir.join(PROJECT_FILE_NAME);
            std::fs::write(&file, text).expect("write");
            set_mode(&file, 0o644);
            file
        }

        fn trust(&self, settings: &Settings, path: &Path) -> Trust {
            let project = load_project_file(path).expect("valid project file");
            trust_of(&self.env, settings, &project).expect("trust")
        }
    }

    fn allow_unpinned(env: &Environment, project: &ProjectFile) -> Result<(), TrustError> {
        allow(env, project, None)
    }

    fn set_mode(path: &Path, mode: u32) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        #[cfg(not(unix))]
        let _ = (path, mode);
    }

    #[test]
    fn allowed_until_edited_and_denied() {
        let home = Home::new();
        let settings = Settings::default();
        let path = home.project("billing", "account: 123456789012\n");
        assert_eq!(home.trust(&settings, &path), Trust::NotAllowed);

        allow_unpinned(&home.env, &load_project_file(&path).expect("valid")).expect("allow");
        assert_eq!(home.trust(&settings, &path), Trust::Allowed);
        let record = home
            .dir
            .path()
            .join(".local/share/aws-sso/allow")
            .join(sha256_hex(&path_bytes(&std::fs::canonicalize(&path).expect("canonical"))));
        let text = std::fs::read_to_string(&record).expect("record written");
        assert!(
            text.contains(&*std::fs::canonicalize(&path).expect("c").to_string_lossy()),
            "{text}"
        );

        std::fs::write(&path, "account: 999999999999\n").expect("edit");
        assert_eq!(home.trust(&settings, &path), Trust::ChangedSinceAllowed);
        // Back to the allowed bytes: allowed again, since the content is what was allowed.
        std::fs::write(&path, "account: 123456789012\n").expect("revert");
        assert_eq!(home.trust(&settings, &path), Trust::Allowed);

        assert!(deny(&home.env, &path).expect("deny"));
        assert_eq!(home.trust(&settings, &path), Trust::NotAllowed);
        assert!(!deny(&home.env, &path).expect("deny again"), "nothing left to deny");
    }

    #[test]
    fn deny_takes_a_directory_or_a_deleted_file() {
        let home = Home::new();
        let path = home.project("a", "account: x\n");
        allow_unpinned(&home.env, &load_project_file(&path).expect("valid")).expect("allow");
        assert!(deny(&home.env, path.parent().expect("dir")).expect("deny by directory"));

        allow_unpinned(&home.env, &load_project_file(&path).expect("valid")).expect("allow");
        std::fs::remove_file(&path).expect("rm");
        assert!(deny(&home.env, &path).expect("deny a deleted file"));
    }

    #[test]
    fn each_file_is_allowed_on_its_own() {
        let home = Home::new();
        let settings = Settings::default();
        let a = home.project("a", "account: x\n");
        let b = home.project("b", "account: x\n");
        allow_unpinned(&home.env, &load_project_file(&a).expect("valid")).expect("allow");
        assert_eq!(home.trust(&settings, &a), Trust::Allowed);
        assert_eq!(home.trust(&settings, &b), Trust::NotAllowed, "same content, other path");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_directory_is_the_same_file() {
        let home = Home::new();
        let settings = Settings::default();
        let real = home.project("real/project", "account: x\n");
        let link = home.dir.path().join("link");
        std::os::unix::fs::symlink(home.dir.path().join("real"), &link).expect("symlink");
        let through_link = link.join("project").join(PROJECT_FILE_NAME);

        allow_unpinned(&home.env, &load_project_file(&through_link).expect("valid"))
            .expect("allow");
        assert_eq!(home.trust(&settings, &real), Trust::Allowed);
        assert_eq!(home.trust(&settings, &through_link), Trust::Allowed);
        assert!(deny(&home.env, &real).expect("deny through the real path"));
        assert_eq!(home.trust(&settings, &through_link), Trust::NotAllowed);

        // A trusted prefix that is itself a symlink covers the files it leads to.
        let settings = Settings { trusted_paths: vec![link.clone()], ..Settings::default() };
        assert_eq!(home.trust(&settings, &real), Trust::TrustedPrefix(link));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_project_file_borrows_no_trust() {
        let home = Home::new();
        let settings = Settings::default();
        let allowed = home.project("mine", "account: 123456789012\n");
        allow_unpinned(&home.env, &load_project_file(&allowed).expect("valid")).expect("allow");
        let repo = home.dir.path().join("cloned");
        std::fs::create_dir_all(&repo).expect("mkdir");
        let link = repo.join(PROJECT_FILE_NAME);
        std::os::unix::fs::symlink(&allowed, &link).expect("symlink");

        // As a command would hold it, had the link been put there after it was read.
        let project =
            ProjectFile { path: link.clone(), ..load_project_file(&allowed).expect("valid") };
        let err = trust_of(&home.env, &settings, &project).expect_err("a link is refused");
        assert!(matches!(err, TrustError::Symlink { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("is a symbolic link to {}", allowed.display())),
            "{message}"
        );
        assert!(message.ends_with(&format!("aws-sso-env allow '{}'", link.display())), "{message}");
        // Nor can it be allowed on its own: replacing it with a file is the way.
        assert!(matches!(allow(&home.env, &project, None), Err(TrustError::Symlink { .. })));
        // Even under a trusted prefix.
        let settings = Settings { trusted_paths: vec![repo.clone()], ..Settings::default() };
        assert!(matches!(
            trust_of(&home.env, &settings, &project),
            Err(TrustError::Symlink { .. })
        ));
        // The allowed file itself is untouched, and deny of the link removes nothing of it.
        assert!(!deny(&home.env, &link).expect("deny the link"));
        assert_eq!(home.trust(&Settings::default(), &allowed), Trust::Allowed);
    }

    #[test]
    fn the_allow_keeps_the_account_id_of_that_content() {
        let home = Home::new();
        let path = home.project("p", "account: dev\n");
        let project = load_project_file(&path).expect("valid");
        allow(&home.env, &project, Some("111111111111")).expect("allow");
        assert_eq!(allowed_account_id(&home.env, &project).as_deref(), Some("111111111111"));
        allow(&home.env, &project, None).expect("allow without an id");
        assert_eq!(allowed_account_id(&home.env, &project), None);
        allow(&home.env, &project, Some("111111111111")).expect("allow");
        std::fs::write(&path, "account: dev # edited\n").expect("edit");
        let edited = load_project_file(&path).expect("valid");
        assert_eq!(allowed_account_id(&home.env, &edited), None, "only for the allowed content");
    }

    #[test]
    fn an_allow_without_an_account_id_records_the_first_one_used_and_only_that() {
        let home = Home::new();
        let path = home.project("p", "account: dev\n");
        let project = load_project_file(&path).expect("valid");
        allow(&home.env, &project, None).expect("allowed before the list was cached");
        assert_eq!(allowed_account_id(&home.env, &project), None);

        assert!(record_first_use(&home.env, &project, "111111111111"));
        assert_eq!(allowed_account_id(&home.env, &project).as_deref(), Some("111111111111"));
        assert_eq!(home.trust(&Settings::default(), &path), Trust::Allowed, "still allowed");
        // The first id stays: a later meaning is what the check refuses, not a new record.
        assert!(!record_first_use(&home.env, &project, "222222222222"));
        assert_eq!(allowed_account_id(&home.env, &project).as_deref(), Some("111111111111"));

        // An edited file records nothing: its allow is void.
        allow(&home.env, &project, None).expect("allow again");
        std::fs::write(&path, "account: dev # edited\n").expect("edit");
        let edited = load_project_file(&path).expect("valid");
        assert!(!record_first_use(&home.env, &edited, "111111111111"));
        assert_eq!(home.trust(&Settings::default(), &path), Trust::ChangedSinceAllowed);

        // A file trusted by its place gets no record.
        let settings =
            Settings { trusted_paths: vec![home.dir.path().join("t")], ..Settings::default() };
        let trusted = home.project("t", "account: dev\n");
        let project = load_project_file(&trusted).expect("valid");
        assert!(!record_first_use(&home.env, &project, "111111111111"));
        assert!(matches!(home.trust(&settings, &trusted), Trust::TrustedPrefix(_)));
        assert_eq!(allowed_account_id(&home.env, &project), None);
    }

    #[test]
    fn a_first_use_never_overwrites_an_allow_of_new_content_made_meanwhile() {
        let home = Home::new();
        let path = home.project("p", "account: dev\n");
        let old = load_project_file(&path).expect("valid");
        allow(&home.env, &old, None).expect("allowed");
        let canonical = file_key(&path).expect("key");
        let record_path = allow_record_path(&home.env, &canonical).expect("record path");
        // Another process is changing the record: the first use waits for it.
        let held = crate::lock::FileLock::acquire(&crate::cache::locks::allow_lock_path(
            &home.env,
            &record_path,
        ))
        .expect("lock");
        let env = home.env.clone();
        let first_use = std::thread::spawn(move || record_first_use(&env, &old, "111111111111"));
        std::thread::sleep(std::time::Duration::from_millis(100));
        // Meanwhile the file was edited and allowed again, with the account it means now.
        std::fs::write(&path, "account: prod\n").expect("edit");
        let new = load_project_file(&path).expect("valid");
        let record = AllowRecord {
            path: canonical.to_string_lossy().into_owned(),
            sha256: new.sha256.clone(),
            account_id: Some("222222222222".to_owned()),
        };
        write_record(&record_path, &record).expect("the other allow");
        drop(held);
        assert!(!first_use.join().expect("thread"), "the old content records nothing");
        assert_eq!(allowed_account_id(&home.env, &new).as_deref(), Some("222222222222"));
    }

    #[test]
    fn files_under_a_trusted_prefix_need_no_allow() {
        let home = Home::new();
        let work = home.dir.path().join("work");
        let settings = Settings { trusted_paths: vec![work.clone()], ..Settings::default() };
        let inside = home.project("work/deep/billing", "account: x\n");
        assert_eq!(home.trust(&settings, &inside), Trust::TrustedPrefix(work.clone()));
        // An edit changes nothing under a prefix.
        std::fs::write(&inside, "account: y\n").expect("edit");
        assert_eq!(home.trust(&settings, &inside), Trust::TrustedPrefix(work));
        // Whole components only: `work` does not cover `workshop`.
        let beside = home.project("workshop", "account: x\n");
        assert_eq!(home.trust(&settings, &beside), Trust::NotAllowed);
        // A `~` never expanded is not a prefix of anything.
        let settings = Settings { trusted_paths: vec![PathBuf::from("~")], ..Settings::default() };
        assert_eq!(home.trust(&settings, &inside), Trust::NotAllowed);
    }

    #[test]
    fn a_corrupt_record_means_not_allowed_and_allow_replaces_it() {
        let home = Home::new();
        let settings = Settings::default();
        let path = home.project("p", "account: x\n");
        let canonical = std::fs::canonicalize(&path).expect("canonical");
        let record = allow_record_path(&home.env, &canonical).expect("record path");
        std::fs::create_dir_all(record.parent().expect("dir")).expect("mkdir");
        std::fs::write(&record, "{not json").expect("write");
        assert_eq!(home.trust(&settings, &path), Trust::NotAllowed);
        allow_unpinned(&home.env, &load_project_file(&path).expect("valid")).expect("allow");
        assert_eq!(home.trust(&settings, &path), Trust::Allowed);
    }

    #[cfg(unix)]
    #[test]
    fn files_others_can_write_are_refused() {
        let home = Home::new();
        let path = home.project("p", "account: x\n");
        let project = load_project_file(&path).expect("valid");
        allow(&home.env, &project, None).expect("allow");
        for (mode, who) in
            [(0o664, "its group"), (0o646, "others"), (0o666, "its group and by others")]
        {
            set_mode(&path, mode);
            let err = check_ownership(&path).expect_err("refused");
            let message = err.to_string();
            assert!(message.contains(&format!("writable by {who} (mode {mode:03o})")), "{message}");
            assert!(message.ends_with(&format!("chmod go-w '{}'", path.display())), "{message}");
            assert!(matches!(
                trust_of(&home.env, &Settings::default(), &project),
                Err(TrustError::WritableByOthers { .. })
            ));
            assert!(matches!(
                allow(&home.env, &project, None),
                Err(TrustError::WritableByOthers { .. })
            ));
        }
        set_mode(&path, 0o600);
        check_ownership(&path).expect("private is fine");
        set_mode(&path, 0o644);
        check_ownership(&path).expect("world-readable is fine");
    }

    #[cfg(unix)]
    #[test]
    fn files_of_another_user_are_refused() {
        let me = current_uid();
        let err = ownership_problem(Path::new("/p/it's/.aws-sso.yaml"), me + 1, 0o644, me)
            .expect("refused");
        let message = err.to_string();
        assert!(
            message.contains(&format!("owned by another user (uid {}; you are uid {me})", me + 1)),
            "{message}"
        );
        assert!(message.ends_with(r#"chown "$(id -un)" '/p/it'\''s/.aws-sso.yaml'"#), "{message}");
        assert!(ownership_problem(Path::new("/p"), me, 0o644, me).is_none());

        // And on a real file of another user.
        let home = Home::new();
        let path = if me == 0 {
            let path = home.project("p", "account: x\n");
            std::os::unix::fs::chown(&path, Some(65534), None).expect("chown");
            path
        } else {
            PathBuf::from("/")
        };
        assert!(
            matches!(check_ownership(&path), Err(TrustError::NotOwned { owner, .. }) if owner != me)
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_current_uid_owns_the_files_we_create() {
        use std::os::unix::fs::MetadataExt as _;
        let file = tempfile::NamedTempFile::new().expect("temp file");
        assert_eq!(current_uid(), file.as_file().metadata().expect("meta").uid());
    }

    #[test]
    fn allow_needs_a_data_dir_and_an_existing_file() {
        let home = Home::new();
        let project = load_project_file(&home.project("p", "account: x\n")).expect("valid");
        assert!(matches!(
            allow(&Environment::default(), &project, None),
            Err(TrustError::NoDataDir)
        ));
        let gone = ProjectFile { path: home.dir.path().join("gone/.aws-sso.yaml"), ..project };
        let err = allow(&home.env, &gone, None).expect_err("no such file");
        assert!(matches!(err, TrustError::Resolve { .. }), "{err:?}");
        assert!(err.to_string().contains("gone/.aws-sso.yaml"), "{err}");
    }
}
