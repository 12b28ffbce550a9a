//! Every environment variable the tools read, in one place, and a snapshot of them.
//!
//! Code takes an [`Environment`] instead of calling `std::env::var` so tests can give it any
//! environment without touching the process's own.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub const HOME: &str = "HOME";
pub const USERPROFILE: &str = "USERPROFILE";
pub const HOMEDRIVE: &str = "HOMEDRIVE";
pub const HOMEPATH: &str = "HOMEPATH";
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
pub const AWS_PROFILE: &str = "AWS_PROFILE";
pub const AWS_DEFAULT_PROFILE: &str = "AWS_DEFAULT_PROFILE";
pub const AWS_SSO_SESSION: &str = "AWS_SSO_SESSION";
pub const AWS_CA_BUNDLE: &str = "AWS_CA_BUNDLE";
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
pub const AWS_ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";
pub const AWS_ENDPOINT_URL_SSO_OIDC: &str = "AWS_ENDPOINT_URL_SSO_OIDC";
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
pub const AWS_USE_FIPS_ENDPOINT: &str = "AWS_USE_FIPS_ENDPOINT";
pub const AWS_USE_DUALSTACK_ENDPOINT: &str = "AWS_USE_DUALSTACK_ENDPOINT";
pub const BROWSER: &str = "BROWSER";
pub const SSH_CONNECTION: &str = "SSH_CONNECTION";
pub const SSH_TTY: &str = "SSH_TTY";
pub const NO_COLOR: &str = "NO_COLOR";
/// Our log filter, e.g. `debug` or `aws_sso_core=trace`.
pub const AWS_SSO_LOG: &str = "AWS_SSO_LOG";
/// Overrides the directory of our own `config.yaml`.
pub const AWS_SSO_CONFIG_DIR: &str = "AWS_SSO_CONFIG_DIR";
/// Overrides the per-request HTTP timeout, in seconds.
pub const AWS_SSO_HTTP_TIMEOUT: &str = "AWS_SSO_HTTP_TIMEOUT";
/// Base of our own cache directory (`$XDG_CACHE_HOME/aws-sso`), when absolute.
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// The base of our config directory (`$XDG_CONFIG_HOME/aws-sso`: config.yaml), when absolute.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The base of our data directory (`$XDG_DATA_HOME/aws-sso`: the allow list), when absolute.
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
/// The shell hook's bound on its one network call, in seconds (default 2).
pub const AWS_SSO_HOOK_TIMEOUT: &str = "AWS_SSO_HOOK_TIMEOUT";
/// The shell hook's state (JSON, no secret), handed back by the shell on each run.
pub const AWS_SSO_HOOK_STATE: &str = "_AWS_SSO_STATE";
/// The pid of the shell that runs the hook (its stamp file is named after it).
pub const AWS_SSO_HOOK_SHELL_PID: &str = "_AWS_SSO_SHELL_PID";
/// The directory the shell is in, as the shell shows it (symlinks kept).
pub const PWD: &str = "PWD";
/// Overrides the console federation endpoint (`https://signin.aws.amazon.com` and the like).
pub const AWS_SSO_FEDERATION_ENDPOINT: &str = "AWS_SSO_FEDERATION_ENDPOINT";

/// A snapshot of the environment variables and of the current directory, taken once at start,
/// so that everything below reads the same process state.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    /// `None` when it cannot be read (it was deleted) or in a test that sets none.
    current_dir: Option<PathBuf>,
}

impl Environment {
    /// The process's own environment. Variables that are not valid UTF-8 are left out.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os().filter_map(utf8_pair).collect(),
            current_dir: std::env::current_dir().ok(),
        }
    }

    /// An environment holding exactly these variables (for tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            current_dir: None,
        }
    }

    /// The same snapshot, standing in `dir` (for tests, and for a caller that works elsewhere).
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// The directory the process was started in, when it could be read.
    pub fn current_dir(&self) -> Option<&Path> {
        self.current_dir.as_deref()
    }

    /// The value of `name`, `None` when unset. An empty value counts as set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name` when it is set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// `true` for `true` (any case), as the SDKs read boolean settings.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.non_empty(name).map(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The home directory as the cross-SDK file-location suite defines it: `HOME` first on every
    /// platform, then `USERPROFILE`, then `HOMEDRIVE` + `HOMEPATH` (Windows only).
    pub fn home_dir(&self) -> Option<PathBuf> {
        if let Some(home) = self.non_empty(HOME) {
            return Some(PathBuf::from(home));
        }
        if cfg!(windows) {
            if let Some(p) = self.non_empty(USERPROFILE) {
                return Some(PathBuf::from(p));
            }
            if let (Some(d), Some(p)) = (self.non_empty(HOMEDRIVE), self.non_empty(HOMEPATH)) {
                return Some(PathBuf::from(format!("{d}{p}")));
            }
        }
        None
    }
}

fn utf8_pair((k, v): (OsString, OsString)) -> Option<(String, String)> {
    Some((k.into_string().ok()?, v.into_string().ok()?))
}
