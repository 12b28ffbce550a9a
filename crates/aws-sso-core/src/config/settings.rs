//! Our own optional settings file, `<config dir>/aws-sso/config.yaml`.
//!
//! ```yaml
//! browser: firefox            # instead of $BROWSER / the platform's opener
//! login_flow: device-code     # or browser (the default)
//! sessions:
//!   corp:
//!     login_flow: browser     # per [sso-session], wins over the global choice
//!     warn_before: 2h         # aws-sso-login warns when the session has less than this left
//! rate_limit: 20              # portal requests per second; 0 = unlimited
//! concurrency: 16             # portal requests in flight at once
//! account_cache_ttl: 24h      # how long `aws-sso-ls` lists from its cache: 90m, 24h, 7d…
//! warn_before: 1h             # for every session without its own warn_before
//! profile_template: "{account_name}.{role}"   # names of `aws-sso-ls --write-profiles`
//! trusted_paths:              # project files below these need no `aws-sso-env allow`
//!   - ~/src/work
//! default_session: corp       # when several [sso-session]s are configured
//! auto_login: prompt          # never | prompt | always: log in when a command needs it
//! profile_region: eu-west-1   # the region of the profiles --write-profiles writes
//! ```
//!
//! Unknown keys are errors, so a typo does not silently do nothing. A new setting is a new
//! `Option` field here (and in [`SessionSettings`] when it can differ per session).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Span, SpanRelativeTo};
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The command that opens the login page.
    pub browser: Option<String>,
    pub login_flow: Option<LoginFlow>,
    /// Settings for one `[sso-session]`, by its name.
    pub sessions: BTreeMap<String, SessionSettings>,
    /// Portal requests per second, shared by every request of a run; 0 means unlimited.
    pub rate_limit: Option<f64>,
    /// Portal requests in flight at once while listing roles.
    pub concurrency: Option<usize>,
    /// How long the account cache stays fresh, e.g. `24h`, `90m`, `7d`
    /// ([`Settings::account_cache_ttl`]).
    pub account_cache_ttl: Option<String>,
    /// `aws-sso-login` warns when a session can be used (refreshed) for less than this, e.g.
    /// `2h` ([`Settings::warn_before_for`]).
    pub warn_before: Option<String>,
    /// How `aws-sso-ls --write-profiles` names profiles; the writer holds the default.
    pub profile_template: Option<String>,
    /// Directories whose project files (`.aws-sso.yaml`), at any depth, are trusted without
    /// `aws-sso-env allow`. Absolute, or under `~/`, which [`Settings::load`] expands.
    pub trusted_paths: Vec<PathBuf>,
    /// The `[sso-session]` to use when several are configured and nothing else chooses one
    /// (after the flags, the project file and `AWS_PROFILE`).
    pub default_session: Option<String>,
    /// Whether a command that needs a login offers one at a terminal (default `prompt`).
    pub auto_login: Option<AutoLogin>,
    /// The `region` of the profiles `aws-sso-ls --write-profiles` writes; the SSO region when
    /// unset.
    pub profile_region: Option<String>,
}

/// What a command that needs a login does about it, at a terminal (never from
/// `credential-process`, the hook, JSON output, or without a terminal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoLogin {
    /// Exit 3 with the command to run.
    Never,
    /// Ask `Log in to corp now? [Y/n]`.
    #[default]
    Prompt,
    /// Log in without asking.
    Always,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    pub login_flow: Option<LoginFlow>,
    /// Wins over the global `warn_before` for this session.
    pub warn_before: Option<String>,
}

/// How long the account cache stays fresh when `account_cache_ttl` is not set.
pub const DEFAULT_ACCOUNT_CACHE_TTL: SignedDuration = SignedDuration::from_hours(24);

const FILE_NAME: &str = "config.yaml";

impl Settings {
    /// Where the file is: `$AWS_SSO_CONFIG_DIR/config.yaml`, else `config.yaml` in our config
    /// directory ([`crate::dirs`]). `None` when no home can be found.
    pub fn path(env: &Environment) -> Option<PathBuf> {
        if let Some(dir) = env.non_empty(env::AWS_SSO_CONFIG_DIR) {
            return Some(Path::new(dir).join(FILE_NAME));
        }
        Some(crate::dirs::config_dir(env)?.join(FILE_NAME))
    }

    /// Reads the file; a missing file (or no home at all) gives the defaults.
    pub fn load(env: &Environment) -> Result<Settings, ConfigError> {
        let Some(path) = Self::path(env) else { return Ok(Settings::default()) };
        let mut settings = Self::load_from(&path)?;
        settings.expand_home(env.home_dir().as_deref())?;
        Ok(settings)
    }

    /// Replaces a leading `~` of the [`trusted_paths`](Settings::trusted_paths) by `home`.
    /// [`Settings::load_from`] and [`Settings::parse`] leave them as written.
    pub fn expand_home(&mut self, home: Option<&Path>) -> Result<(), ConfigError> {
        for path in &mut self.trusted_paths {
            let Ok(rest) = path.strip_prefix("~") else { continue };
            let home = home.ok_or_else(|| ConfigError::NoHome {
                variable: Some("trusted_paths of config.yaml".to_owned()),
            })?;
            *path = home.join(rest);
        }
        Ok(())
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
        let settings: Settings = yaml_serde::from_str(text).map_err(|e| {
            let location = e.location();
            ConfigError::Settings {
                path: path.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                message: e.to_string(),
            }
        })?;
        settings.check().map_err(|(key, message)| ConfigError::Settings {
            path: path.to_owned(),
            line: line_of_key(text, key),
            column: None,
            message: format!("{key}: {message}"),
        })?;
        Ok(settings)
    }

    /// The values serde cannot check: the key at fault and what is wrong with it.
    fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(rate) = self.rate_limit
            && !(rate.is_finite() && rate >= 0.0)
        {
            return Err((
                "rate_limit",
                format!("{rate} is not a number of requests per second (use 0 for no limit)"),
            ));
        }
        if self.concurrency == Some(0) {
            return Err(("concurrency", "must be at least 1".to_owned()));
        }
        if let Some(ttl) = &self.account_cache_ttl {
            parse_ttl(ttl).map_err(|message| ("account_cache_ttl", message))?;
        }
        if let Some(before) = &self.warn_before {
            parse_ttl(before).map_err(|message| ("warn_before", message))?;
        }
        for (name, session) in &self.sessions {
            if let Some(before) = &session.warn_before {
                parse_ttl(before)
                    .map_err(|message| ("warn_before", format!("(session {name}) {message}")))?;
            }
        }
        for path in &self.trusted_paths {
            // `Path::starts_with` compares whole components: `~user/x` does not match.
            if !(path.is_absolute() || path.starts_with("~")) {
                return Err((
                    "trusted_paths",
                    format!(
                        "\"{}\" is not an absolute path; write it like ~/src/work or /srv/projects",
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How long the account cache stays fresh: `account_cache_ttl`, else 24 hours. A value that
    /// does not parse (only possible when built without [`Settings::parse`]) gives the default.
    pub fn account_cache_ttl(&self) -> SignedDuration {
        self.account_cache_ttl
            .as_deref()
            .and_then(|text| parse_ttl(text).ok())
            .unwrap_or(DEFAULT_ACCOUNT_CACHE_TTL)
    }

    /// How long before its end a session is warned about: its own `warn_before`, else the
    /// global one; `None` when neither is set (or, only when built without [`Settings::parse`],
    /// when the value does not parse).
    pub fn warn_before_for(&self, session: &str) -> Option<SignedDuration> {
        self.sessions
            .get(session)
            .and_then(|s| s.warn_before.as_deref())
            .or(self.warn_before.as_deref())
            .and_then(|text| parse_ttl(text).ok())
    }

    /// The login flow configured for `session`, else the global one.
    pub fn login_flow_for(&self, session: &str) -> Option<LoginFlow> {
        self.sessions.get(session).and_then(|s| s.login_flow).or(self.login_flow)
    }
}

/// A duration in jiff's friendly format (`24h`, `90m`, `1h30m`, `7d`, `2 weeks`), a day being
/// 24 hours; or ISO 8601 (`PT24H`, `P1D`).
fn parse_ttl(text: &str) -> Result<SignedDuration, String> {
    let not_a_duration =
        || format!("\"{text}\" is not a duration; write it like 24h, 90m, 1h30m or 7d");
    let span: Span = text.trim().parse().map_err(|_| not_a_duration())?;
    let duration =
        span.to_duration(SpanRelativeTo::days_are_24_hours()).map_err(|_| not_a_duration())?;
    if duration.is_negative() {
        return Err(format!("\"{text}\" is negative; write it like 24h, 90m, 1h30m or 7d"));
    }
    Ok(duration)
}

/// The 1-based line where `key:` starts a line of the top level, for error messages.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("/home/u/.config/aws-sso/config.yaml"))
    }

    #[test]
    fn warn_before_per_session_wins_over_the_global_one() {
        let s = parse("warn_before: 1h\nsessions:\n  corp:\n    warn_before: 2h30m\n  other: {}\n")
            .expect("valid");
        assert_eq!(s.warn_before_for("corp"), Some(SignedDuration::from_mins(150)));
        assert_eq!(s.warn_before_for("other"), Some(SignedDuration::from_hours(1)));
        assert_eq!(Settings::default().warn_before_for("corp"), None);
    }

    #[test]
    fn a_warn_before_that_is_not_a_duration_is_an_error_naming_the_session() {
        let err = parse("sessions:\n  corp:\n    warn_before: soon\n").unwrap_err().to_string();
        assert!(err.contains("warn_before: (session corp) \"soon\" is not a duration"), "{err}");
        let err = parse("warn_before: -2h\n").unwrap_err().to_string();
        assert!(err.contains("negative"), "{err}");
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
    fn reads_the_listing_settings() {
        let s = parse(
            "rate_limit: 12.5\nconcurrency: 4\naccount_cache_ttl: 90m\nprofile_template: \"{account_name}-{role}\"\n",
        )
        .expect("valid");
        assert_eq!(s.rate_limit, Some(12.5));
        assert_eq!(s.concurrency, Some(4));
        assert_eq!(s.account_cache_ttl(), SignedDuration::from_mins(90));
        assert_eq!(s.profile_template.as_deref(), Some("{account_name}-{role}"));
        assert_eq!(parse("rate_limit: 0\n").expect("unlimited").rate_limit, Some(0.0));
        assert_eq!(parse("rate_limit: 20\n").expect("integer").rate_limit, Some(20.0));
        assert_eq!(Settings::default().account_cache_ttl(), SignedDuration::from_hours(24));
    }

    #[test]
    fn cache_ttls_read_like_people_write_them() {
        for (text, hours) in [
            ("24h", 24.0),
            ("90m", 1.5),
            ("1h30m", 1.5),
            ("7d", 168.0),
            ("2 weeks", 336.0),
            ("1 day 12 hours", 36.0),
            ("PT24H", 24.0),
            ("P1D", 24.0),
            ("0s", 0.0),
        ] {
            let s = parse(&format!("account_cache_ttl: {text}\n")).expect(text);
            assert_eq!(s.account_cache_ttl().as_secs_f64() / 3600.0, hours, "{text}");
        }
    }

    #[test]
    fn bad_listing_settings_name_the_file_the_key_and_the_value() {
        for (text, line, wants) in [
            (
                "browser: x\naccount_cache_ttl: 3 fortnights\n",
                2,
                "\"3 fortnights\" is not a duration",
            ),
            ("account_cache_ttl: \"24\"\n", 1, "write it like 24h"),
            ("account_cache_ttl: 1y\n", 1, "\"1y\" is not a duration"),
            ("account_cache_ttl: -1h\n", 1, "negative"),
            ("rate_limit: -5\n", 1, "rate_limit: -5 is not a number of requests per second"),
            ("rate_limit: .nan\n", 1, "rate_limit: NaN"),
            ("concurrency: 0\n", 1, "concurrency: must be at least 1"),
        ] {
            let err = parse(text).expect_err(text);
            let message = err.to_string();
            assert!(message.starts_with("/home/u/.config/aws-sso/config.yaml: "), "{message}");
            assert!(message.contains(wants), "{text}: {message}");
            assert!(
                matches!(err, ConfigError::Settings { line: Some(l), .. } if l == line),
                "{text}: {err:?}"
            );
        }
        assert!(parse("rate_limit: fast\n").is_err());
        assert!(parse("concurrency: -1\n").is_err());
    }

    #[test]
    fn trusted_paths_are_absolute_or_under_home() {
        let mut s =
            parse("trusted_paths:\n  - ~/src/work\n  - /srv/projects\n  - ~\n").expect("valid");
        assert_eq!(
            s.trusted_paths,
            [PathBuf::from("~/src/work"), PathBuf::from("/srv/projects"), PathBuf::from("~")]
        );
        s.expand_home(Some(Path::new("/home/u"))).expect("expands");
        assert_eq!(
            s.trusted_paths,
            [
                PathBuf::from("/home/u/src/work"),
                PathBuf::from("/srv/projects"),
                PathBuf::from("/home/u")
            ]
        );
        assert_eq!(Settings::default().trusted_paths, Vec::<PathBuf>::new());

        let mut s = parse("trusted_paths: [~/src]\n").expect("valid");
        let err = s.expand_home(None).expect_err("no home").to_string();
        assert!(err.contains("trusted_paths") && err.contains("HOME"), "{err}");

        for text in ["trusted_paths: [src/work]\n", "trusted_paths:\n  - ~other/src\n"] {
            let err = parse(text).expect_err(text);
            let message = err.to_string();
            assert!(message.contains("is not an absolute path"), "{message}");
            assert!(matches!(err, ConfigError::Settings { line: Some(1), .. }), "{err:?}");
        }
        assert!(parse("trusted_paths: /srv\n").is_err(), "a list is expected");
    }

    #[test]
    fn load_expands_trusted_paths_with_the_home_of_the_environment() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.yaml"), "trusted_paths: [~/work]\n").expect("write");
        let env = Environment::from_pairs([
            ("AWS_SSO_CONFIG_DIR", dir.path().to_string_lossy().into_owned()),
            ("HOME", "/home/u".to_owned()),
        ]);
        assert_eq!(
            Settings::load(&env).expect("read").trusted_paths,
            [PathBuf::from("/home/u/work")]
        );
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
