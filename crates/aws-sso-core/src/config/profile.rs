//! The meaning of `~/.aws/config` and `~/.aws/credentials`: profiles, `[sso-session]` and
//! `[services]` sections, merged the way the cross-SDK profile-parser suite specifies.
//!
//! Rules (from the suite, not botocore): `[profile NAME]` in the config file, bare `[NAME]` in the
//! credentials file, `[default]` in both, and `[profile default]` beats `[default]` in the config
//! file. Sections with invalid names and properties with invalid keys are ignored. Repeated
//! sections merge, the last value of a key wins, keys are case-insensitive, and the credentials
//! file wins over the config file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;
use super::ini::{self, LineKind};

/// Which kind of section a header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SectionKind {
    /// `[default]`.
    Default,
    /// `[profile NAME]` in the config file, `[NAME]` in the credentials file.
    Profile,
    /// `[sso-session NAME]`.
    SsoSession,
    /// `[services NAME]`.
    Services,
}

/// Which of the two AWS files a text comes from: they name profiles differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

/// A section's properties after merging: a profile, an `[sso-session]` or a `[services]` block.
///
/// Keys are lower-cased; a value with sub-properties (`s3 =` followed by indented lines) is kept
/// as the suite stores it, `"\nname = value\nname2 = value2"`; read it with
/// [`Section::sub_property`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Section {
    name: String,
    properties: BTreeMap<String, String>,
}

/// A `[profile NAME]` or `[default]` (merged with the credentials file).
pub type Profile = Section;
/// A `[services NAME]` section, holding one sub-property block per service.
pub type Services = Section;

impl Section {
    fn named(name: &str) -> Self {
        Self { name: name.to_owned(), properties: BTreeMap::new() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(&key.to_ascii_lowercase()).map(String::as_str)
    }

    /// `true` when `key` is set to `true` (any case), as the SDKs read boolean settings.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).filter(|v| !v.is_empty()).map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Every property, keys lower-cased, in key order.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A nested value: `sub_property("sso_oidc", "endpoint_url")` for
    /// `sso_oidc =\n  endpoint_url = http://localhost`. Both names are case-insensitive.
    pub fn sub_property(&self, key: &str, sub_key: &str) -> Option<&str> {
        let block = self.get(key)?;
        block.lines().filter_map(|line| line.split_once('=')).find_map(|(name, value)| {
            name.trim().eq_ignore_ascii_case(sub_key).then_some(value.trim())
        })
    }

    fn set(&mut self, key: String, value: String) {
        self.properties.insert(key, value);
    }
}

/// Keys whose values must never reach a log line or `Debug` output.
const SECRET_KEYS: &[&str] = &["aws_secret_access_key", "aws_session_token", "aws_security_token"];

impl fmt::Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in &self.properties {
            if SECRET_KEYS.contains(&key.as_str()) {
                map.entry(key, &"***");
            } else {
                map.entry(key, value);
            }
        }
        map.finish()?;
        write!(f, " ({})", self.name)
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME` → the account and the role name.
pub fn parse_role_arn(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.trim().splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    let valid_partition = !partition.is_empty()
        && partition.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (valid_partition && valid_account && !name.is_empty())
        .then(|| (account.to_owned(), name.to_owned()))
}

/// What a header means in a file of this kind; `None` for sections the SDKs ignore.
pub(crate) fn identify(header: &str, file: FileKind) -> Option<(SectionKind, &str)> {
    let header = header.trim();
    match file {
        FileKind::Credentials => is_valid_name(header).then_some((SectionKind::Profile, header)),
        FileKind::Config => {
            if header == "default" {
                return Some((SectionKind::Default, header));
            }
            let prefixes = [
                ("profile", SectionKind::Profile),
                ("sso-session", SectionKind::SsoSession),
                ("services", SectionKind::Services),
            ];
            prefixes.into_iter().find_map(|(prefix, kind)| {
                let rest = header.strip_prefix(prefix)?;
                // `[profilefoo]` is not a profile: the prefix must be followed by whitespace.
                if !rest.starts_with([' ', '\t']) {
                    return None;
                }
                let name = rest.trim();
                is_valid_name(name).then_some((kind, name))
            })
        }
    }
}

/// Profile, section and property names: letters, digits and `- / . % @ _ : +`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '-' | '/' | '.' | '%' | '@' | '_' | ':' | '+')
        })
}

/// Why a line of an AWS config file cannot be read. The texts are the cross-SDK suite's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxError {
    UnterminatedSection,
    PropertyOutsideSection,
    MissingEquals,
    EmptyPropertyName,
    ContinuationWithoutProperty,
    SubPropertyMissingEquals,
    EmptySubPropertyName,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnterminatedSection => "Profile definition must end with ']'",
            Self::PropertyOutsideSection => {
                "Expected a profile definition: a property or an indented line comes before \
                 any [section] header"
            }
            Self::MissingEquals => "Expected an '=' sign defining a property",
            Self::EmptyPropertyName => "Property did not have a name",
            Self::ContinuationWithoutProperty => {
                "Expected a property definition, found continuation: an indented line follows \
                 a section header; remove its indentation or put it under a property"
            }
            Self::SubPropertyMissingEquals => "Expected an '=' sign defining a sub-property",
            Self::EmptySubPropertyName => "Sub-property did not have a name",
        })
    }
}

/// What a section header means: its kind and name.
pub(crate) type SectionId = (SectionKind, String);

/// One section as written, before merging.
struct ParsedSection {
    /// `None` for a section the SDKs ignore (its properties are dropped).
    identity: Option<SectionId>,
    /// Lower-cased keys and values, in file order.
    properties: Vec<(String, String)>,
}

/// One file's sections in file order, before merging.
struct ParsedFile {
    sections: Vec<ParsedSection>,
}

/// Reads one file strictly. The error gives the 1-based line number.
fn parse_file(text: &str, file: FileKind) -> Result<ParsedFile, (usize, SyntaxError)> {
    struct OpenProperty {
        /// Index in the current section's properties; `None` for an ignored (invalid) key.
        index: Option<usize>,
        sub_properties: bool,
    }
    let mut parsed = ParsedFile { sections: Vec::new() };
    let mut property: Option<OpenProperty> = None;
    for (number, line) in ini::lex(text).into_iter().enumerate().map(|(i, l)| (i + 1, l)) {
        match line.kind {
            LineKind::Blank | LineKind::Comment => {}
            LineKind::UnterminatedSection => {
                return Err((number, SyntaxError::UnterminatedSection));
            }
            LineKind::Section { name } => {
                let identity = identify(&name, file).map(|(kind, name)| (kind, name.to_owned()));
                parsed.sections.push(ParsedSection { identity, properties: Vec::new() });
                property = None;
            }
            LineKind::PropertyWithoutEquals => {
                if parsed.sections.is_empty() {
                    return Err((number, SyntaxError::PropertyOutsideSection));
                }
                return Err((number, SyntaxError::MissingEquals));
            }
            LineKind::Property { key, value, .. } => {
                let Some(ParsedSection { properties, .. }) = parsed.sections.last_mut() else {
                    return Err((number, SyntaxError::PropertyOutsideSection));
                };
                if key.is_empty() {
                    return Err((number, SyntaxError::EmptyPropertyName));
                }
                let sub_properties = value.is_empty();
                let index = is_valid_name(&key).then(|| {
                    properties.push((key.to_ascii_lowercase(), value));
                    properties.len() - 1
                });
                property = Some(OpenProperty { index, sub_properties });
            }
            LineKind::Continuation { text } => {
                let Some(ParsedSection { properties, .. }) = parsed.sections.last_mut() else {
                    return Err((number, SyntaxError::PropertyOutsideSection));
                };
                let Some(open) = &property else {
                    return Err((number, SyntaxError::ContinuationWithoutProperty));
                };
                if open.sub_properties {
                    match text.split_once('=') {
                        None => return Err((number, SyntaxError::SubPropertyMissingEquals)),
                        Some((name, _)) if name.trim().is_empty() => {
                            return Err((number, SyntaxError::EmptySubPropertyName));
                        }
                        Some(_) => {}
                    }
                }
                if let Some(index) = open.index {
                    let value = &mut properties[index].1;
                    value.push('\n');
                    value.push_str(&text);
                }
            }
        }
    }
    Ok(parsed)
}

/// The merged view of the AWS config and credentials files.
#[derive(Clone, Debug, Default)]
pub struct AwsConfig {
    profiles: BTreeMap<String, Profile>,
    sso_sessions: BTreeMap<String, Section>,
    services: BTreeMap<String, Services>,
    config_path: Option<PathBuf>,
}

/// One file to merge: its text and the name errors should use for it.
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub file: FileKind,
    pub display: &'a str,
}

impl AwsConfig {
    pub(crate) fn from_sources(sources: &[Source<'_>]) -> Result<Self, ConfigError> {
        let mut config = AwsConfig::default();
        for source in sources {
            let parsed = parse_file(source.text, source.file).map_err(|(line, error)| {
                ConfigError::Syntax { file: source.display.to_owned(), line, error }
            })?;
            config.merge(parsed);
        }
        Ok(config)
    }

    fn merge(&mut self, parsed: ParsedFile) {
        let has_profile_default = parsed.sections.iter().any(
            |s| matches!(&s.identity, Some((SectionKind::Profile, name)) if name == "default"),
        );
        for ParsedSection { identity, properties } in parsed.sections {
            let Some((kind, name)) = identity else { continue };
            let target = match kind {
                // `[profile default]` anywhere in the config file hides every `[default]` there.
                SectionKind::Default if has_profile_default => continue,
                SectionKind::Default | SectionKind::Profile => &mut self.profiles,
                SectionKind::SsoSession => &mut self.sso_sessions,
                SectionKind::Services => &mut self.services,
            };
            let section = target.entry(name.clone()).or_insert_with(|| Section::named(&name));
            for (key, value) in properties {
                section.set(key, value);
            }
        }
    }

    /// The config file this was read from, for messages; `None` when parsed from text.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    pub(crate) fn set_config_path(&mut self, path: PathBuf) {
        self.config_path = Some(path);
    }

    /// A profile by its exact (case-sensitive) name; `default` for `[default]`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Every profile name, sorted.
    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// Every `[sso-session]` name, sorted.
    pub fn sso_session_names(&self) -> Vec<&str> {
        self.sso_sessions.keys().map(String::as_str).collect()
    }

    /// The raw `[sso-session NAME]` section, for keys beyond the three of [`super::SsoSessionConfig`].
    pub fn sso_session_section(&self, name: &str) -> Option<&Section> {
        self.sso_sessions.get(name)
    }

    pub fn sso_sessions(&self) -> impl Iterator<Item = &Section> {
        self.sso_sessions.values()
    }

    /// A `[services NAME]` section.
    pub fn services(&self, name: &str) -> Option<&Services> {
        self.services.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> AwsConfig {
        AwsConfig::from_sources(&[Source { text, file: FileKind::Config, display: "config" }])
            .expect("parses")
    }

    #[test]
    fn services_sub_properties_are_read_by_name() {
        let c = config(
            "[services local]\nsso_oidc =\n  endpoint_url = http://127.0.0.1:4566\n  Other = x\n",
        );
        let s = c.services("local").expect("section");
        assert_eq!(s.sub_property("sso_oidc", "endpoint_url"), Some("http://127.0.0.1:4566"));
        assert_eq!(s.sub_property("SSO_OIDC", "other"), Some("x"));
        assert_eq!(s.sub_property("sso", "endpoint_url"), None);
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let err = AwsConfig::from_sources(&[Source {
            text: "[profile a]\nx = 1\n\nkey : value\n",
            file: FileKind::Config,
            display: "/home/u/.aws/config",
        }])
        .expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("/home/u/.aws/config"), "{text}");
        assert!(text.contains("line 4"), "{text}");
        assert!(text.contains("Expected an '=' sign defining a property"), "{text}");
    }

    #[test]
    fn debug_hides_secret_keys() {
        let c = AwsConfig::from_sources(&[Source {
            text: "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = hunter2\n",
            file: FileKind::Credentials,
            display: "credentials",
        }])
        .expect("parses");
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("AKIDEXAMPLE"), "{debug}");
    }

    #[test]
    fn headers_are_identified_by_file_kind() {
        assert_eq!(identify("profile  x", FileKind::Config), Some((SectionKind::Profile, "x")));
        assert_eq!(identify("default", FileKind::Config), Some((SectionKind::Default, "default")));
        assert_eq!(
            identify("sso-session corp", FileKind::Config),
            Some((SectionKind::SsoSession, "corp"))
        );
        assert_eq!(
            identify("services\tlocal", FileKind::Config),
            Some((SectionKind::Services, "local"))
        );
        assert_eq!(identify("x", FileKind::Config), None);
        assert_eq!(identify("profile x", FileKind::Credentials), None);
        assert_eq!(identify("x", FileKind::Credentials), Some((SectionKind::Profile, "x")));
    }
}
