//! Role credentials in `~/.aws/cli/cache`, shared both ways with the AWS CLI v2
//! (`"ProviderType": "sso"` entries), and our index of the entries we wrote for each session so
//! that logging out of one session removes only its credentials.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{CacheError, CacheFile, LenientObject, fs, sha1_hex};
use crate::env::Environment;
use crate::lock::FileLock;
use crate::py_json::{PyValue, Separators, dumps};
use crate::secret::Secret;
use crate::time::{format_cli, parse_lenient};

/// What the AWS CLI v2 caches one role's credentials under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RoleCredentialsKey {
    /// A profile with `sso_session`.
    Session { session_name: String, account_id: String, role_name: String },
    /// A legacy profile with `sso_start_url`, exactly as configured.
    StartUrl { start_url: String, account_id: String, role_name: String },
}

impl RoleCredentialsKey {
    /// SHA-1 of the compact, key-sorted JSON of the CLI's `SSOCredentialFetcher` arguments.
    pub fn cache_key(&self) -> String {
        sha1_hex(&self.hashed_text())
    }

    fn hashed_text(&self) -> String {
        let (session_key, session_value) = self.session_field();
        let fields = vec![
            ("accountId", PyValue::Str(self.account_id())),
            ("roleName", PyValue::Str(self.role_name())),
            (session_key, PyValue::Str(session_value)),
        ];
        dumps(&PyValue::Object(fields), Separators::Compact)
    }

    /// The key and value naming the session, as the CLI passes it.
    fn session_field(&self) -> (&'static str, &str) {
        match self {
            RoleCredentialsKey::Session { session_name, .. } => ("sessionName", session_name),
            RoleCredentialsKey::StartUrl { start_url, .. } => ("startUrl", start_url),
        }
    }

    /// The session name or start URL: what the session's token file is named after.
    pub fn identifier(&self) -> &str {
        self.session_field().1
    }

    pub fn account_id(&self) -> &str {
        match self {
            RoleCredentialsKey::Session { account_id, .. }
            | RoleCredentialsKey::StartUrl { account_id, .. } => account_id,
        }
    }

    pub fn role_name(&self) -> &str {
        match self {
            RoleCredentialsKey::Session { role_name, .. }
            | RoleCredentialsKey::StartUrl { role_name, .. } => role_name,
        }
    }
}

/// Short-lived credentials for one role in one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: Timestamp,
    pub account_id: String,
}

impl RoleCredentials {
    /// The bytes the AWS CLI v2 writes for an SSO role-credential cache entry.
    pub fn to_cli_json(&self) -> String {
        let expiration = format_cli(self.expiration);
        let credentials = PyValue::Object(vec![
            ("AccessKeyId", PyValue::Str(&self.access_key_id)),
            ("SecretAccessKey", PyValue::Str(self.secret_access_key.expose())),
            ("SessionToken", PyValue::Str(self.session_token.expose())),
            ("Expiration", PyValue::Str(&expiration)),
            ("AccountId", PyValue::Str(&self.account_id)),
        ]);
        let entry = PyValue::Object(vec![
            ("ProviderType", PyValue::Str("sso")),
            ("Credentials", credentials),
        ]);
        dumps(&entry, Separators::Default)
    }

    /// Reads a cache entry leniently (keys case-insensitive, unknown keys ignored). Every field
    /// of `Credentials` is required; the error never quotes the content.
    pub fn from_cli_json(bytes: &[u8]) -> Result<Self, String> {
        let entry = LenientObject::parse(bytes)?;
        let credentials = entry.object("Credentials").ok_or("Credentials is missing")?;
        let expiration = credentials.required_str("Expiration")?;
        Ok(Self {
            access_key_id: credentials.required_str("AccessKeyId")?.to_owned(),
            secret_access_key: Secret::new(credentials.required_str("SecretAccessKey")?),
            session_token: Secret::new(credentials.required_str("SessionToken")?),
            expiration: parse_lenient(expiration).ok_or("Expiration is not a timestamp")?,
            account_id: credentials.required_str("AccountId")?.to_owned(),
        })
    }

    /// Time left until the credentials expire; negative once they have.
    pub fn remaining(&self, now: Timestamp) -> SignedDuration {
        self.expiration.duration_since(now)
    }
}

/// The cache file for `key` in `dir` (`~/.aws/cli/cache`).
pub fn role_credentials_file(dir: &Path, key: &RoleCredentialsKey) -> PathBuf {
    dir.join(format!("{}.json", key.cache_key()))
}

/// The credentials at `path`; `None` when there is no file, `Err(Corrupt)` when it is not an
/// entry we can read.
pub fn load_role_credentials(path: &Path) -> Result<Option<RoleCredentials>, CacheError> {
    let Some(bytes) = fs::read_if_exists(path)? else {
        return Ok(None);
    };
    RoleCredentials::from_cli_json(&bytes)
        .map(Some)
        .map_err(|reason| CacheError::corrupt(path, CacheFile::RoleCredentials, reason))
}

/// Writes the entry atomically, 0600, in the CLI's format.
pub fn save_role_credentials(path: &Path, credentials: &RoleCredentials) -> Result<(), CacheError> {
    fs::write_private(path, credentials.to_cli_json().as_bytes())
}

/// Removes SSO role-credential entries from `dir` (`~/.aws/cli/cache`) and returns how many.
///
/// With `None`, every file whose JSON has `"ProviderType": "sso"`, as `aws sso logout` does; with
/// `Some(keys)`, only those keys' files, and only if they are SSO entries. Assume-role entries
/// and files that are not JSON are never touched.
pub fn remove_sso_role_credentials(
    dir: &Path,
    only: Option<&[RoleCredentialsKey]>,
) -> Result<usize, CacheError> {
    let candidates: Vec<PathBuf> = match only {
        Some(keys) => keys.iter().map(|key| role_credentials_file(dir, key)).collect(),
        None => match std::fs::read_dir(dir) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(CacheError::io("list", dir, e)),
        },
    };
    let mut removed = 0;
    for path in candidates {
        if is_sso_entry(&path) && fs::remove_file_if_exists(&path)? {
            removed += 1;
        }
    }
    Ok(removed)
}

fn is_sso_entry(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|json| json.get("ProviderType").and_then(|v| v.as_str()) == Some("sso"))
}

/// Our index of the role-credential entries written for one session (one file per session, so
/// the pairs alone name the entries). Not secret.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RoleIndex {
    roles: Vec<IndexEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    account_id: String,
    role_name: String,
}

/// `<our cache dir>/role-credentials-<sha1(identifier)>.json` and the lock guarding it.
fn index_paths(env: &Environment, identifier: &str) -> Result<(PathBuf, PathBuf), CacheError> {
    let dir = crate::dirs::cache_dir(env).ok_or(CacheError::NoCacheDir)?;
    let hash = sha1_hex(identifier);
    let index = dir.join(format!("role-credentials-{hash}.json"));
    let lock = dir.join("locks").join(format!("role-credentials-{hash}.lock"));
    Ok((index, lock))
}

fn read_index(path: &Path) -> Result<RoleIndex, CacheError> {
    match fs::read_if_exists(path)? {
        None => Ok(RoleIndex::default()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            let reason = format!("unreadable: error at line {}, column {}", e.line(), e.column());
            CacheError::corrupt(path, CacheFile::RoleIndex, reason)
        }),
    }
}

/// Notes that we wrote the role-credential entry `key`, so that logging out of its session
/// removes it. Holds a lock for the read-modify-write, since parallel `credential_process` calls
/// record at once; an unreadable index is ours and is replaced.
pub fn record_role_credentials_key(
    env: &Environment,
    key: &RoleCredentialsKey,
) -> Result<(), CacheError> {
    let (path, lock_path) = index_paths(env, key.identifier())?;
    let _lock = FileLock::acquire(&lock_path)?;
    let mut index = match read_index(&path) {
        Ok(index) => index,
        Err(CacheError::Corrupt { .. }) => RoleIndex::default(),
        Err(e) => return Err(e),
    };
    let entry = IndexEntry {
        account_id: key.account_id().to_owned(),
        role_name: key.role_name().to_owned(),
    };
    if index.roles.contains(&entry) {
        return Ok(());
    }
    index.roles.push(entry);
    let bytes = serde_json::to_vec_pretty(&index).map_err(|e| {
        CacheError::corrupt(&path, CacheFile::RoleIndex, format!("cannot be written: {e}"))
    })?;
    fs::write_private(&path, &bytes)
}

/// The `(account id, role name)` pairs recorded for the session `identifier` (its sso-session
/// name, or for a legacy profile its start URL). An index that cannot be read is logged and
/// counts as empty: it only narrows a logout, and `aws sso logout` still clears everything.
pub fn recorded_keys(env: &Environment, identifier: &str) -> Vec<(String, String)> {
    let index = index_paths(env, identifier).and_then(|(path, _)| read_index(&path));
    match index {
        Ok(index) => index.roles.into_iter().map(|e| (e.account_id, e.role_name)).collect(),
        Err(e) => {
            tracing::warn!("{e}");
            Vec::new()
        }
    }
}

/// Forgets the keys recorded for `identifier`, after logging out of it.
pub fn forget_recorded_keys(env: &Environment, identifier: &str) -> Result<(), CacheError> {
    let (path, lock_path) = index_paths(env, identifier)?;
    let _lock = FileLock::acquire(&lock_path)?;
    fs::remove_file_if_exists(&path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn session_key(account_id: &str, role_name: &str) -> RoleCredentialsKey {
        RoleCredentialsKey::Session {
            session_name: "my-sso".to_owned(),
            account_id: account_id.to_owned(),
            role_name: role_name.to_owned(),
        }
    }

    fn credentials() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAEXAMPLE".to_owned(),
            secret_access_key: Secret::new("SECRETKEY"),
            session_token: Secret::new("SESSIONTOKEN"),
            expiration: crate::time::from_millis(1_222_173_800_000).expect("valid"),
            account_id: "1234567890".to_owned(),
        }
    }

    #[test]
    fn cache_keys_match_the_cli() {
        // docs/aws-contracts.md §3.5 and §3.8.
        let legacy = RoleCredentialsKey::StartUrl {
            start_url: "https://d-92671207e4.awsapps.com/start".to_owned(),
            account_id: "1234567890".to_owned(),
            role_name: "test-role".to_owned(),
        };
        assert_eq!(
            legacy.hashed_text(),
            r#"{"accountId":"1234567890","roleName":"test-role","startUrl":"https://d-92671207e4.awsapps.com/start"}"#
        );
        assert_eq!(legacy.cache_key(), "048db75bbe50955c16af7aba6ff9c41a3131bb7e");
        let session = session_key("012345678912", "SSORole");
        assert_eq!(
            session.hashed_text(),
            r#"{"accountId":"012345678912","roleName":"SSORole","sessionName":"my-sso"}"#
        );
        assert_eq!(session.cache_key(), "6eeddf27be175542f3ea0a5ab0565fb1a98e5017");
        let dirs = super::super::CacheDirs::under_home(Path::new("/h"));
        assert_eq!(
            dirs.role_credentials_path(&legacy),
            Path::new("/h/.aws/cli/cache/048db75bbe50955c16af7aba6ff9c41a3131bb7e.json")
        );
    }

    #[test]
    fn writes_the_cli_bytes() {
        assert_eq!(
            credentials().to_cli_json(),
            r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "SECRETKEY", "SessionToken": "SESSIONTOKEN", "Expiration": "2008-09-23T12:43:20Z", "AccountId": "1234567890"}}"#
        );
    }

    #[test]
    fn reads_back_and_leniently() {
        let creds = credentials();
        assert_eq!(RoleCredentials::from_cli_json(creds.to_cli_json().as_bytes()), Ok(creds));
        let odd = br#"{"providertype": "sso", "credentials": {"accessKeyId": "A", "SecretAccessKey": "S",
            "SessionToken": "T", "Expiration": "2008-09-23T12:43:20+00:00", "AccountId": "1", "Extra": 1}}"#;
        let creds = RoleCredentials::from_cli_json(odd).expect("valid");
        assert_eq!(creds.access_key_id, "A");
        assert_eq!(creds.expiration, ts("2008-09-23T12:43:20Z"));
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(
            RoleCredentials::from_cli_json(br#"{"ProviderType": "sso"}"#),
            Err("Credentials is missing".to_owned())
        );
        let no_token = br#"{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "2008-09-23T12:43:20Z", "AccountId": "1"}}"#;
        assert_eq!(
            RoleCredentials::from_cli_json(no_token),
            Err("SessionToken is missing".to_owned())
        );
    }

    #[test]
    fn save_load_and_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = role_credentials_file(dir.path(), &session_key("1", "R"));
        assert_eq!(load_role_credentials(&path).expect("load"), None);
        save_role_credentials(&path, &credentials()).expect("save");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), credentials().to_cli_json());
        assert_eq!(load_role_credentials(&path).expect("load"), Some(credentials()));
        std::fs::write(&path, r#"{"Credentials": {"SecretAccessKey": "SECRETKEY"}}"#)
            .expect("write");
        let err = load_role_credentials(&path).expect_err("corrupt");
        assert!(matches!(err, CacheError::Corrupt { what: CacheFile::RoleCredentials, .. }));
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(!err.to_string().contains("SECRETKEY"));
    }

    #[test]
    fn remaining_counts_down_to_expiration() {
        let creds = credentials();
        assert_eq!(creds.remaining(ts("2008-09-23T12:38:20Z")), SignedDuration::from_mins(5));
    }

    #[test]
    fn debug_shows_no_secret() {
        let debug = format!("{:?}", credentials());
        assert!(!debug.contains("SECRETKEY"), "{debug}");
        assert!(!debug.contains("SESSIONTOKEN"), "{debug}");
        assert!(debug.contains("ASIAEXAMPLE"), "{debug}");
    }

    /// A CLI cache with two SSO entries, an assume-role entry and a garbage file.
    fn cli_cache() -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let sso_a = role_credentials_file(dir.path(), &session_key("1", "A"));
        let sso_b = role_credentials_file(dir.path(), &session_key("2", "B"));
        save_role_credentials(&sso_a, &credentials()).expect("save");
        save_role_credentials(&sso_b, &credentials()).expect("save");
        let assume_role = dir.path().join("assume.json");
        std::fs::write(
            &assume_role,
            r#"{"Credentials": {"AccessKeyId": "A", "Expiration": "2024-01-01T00:00:00+00:00"}, "AssumedRoleUser": {}}"#,
        )
        .expect("write");
        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "{\"ProviderType\": \"sso\"").expect("write");
        (dir, vec![sso_a, sso_b, assume_role, garbage])
    }

    #[test]
    fn logout_of_everything_keeps_assume_role_and_garbage_files() {
        let (dir, files) = cli_cache();
        assert_eq!(remove_sso_role_credentials(dir.path(), None).expect("remove"), 2);
        let exists: Vec<bool> = files.iter().map(|f| f.exists()).collect();
        assert_eq!(exists, [false, false, true, true]);
        assert_eq!(remove_sso_role_credentials(dir.path(), None).expect("remove"), 0);
        assert_eq!(remove_sso_role_credentials(&dir.path().join("missing"), None).expect("ok"), 0);
    }

    #[test]
    fn logout_of_some_keys_removes_only_those_sso_entries() {
        let (dir, files) = cli_cache();
        let keys = [session_key("1", "A"), session_key("9", "missing")];
        assert_eq!(remove_sso_role_credentials(dir.path(), Some(&keys)).expect("remove"), 1);
        let exists: Vec<bool> = files.iter().map(|f| f.exists()).collect();
        assert_eq!(exists, [false, true, true, true]);
    }

    #[test]
    fn a_key_naming_a_non_sso_entry_does_not_remove_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = session_key("1", "A");
        let path = role_credentials_file(dir.path(), &key);
        std::fs::write(&path, r#"{"Credentials": {}}"#).expect("write");
        assert_eq!(remove_sso_role_credentials(dir.path(), Some(&[key])).expect("remove"), 0);
        assert!(path.exists());
    }

    fn pair(account_id: &str, role_name: &str) -> (String, String) {
        (account_id.to_owned(), role_name.to_owned())
    }

    #[test]
    fn the_index_records_keys_per_session() {
        let cache = tempfile::tempdir().expect("tempdir");
        let env = Environment::from_pairs([("XDG_CACHE_HOME", cache.path().to_string_lossy())]);
        let legacy = RoleCredentialsKey::StartUrl {
            start_url: "https://x.awsapps.com/start".to_owned(),
            account_id: "3".to_owned(),
            role_name: "C".to_owned(),
        };
        assert!(recorded_keys(&env, "my-sso").is_empty());
        record_role_credentials_key(&env, &session_key("1", "A")).expect("record");
        record_role_credentials_key(&env, &session_key("2", "B")).expect("record");
        record_role_credentials_key(&env, &session_key("1", "A")).expect("record twice");
        record_role_credentials_key(&env, &legacy).expect("record");
        assert_eq!(recorded_keys(&env, "my-sso"), [pair("1", "A"), pair("2", "B")]);
        assert_eq!(recorded_keys(&env, "https://x.awsapps.com/start"), [pair("3", "C")]);
        let index = cache
            .path()
            .join("aws-sso")
            .join(format!("role-credentials-{}.json", sha1_hex("my-sso")));
        assert!(index.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&index).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        forget_recorded_keys(&env, "my-sso").expect("forget");
        assert!(recorded_keys(&env, "my-sso").is_empty());
        assert!(!index.exists());
        assert_eq!(recorded_keys(&env, "https://x.awsapps.com/start"), [pair("3", "C")]);
    }

    #[test]
    fn a_corrupt_index_counts_as_empty_and_is_replaced() {
        let cache = tempfile::tempdir().expect("tempdir");
        let env = Environment::from_pairs([("XDG_CACHE_HOME", cache.path().to_string_lossy())]);
        let dir = cache.path().join("aws-sso");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let index = dir.join(format!("role-credentials-{}.json", sha1_hex("my-sso")));
        std::fs::write(&index, "nonsense").expect("write");
        assert!(recorded_keys(&env, "my-sso").is_empty());
        record_role_credentials_key(&env, &session_key("1", "A")).expect("record");
        assert_eq!(recorded_keys(&env, "my-sso"), [pair("1", "A")]);
    }

    #[test]
    fn recording_needs_a_cache_dir() {
        let err = record_role_credentials_key(&Environment::default(), &session_key("1", "A"))
            .expect_err("no dir");
        assert!(matches!(err, CacheError::NoCacheDir));
        assert!(recorded_keys(&Environment::default(), "my-sso").is_empty());
    }

    #[test]
    fn concurrent_recorders_lose_no_entry() {
        let cache = tempfile::tempdir().expect("tempdir");
        let env = Environment::from_pairs([("XDG_CACHE_HOME", cache.path().to_string_lossy())]);
        std::thread::scope(|scope| {
            for i in 0..8 {
                let env = &env;
                scope.spawn(move || {
                    record_role_credentials_key(env, &session_key(&i.to_string(), "R"))
                        .expect("record");
                });
            }
        });
        let mut accounts: Vec<String> =
            recorded_keys(&env, "my-sso").into_iter().map(|(account, _)| account).collect();
        accounts.sort();
        assert_eq!(accounts, ["0", "1", "2", "3", "4", "5", "6", "7"]);
    }
}
