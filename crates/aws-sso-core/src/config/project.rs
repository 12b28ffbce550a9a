//! The project file `.aws-sso.yaml`: the account and role a directory tree works with.
//!
//! ```yaml
//! account: 123456789012     # an account id, or an account name
//! role: ReadOnlyAccess      # optional when the account has a single role
//! sso_session: corp         # optional: which [sso-session] of ~/.aws/config
//! region: eu-west-1         # optional: exported as AWS_REGION and AWS_DEFAULT_REGION
//! assume_role: arn:aws:iam::210987654321:role/Deploy  # optional: assumed from the role above
//! external_id: ext-1        # optional, with assume_role: the ExternalId the role asks for
//! session_name: alice       # optional, with assume_role: the RoleSessionName
//! ```
//!
//! The nearest file walking up from a directory wins ([`find_project_file`]). Reading is strict:
//! an unknown key, a value of the wrong type or an empty value is an error naming the file, the
//! line and the column. An account id written as a bare number means the digits as written,
//! leading zeros included. A file is used only once trusted ([`crate::trust`]), which records
//! [`ProjectFile::sha256`]. [`json_schema`] describes the file for editors; `cargo xtask codegen`
//! writes it to `schema/aws-sso.schema.json`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use sha2::{Digest as _, Sha256};

/// The name of the project file.
pub const PROJECT_FILE_NAME: &str = ".aws-sso.yaml";

/// A project file, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectFile {
    /// Where the file is, as found (symlinks not resolved).
    pub path: PathBuf,
    /// A 12-digit account id, or an account name.
    pub account: String,
    pub role: Option<String>,
    pub sso_session: Option<String>,
    pub region: Option<String>,
    /// A role ARN to assume (STS AssumeRole) with the credentials of `account` and `role`.
    pub assume_role: Option<String>,
    /// The `ExternalId` of that AssumeRole.
    pub external_id: Option<String>,
    /// The `RoleSessionName` of that AssumeRole; generated when absent.
    pub session_name: Option<String>,
    /// Lowercase hex SHA-256 of the file's bytes: what `aws-sso-env allow` records.
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectFileError {
    #[error("cannot read {}: {source}; check that the file exists and that you can read it", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}{}: {message}", path.display(), location(*line, *column))]
    Invalid { path: PathBuf, line: Option<usize>, column: Option<usize>, message: String },
    #[error(
        "{} is larger than {} KiB, more than a project file ever needs, so it is not read; check that it is the file you meant",
        path.display(),
        MAX_PROJECT_FILE_BYTES / 1024
    )]
    TooLarge { path: PathBuf },
    #[error(
        "{} is a symbolic link, or was replaced while it was read, so it is not used; a project file must be a file of its own",
        path.display()
    )]
    NotItself { path: PathBuf },
}

/// The most a project file may hold: a few lines are all it needs, and the hook reads it on a
/// prompt, so a huge file (or one that never ends) must not stall the shell.
pub const MAX_PROJECT_FILE_BYTES: u64 = 64 * 1024;

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(", line {line}, column {column}"),
        (Some(line), None) => format!(", line {line}"),
        _ => String::new(),
    }
}

/// The nearest project file: in `start`, else in the closest directory above it, up to `/`.
/// A relative `start` is taken from the current directory; symlinks are not resolved, so the
/// walk follows the path as the shell shows it.
pub fn find_project_file(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).ok()?;
    start.ancestors().map(|dir| dir.join(PROJECT_FILE_NAME)).find(|file| file.is_file())
}

/// Reads and checks the project file at `path`.
pub fn load_project_file(path: &Path) -> Result<ProjectFile, ProjectFileError> {
    use std::io::Read as _;
    let read = |source| ProjectFileError::Read { path: path.to_owned(), source };
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(read)?;
    // What was read must be the file at `path` itself, not the target of a link put there
    // before or while it was opened (docs/ARCHITECTURE.md §6).
    if !is_the_file_at(&file, path).map_err(read)? {
        return Err(ProjectFileError::NotItself { path: path.to_owned() });
    }
    file.take(MAX_PROJECT_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read)?;
    if bytes.len() as u64 > MAX_PROJECT_FILE_BYTES {
        return Err(ProjectFileError::TooLarge { path: path.to_owned() });
    }
    parse_project_file(path, &bytes)
}

/// Whether the open `file` is the regular file `path` names, its final component not followed.
fn is_the_file_at(file: &std::fs::File, path: &Path) -> io::Result<bool> {
    let link = std::fs::symlink_metadata(path)?;
    if !link.file_type().is_file() {
        return Ok(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let opened = file.metadata()?;
        Ok(opened.dev() == link.dev() && opened.ino() == link.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}

/// Checks the `bytes` of the project file at `path` (the path is only used in messages and kept
/// in the result).
pub fn parse_project_file(path: &Path, bytes: &[u8]) -> Result<ProjectFile, ProjectFileError> {
    let invalid = |line, column, message: String| ProjectFileError::Invalid {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_and_column(bytes, e.valid_up_to());
        invalid(Some(line), Some(column), "the file is not UTF-8 text; save it as UTF-8".to_owned())
    })?;
    let has_content = text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#') && l != "---" && l != "..."
    });
    if !has_content {
        return Err(invalid(None, None, format!("the file is empty. {ACCOUNT_HINT}")));
    }
    let located = |e: yaml_serde::Error, prefix: &str| {
        let at = e.location();
        let (line, column) = (at.as_ref().map(|l| l.line()), at.as_ref().map(|l| l.column()));
        let mut message = e.to_string();
        if let (Some(line), Some(column)) = (line, column) {
            message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
        }
        invalid(line, column, format!("{prefix}{message}"))
    };
    // The checks below stop at the first value they refuse, possibly before a syntax error
    // further on: the syntax is checked first, so a broken file is reported as one.
    yaml_serde::from_str::<de::IgnoredAny>(text).map_err(|e| located(e, "not valid YAML: "))?;
    let values = ProjectSeed { source: text }
        .deserialize(yaml_serde::Deserializer::from_str(text))
        .map_err(|e| located(e, ""))?;
    let [account, role, sso_session, region, assume_role, external_id, session_name] = values;
    let Some(account) = account else {
        return Err(invalid(None, None, format!("there is no `account` key. {ACCOUNT_HINT}")));
    };
    if assume_role.is_none() {
        let without = [(Key::ExternalId, &external_id), (Key::SessionName, &session_name)];
        if let Some((key, _)) = without.iter().find(|(_, value)| value.is_some()) {
            return Err(invalid(
                None,
                None,
                format!(
                    "`{}` is for the role to assume, and there is no `assume_role`: add `assume_role: arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME`, or remove `{}`",
                    key.name(),
                    key.name()
                ),
            ));
        }
    }
    Ok(ProjectFile {
        path: path.to_owned(),
        account,
        role,
        sso_session,
        region,
        assume_role,
        external_id,
        session_name,
        sha256: sha256_hex(bytes),
    })
}

const ACCOUNT_HINT: &str = "It needs at least a line `account: 123456789012` (an account id, or an account name in quotes)";

/// The 1-based line and column (in characters) of byte `offset`.
fn line_and_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(bytes).iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The keys of the file, in the order of [`Key::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Account,
    Role,
    SsoSession,
    Region,
    AssumeRole,
    ExternalId,
    SessionName,
}

/// How many keys there are.
const KEYS: usize = 7;

impl Key {
    const ALL: [Key; KEYS] = [
        Key::Account,
        Key::Role,
        Key::SsoSession,
        Key::Region,
        Key::AssumeRole,
        Key::ExternalId,
        Key::SessionName,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Account => "account",
            Key::Role => "role",
            Key::SsoSession => "sso_session",
            Key::Region => "region",
            Key::AssumeRole => "assume_role",
            Key::ExternalId => "external_id",
            Key::SessionName => "session_name",
        }
    }

    /// What the value should be, for messages.
    fn expected(self) -> &'static str {
        match self {
            Key::Account => "an account id (12 digits) or an account name",
            Key::Role => "a role name, such as ReadOnlyAccess",
            Key::SsoSession => "the name of an [sso-session] of your AWS config",
            Key::Region => "a region, such as eu-west-1",
            Key::AssumeRole => "a role ARN, such as arn:aws:iam::210987654321:role/Deploy",
            Key::ExternalId => "the external id the role to assume asks for",
            Key::SessionName => {
                "a session name: 2 to 64 letters, digits and any of _+=,.@- (such as your name)"
            }
        }
    }

    fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The key someone who wrote `name` most likely meant.
    fn suggestion(name: &str) -> Option<Key> {
        let normal = name.trim().to_ascii_lowercase().replace('-', "_");
        if let Some(key) = Key::from_name(&normal) {
            return Some(key);
        }
        let synonym = match normal.as_str() {
            "account_id" | "sso_account_id" | "account_name" | "aws_account_id" => {
                Some(Key::Account)
            }
            "role_name" | "sso_role_name" | "permission_set" => Some(Key::Role),
            "session" | "sso_session_name" => Some(Key::SsoSession),
            "aws_region" | "default_region" | "aws_default_region" => Some(Key::Region),
            "role_arn" | "assume_role_arn" | "assume" => Some(Key::AssumeRole),
            "externalid" => Some(Key::ExternalId),
            "role_session_name" | "rolesessionname" => Some(Key::SessionName),
            _ => None,
        };
        // Levenshtein: keys are short, and two edits away is still the key that was meant.
        synonym
            .or_else(|| Key::ALL.into_iter().find(|k| strsim::levenshtein(&normal, k.name()) <= 2))
    }
}

fn key_list() -> String {
    let names: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
    format!("{} and {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
}

/// The values of the file, by [`Key`], checked. `source` is the whole text: values borrowed from
/// it show, by what precedes them, whether they were quoted.
struct ProjectSeed<'a> {
    source: &'a str,
}

type Values = [Option<String>; KEYS];

impl<'de> DeserializeSeed<'de> for ProjectSeed<'de> {
    type Value = Values;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Values, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProjectSeed<'de> {
    type Value = Values;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a mapping with the keys {}", key_list())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values, A::Error> {
        let mut values: Values = Default::default();
        let mut seen = [false; KEYS];
        while let Some(key) = map.next_key_seed(KeySeed { seen })? {
            seen[key as usize] = true;
            values[key as usize] =
                Some(map.next_value_seed(ValueSeed { key, source: self.source })?);
        }
        Ok(values)
    }
}

/// A key of the mapping: known, and not given before.
struct KeySeed {
    seen: [bool; KEYS],
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "one of the keys {}", key_list())
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        match Key::from_name(name) {
            Some(key) if self.seen[key as usize] => {
                Err(E::custom(format!("`{name}` is given twice; keep one of them")))
            }
            Some(key) => Ok(key),
            None => {
                let hint = Key::suggestion(name)
                    .map(|k| format!("; did you mean `{}`?", k.name()))
                    .unwrap_or_default();
                Err(E::custom(format!("unknown key `{name}`: the keys are {}{hint}", key_list())))
            }
        }
    }
}

/// One value, read as the text it holds. A value written without quotes is typed as YAML types
/// it: a null or a boolean is refused, and a number is accepted only as an account id.
struct ValueSeed<'a> {
    key: Key,
    source: &'a str,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'de> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        // deserialize_str gives the scalar's text whatever YAML would type it as, which keeps
        // the leading zeros of an account id.
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'de> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.key.expected())
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<String, E> {
        let as_text = quoted_in(self.source, text) || tagged_str_in(self.source, text);
        self.check(text, !as_text)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        // Only quoted values with escapes, block scalars and plain values spread over several
        // lines are not borrowed: all of them are text. A block scalar (`account: |`) ends
        // with the line break YAML keeps, which no name or id has.
        self.check(text.trim_end_matches(['\n', '\r']), false)
    }
}

impl ValueSeed<'_> {
    fn check<E: de::Error>(&self, text: &str, plain: bool) -> Result<String, E> {
        let expected = self.key.expected();
        if text.trim().is_empty() {
            return Err(E::custom(format!("the value is empty; write {expected}")));
        }
        if plain {
            // A value without quotes has the type YAML gives it, as an editor would show.
            let typed = yaml_serde::from_str::<yaml_serde::Value>(text).ok();
            let quote_it = |what: &str| {
                E::custom(format!(
                    "`{text}` is {what}; write {expected} (in quotes if it is really named \"{text}\")"
                ))
            };
            let number = match typed {
                Some(yaml_serde::Value::Null) => {
                    return Err(E::custom(format!("`{text}` means no value; write {expected}")));
                }
                Some(yaml_serde::Value::Bool(_)) => return Err(quote_it("a boolean")),
                Some(yaml_serde::Value::Number(_)) if self.key != Key::Account => {
                    return Err(quote_it("a number"));
                }
                Some(yaml_serde::Value::Number(_)) => true,
                // YAML 1.2 reads digits with a leading zero as text; to a person they are a number.
                _ => text.bytes().all(|b| b.is_ascii_digit()),
            };
            let account_id = text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit());
            if number && !account_id {
                return Err(E::custom(format!(
                    "`{text}` is a number but not a 12-digit account id; write the id with all 12 digits, or an account name in quotes: account: \"{text}\""
                )));
            }
        }
        if self.key == Key::Region && !is_region(text) {
            return Err(E::custom(format!("`{text}` is not a region; write {expected}")));
        }
        if self.key == Key::AssumeRole && super::parse_role_arn(text).is_none() {
            return Err(E::custom(format!("`{text}` is not a role ARN; write {expected}")));
        }
        if self.key == Key::SessionName && !is_session_name(text) {
            return Err(E::custom(format!("`{text}` is not a session name; write {expected}")));
        }
        Ok(text.to_owned())
    }
}

/// Whether `text`, a slice of `source`, is enclosed in quotes there.
fn quoted_in(source: &str, text: &str) -> bool {
    let start = (text.as_ptr() as usize).wrapping_sub(source.as_ptr() as usize);
    if start > source.len() {
        return false;
    }
    let end = start + text.len();
    let before = source.as_bytes().get(start.wrapping_sub(1)).copied();
    let after = source.as_bytes().get(end).copied();
    matches!((before, after), (Some(b'"'), Some(b'"')) | (Some(b'\''), Some(b'\'')))
}

/// Whether `text`, a slice of `source`, follows YAML's tag for text (`account: !!str 0123`),
/// which says it is text as quotes do.
fn tagged_str_in(source: &str, text: &str) -> bool {
    let start = (text.as_ptr() as usize).wrapping_sub(source.as_ptr() as usize);
    source.get(..start).is_some_and(|before| {
        let before = before.trim_end_matches([' ', '\t']);
        before.len() < start
            && (before.ends_with("!!str") || before.ends_with("!<tag:yaml.org,2002:str>"))
    })
}

/// STS's `RoleSessionName`: `[\w+=,.@-]{2,64}`.
fn is_session_name(text: &str) -> bool {
    (2..=64).contains(&text.chars().count())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Lowercase letters and digits in dash-separated words, like every AWS region name.
fn is_region(text: &str) -> bool {
    !text.is_empty()
        && text.split('-').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The JSON Schema (draft 2020-12) of the project file, for editors (the YAML language server
/// reads it). The parser above is the authority: the schema only describes it.
pub fn json_schema() -> String {
    let name = serde_json::json!({
        "type": "string",
        "minLength": 1,
        "pattern": "\\S",
    });
    // A name, with its description and examples first.
    let with = |mut value: serde_json::Value| {
        if let (Some(target), serde_json::Value::Object(fields)) = (value.as_object_mut(), &name) {
            target.extend(fields.clone());
        }
        value
    };
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aws-sso project file (.aws-sso.yaml)",
        "description": "The AWS account and role that aws-sso-env and its shell hook use in this directory and below. The file is used only once allowed with `aws-sso-env allow` (or under a trusted path of config.yaml); an edit revokes that.",
        "type": "object",
        "additionalProperties": false,
        "required": ["account"],
        "properties": {
            "account": {
                "description": "The account: its 12-digit id, or its whole name as aws-sso-ls shows it (never a part of it, so the file cannot come to mean another account). An id written without quotes is read as written, leading zeros included; write names that look like numbers in quotes.",
                "anyOf": [
                    name.clone(),
                    { "type": "integer", "minimum": 0, "maximum": 999_999_999_999_u64 }
                ],
                "examples": ["123456789012", "billing-prod"]
            },
            "role": with(serde_json::json!({
                "description": "The role (permission set) to use in the account, by its whole name. Optional when the account has a single role.",
                "examples": ["ReadOnlyAccess"]
            })),
            "sso_session": with(serde_json::json!({
                "description": "Which [sso-session NAME] of ~/.aws/config to use. Optional: without it, --sso-session, --profile, AWS_PROFILE or the only session configured decides.",
                "examples": ["corp"]
            })),
            "region": {
                "description": "The region to work in: exported as AWS_REGION and AWS_DEFAULT_REGION.",
                "type": "string",
                "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
                "examples": ["eu-west-1"]
            },
            "assume_role": {
                "description": "A role to assume (STS AssumeRole) with the credentials of `account` and `role`: its ARN. The credentials exported are the assumed role's; they are cached in ~/.aws/cli/cache as the AWS CLI caches assumed roles.",
                "type": "string",
                "pattern": "^arn:[a-z0-9-]+:iam::[0-9]{12}:role/(.+/)?[^/]+$",
                "examples": ["arn:aws:iam::210987654321:role/Deploy"]
            },
            "external_id": with(serde_json::json!({
                "description": "The external id the role to assume asks for in its trust policy (only with `assume_role`).",
                "examples": ["ext-1"]
            })),
            "session_name": {
                "description": "The session name of the assumed role (only with `assume_role`); shown in CloudTrail. Default: botocore-session-<seconds since 1970>, as the AWS CLI names it.",
                "type": "string",
                "pattern": "^[A-Za-z0-9_+=,.@-]{2,64}$",
                "examples": ["alice"]
            }
        },
        "dependentRequired": {
            "external_id": ["assume_role"],
            "session_name": ["assume_role"]
        }
    });
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/home/u/src/billing/.aws-sso.yaml";

    fn parse(text: &str) -> Result<ProjectFile, ProjectFileError> {
        parse_project_file(Path::new(PATH), text.as_bytes())
    }

    fn account(text: &str) -> String {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}")).account
    }

    /// The error message, and its line and column.
    fn error(text: &str) -> (String, Option<usize>, Option<usize>) {
        match parse(text) {
            Ok(file) => panic!("{text:?} should be refused, got {file:?}"),
            Err(e @ ProjectFileError::Invalid { line, column, .. }) => {
                (e.to_string(), line, column)
            }
            Err(e) => panic!("{text:?}: unexpected {e:?}"),
        }
    }

    #[test]
    fn a_file_beyond_64_kib_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(PROJECT_FILE_NAME);
        // Valid YAML all the way: only the size is wrong with it.
        let mut text = "account: 123456789012\n".to_owned();
        while (text.len() as u64) < MAX_PROJECT_FILE_BYTES {
            text.push_str("# padding padding padding padding padding padding padding padding\n");
        }
        text.truncate(MAX_PROJECT_FILE_BYTES as usize - 1);
        text.push('\n');
        std::fs::write(&path, &text).expect("write");
        assert_eq!(load_project_file(&path).expect("64 KiB is still read").account, "123456789012");
        text.push_str("# one more\n");
        std::fs::write(&path, &text).expect("write");
        let err = load_project_file(&path).expect_err("too large");
        assert!(matches!(err, ProjectFileError::TooLarge { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with(&path.display().to_string()), "{message}");
        assert!(message.contains("larger than 64 KiB"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_not_read_through() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.yaml");
        std::fs::write(&real, "account: 123456789012\n").expect("write");
        let link = dir.path().join(PROJECT_FILE_NAME);
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let err = load_project_file(&link).expect_err("a link is not read through");
        assert!(matches!(err, ProjectFileError::NotItself { .. }), "{err:?}");
        assert!(err.to_string().starts_with(&link.display().to_string()), "{err}");
        assert_eq!(load_project_file(&real).expect("the file itself").account, "123456789012");
    }

    #[test]
    fn reads_the_role_to_assume() {
        let text = "account: 123456789012\nrole: Hub\nassume_role: arn:aws:iam::210987654321:role/team/Deploy\nexternal_id: ext 1\nsession_name: alice@corp\n";
        let file = parse(text).expect("valid");
        assert_eq!(file.assume_role.as_deref(), Some("arn:aws:iam::210987654321:role/team/Deploy"));
        assert_eq!(file.external_id.as_deref(), Some("ext 1"));
        assert_eq!(file.session_name.as_deref(), Some("alice@corp"));
        assert_eq!(parse("account: 123456789012\n").expect("valid").assume_role, None);
    }

    #[test]
    fn a_role_to_assume_is_checked_with_its_line() {
        let (message, line, column) =
            error("account: 123456789012\nassume_role: arn:aws:iam::2109:role/Deploy\n");
        assert_eq!((line, column), (Some(2), Some(14)), "{message}");
        assert!(
            message.contains(
                "is not a role ARN; write a role ARN, such as arn:aws:iam::210987654321:role/Deploy"
            ),
            "{message}"
        );
        let (message, line, _) = error(
            "account: 123456789012\nassume_role: arn:aws:iam::210987654321:role/D\nsession_name: a b\n",
        );
        assert_eq!(line, Some(3), "{message}");
        assert!(message.contains("`a b` is not a session name"), "{message}");
        let (message, _, _) = error("account: 123456789012\nexternal_id: x\n");
        assert!(message.ends_with("`external_id` is for the role to assume, and there is no `assume_role`: add `assume_role: arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME`, or remove `external_id`"), "{message}");
        let (message, _, _) = error("account: 123456789012\nrole_arn: x\n");
        assert!(message.contains("did you mean `assume_role`?"), "{message}");
    }

    #[test]
    fn reads_every_key() {
        let text = "# billing\naccount: 123456789012     # prod\nrole: ReadOnlyAccess\nsso_session: corp\nregion: eu-west-1\n";
        let file = parse(text).expect("valid");
        assert_eq!(
            file,
            ProjectFile {
                path: PathBuf::from(PATH),
                account: "123456789012".to_owned(),
                role: Some("ReadOnlyAccess".to_owned()),
                sso_session: Some("corp".to_owned()),
                region: Some("eu-west-1".to_owned()),
                assume_role: None,
                external_id: None,
                session_name: None,
                sha256: sha256_hex(text.as_bytes()),
            }
        );
        let only = parse("account: billing-prod\n").expect("valid");
        assert_eq!(only.account, "billing-prod");
        assert_eq!((only.role, only.sso_session, only.region), (None, None, None));
    }

    #[test]
    fn a_bare_account_id_means_its_digits_leading_zeros_included() {
        assert_eq!(account("account: 123456789012\n"), "123456789012");
        assert_eq!(account("account: 012345678901\n"), "012345678901");
        assert_eq!(account("account: 000000000001\n"), "000000000001");
        assert_eq!(account("account: '012345678901'\n"), "012345678901");
        assert_eq!(account("account: \"012345678901\"\n"), "012345678901");
        assert_eq!(account("{account: 012345678901, role: Admin}\n"), "012345678901");
        assert_eq!(account("# é ü 😀 before\naccount: 012345678901\n"), "012345678901");
        // Text before the value that is not ASCII does not hide how the value is written.
        let (message, ..) = error("# é ü 😀 before\naccount: 0123\n");
        assert!(message.contains("line 2, column 10: account: `0123` is a number"), "{message}");
        let (message, ..) = error("# é ü 😀 before\naccount: x\nrole: false\n");
        assert!(message.contains("line 3, column 7: role: `false` is a boolean"), "{message}");
        assert_eq!(account("---\naccount:    012345678901   \n...\n"), "012345678901");
    }

    #[test]
    fn a_number_that_is_not_an_account_id_says_to_quote_names() {
        for (text, shown) in [
            ("account: 1234\n", "`1234`"),
            ("account: 1234567890123\n", "`1234567890123`"),
            ("account: 01234567890\n", "`01234567890`"),
            ("account: 1.5\n", "`1.5`"),
            ("account: 0x1CBE991A14\n", "`0x1CBE991A14`"),
            ("account: +123456789012\n", "`+123456789012`"),
            ("account: 1e11\n", "`1e11`"),
        ] {
            let (message, line, column) = error(text);
            assert!(message.contains(shown), "{text:?}: {message}");
            assert!(message.contains("12-digit account id"), "{message}");
            assert!(
                message
                    .contains(&format!("in quotes: account: \"{}\"", &shown[1..shown.len() - 1])),
                "{message}"
            );
            assert_eq!((line, column), (Some(1), Some(10)), "{text:?}: {message}");
        }
        // Quoted, digits are a name.
        assert_eq!(account("account: \"1234\"\n"), "1234");
        assert_eq!(account("account: '1.5'\n"), "1.5");
        // So they are with YAML's tag for text.
        assert_eq!(account("account: !!str 1234\n"), "1234");
        assert_eq!(account("account: !<tag:yaml.org,2002:str> 1.5\n"), "1.5");
        assert_eq!(account("account: !!str   0123\n"), "0123");
    }

    #[test]
    fn a_block_scalar_is_its_text_without_the_final_line_break() {
        assert_eq!(account("account: |\n  Team Sandbox\nrole: Admin\n"), "Team Sandbox");
        assert_eq!(account("account: >\n  Team\n  Sandbox\n"), "Team Sandbox");
        assert_eq!(account("account: |-\n  prod\n"), "prod");
        let file = parse("account: x\nrole: |\n  Admin\n").expect("parse");
        assert_eq!(file.role.as_deref(), Some("Admin"));
    }

    #[test]
    fn hostile_names_round_trip() {
        for (text, want) in [
            (
                r#"account: "it's \"prod\" $HOME `id` \\ back\nslash""#,
                "it's \"prod\" $HOME `id` \\ back\nslash",
            ),
            (
                "account: 'it''s \"prod\" $(rm -rf /) `id` \\n'",
                "it's \"prod\" $(rm -rf /) `id` \\n",
            ),
            ("account: |-\n  line one\n  line 'two' $x `y` \\\n", "line one\nline 'two' $x `y` \\"),
            ("account: a$b`c\\d'e\"f", "a$b`c\\d'e\"f"),
            ("account: \"  spaced  \"", "  spaced  "),
            ("account: \"ünïcode ✓\"", "ünïcode ✓"),
        ] {
            assert_eq!(account(text), want, "{text}");
        }
        let file = parse("account: x\nrole: \"Role$With`Odd\\\\Chars'\"\n").expect("valid");
        assert_eq!(file.role.as_deref(), Some("Role$With`Odd\\Chars'"));
    }

    #[test]
    fn unknown_keys_are_errors_with_the_line_column_and_a_hint() {
        let (message, line, column) = error("account: 123456789012\nrole_name: Admin\n");
        assert_eq!(
            message,
            format!(
                "{PATH}, line 2, column 1: unknown key `role_name`: the keys are account, role, sso_session, region, assume_role, external_id and session_name; did you mean `role`?"
            )
        );
        assert_eq!((line, column), (Some(2), Some(1)));
        let (message, ..) = error("acount: 123456789012\n");
        assert!(message.contains("did you mean `account`?"), "{message}");
        let (message, ..) = error("account: x\nprofile: dev\n");
        assert!(message.contains("unknown key `profile`"), "{message}");
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn wrong_types_and_empty_values_say_what_is_expected() {
        for (text, line, column, wants) in [
            (
                "account:\n",
                1,
                9,
                "the value is empty; write an account id (12 digits) or an account name",
            ),
            ("account: ''\n", 1, 10, "the value is empty"),
            ("account: \"   \"\n", 1, 10, "the value is empty"),
            ("account: ~\n", 1, 10, "`~` means no value"),
            ("account: x\nrole: null\n", 2, 7, "`null` means no value; write a role name"),
            ("account: true\n", 1, 10, "`true` is a boolean; write an account id"),
            (
                "account: x\nrole: 42\n",
                2,
                7,
                "`42` is a number; write a role name, such as ReadOnlyAccess (in quotes if it is really named \"42\")",
            ),
            ("account: x\nsso_session: [a, b]\n", 2, 14, "expected the name of an [sso-session]"),
            ("account: x\nregion: {a: 1}\n", 2, 9, "expected a region, such as eu-west-1"),
            (
                "account: x\nregion: eu west 1\n",
                2,
                9,
                "`eu west 1` is not a region; write a region, such as eu-west-1",
            ),
            ("account: x\nregion: EU-WEST-1\n", 2, 9, "is not a region"),
            ("account: x\naccount: y\n", 2, 1, "`account` is given twice"),
        ] {
            let (message, got_line, got_column) = error(text);
            assert!(
                message.starts_with(&format!("{PATH}, line {line}, column ")),
                "{text:?}: {message}"
            );
            assert!(message.contains(wants), "{text:?}: {message}");
            assert_eq!((got_line, got_column), (Some(line), Some(column)), "{text:?}: {message}");
        }
    }

    #[test]
    fn malformed_or_empty_files_are_errors() {
        let (message, line, column) = error("account: x\n  role: y\n");
        assert_eq!(
            message,
            format!(
                "{PATH}, line 2, column 7: not valid YAML: mapping values are not allowed in this context"
            )
        );
        assert_eq!((line, column), (Some(2), Some(7)));
        let (message, line, _) = error("account: x\nrole: [oops\n");
        assert!(message.starts_with(&format!("{PATH}, line ")), "{message}");
        assert!(message.contains("not valid YAML"), "{message}");
        assert!(line.is_some(), "{message}");
        let (message, line, _) = error("account: 'unterminated\n");
        assert!(message.starts_with(&format!("{PATH}, line ")), "{message}");
        assert!(message.contains("quoted scalar"), "{message}");
        assert!(line.is_some(), "{message}");

        let (message, line, column) = error("123456789012\n");
        assert!(
            message
                .contains("expected a mapping with the keys account, role, sso_session, region, assume_role, external_id and session_name"),
            "{message}"
        );
        assert_eq!((line, column), (Some(1), Some(1)));

        for text in ["", "# only a comment\n", "---\n"] {
            let (message, line, _) = error(text);
            assert_eq!(message, format!("{PATH}: the file is empty. {ACCOUNT_HINT}"));
            assert_eq!(line, None);
        }
        let (message, ..) = error("role: Admin\n");
        assert_eq!(message, format!("{PATH}: there is no `account` key. {ACCOUNT_HINT}"));

        let err =
            parse_project_file(Path::new(PATH), b"account: \xff\xfe\n").expect_err("not UTF-8");
        assert!(
            matches!(err, ProjectFileError::Invalid { line: Some(1), column: Some(10), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_nearest_file_walking_up_wins() {
        let root = tempfile::tempdir().expect("tempdir");
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("mkdir");
        // Whatever lies above the temporary directory, nothing inside it is found yet.
        assert!(find_project_file(&deep).is_none_or(|p| !p.starts_with(root.path())));
        std::fs::write(root.path().join(PROJECT_FILE_NAME), "account: outer\n").expect("write");
        assert_eq!(find_project_file(&deep), Some(root.path().join(PROJECT_FILE_NAME)));
        std::fs::write(root.path().join("a/b").join(PROJECT_FILE_NAME), "account: inner\n")
            .expect("write");
        let found = find_project_file(&deep).expect("found");
        assert_eq!(found, root.path().join("a/b").join(PROJECT_FILE_NAME));
        assert_eq!(load_project_file(&found).expect("valid").account, "inner");
        // A directory with the file's name is not a project file.
        std::fs::create_dir(deep.join(PROJECT_FILE_NAME)).expect("mkdir");
        assert_eq!(find_project_file(&deep), Some(found));
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(PROJECT_FILE_NAME);
        let err = load_project_file(&path).expect_err("missing");
        assert!(matches!(err, ProjectFileError::Read { .. }));
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    }

    #[test]
    fn the_hash_is_of_the_bytes() {
        let a = parse("account: x\n").expect("valid");
        let b = parse("account: x \n").expect("valid");
        assert_eq!(a.account, b.account);
        assert_ne!(a.sha256, b.sha256);
        // echo -n '' | sha256sum
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_schema_describes_exactly_the_keys_the_parser_reads() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).expect("JSON");
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], serde_json::json!(["account"]));
        let properties: Vec<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let keys: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(properties, keys);
        for key in keys {
            let description = schema["properties"][key]["description"].as_str().unwrap_or("");
            assert!(!description.is_empty(), "{key} has no description");
        }
    }
}
