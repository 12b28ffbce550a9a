//! Role credentials written for a shell, a program or an SDK: the variables we export and every
//! `--format` of `aws-sso-env`. The line formats write each variable with the [`Syntax`] of
//! their shell (or of dotenv); `process` and `json` are whole JSON documents.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::Serialize;

use super::{Cmd, Dotenv, Fish, Posix, Powershell, ShellError, Syntax};
use crate::Secret;

pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const AWS_CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const AWS_SSO_ACCOUNT_ID: &str = "AWS_SSO_ACCOUNT_ID";
pub const AWS_SSO_ACCOUNT_NAME: &str = "AWS_SSO_ACCOUNT_NAME";
pub const AWS_SSO_ROLE_NAME: &str = "AWS_SSO_ROLE_NAME";
pub const AWS_SSO_PROFILE: &str = "AWS_SSO_PROFILE";

/// `aws-sso-env --format`: the names of `aws configure export-credentials`, plus `json` and
/// `dotenv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// `export NAME='value'`, for bash, zsh, dash and every POSIX shell.
    #[default]
    Env,
    /// `NAME='value'`: shell variables that are not exported.
    EnvNoExport,
    /// `set -gx NAME 'value'`.
    Fish,
    /// `$Env:NAME = 'value'`.
    Powershell,
    /// `set "NAME=value"`.
    WindowsCmd,
    /// The `credential_process` JSON, Version 1, byte for byte as `aws configure
    /// export-credentials` writes it.
    Process,
    /// One object with every exported value, in camelCase.
    Json,
    /// `NAME="value"`, for dotenv readers.
    Dotenv,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Env,
        Format::EnvNoExport,
        Format::Fish,
        Format::Powershell,
        Format::WindowsCmd,
        Format::Process,
        Format::Json,
        Format::Dotenv,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Env => "env",
            Format::EnvNoExport => "env-no-export",
            Format::Fish => "fish",
            Format::Powershell => "powershell",
            Format::WindowsCmd => "windows-cmd",
            Format::Process => "process",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ShellError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ShellError::UnknownFormat { given: s.to_owned() })
    }
}

/// Role credentials and what they are for, as the formats print them.
#[derive(Clone, Debug)]
pub struct CredentialView {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: Timestamp,
    pub region: Option<String>,
    pub account_id: String,
    pub account_name: Option<String>,
    pub role_name: String,
}

/// The variables to export, in the order they are printed. `Debug` shows the names only: the
/// values include the secret key and the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Exports {
    pub vars: Vec<(&'static str, String)>,
}

impl Exports {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.vars.iter().map(|(n, _)| *n)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.vars.iter().map(|(n, v)| (*n, v.as_str()))
    }
}

impl IntoIterator for Exports {
    type Item = (&'static str, String);
    type IntoIter = std::vec::IntoIter<(&'static str, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.vars.into_iter()
    }
}

impl fmt::Debug for Exports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exports").field("names", &self.names().collect::<Vec<_>>()).finish()
    }
}

impl CredentialView {
    /// The variables of docs/ARCHITECTURE.md §6, in order. Empty region or account name count as unknown.
    pub fn exports(&self) -> Exports {
        let mut vars = vec![
            (AWS_ACCESS_KEY_ID, self.access_key_id.clone()),
            (AWS_SECRET_ACCESS_KEY, self.secret_access_key.expose().to_owned()),
            (AWS_SESSION_TOKEN, self.session_token.expose().to_owned()),
            (AWS_CREDENTIAL_EXPIRATION, expiration_text(self.expiration)),
        ];
        if let Some(region) = self.region() {
            vars.push((AWS_REGION, region.to_owned()));
            vars.push((AWS_DEFAULT_REGION, region.to_owned()));
        }
        vars.push((AWS_SSO_ACCOUNT_ID, self.account_id.clone()));
        if let Some(name) = self.account_name() {
            vars.push((AWS_SSO_ACCOUNT_NAME, name.to_owned()));
        }
        vars.push((AWS_SSO_ROLE_NAME, self.role_name.clone()));
        vars.push((AWS_SSO_PROFILE, self.profile()));
        Exports { vars }
    }

    /// `<account name or id>:<role>`, the form prompt tools such as starship show.
    pub fn profile(&self) -> String {
        let account = self.account_name().unwrap_or(&self.account_id);
        format!("{account}:{}", self.role_name)
    }

    fn region(&self) -> Option<&str> {
        self.region.as_deref().filter(|r| !r.is_empty())
    }

    fn account_name(&self) -> Option<&str> {
        self.account_name.as_deref().filter(|n| !n.is_empty())
    }
}

/// RFC 3339 with `+00:00`, whole seconds: what `aws configure export-credentials` prints
/// (Python's `isoformat()` of a UTC datetime).
fn expiration_text(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// The credentials in `format`, every line ending in `\n`.
pub fn render(format: Format, view: &CredentialView) -> Result<String, ShellError> {
    match format {
        Format::Process => Ok(render_process(view)),
        Format::Json => Ok(render_json(view)),
        _ => {
            let mut out = String::new();
            for (name, value) in view.exports().iter() {
                out.push_str(&line(format, name, value)?);
            }
            Ok(out)
        }
    }
}

/// One assignment line of a line-per-variable format.
fn line(format: Format, name: &str, value: &str) -> Result<String, ShellError> {
    let written = match format {
        Format::Env => Posix.set_env(name, value),
        Format::EnvNoExport => Posix.set_local(name, value),
        Format::Fish => Fish.set_env(name, value),
        Format::Powershell => Powershell.set_env(name, value),
        Format::WindowsCmd => Cmd.set_env(name, value),
        Format::Dotenv => Dotenv.set_env(name, value),
        // Written whole by `render`, not line by line.
        Format::Process | Format::Json => Ok(String::new()),
    };
    written.map_err(|what| ShellError::Unrepresentable {
        name: name.to_owned(),
        target: format.name().to_owned(),
        what,
        instead: if format == Format::WindowsCmd { "--format powershell" } else { "--format json" },
    })
}

/// Exactly `json.dumps(obj, indent=2)` + `\n` of `aws configure export-credentials --format
/// process` (docs/aws-contracts.md §5.1), including its `\uXXXX` escapes of anything not printable
/// ASCII, so that what SDKs read is byte for byte what the AWS CLI would give them.
fn render_process(view: &CredentialView) -> String {
    let fields = [
        ("AccessKeyId", view.access_key_id.as_str()),
        ("SecretAccessKey", view.secret_access_key.expose()),
        ("SessionToken", view.session_token.expose()),
        ("Expiration", &expiration_text(view.expiration)),
    ];
    let mut out = String::from("{\n  \"Version\": 1");
    for (key, value) in fields {
        out.push_str(",\n  \"");
        out.push_str(key);
        out.push_str("\": ");
        push_python_json_string(&mut out, value);
    }
    out.push_str("\n}\n");
    out
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii`.
fn push_python_json_string(out: &mut String, value: &str) {
    crate::py_json::write_str(out, value);
}

/// `--format json`: every value the variables carry, named as in the AWS APIs, with `null`
/// for a region or account name that is not known.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a Secret,
    session_token: &'a Secret,
    expiration: String,
    region: Option<&'a str>,
    account_id: &'a str,
    account_name: Option<&'a str>,
    role_name: &'a str,
}

fn render_json(view: &CredentialView) -> String {
    let body = JsonCredentials {
        access_key_id: &view.access_key_id,
        secret_access_key: &view.secret_access_key,
        session_token: &view.session_token,
        expiration: expiration_text(view.expiration),
        region: view.region(),
        account_id: &view.account_id,
        account_name: view.account_name(),
        role_name: &view.role_name,
    };
    // Serializing strings into a String cannot fail; the fallback keeps the output valid JSON.
    let mut out = serde_json::to_string_pretty(&body).unwrap_or_else(|_| "{}".to_owned());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::Shell;
    use super::super::testing::{
        HOSTILE, child_sees, eval_stdin, parse_vars, printf_vars, run_shell,
    };
    use super::*;

    fn view() -> CredentialView {
        CredentialView {
            access_key_id: "ASIAEXAMPLEKEYID1234".to_owned(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: Secret::new("IQoJb3JpZ2luX2VjEXAMPLE+token/=="),
            expiration: "2024-05-01T20:00:00Z".parse().expect("valid timestamp"),
            region: Some("eu-west-1".to_owned()),
            account_id: "012345678901".to_owned(),
            account_name: Some("Production".to_owned()),
            role_name: "AdministratorAccess".to_owned(),
        }
    }

    fn rendered(format: Format, view: &CredentialView) -> String {
        render(format, view).expect("renders")
    }

    #[test]
    fn env_exports_every_variable_in_single_quotes() {
        assert_eq!(
            rendered(Format::Env, &view()),
            "export AWS_ACCESS_KEY_ID='ASIAEXAMPLEKEYID1234'
export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
export AWS_SESSION_TOKEN='IQoJb3JpZ2luX2VjEXAMPLE+token/=='
export AWS_CREDENTIAL_EXPIRATION='2024-05-01T20:00:00+00:00'
export AWS_REGION='eu-west-1'
export AWS_DEFAULT_REGION='eu-west-1'
export AWS_SSO_ACCOUNT_ID='012345678901'
export AWS_SSO_ACCOUNT_NAME='Production'
export AWS_SSO_ROLE_NAME='AdministratorAccess'
export AWS_SSO_PROFILE='Production:AdministratorAccess'
"
        );
    }

    #[test]
    fn env_no_export_sets_shell_variables_only() {
        assert_eq!(
            rendered(Format::EnvNoExport, &view()),
            "AWS_ACCESS_KEY_ID='ASIAEXAMPLEKEYID1234'
AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
AWS_SESSION_TOKEN='IQoJb3JpZ2luX2VjEXAMPLE+token/=='
AWS_CREDENTIAL_EXPIRATION='2024-05-01T20:00:00+00:00'
AWS_REGION='eu-west-1'
AWS_DEFAULT_REGION='eu-west-1'
AWS_SSO_ACCOUNT_ID='012345678901'
AWS_SSO_ACCOUNT_NAME='Production'
AWS_SSO_ROLE_NAME='AdministratorAccess'
AWS_SSO_PROFILE='Production:AdministratorAccess'
"
        );
    }

    #[test]
    fn fish_sets_global_exported_variables() {
        assert_eq!(
            rendered(Format::Fish, &view()),
            "set -gx AWS_ACCESS_KEY_ID 'ASIAEXAMPLEKEYID1234'
set -gx AWS_SECRET_ACCESS_KEY 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
set -gx AWS_SESSION_TOKEN 'IQoJb3JpZ2luX2VjEXAMPLE+token/=='
set -gx AWS_CREDENTIAL_EXPIRATION '2024-05-01T20:00:00+00:00'
set -gx AWS_REGION 'eu-west-1'
set -gx AWS_DEFAULT_REGION 'eu-west-1'
set -gx AWS_SSO_ACCOUNT_ID '012345678901'
set -gx AWS_SSO_ACCOUNT_NAME 'Production'
set -gx AWS_SSO_ROLE_NAME 'AdministratorAccess'
set -gx AWS_SSO_PROFILE 'Production:AdministratorAccess'
"
        );
    }

    #[test]
    fn powershell_assigns_env_drive_variables() {
        assert_eq!(
            rendered(Format::Powershell, &view()),
            "$Env:AWS_ACCESS_KEY_ID = 'ASIAEXAMPLEKEYID1234'
$Env:AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
$Env:AWS_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE+token/=='
$Env:AWS_CREDENTIAL_EXPIRATION = '2024-05-01T20:00:00+00:00'
$Env:AWS_REGION = 'eu-west-1'
$Env:AWS_DEFAULT_REGION = 'eu-west-1'
$Env:AWS_SSO_ACCOUNT_ID = '012345678901'
$Env:AWS_SSO_ACCOUNT_NAME = 'Production'
$Env:AWS_SSO_ROLE_NAME = 'AdministratorAccess'
$Env:AWS_SSO_PROFILE = 'Production:AdministratorAccess'
"
        );
    }

    #[test]
    fn windows_cmd_uses_the_quoted_set_form() {
        assert_eq!(
            rendered(Format::WindowsCmd, &view()),
            "set \"AWS_ACCESS_KEY_ID=ASIAEXAMPLEKEYID1234\"
set \"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"
set \"AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEXAMPLE+token/==\"
set \"AWS_CREDENTIAL_EXPIRATION=2024-05-01T20:00:00+00:00\"
set \"AWS_REGION=eu-west-1\"
set \"AWS_DEFAULT_REGION=eu-west-1\"
set \"AWS_SSO_ACCOUNT_ID=012345678901\"
set \"AWS_SSO_ACCOUNT_NAME=Production\"
set \"AWS_SSO_ROLE_NAME=AdministratorAccess\"
set \"AWS_SSO_PROFILE=Production:AdministratorAccess\"
"
        );
    }

    #[test]
    fn dotenv_uses_double_quotes() {
        assert_eq!(
            rendered(Format::Dotenv, &view()),
            r#"AWS_ACCESS_KEY_ID="ASIAEXAMPLEKEYID1234"
AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_SESSION_TOKEN="IQoJb3JpZ2luX2VjEXAMPLE+token/=="
AWS_CREDENTIAL_EXPIRATION="2024-05-01T20:00:00+00:00"
AWS_REGION="eu-west-1"
AWS_DEFAULT_REGION="eu-west-1"
AWS_SSO_ACCOUNT_ID="012345678901"
AWS_SSO_ACCOUNT_NAME="Production"
AWS_SSO_ROLE_NAME="AdministratorAccess"
AWS_SSO_PROFILE="Production:AdministratorAccess"
"#
        );
    }

    #[test]
    fn process_is_the_version_1_json_of_the_aws_cli() {
        assert_eq!(
            rendered(Format::Process, &view()),
            r#"{
  "Version": 1,
  "AccessKeyId": "ASIAEXAMPLEKEYID1234",
  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "SessionToken": "IQoJb3JpZ2luX2VjEXAMPLE+token/==",
  "Expiration": "2024-05-01T20:00:00+00:00"
}
"#
        );
    }

    #[test]
    fn json_names_every_value_in_camel_case() {
        assert_eq!(
            rendered(Format::Json, &view()),
            r#"{
  "accessKeyId": "ASIAEXAMPLEKEYID1234",
  "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE+token/==",
  "expiration": "2024-05-01T20:00:00+00:00",
  "region": "eu-west-1",
  "accountId": "012345678901",
  "accountName": "Production",
  "roleName": "AdministratorAccess"
}
"#
        );
    }

    #[test]
    fn without_region_or_account_name_those_variables_are_left_out() {
        let mut v = view();
        v.region = None;
        v.account_name = Some(String::new());
        assert_eq!(
            rendered(Format::EnvNoExport, &v),
            "AWS_ACCESS_KEY_ID='ASIAEXAMPLEKEYID1234'
AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
AWS_SESSION_TOKEN='IQoJb3JpZ2luX2VjEXAMPLE+token/=='
AWS_CREDENTIAL_EXPIRATION='2024-05-01T20:00:00+00:00'
AWS_SSO_ACCOUNT_ID='012345678901'
AWS_SSO_ROLE_NAME='AdministratorAccess'
AWS_SSO_PROFILE='012345678901:AdministratorAccess'
"
        );
        assert_eq!(
            rendered(Format::Json, &v),
            r#"{
  "accessKeyId": "ASIAEXAMPLEKEYID1234",
  "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE+token/==",
  "expiration": "2024-05-01T20:00:00+00:00",
  "region": null,
  "accountId": "012345678901",
  "accountName": null,
  "roleName": "AdministratorAccess"
}
"#
        );
    }

    #[test]
    fn expiration_drops_fractions_of_a_second() {
        let mut v = view();
        v.expiration = "2024-05-01T20:00:00.999Z".parse().expect("valid timestamp");
        assert_eq!(v.exports().get(AWS_CREDENTIAL_EXPIRATION), Some("2024-05-01T20:00:00+00:00"));
    }

    #[test]
    fn format_names_round_trip_and_unknown_ones_list_the_choices() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>().ok(), Some(format));
        }
        let err = "yaml".parse::<Format>().expect_err("not a format");
        assert_eq!(
            err.to_string(),
            "unknown format `yaml`: use one of env, env-no-export, fish, powershell, windows-cmd, process, json, dotenv"
        );
        assert_eq!(Format::default(), Format::Env);
        for shell in Shell::ALL {
            assert_eq!(shell.to_string().parse::<Shell>().ok(), Some(shell));
        }
        assert!("tcsh".parse::<Shell>().is_err());
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let v = view();
        let shown = format!("{v:?} {:?}", v.exports());
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("IQoJb3JpZ2lu"), "{shown}");
        assert!(shown.contains("AWS_SESSION_TOKEN"), "{shown}");
    }

    #[test]
    fn process_escapes_like_python_json_dumps() {
        let mut v = view();
        v.access_key_id = "q\"b\\n\n\r\t\u{8}\u{c}\u{1}\u{7f}é😀".to_owned();
        v.secret_access_key = Secret::new("");
        assert_eq!(
            rendered(Format::Process, &v),
            r#"{
  "Version": 1,
  "AccessKeyId": "q\"b\\n\n\r\t\b\f\u0001\u007f\u00e9\ud83d\ude00",
  "SecretAccessKey": "",
  "SessionToken": "IQoJb3JpZ2luX2VjEXAMPLE+token/==",
  "Expiration": "2024-05-01T20:00:00+00:00"
}
"#
        );
    }

    fn with_account_name(name: &str) -> CredentialView {
        let mut v = view();
        v.account_name = Some(name.to_owned());
        v
    }

    #[test]
    fn windows_cmd_refuses_what_cmd_would_change_and_says_what_to_use() {
        for (value, what) in [
            ("100%", "a `%`"),
            ("wow!", "a `!`"),
            ("say \"hi\"", "a `\"`"),
            ("two\nlines", "a line break"),
            ("cr\r", "a line break"),
            ("bell\u{7}", "a control character"),
            ("nul\0", "a NUL character"),
        ] {
            let err = render(Format::WindowsCmd, &with_account_name(value)).expect_err(value);
            assert_eq!(
                err.to_string(),
                format!(
                    "cannot write AWS_SSO_ACCOUNT_NAME for windows-cmd: its value holds {what}, which windows-cmd cannot read back as written; use --format powershell instead"
                )
            );
        }
        let text = rendered(Format::WindowsCmd, &with_account_name("R&D <ops> | (a^b) é\t"));
        assert!(text.contains("set \"AWS_SSO_ACCOUNT_NAME=R&D <ops> | (a^b) é\t\"\n"), "{text}");
    }

    #[test]
    fn a_nul_is_refused_by_every_line_format_without_showing_the_value() {
        let mut v = view();
        v.secret_access_key = Secret::new("top\0secret");
        for format in Format::ALL {
            match format {
                Format::Process | Format::Json => assert!(render(format, &v).is_ok()),
                _ => {
                    let err = render(format, &v).expect_err(format.name());
                    let message = err.to_string();
                    assert!(message.contains("AWS_SECRET_ACCESS_KEY"), "{message}");
                    assert!(message.contains("a NUL character"), "{message}");
                    assert!(!message.contains("secret"), "{message}");
                }
            }
        }
    }

    #[test]
    fn dotenv_refuses_line_breaks_it_has_no_escape_for() {
        let err = render(Format::Dotenv, &with_account_name("a\rb")).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "cannot write AWS_SSO_ACCOUNT_NAME for dotenv: its value holds a carriage return, which dotenv cannot read back as written; use --format json instead"
        );
    }

    fn hostile_view(value: &str) -> CredentialView {
        CredentialView {
            access_key_id: value.to_owned(),
            secret_access_key: Secret::new(value),
            session_token: Secret::new(value),
            expiration: "2024-05-01T20:00:00Z".parse().expect("valid timestamp"),
            region: Some(value.to_owned()),
            account_id: value.to_owned(),
            account_name: Some(value.to_owned()),
            role_name: value.to_owned(),
        }
    }

    const ALL_NAMES: [&str; 10] = [
        AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY,
        AWS_SESSION_TOKEN,
        AWS_CREDENTIAL_EXPIRATION,
        AWS_REGION,
        AWS_DEFAULT_REGION,
        AWS_SSO_ACCOUNT_ID,
        AWS_SSO_ACCOUNT_NAME,
        AWS_SSO_ROLE_NAME,
        AWS_SSO_PROFILE,
    ];

    fn expected_vars(exports: &Exports, names: &[&str]) -> Vec<(String, Option<String>)> {
        names.iter().map(|n| (n.to_string(), exports.get(n).map(str::to_owned))).collect()
    }

    fn round_trip(program: &str, format: Format) {
        for value in HOSTILE {
            let view = hostile_view(value);
            let text = rendered(format, &view);
            let want = expected_vars(&view.exports(), &ALL_NAMES);
            let exported = format != Format::EnvNoExport;
            let script = format!("{}; {}", eval_stdin(program), child_sees(&ALL_NAMES));
            let Some(out) = run_shell(program, &script, &text) else { return };
            if exported {
                assert_eq!(parse_vars(&out, &ALL_NAMES), want, "{program} {format} {value:?}");
            } else {
                let unset: Vec<_> = ALL_NAMES.iter().map(|n| (n.to_string(), None)).collect();
                assert_eq!(parse_vars(&out, &ALL_NAMES), unset, "exported by {format}");
                let script = format!("{}; {}", eval_stdin(program), printf_vars(&ALL_NAMES));
                let out = run_shell(program, &script, &text).expect("shell was there");
                assert_eq!(parse_vars(&out, &ALL_NAMES), want, "{program} {format} {value:?}");
            }
        }
    }

    #[test]
    fn sh_reads_back_every_value_of_env_and_env_no_export() {
        round_trip("sh", Format::Env);
        round_trip("sh", Format::EnvNoExport);
    }

    #[test]
    fn bash_reads_back_every_value_of_env_and_env_no_export() {
        round_trip("bash", Format::Env);
        round_trip("bash", Format::EnvNoExport);
    }

    #[test]
    fn dash_reads_back_every_value_of_env_and_env_no_export() {
        round_trip("dash", Format::Env);
        round_trip("dash", Format::EnvNoExport);
    }

    #[test]
    fn zsh_reads_back_every_value_of_env_and_env_no_export() {
        round_trip("zsh", Format::Env);
        round_trip("zsh", Format::EnvNoExport);
    }

    #[test]
    fn fish_reads_back_every_value_of_fish() {
        round_trip("fish", Format::Fish);
    }

    #[test]
    fn python_json_dumps_writes_the_same_process_bytes() {
        const DUMPS: &str = "import json, sys\nd = json.load(sys.stdin)\nsys.stdout.write(json.dumps({k: d[k] for k in ['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']}, indent=2) + '\\n')";
        for value in HOSTILE.iter().chain(&["\u{1}\u{7f}\u{8}\u{c}\r"]) {
            let text = rendered(Format::Process, &hostile_view(value));
            let Some(out) = run_python(DUMPS, &text) else { return };
            assert_eq!(String::from_utf8_lossy(&out), text, "{value:?}");
        }
    }

    fn run_python(program: &str, stdin: &str) -> Option<Vec<u8>> {
        use std::io::Write;
        use std::process::{Command, Stdio};

        let child = Command::new("python3")
            .arg("-c")
            .arg(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            eprintln!("notice: python3 is not installed; the json.dumps comparison is skipped");
            return None;
        };
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        let out = child.wait_with_output().expect("python runs");
        assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
        Some(out.stdout)
    }
}
