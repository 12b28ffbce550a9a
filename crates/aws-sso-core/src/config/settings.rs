//! Our own optional settings file, `<config dir>/aws-sso/config.yaml`.
//!
//! ```yaml
//! browser: firefox            # instead of $BROWSER / the platform's opener
//! login_flow: device-code     # or browser (the default)
//! sessions:
//!   corp:
//!     login_flow: browser     # per [sso-session], wins over the global choice
//! ```
//!
//! Unknown keys are errors, so a typo does not silently do nothing. A new setting is a new
//! `Option` field here (and in [`SessionSettings`] when it can differ per session).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::env::{self, Environment};

/// How `aws-sso-login` gets a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginFlow {
    /// Authorization code with PKCE, through a browser and a loopback redirect.
    Browser,
    /// A code the user types on another device (SSH, containers, WSL).
    DeviceCode,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The command that opens the login page.
    pub browser: Option<String>,
    pub login_flow: Option<LoginFlow>,
    /// Settings for one `[sso-session]`, by its name.
    pub sessions: BTreeMap<String, SessionSettings>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    pub login_flow: Option<LoginFlow>,
}

const FILE_NAME: &str = "config.yaml";
const APP_DIR: &str = "aws-sso";

impl Settings {
    /// Where the file is: `$AWS_SSO_CONFIG_DIR/config.yaml`, else (Linux and other Unixes but
    /// macOS) `$XDG_CONFIG_HOME/aws-sso/config.yaml`, else `~/.config/aws-sso/config.yaml`; on
    /// macOS and Windows the platform's config directory. `None` when no home can be found.
    pub fn path(env: &Environment) -> Option<PathBuf> {
        if let Some(dir) = env.non_empty(env::AWS_SSO_CONFIG_DIR) {
            return Some(Path::new(dir).join(FILE_NAME));
        }
        if cfg!(any(target_os = "macos", windows)) {
            let dirs = directories::ProjectDirs::from("", "", APP_DIR)?;
            return Some(dirs.config_dir().join(FILE_NAME));
        }
        // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
        let base = match env.non_empty(env::XDG_CONFIG_HOME).map(PathBuf::from) {
            Some(dir) if dir.is_absolute() => dir,
            _ => env.home_dir()?.join(".config"),
        };
        Some(base.join(APP_DIR).join(FILE_NAME))
    }

    /// Reads the file; a missing file (or no home at all) gives the defaults.
    pub fn load(env: &Environment) -> Result<Settings, ConfigError> {
        match Self::path(env) {
            Some(path) => Self::load_from(&path),
            None => Ok(Settings::default()),
        }
    }

    pub fn load_from(path: &Path) -> Result<Settings, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(ConfigError::Read { path: path.to_owned(), source }),
        }
    }

    /// Parses the text of the file at `path` (used in error messages).
    pub fn parse(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        // An empty file, or one with only comments, holds no document at all.
        let has_content = text.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#') && l != "---"
        });
        if !has_content {
            return Ok(Settings::default());
        }
        yaml_serde::from_str(text).map_err(|e| {
            let location = e.location();
            ConfigError::Settings {
                path: path.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                message: e.to_string(),
            }
        })
    }

    /// The login flow configured for `session`, else the global one.
    pub fn login_flow_for(&self, session: &str) -> Option<LoginFlow> {
        self.sessions.get(session).and_then(|s| s.login_flow).or(self.login_flow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("/home/u/.config/aws-sso/config.yaml"))
    }

    #[test]
    fn reads_every_field_and_per_session_flow_wins() {
        let s = parse(
            "browser: firefox\nlogin_flow: device-code\nsessions:\n  corp:\n    login_flow: browser\n  other: {}\n",
        )
        .expect("valid");
        assert_eq!(s.browser.as_deref(), Some("firefox"));
        assert_eq!(s.login_flow_for("corp"), Some(LoginFlow::Browser));
        assert_eq!(s.login_flow_for("other"), Some(LoginFlow::DeviceCode));
        assert_eq!(s.login_flow_for("unknown"), Some(LoginFlow::DeviceCode));
        assert_eq!(Settings::default().login_flow_for("corp"), None);
    }

    #[test]
    fn empty_or_comment_only_files_are_the_defaults() {
        for text in ["", "\n", "# nothing yet\n", "---\n"] {
            assert_eq!(parse(text).expect("valid"), Settings::default(), "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_file_line_column_and_problem() {
        let err = parse("browser: firefox\nlogin_flo: browser\n").expect_err("unknown field");
        let text = err.to_string();
        assert!(text.contains("/home/u/.config/aws-sso/config.yaml"), "{text}");
        assert!(text.contains("login_flo"), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(matches!(err, ConfigError::Settings { line: Some(2), column: Some(_), .. }));

        let err = parse("login_flow: telepathy\n").expect_err("bad value");
        let text = err.to_string();
        assert!(text.contains("telepathy") && text.contains("device-code"), "{text}");
    }

    #[test]
    fn path_prefers_our_variable_then_xdg_then_home() {
        let env = Environment::from_pairs([("AWS_SSO_CONFIG_DIR", "/etc/aws-sso"), ("HOME", "/h")]);
        assert_eq!(Settings::path(&env), Some(PathBuf::from("/etc/aws-sso/config.yaml")));
        if cfg!(any(target_os = "macos", windows)) {
            return;
        }
        let env = Environment::from_pairs([("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(Settings::path(&env), Some(PathBuf::from("/x/aws-sso/config.yaml")));
        let env = Environment::from_pairs([("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")]);
        assert_eq!(Settings::path(&env), Some(PathBuf::from("/h/.config/aws-sso/config.yaml")));
        assert_eq!(Settings::path(&Environment::default()), None);
    }

    #[test]
    fn a_missing_file_is_the_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = Environment::from_pairs([("AWS_SSO_CONFIG_DIR", dir.path().to_string_lossy())]);
        assert_eq!(Settings::load(&env).expect("defaults"), Settings::default());
        std::fs::write(dir.path().join("config.yaml"), "login_flow: browser\n").expect("write");
        assert_eq!(Settings::load(&env).expect("read").login_flow, Some(LoginFlow::Browser));
    }
}
