//! Where the AWS config and credentials files are, and which profile the environment selects.
//!
//! Follows the cross-SDK file-location suite: `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`
//! override `~/.aws/config` and `~/.aws/credentials`; a leading `~` is the home directory.

use std::path::PathBuf;

use super::ConfigError;
use crate::env::{self, Environment};

/// The two AWS files, whether or not they exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFiles {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

/// Whose path rules apply: Windows paths use `\` and find the home in more variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Unix,
    Windows,
}

impl Platform {
    pub fn current() -> Self {
        if cfg!(windows) { Platform::Windows } else { Platform::Unix }
    }

    fn separator(self) -> char {
        match self {
            Platform::Unix => '/',
            Platform::Windows => '\\',
        }
    }
}

impl ConfigFiles {
    /// The files of this environment on this machine.
    pub fn locate(env: &Environment) -> Result<Self, ConfigError> {
        Self::locate_on(env, Platform::current())
    }

    /// The files as `platform` would find them (the suite covers Windows and Linux alike).
    pub fn locate_on(env: &Environment, platform: Platform) -> Result<Self, ConfigError> {
        let home = home_dir(env, platform);
        let find = |variable: &str, default_name: &str| -> Result<PathBuf, ConfigError> {
            let sep = platform.separator();
            let path = match env.non_empty(variable) {
                Some(path) => expand_home(path, home.as_deref(), platform)
                    .ok_or_else(|| ConfigError::NoHome { variable: Some(variable.to_owned()) })?,
                None => {
                    let home = home.as_deref().ok_or(ConfigError::NoHome { variable: None })?;
                    format!("{}{sep}.aws{sep}{default_name}", home.trim_end_matches(sep))
                }
            };
            Ok(PathBuf::from(path))
        };
        Ok(ConfigFiles {
            config: find(env::AWS_CONFIG_FILE, "config")?,
            credentials: find(env::AWS_SHARED_CREDENTIALS_FILE, "credentials")?,
        })
    }
}

/// The profile the environment selects: `AWS_PROFILE`, then `AWS_DEFAULT_PROFILE` (the AWS CLI
/// v2 order). `None` means the default profile.
pub fn selected_profile(env: &Environment) -> Option<String> {
    env.non_empty(env::AWS_PROFILE)
        .or_else(|| env.non_empty(env::AWS_DEFAULT_PROFILE))
        .map(str::to_owned)
}

fn home_dir(env: &Environment, platform: Platform) -> Option<String> {
    if platform == Platform::current() {
        return env.home_dir().map(|p| p.to_string_lossy().into_owned());
    }
    // Another platform's rules, for the suite's cases that do not match this machine.
    if let Some(home) = env.non_empty(env::HOME) {
        return Some(home.to_owned());
    }
    if platform == Platform::Windows {
        if let Some(profile) = env.non_empty(env::USERPROFILE) {
            return Some(profile.to_owned());
        }
        if let (Some(drive), Some(path)) =
            (env.non_empty(env::HOMEDRIVE), env.non_empty(env::HOMEPATH))
        {
            return Some(format!("{drive}{path}"));
        }
    }
    None
}

/// `~` and `~/rest` (also `~\rest` on Windows) become the home directory; `None` when the path
/// needs a home and there is none.
fn expand_home(path: &str, home: Option<&str>, platform: Platform) -> Option<String> {
    let Some(rest) = path.strip_prefix('~') else {
        return Some(path.to_owned());
    };
    let starts_with_separator =
        rest.starts_with('/') || (platform == Platform::Windows && rest.starts_with('\\'));
    if !rest.is_empty() && !starts_with_separator {
        // `~user/...` is not expanded by the SDKs' suite either.
        return Some(path.to_owned());
    }
    let home = home?;
    Some(format!("{}{rest}", home.trim_end_matches(platform.separator())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn tilde_in_an_override_is_the_home_directory() {
        let files = ConfigFiles::locate_on(
            &env(&[("HOME", "/home/u/"), ("AWS_CONFIG_FILE", "~/work/aws-config")]),
            Platform::Unix,
        )
        .expect("located");
        assert_eq!(files.config, PathBuf::from("/home/u/work/aws-config"));
        assert_eq!(files.credentials, PathBuf::from("/home/u/.aws/credentials"));
    }

    #[test]
    fn no_home_is_an_error_that_says_what_to_set() {
        let err = ConfigFiles::locate_on(&env(&[]), Platform::Unix).expect_err("no home");
        assert!(err.to_string().contains("HOME"), "{err}");
        let err = ConfigFiles::locate_on(&env(&[("AWS_CONFIG_FILE", "~/c")]), Platform::Unix)
            .expect_err("no home");
        assert!(err.to_string().contains("AWS_CONFIG_FILE"), "{err}");
        let files = ConfigFiles::locate_on(
            &env(&[("AWS_CONFIG_FILE", "/c"), ("AWS_SHARED_CREDENTIALS_FILE", "/k")]),
            Platform::Unix,
        )
        .expect("both overridden");
        assert_eq!(files.config, PathBuf::from("/c"));
    }

    #[test]
    fn aws_profile_wins_over_aws_default_profile() {
        assert_eq!(selected_profile(&env(&[("AWS_DEFAULT_PROFILE", "b")])), Some("b".into()));
        assert_eq!(
            selected_profile(&env(&[("AWS_PROFILE", "a"), ("AWS_DEFAULT_PROFILE", "b")])),
            Some("a".into())
        );
        assert_eq!(selected_profile(&env(&[("AWS_PROFILE", "")])), None);
    }
}
