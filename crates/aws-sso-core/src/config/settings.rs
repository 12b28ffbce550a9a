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
//! An unknown key is a warning naming its line and the closest known key, so a typo does not
//! silently do nothing, yet does not stop every command either. A wrong type or value of a
//! known key is an error naming the file and line ([`LoadMode::Strict`]), except for
//! `credential-process` and the shell hook ([`LoadMode::Lenient`]), which warn and use that
//! key's default rather than break every SDK and every prompt. A new setting is a new `Option`
//! field here (and in [`SessionSettings`] when it can differ per session), and its name in
//! [`KEYS`] (or [`SESSION_KEYS`]).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Span, SpanRelativeTo};
use serde::{Deserialize, Serialize};
use yaml_serde::{Mapping, Value};

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

/// `config.yaml`. Unknown keys are not refused by serde: [`Settings::parse_with`] finds them
/// first, to warn about them with their line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
#[serde(default)]
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

    /// Reads the file strictly ([`LoadMode::Strict`]); a missing file (or no home at all) gives
    /// the defaults. Warnings (unknown keys) are dropped: [`Settings::load_with`] returns them.
    pub fn load(env: &Environment) -> Result<Settings, ConfigError> {
        Ok(Self::load_with(env, LoadMode::Strict)?.settings)
    }

    /// Reads the file as `mode` says, with the `~` of `trusted_paths` expanded.
    pub fn load_with(env: &Environment, mode: LoadMode) -> Result<Loaded, ConfigError> {
        let Some(path) = Self::path(env) else { return Ok(Loaded::default()) };
        let mut loaded = match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse_with(&text, &path, mode)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Loaded::default(),
            Err(source) => {
                let error = ConfigError::Read { path: path.clone(), source };
                match mode {
                    LoadMode::Strict => return Err(error),
                    LoadMode::Lenient => Loaded {
                        settings: Settings::default(),
                        warnings: vec![format!("{error}; using the default settings")],
                    },
                }
            }
        };
        if let Err(error) = loaded.settings.expand_home(env.home_dir().as_deref()) {
            match mode {
                LoadMode::Strict => return Err(error),
                LoadMode::Lenient => {
                    loaded.settings.trusted_paths.clear();
                    loaded.warnings.push(format!("{error}; trusted_paths is ignored"));
                }
            }
        }
        Ok(loaded)
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

    /// Parses the text of the file at `path` (used in error messages) strictly, dropping the
    /// warnings.
    pub fn parse(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        Ok(Self::parse_with(text, path, LoadMode::Strict)?.settings)
    }

    /// Parses the text of the file at `path`: unknown keys are warnings, and a wrong value of a
    /// known key is an error, or in [`LoadMode::Lenient`] a warning and that key's default.
    pub fn parse_with(text: &str, path: &Path, mode: LoadMode) -> Result<Loaded, ConfigError> {
        // An empty file, or one with only comments, holds no document at all.
        let has_content = text.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#') && l != "---"
        });
        if !has_content {
            return Ok(Loaded::default());
        }
        let lenient = |error: ConfigError, warnings: Vec<String>| match mode {
            LoadMode::Strict => Err(error),
            LoadMode::Lenient => {
                let mut warnings = warnings;
                warnings.push(format!("{error}; using the default settings"));
                Ok(Loaded { settings: Settings::default(), warnings })
            }
        };
        // First pass: the document as YAML values, to find the keys nobody reads.
        let value: Value = match yaml_serde::from_str(text) {
            Ok(value) => value,
            Err(e) => return lenient(located(e, path, "not valid YAML: "), Vec::new()),
        };
        let mut warnings = unknown_keys(&value, text, path);
        // Second pass: the settings, every error with its line.
        let strict = yaml_serde::from_str::<Settings>(text)
            .map_err(|e| located(e, path, ""))
            .and_then(|settings| {
                settings.check().map_err(|(key, message)| ConfigError::Settings {
                    path: path.to_owned(),
                    line: line_of_key(text, key),
                    column: None,
                    message: format!("{key}: {message}"),
                })?;
                Ok(settings)
            });
        match (strict, mode) {
            (Ok(settings), _) => Ok(Loaded { settings, warnings }),
            (Err(error), LoadMode::Strict) => Err(error),
            (Err(error), LoadMode::Lenient) => match value {
                Value::Mapping(map) => {
                    let settings = keep_usable(map, text, path, &mut warnings);
                    Ok(Loaded { settings, warnings })
                }
                _ => lenient(error, warnings),
            },
        }
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
        if let Some(template) = &self.profile_template {
            super::managed::template_for_session(template, "session")
                .map_err(|e| ("profile_template", e.to_string()))?;
        }
        if let Some(region) = &self.profile_region
            && !is_region(region)
        {
            return Err((
                "profile_region",
                format!("\"{region}\" is not an AWS region; write it like eu-west-1 or us-east-1"),
            ));
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

/// `true` for a region name as AWS writes them: lowercase words and a number, `eu-west-1`.
fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    text.len() <= 32
        && parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The 1-based line where `key:` starts a line of the top level, for error messages.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// The JSON Schema of `config.yaml`, for editors (`cargo xtask codegen` writes it to
/// `schema/aws-sso-config.schema.json`). Unknown keys are flagged there as they are warned
/// about here.
pub fn json_schema() -> String {
    use serde_json::json;
    let duration = |description: &str| {
        json!({
            "description": description,
            "type": "string",
            "minLength": 1,
            "examples": ["24h", "90m", "1h30m", "7d", "PT24H"]
        })
    };
    let login_flow = json!({
        "description": "How aws-sso-login gets a token: browser (authorization code with PKCE, the default) or device-code (a code typed on another device: SSH, containers, WSL).",
        "enum": ["browser", "device-code"]
    });
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aws-sso settings (config.yaml)",
        "description": "Optional settings of the aws-sso tools, in <config dir>/aws-sso/config.yaml ($AWS_SSO_CONFIG_DIR/config.yaml when set). Every key is optional. An unknown key is a warning, not an error.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "browser": {
                "description": "The command that opens the login page, instead of $BROWSER or the platform's opener.",
                "type": "string",
                "examples": ["firefox"]
            },
            "login_flow": login_flow.clone(),
            "sessions": {
                "description": "Settings for one [sso-session NAME] of ~/.aws/config, by its name; they win over the global ones.",
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "login_flow": login_flow,
                        "warn_before": duration("aws-sso-login warns when this session can be used for less than this."),
                    }
                }
            },
            "rate_limit": {
                "description": "Portal requests per second, shared by every request of a run; 0 means unlimited.",
                "type": "number",
                "minimum": 0,
                "examples": [20]
            },
            "concurrency": {
                "description": "Portal requests in flight at once while listing roles.",
                "type": "integer",
                "minimum": 1,
                "examples": [16]
            },
            "account_cache_ttl": duration("How long aws-sso-ls lists from its account cache before fetching again (default 24h)."),
            "warn_before": duration("aws-sso-login warns when a session without its own warn_before can be used for less than this."),
            "profile_template": {
                "description": "How aws-sso-ls --write-profiles names profiles. Placeholders: {account_name}, {account_id}, {role}, {session}. Default: {account_name}.{role}.",
                "type": "string",
                "minLength": 1,
                "examples": ["{account_name}.{role}", "{session}-{account_id}-{role}"]
            },
            "trusted_paths": {
                "description": "Directories whose project files (.aws-sso.yaml), at any depth, are trusted without aws-sso-env allow. Absolute, or under ~/.",
                "type": "array",
                "items": { "type": "string", "minLength": 1 },
                "examples": [["~/src/work"]]
            },
            "default_session": {
                "description": "The [sso-session] to use when several are configured and nothing else chooses one.",
                "type": "string",
                "minLength": 1,
                "examples": ["corp"]
            },
            "auto_login": {
                "description": "What a command that needs a login does about it at a terminal: never (exit with the command to run), prompt (ask, the default) or always (log in without asking).",
                "enum": ["never", "prompt", "always"]
            },
            "profile_region": {
                "description": "The region of the profiles aws-sso-ls --write-profiles writes (its --region wins); default: the SSO region.",
                "type": "string",
                "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
                "examples": ["eu-west-1"]
            }
        }
    });
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The top-level keys of the file, as [`Settings`] names its fields.
pub const KEYS: &[&str] = &[
    "browser",
    "login_flow",
    "sessions",
    "rate_limit",
    "concurrency",
    "account_cache_ttl",
    "warn_before",
    "profile_template",
    "trusted_paths",
    "default_session",
    "auto_login",
    "profile_region",
];

/// The keys of one session under `sessions:`, as [`SessionSettings`] names its fields.
pub const SESSION_KEYS: &[&str] = &["login_flow", "warn_before"];

/// How a value that cannot be used is treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadMode {
    /// An error naming the file and line: the user is at a command and can fix it.
    #[default]
    Strict,
    /// A warning, and that key's default (the whole file's defaults when it is not YAML at all):
    /// for `credential-process` and the shell hook, where an error would break every SDK call
    /// and every prompt over a setting they may not even use.
    Lenient,
}

/// The settings read, and what was wrong with the file that did not stop them being read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loaded {
    pub settings: Settings,
    /// One line each, naming the file and line: unknown keys, and in [`LoadMode::Lenient`] the
    /// values replaced by their default.
    pub warnings: Vec<String>,
}

/// A YAML error of the file as [`ConfigError::Settings`], its position out of the message.
fn located(e: yaml_serde::Error, path: &Path, prefix: &str) -> ConfigError {
    let at = e.location();
    let (line, column) = (at.as_ref().map(|l| l.line()), at.as_ref().map(|l| l.column()));
    let mut message = e.to_string();
    if let (Some(line), Some(column)) = (line, column) {
        message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
    }
    ConfigError::Settings {
        path: path.to_owned(),
        line,
        column,
        message: format!("{prefix}{}", in_words(&message)),
    }
}

/// serde's names of Rust types in a message, in the words of the file: `expected usize` is
/// `expected a whole number`.
fn in_words(message: &str) -> String {
    [
        ("expected usize", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected struct SessionSettings", "expected keys like login_flow and warn_before"),
        ("expected struct Settings", "expected keys like browser and login_flow"),
    ]
    .iter()
    .fold(message.to_owned(), |text, (from, to)| text.replace(from, to))
}

/// `FILE:LINE: ` (or `FILE: ` when the line is not known), how every message about a place in
/// the file begins.
fn at(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}: ", path.display()),
        None => format!("{}: ", path.display()),
    }
}

/// A warning for each key of the file that no setting reads, with its line and the closest
/// known key.
fn unknown_keys(value: &Value, text: &str, path: &Path) -> Vec<String> {
    let Value::Mapping(map) = value else { return Vec::new() };
    let mut warnings = Vec::new();
    let mut unknown = |keys: &[&str], at_path: &[&str], key: &str| {
        let near = crate::names::closest(key, keys.iter().copied());
        let hint = match near.as_slice() {
            [] => format!(" The keys here are: {}.", keys.join(", ")),
            near => crate::names::did_you_mean(near),
        };
        let mut full: Vec<&str> = at_path.to_vec();
        full.push(key);
        warnings.push(format!(
            "{}unknown key `{}`, ignored.{hint}",
            at(path, line_of_path(text, &full)),
            crate::shell::printable(&full.join(".")),
        ));
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else { continue };
        if !KEYS.contains(&key) {
            unknown(KEYS, &[], key);
            continue;
        }
        if key != "sessions" {
            continue;
        }
        let Value::Mapping(sessions) = value else { continue };
        for (name, session) in sessions {
            let (Some(name), Value::Mapping(session)) = (name.as_str(), session) else { continue };
            for key in session.keys().filter_map(Value::as_str) {
                if !SESSION_KEYS.contains(&key) {
                    unknown(SESSION_KEYS, &["sessions", name], key);
                }
            }
        }
    }
    warnings
}

/// The settings of `map` whose values can be used, each key tried alone; a warning for each one
/// that cannot, which then takes its default. Under `sessions:`, each key of each session is
/// tried alone, so one bad value does not drop the others.
fn keep_usable(map: Mapping, text: &str, path: &Path, warnings: &mut Vec<String>) -> Settings {
    let usable = |mapping: Mapping| -> Result<(), (Option<&'static str>, String)> {
        let settings: Settings = yaml_serde::from_value(Value::Mapping(mapping))
            .map_err(|e| (None, in_words(&e.to_string())))?;
        settings.check().map_err(|(key, message)| (Some(key), message))
    };
    let mut kept = Mapping::new();
    for (key, value) in map {
        let Some(name) = key.as_str().map(str::to_owned) else { continue };
        if !KEYS.contains(&name.as_str()) {
            continue;
        }
        let mut one = Mapping::new();
        one.insert(key.clone(), value.clone());
        let Err((_, message)) = usable(one) else {
            kept.insert(key, value);
            continue;
        };
        // A session with one bad key keeps the others.
        if let (true, Value::Mapping(sessions)) = (name == "sessions", &value) {
            let mut good = Mapping::new();
            for (session, settings) in sessions {
                let session_name = session.as_str().unwrap_or_default().to_owned();
                let Value::Mapping(settings) = settings else {
                    warnings.push(format!(
                        "{}sessions.{}: a session's settings are keys like login_flow and warn_before; it is ignored",
                        at(path, line_of_path(text, &["sessions", &session_name])),
                        crate::shell::printable(&session_name),
                    ));
                    continue;
                };
                let mut good_keys = Mapping::new();
                for (k, v) in settings {
                    let mut probe = Mapping::new();
                    let mut inner = Mapping::new();
                    inner.insert(k.clone(), v.clone());
                    let mut outer = Mapping::new();
                    outer.insert(session.clone(), Value::Mapping(inner));
                    probe.insert(key.clone(), Value::Mapping(outer));
                    match usable(probe) {
                        Ok(()) => {
                            good_keys.insert(k.clone(), v.clone());
                        }
                        Err((_, message)) => {
                            let k = k.as_str().unwrap_or_default();
                            warnings.push(format!(
                                "{}sessions.{}.{k}: {message}; using its default instead",
                                at(path, line_of_path(text, &["sessions", &session_name, k])),
                                crate::shell::printable(&session_name),
                            ));
                        }
                    }
                }
                good.insert(session.clone(), Value::Mapping(good_keys));
            }
            kept.insert(key, Value::Mapping(good));
            continue;
        }
        let message = message.strip_prefix(&format!("{name}: ")).unwrap_or(&message).to_owned();
        warnings.push(format!(
            "{}{name}: {message}; using its default instead",
            at(path, line_of_key(text, &name)),
        ));
    }
    yaml_serde::from_value(Value::Mapping(kept)).unwrap_or_default()
}

/// The 1-based line of a key at `keys` (`["sessions", "corp", "warn_before"]`), in block
/// style: each key on its own line, more indented than its parent's.
fn line_of_path(text: &str, keys: &[&str]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for key in keys {
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(from) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if parent_indent.is_some_and(|p| indent <= p) {
                break;
            }
            let bare = trimmed.trim_start_matches(['"', '\'']);
            let level = match parent_indent {
                None => indent == 0,
                Some(p) => indent > p,
            };
            if level
                && bare.strip_prefix(key).is_some_and(|rest| {
                    rest.trim_start_matches(['"', '\'']).trim_start().starts_with(':')
                })
            {
                hit = Some((i, indent));
                break;
            }
        }
        let (i, indent) = hit?;
        found = Some(i + 1);
        from = i + 1;
        parent_indent = Some(indent);
    }
    found
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

    fn lenient(text: &str) -> Loaded {
        Settings::parse_with(text, Path::new("/c/config.yaml"), LoadMode::Lenient).expect("lenient")
    }

    fn strict(text: &str) -> Result<Loaded, ConfigError> {
        Settings::parse_with(text, Path::new("/c/config.yaml"), LoadMode::Strict)
    }

    #[test]
    fn errors_name_the_file_line_column_and_problem() {
        let err = parse("login_flow: telepathy\n").expect_err("bad value");
        let text = err.to_string();
        assert!(text.contains("telepathy") && text.contains("device-code"), "{text}");
        assert!(text.starts_with("/home/u/.config/aws-sso/config.yaml:1: login_flow: "), "{text}");
        assert!(matches!(err, ConfigError::Settings { line: Some(1), column: Some(_), .. }));
        let err = parse("browser: x\nconcurrency: many\n").expect_err("bad type").to_string();
        assert!(err.starts_with("/home/u/.config/aws-sso/config.yaml:2: "), "{err}");
        assert!(!err.contains("at line"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_a_warning_with_its_line_and_the_closest_key() {
        let loaded = strict("browser: firefox\nacount_cache_ttl: 1h\n").expect("still read");
        assert_eq!(loaded.settings.browser.as_deref(), Some("firefox"));
        assert_eq!(loaded.settings.account_cache_ttl, None);
        assert_eq!(
            loaded.warnings,
            [
                "/c/config.yaml:2: unknown key `acount_cache_ttl`, ignored. Did you mean account_cache_ttl?"
            ]
        );
        let loaded = strict("sessions:\n  corp:\n    # x\n    warn_befor: 2h\n").expect("read");
        assert_eq!(
            loaded.warnings,
            [
                "/c/config.yaml:4: unknown key `sessions.corp.warn_befor`, ignored. Did you mean warn_before?"
            ]
        );
        let loaded = strict("zzz_nothing_alike: 1\n").expect("read");
        assert!(
            loaded.warnings[0].contains("The keys here are: browser, login_flow"),
            "{loaded:?}"
        );
    }

    #[test]
    fn lenient_keeps_every_good_value_and_warns_for_each_bad_one() {
        let loaded = lenient(
            "browser: firefox\nconcurrency: many\nlogin_flow: telepathy\nwarn_before: 2h\nsessions:\n  corp:\n    login_flow: browser\n    warn_before: soon\n",
        );
        let s = &loaded.settings;
        assert_eq!(s.browser.as_deref(), Some("firefox"));
        assert_eq!((s.concurrency, s.login_flow), (None, None));
        assert_eq!(s.warn_before_for("other"), Some(SignedDuration::from_hours(2)));
        assert_eq!(s.login_flow_for("corp"), Some(LoginFlow::Browser));
        assert_eq!(s.warn_before_for("corp"), Some(SignedDuration::from_hours(2)));
        let w = &loaded.warnings;
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("/c/config.yaml:2: concurrency: invalid type"), "{w:?}");
        assert!(w[0].ends_with("; using its default instead"), "{w:?}");
        assert!(w[1].starts_with("/c/config.yaml:3: login_flow: unknown variant"), "{w:?}");
        assert!(w[2].starts_with("/c/config.yaml:8: sessions.corp.warn_before: "), "{w:?}");
        assert!(strict("concurrency: many\n").is_err());

        let loaded = lenient("rate_limit: -1\nconcurrency: 0\n");
        assert_eq!(loaded.settings, Settings::default());
        assert_eq!(loaded.warnings.len(), 2, "{loaded:?}");

        let loaded = lenient("browser: [unclosed\n");
        assert_eq!(loaded.settings, Settings::default());
        assert!(loaded.warnings[0].contains("not valid YAML"), "{loaded:?}");
        assert!(strict("browser: [unclosed\n").is_err());
        let loaded = lenient("- a list\n");
        assert_eq!(loaded.settings, Settings::default());
        assert_eq!(loaded.warnings.len(), 1, "{loaded:?}");
    }

    #[test]
    fn the_key_lists_match_the_fields() {
        let keys = |value: yaml_serde::Value| -> Vec<String> {
            let yaml_serde::Value::Mapping(map) = value else { panic!("a mapping") };
            map.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect()
        };
        let all = yaml_serde::to_value(Settings::default()).expect("serializes");
        assert_eq!(keys(all), KEYS);
        let session = yaml_serde::to_value(SessionSettings::default()).expect("serializes");
        assert_eq!(keys(session), SESSION_KEYS);
    }

    #[test]
    fn the_schema_names_every_key() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).expect("JSON");
        let keys: Vec<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = KEYS.to_vec();
        let mut got = keys.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want);
        let session = &schema["properties"]["sessions"]["additionalProperties"]["properties"];
        let mut got: Vec<&str> =
            session.as_object().expect("session keys").keys().map(String::as_str).collect();
        got.sort_unstable();
        assert_eq!(got, SESSION_KEYS);
    }

    #[test]
    fn lines_of_nested_keys() {
        let text =
            "login_flow: x\nsessions:\n  corp:\n    login_flow: y\n  lab:\n    login_flow: z\n";
        assert_eq!(line_of_path(text, &["login_flow"]), Some(1));
        assert_eq!(line_of_path(text, &["sessions", "corp", "login_flow"]), Some(4));
        assert_eq!(line_of_path(text, &["sessions", "lab", "login_flow"]), Some(6));
        assert_eq!(line_of_path(text, &["sessions", "lab", "warn_before"]), None);
        assert_eq!(line_of_path("sessions: {corp: {}}\n", &["sessions", "corp"]), None);
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
            ("browser: x\nprofile_region: Europe\n", 2, "\"Europe\" is not an AWS region"),
            ("profile_template: \"{acount_name}\"\n", 1, "Did you mean {account_name}?"),
        ] {
            let err = parse(text).expect_err(text);
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("/home/u/.config/aws-sso/config.yaml:{line}: ")),
                "{message}"
            );
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
