//! The caches shared with the AWS CLI v2, and our own small cache files.
//!
//! - [`token`]: `~/.aws/sso/cache/<sha1(session or start URL)>.json`, the SSO access token.
//! - [`registration`]: `~/.aws/sso/cache/<key>.json`, the OIDC client registration.
//! - [`role_credentials`]: `~/.aws/cli/cache/<key>.json`, role credentials (`ProviderType: sso`),
//!   and our index of the entries we wrote for each session.
//! - [`assume_role`]: `~/.aws/cli/cache/<key>.json`, the credentials of a chained role, as
//!   botocore's assume-role provider keys and writes them.
//! - [`accounts`]: `<cache dir>/aws-sso/accounts-<session>.json`, ours: the accounts and roles a
//!   session reaches.
//!
//! File names, JSON key orders and bytes match what the AWS CLI v2 writes (docs/aws-contracts.md §3),
//! so `aws`, botocore and these tools share one login. Reading is lenient, as the SDKs are.

/// The crate's file helpers ([`crate::fs`]), answering with cache errors.
pub(crate) mod fs {
    use std::path::Path;

    use super::CacheError;
    use crate::fs::{self as files, FileMode};

    /// Writes a cache file atomically, 0600, in a directory created 0700.
    pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
        Ok(files::write_atomic(path, bytes, FileMode::Private)?)
    }

    pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(files::read_if_exists(path)?)
    }

    /// Removes `path`; `Ok(false)` when it did not exist.
    pub fn remove_file_if_exists(path: &Path) -> Result<bool, CacheError> {
        Ok(files::remove_file_if_exists(path)?)
    }
}
pub mod accounts;
pub mod assume_role;
pub mod locks;
pub mod registration;
pub mod role_credentials;
pub mod token;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use sha1::{Digest as _, Sha1};

use crate::env::Environment;

pub use accounts::{
    AccountCache, AccountLookupError, CachedAccount, account_cache_path, load_account_cache,
    save_account_cache,
};
pub use fs::{remove_file_if_exists, write_private};
pub use registration::{
    CachedRegistration, GrantFlow, RegistrationKey, load_registration, save_registration,
};
pub use role_credentials::{
    RoleCredentials, RoleCredentialsKey, forget_recorded_keys, load_role_credentials,
    record_role_credentials_key, recorded_keys, remove_sso_role_credentials, save_role_credentials,
};
pub use token::{CachedToken, load_token, save_token, sso_token_files};

/// The two cache directories of the AWS CLI v2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheDirs {
    /// `~/.aws/sso/cache`: tokens and client registrations.
    pub sso: PathBuf,
    /// `~/.aws/cli/cache`: role credentials (and the CLI's assume-role entries).
    pub cli: PathBuf,
}

impl CacheDirs {
    /// The directories under the home directory of `env`. Like the AWS CLI, no variable moves them.
    pub fn from_env(env: &Environment) -> Result<Self, CacheError> {
        env.home_dir().map(|home| Self::under_home(&home)).ok_or(CacheError::NoHome)
    }

    /// The directories under `home`.
    pub fn under_home(home: &Path) -> Self {
        let aws = home.join(".aws");
        Self { sso: aws.join("sso").join("cache"), cli: aws.join("cli").join("cache") }
    }

    /// The token file of a session: `identifier` is the sso-session name, or for a legacy profile
    /// its `sso_start_url` exactly as configured.
    pub fn token_path(&self, identifier: &str) -> PathBuf {
        self.sso.join(format!("{}.json", sha1_hex(identifier)))
    }

    pub fn registration_path(&self, key: &RegistrationKey) -> PathBuf {
        self.sso.join(format!("{}.json", key.cache_key()))
    }

    pub fn role_credentials_path(&self, key: &RoleCredentialsKey) -> PathBuf {
        role_credentials::role_credentials_file(&self.cli, key)
    }
}

/// Lowercase hex SHA-1 of the UTF-8 bytes of `text`, as the AWS tools name cache files.
pub fn sha1_hex(text: &str) -> String {
    use std::fmt::Write as _;
    let digest = Sha1::digest(text.as_bytes());
    let mut hex = String::with_capacity(40);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Which kind of cache file an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheFile {
    Token,
    Registration,
    RoleCredentials,
    RoleIndex,
    Accounts,
    AssumeRole,
    EksToken,
}

impl CacheFile {
    fn fix(self) -> &'static str {
        match self {
            CacheFile::Token => "run `aws-sso-login` to replace it",
            CacheFile::Registration => "the next `aws-sso-login` replaces it",
            CacheFile::RoleCredentials => "the next credential fetch replaces it",
            CacheFile::RoleIndex => "the next credential fetch rewrites it",
            CacheFile::Accounts => "run `aws-sso-ls --refresh` to rebuild it",
            CacheFile::AssumeRole => "the next AssumeRole replaces it",
            CacheFile::EksToken => "the next `aws-sso-env eks-token` replaces it",
        }
    }
}

impl fmt::Display for CacheFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CacheFile::Token => "SSO token file",
            CacheFile::Registration => "SSO client registration file",
            CacheFile::RoleCredentials => "role credentials cache file",
            CacheFile::RoleIndex => "role credentials index file",
            CacheFile::Accounts => "account cache file",
            CacheFile::AssumeRole => "assume-role credentials cache file",
            CacheFile::EksToken => "EKS token cache file",
        })
    }
}

/// A cache file that could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("could not {action} {}: {}; {}", path.display(), crate::fs::plain(source), crate::fs::io_hint(source))]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    /// `reason` never quotes the file's content, which may hold a secret.
    #[error("{} is not a valid {what} ({reason}); it is treated as absent: {}", path.display(), what.fix())]
    Corrupt { path: PathBuf, what: CacheFile, reason: String },
    #[error("cannot find your home directory for ~/.aws: set HOME")]
    NoHome,
    #[error("cannot find a cache directory for aws-sso: set HOME or XDG_CACHE_HOME")]
    NoCacheDir,
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
}

impl From<crate::fs::FsError> for CacheError {
    fn from(e: crate::fs::FsError) -> Self {
        CacheError::Io { action: e.action, path: e.path, source: e.source }
    }
}

impl CacheError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        CacheError::Io { action, path: path.to_path_buf(), source }
    }

    pub(crate) fn corrupt(path: &Path, what: CacheFile, reason: impl Into<String>) -> Self {
        CacheError::Corrupt { path: path.to_path_buf(), what, reason: reason.into() }
    }
}

/// The top-level object of a cache file, read leniently: keys match case-insensitively (as
/// smithy-rs reads tokens) and unknown keys are ignored.
pub(crate) struct LenientObject(serde_json::Map<String, serde_json::Value>);

impl LenientObject {
    /// Parses `bytes`. The error says what is wrong without quoting the content.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err("the JSON is not an object".to_owned()),
            Err(e) => Err(format!("not JSON: error at line {}, column {}", e.line(), e.column())),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key).or_else(|| {
            self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, value)| value)
        })
    }

    /// A string value; `None` when absent or not a string.
    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(serde_json::Value::as_str)
    }

    pub(crate) fn required_str(&self, key: &str) -> Result<&str, String> {
        match self.get(key) {
            Some(serde_json::Value::String(s)) => Ok(s),
            Some(_) => Err(format!("{key} is not a string")),
            None => Err(format!("{key} is missing")),
        }
    }

    pub(crate) fn required_time(&self, key: &str) -> Result<jiff::Timestamp, String> {
        crate::time::parse_lenient(self.required_str(key)?)
            .ok_or_else(|| format!("{key} is not a timestamp"))
    }

    /// A nested object, read the same way.
    pub(crate) fn object(&self, key: &str) -> Option<LenientObject> {
        self.get(key)?.as_object().cloned().map(LenientObject)
    }

    /// A list of strings; `None` when absent, `null` or not a list of strings.
    pub(crate) fn str_list(&self, key: &str) -> Option<Vec<String>> {
        self.get(key)?.as_array()?.iter().map(|v| v.as_str().map(str::to_owned)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_vectors_of_the_aws_tools() {
        // docs/aws-contracts.md §3.8: token file names.
        for (input, want) in [
            ("admin", "d033e22ae348aeb5660fc2140aec35850c4da997"),
            ("dev-scopes", "75e4d41276d8bd17f85986fc6cccef29fd725ce3"),
            ("https://d-92671207e4.awsapps.com/start", "13f9d35043871d073ab260e020f0ffde092cb14b"),
            ("test", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
            ("https://d-abc123.awsapps.com/start", "40a89917e3175433e361b710a9d43528d7f1890a"),
            ("https://ssotest.awsapps.com/start", "dace00cba5f8355ec9d274ceb2bcebdfbeed0e12"),
            ("dev", "34c6fceca75e456f25e7e99531e2425c6c1de443"),
            ("test-sso", "d12208e38164f558a1d06c99432ab77dbb346c45"),
            ("correct-sso", "29faa2f70ab0f58f60e284d585d95865572f5cbd"),
            ("https://test.url/start", "f395038c92f1828cbb3991d2d6152d326b895606"),
            ("C", "32096c2e0eff33d844ee6d675407ace18289357d"),
        ] {
            assert_eq!(sha1_hex(input), want, "{input}");
        }
    }

    #[test]
    fn token_path_hashes_the_raw_identifier() {
        let dirs = CacheDirs::under_home(Path::new("/home/me"));
        assert_eq!(
            dirs.token_path("admin"),
            Path::new("/home/me/.aws/sso/cache/d033e22ae348aeb5660fc2140aec35850c4da997.json")
        );
        // No normalization: a trailing slash is a different session.
        assert_ne!(
            dirs.token_path("https://d-abc123.awsapps.com/start/"),
            dirs.token_path("https://d-abc123.awsapps.com/start")
        );
    }

    #[test]
    fn dirs_come_from_home() {
        let env = Environment::from_pairs([("HOME", "/home/me")]);
        let dirs = CacheDirs::from_env(&env).expect("home is set");
        assert_eq!(dirs.sso, Path::new("/home/me/.aws/sso/cache"));
        assert_eq!(dirs.cli, Path::new("/home/me/.aws/cli/cache"));
    }

    #[test]
    fn no_home_is_an_error_that_says_to_set_home() {
        let err = CacheDirs::from_env(&Environment::default()).expect_err("no home");
        assert!(err.to_string().contains("set HOME"), "{err}");
    }

    #[test]
    fn corrupt_error_names_the_file_and_the_fix() {
        let err =
            CacheError::corrupt(Path::new("/c/x.json"), CacheFile::Token, "expiresAt is missing");
        assert_eq!(
            err.to_string(),
            "/c/x.json is not a valid SSO token file (expiresAt is missing); it is treated as \
             absent: run `aws-sso-login` to replace it"
        );
    }
}
