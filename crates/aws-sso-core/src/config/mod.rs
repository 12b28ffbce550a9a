//! The AWS config and credentials files, and our own `config.yaml`.
//!
//! - `files`: where the files are ([`ConfigFiles`]) and which profile the environment selects;
//! - `ini`: the file as lossless lines, shared by the reader and the editor;
//! - `profile`: the merged meaning of both files ([`AwsConfig`]), per the cross-SDK suite;
//! - `edit`: format-preserving changes ([`ConfigDocument`], [`update_config_file`]);
//! - [`managed`]: the marked block of profiles `aws-sso-ls --write-profiles` generates;
//! - [`settings`]: `<config dir>/aws-sso/config.yaml`;
//! - [`project`]: a project's `.aws-sso.yaml`, and its JSON Schema.

mod edit;
mod files;
mod ini;
pub mod managed;
mod profile;
pub mod project;
pub mod settings;

use std::io;
use std::path::{Path, PathBuf};

pub use edit::{ConfigDocument, update_config_file};
pub use files::{ConfigFiles, Platform, selected_profile};
pub use profile::{
    AwsConfig, FileKind, Profile, Section, SectionKind, Services, SyntaxError, parse_role_arn,
};

use profile::Source;

/// The command that adds or completes an `[sso-session]`, quoted in error messages.
const CONFIGURE_HINT: &str =
    "aws-sso-login configure --sso-session {name} --start-url URL --region REGION";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}; check that the file is readable")]
    Read { path: PathBuf, source: io::Error },

    #[error("cannot write {path}: {}; {}", crate::fs::plain(source), crate::fs::io_hint(source))]
    Write { path: PathBuf, source: io::Error },

    #[error("cannot edit {} without a lock, so nothing was written: {source}", path.display())]
    Lock { path: PathBuf, source: crate::lock::LockError },

    #[error("{file}, line {line}: {error}. Fix that line of the file.")]
    Syntax { file: String, line: usize, error: SyntaxError },

    #[error(
        "cannot find your home directory{}: set HOME{}",
        variable.as_ref().map(|v| format!(" to expand `~` in {v}")).unwrap_or_default(),
        if variable.is_some() { ", or give the full path".to_owned() } else {
            ", or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE".to_owned()
        }
    )]
    NoHome { variable: Option<String> },

    #[error(
        "The sso-session \"{name}\" does not exist in {}.{} Add it with: {}",
        config.display(),
        configured_sessions(name, configured),
        CONFIGURE_HINT.replace("{name}", name)
    )]
    SsoSessionNotFound { name: String, config: PathBuf, configured: Vec<String> },

    #[error(
        "The [sso-session {name}] section of {} is missing {}. Add it with: {}",
        config.display(),
        missing.join(" and "),
        CONFIGURE_HINT.replace("{name}", name)
    )]
    SsoSessionIncomplete { name: String, config: PathBuf, missing: Vec<&'static str> },

    #[error(
        "cannot write a {what} named {name:?} to the AWS config: use letters, digits and - / . % @ _ : + only"
    )]
    InvalidName { what: &'static str, name: String },

    #[error(
        "cannot write {key} to [{section}] of {}: its value holds a line break or another control character, which would add lines to the file. Nothing was written; give the value on one line.",
        path.display()
    )]
    InvalidValue { path: PathBuf, section: String, key: String },

    #[error(transparent)]
    ProfileBlock(#[from] managed::ManagedBlockError),

    #[error(
        "{}{}: {message}",
        path.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default()
    )]
    Settings { path: PathBuf, line: Option<usize>, column: Option<usize>, message: String },

    #[error(transparent)]
    Project(#[from] project::ProjectFileError),
}

/// What to say about the sessions there are, when `name` is not one: the closest ones, else a
/// short list.
fn configured_sessions(name: &str, names: &[String]) -> String {
    let near = crate::names::closest(name, names.iter().map(String::as_str));
    if names.is_empty() {
        " No sso-session is configured.".to_owned()
    } else if near.is_empty() {
        format!(" Sessions configured: {}.", crate::names::bounded(names))
    } else {
        crate::names::did_you_mean(&near)
    }
}

/// What an `[sso-session NAME]` says, with its required keys checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSessionConfig {
    pub name: String,
    pub start_url: String,
    /// Empty when not configured and the start URL is on a custom domain: the login learns it.
    pub region: String,
    /// `None` when `sso_registration_scopes` is absent (the login then asks for the default).
    pub registration_scopes: Option<Vec<String>>,
}

/// `sso_registration_scopes`: comma-separated, each item trimmed, empty items dropped.
pub fn parse_scopes(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// How error messages name the config file when the text did not come from a file.
const UNNAMED_CONFIG: &str = "the AWS config file";

impl AwsConfig {
    /// Reads both files; a missing file counts as empty. Errors name the file and the line.
    pub fn load(files: &ConfigFiles) -> Result<Self, ConfigError> {
        let config = read_optional(&files.config)?;
        let credentials = read_optional(&files.credentials)?;
        let config_name = files.config.display().to_string();
        let credentials_name = files.credentials.display().to_string();
        let mut loaded = Self::from_sources(&sources(
            config.as_deref(),
            &config_name,
            credentials.as_deref(),
            &credentials_name,
        ))?;
        loaded.set_config_path(files.config.clone());
        Ok(loaded)
    }

    /// Parses texts instead of files (tests, `--config` given on stdin...).
    pub fn parse(config: Option<&str>, credentials: Option<&str>) -> Result<Self, ConfigError> {
        Self::from_sources(&sources(
            config,
            UNNAMED_CONFIG,
            credentials,
            "the AWS credentials file",
        ))
    }

    /// The `[sso-session NAME]` with `sso_start_url` and `sso_region` present and non-empty.
    pub fn sso_session(&self, name: &str) -> Result<SsoSessionConfig, ConfigError> {
        let config = self.config_path().unwrap_or(Path::new(UNNAMED_CONFIG)).to_owned();
        let Some(section) = self.sso_session_section(name) else {
            return Err(ConfigError::SsoSessionNotFound {
                name: name.to_owned(),
                config,
                configured: self.sso_session_names().into_iter().map(str::to_owned).collect(),
            });
        };
        let value = |key| section.get(key).filter(|v| !v.is_empty());
        let (start_url, mut region) = (value("sso_start_url"), value("sso_region"));
        // A start URL on a custom domain may leave the region to the login, which learns it
        // from the portal's address (docs/aws-contracts.md §6.1); until then the region is empty.
        if region.is_none() && start_url.is_some_and(crate::start_url::may_name_the_region) {
            region = Some("");
        }
        match (start_url, region) {
            (Some(start_url), Some(region)) => Ok(SsoSessionConfig {
                name: name.to_owned(),
                start_url: start_url.to_owned(),
                region: region.to_owned(),
                registration_scopes: section.get("sso_registration_scopes").map(parse_scopes),
            }),
            _ => Err(ConfigError::SsoSessionIncomplete {
                name: name.to_owned(),
                config,
                missing: [("sso_start_url", start_url), ("sso_region", region)]
                    .into_iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| k)
                    .collect(),
            }),
        }
    }
}

fn sources<'a>(
    config: Option<&'a str>,
    config_name: &'a str,
    credentials: Option<&'a str>,
    credentials_name: &'a str,
) -> Vec<Source<'a>> {
    // Credentials come second: on a conflict, the credentials file wins.
    let mut sources = Vec::new();
    if let Some(text) = config {
        sources.push(Source { text, file: FileKind::Config, display: config_name });
    }
    if let Some(text) = credentials {
        sources.push(Source { text, file: FileKind::Credentials, display: credentials_name });
    }
    sources
}

fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read { path: path.to_owned(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[profile dev]
sso_session = corp
sso_account_id = 111111111111
[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access, ,codecatalyst:read_write,
[sso-session half]
sso_region =
";

    #[test]
    fn a_complete_session_is_read_with_its_scopes() {
        let config = AwsConfig::parse(Some(CONFIG), None).expect("parses");
        let corp = config.sso_session("corp").expect("complete");
        assert_eq!(corp.start_url, "https://corp.awsapps.com/start");
        assert_eq!(corp.region, "eu-west-1");
        assert_eq!(
            corp.registration_scopes,
            Some(vec!["sso:account:access".to_owned(), "codecatalyst:read_write".to_owned()])
        );
        assert_eq!(config.sso_session_names(), vec!["corp", "half"]);
    }

    #[test]
    fn legacy_profile_values_are_readable() {
        let config = AwsConfig::parse(Some(CONFIG), None).expect("parses");
        let legacy = config.profile("legacy").expect("profile");
        assert_eq!(legacy.get("SSO_START_URL"), Some("https://old.awsapps.com/start"));
        assert_eq!(legacy.get("sso_region"), Some("us-east-1"));
        assert_eq!(config.profile_names().collect::<Vec<_>>(), vec!["dev", "legacy"]);
    }

    #[test]
    fn a_missing_session_lists_the_configured_ones_and_the_fix() {
        let mut config = AwsConfig::parse(Some(CONFIG), None).expect("parses");
        config.set_config_path(PathBuf::from("/home/u/.aws/config"));
        let err = config.sso_session("prod").expect_err("missing");
        assert_eq!(
            err.to_string(),
            "The sso-session \"prod\" does not exist in /home/u/.aws/config. Sessions configured: \
             corp, half. Add it with: aws-sso-login configure --sso-session prod --start-url URL \
             --region REGION"
        );
        let empty = AwsConfig::parse(None, None).expect("parses");
        let err = empty.sso_session("prod").expect_err("missing").to_string();
        assert!(err.contains("No sso-session is configured"), "{err}");
        assert!(err.contains("the AWS config file"), "{err}");
    }

    #[test]
    fn a_missing_session_among_many_gets_the_closest_names_not_all_of_them() {
        let text: String = (0..200)
            .map(|i| {
                format!(
                    "[sso-session team-{i:03}]\nsso_start_url = https://x/start\nsso_region = r\n"
                )
            })
            .collect();
        let config = AwsConfig::parse(Some(&text), None).expect("parses");
        let err = config.sso_session("team-0l7").expect_err("missing").to_string();
        assert!(err.contains("Did you mean team-007, team-017 or team-027?"), "{err}");
        assert!(!err.contains("team-150"), "{err}");
        let err = config.sso_session("prod").expect_err("missing").to_string();
        assert!(err.contains("team-009 and 190 more."), "{err}");
        assert!(err.len() < 400, "{err}");
    }

    #[test]
    fn an_incomplete_session_names_the_missing_keys() {
        let config = AwsConfig::parse(Some(CONFIG), None).expect("parses");
        let err = config.sso_session("half").expect_err("incomplete").to_string();
        assert!(err.contains("[sso-session half]"), "{err}");
        assert!(err.contains("missing sso_start_url and sso_region"), "{err}");
        assert!(err.contains("aws-sso-login configure --sso-session half"), "{err}");
    }

    #[test]
    fn only_a_start_url_on_a_custom_domain_may_leave_the_region_to_the_login() {
        let text = "[sso-session vanity]\nsso_start_url = https://sso.example.com/start\n\
                    [sso-session aws]\nsso_start_url = https://d-1234567890.awsapps.com/start\n";
        let config = AwsConfig::parse(Some(text), None).expect("parses");
        assert_eq!(config.sso_session("vanity").expect("complete enough").region, "");
        let err = config.sso_session("aws").expect_err("incomplete").to_string();
        assert!(err.contains("missing sso_region"), "{err}");
    }

    #[test]
    fn scopes_are_split_trimmed_and_empty_items_dropped() {
        assert_eq!(parse_scopes(" a ,b,, c "), vec!["a", "b", "c"]);
        assert!(parse_scopes("").is_empty());
        assert!(parse_scopes(" , ").is_empty());
    }

    #[test]
    fn load_treats_missing_files_as_empty_and_names_files_in_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = ConfigFiles {
            config: dir.path().join("config"),
            credentials: dir.path().join("credentials"),
        };
        let config = AwsConfig::load(&files).expect("missing files are empty");
        assert_eq!(config.profile_names().count(), 0);

        std::fs::write(&files.config, "[profile a]\nregion = x\n").expect("write");
        std::fs::write(&files.credentials, "[a]\nregion = y\n[b]\nx = 1\n").expect("write");
        let config = AwsConfig::load(&files).expect("loads");
        assert_eq!(config.profile("a").and_then(|p| p.get("region")), Some("y"));
        assert_eq!(config.profile_names().collect::<Vec<_>>(), vec!["a", "b"]);
        let err = config.sso_session("x").expect_err("missing").to_string();
        assert!(err.contains(&files.config.display().to_string()), "{err}");

        std::fs::write(&files.credentials, "oops\n").expect("write");
        let err = AwsConfig::load(&files).expect_err("syntax").to_string();
        assert!(err.contains(&files.credentials.display().to_string()), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }
}
