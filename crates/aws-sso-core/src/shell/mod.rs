//! Everything we write for a shell, or for a reader of shell-like lines: the credential
//! variables and every `aws-sso-env --format` (`format.rs`), the hook's exports, unsets and
//! bookkeeping variables, the script `aws-sso-env init` prints, and the commands messages
//! suggest ([`CommandLine`]).
//!
//! One trait, one file per syntax: [`Syntax`] (quote, export a variable) is implemented by a
//! unit struct in each of `posix.rs`, `bash.rs`, `zsh.rs`, `fish.rs`, `powershell.rs`, `cmd.rs`
//! and `dotenv.rs`; [`HookShell`] adds what the hook needs (a variable of the shell only, unset,
//! the init script), and [`Shell`] names the shells that have it. A trait rather than an enum
//! matched in every function, so that each file holds all of one shell's syntax.
//!
//! Every value is quoted, whatever it holds. A value that a reader cannot get back byte for byte
//! (a NUL anywhere, or `%` for `cmd.exe`) is refused with an error instead of being written
//! wrong. No error message ever holds a value: it may be a secret.

use std::fmt;
use std::str::FromStr;

mod bash;
mod cmd;
mod command;
mod dotenv;
mod fish;
mod format;
mod posix;
mod powershell;
#[cfg(test)]
mod testing;
mod zsh;

pub use bash::Bash;
pub use cmd::Cmd;
pub use command::{CommandLine, printable};
pub use dotenv::Dotenv;
pub use fish::{Fish, quote_fish};
pub use format::{
    AWS_ACCESS_KEY_ID, AWS_CREDENTIAL_EXPIRATION, AWS_DEFAULT_REGION, AWS_REGION,
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_SSO_ACCOUNT_ID, AWS_SSO_ACCOUNT_NAME,
    AWS_SSO_PROFILE, AWS_SSO_ROLE_NAME, CredentialView, Exports, Format, render,
};
pub use posix::{Posix, quote_posix};
pub use powershell::{Powershell, quote_powershell};
pub use zsh::Zsh;

/// What went wrong writing credentials for a shell. Messages name the variable and the format,
/// never the value.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error(
        "unknown format `{given}`: use one of env, env-no-export, fish, powershell, windows-cmd, process, json, dotenv"
    )]
    UnknownFormat { given: String },
    #[error("unknown shell `{given}`: use one of bash, zsh, fish")]
    UnknownShell { given: String },
    #[error(
        "cannot write {name} for {target}: its value holds {what}, which {target} cannot read back as written; use {instead} instead"
    )]
    Unrepresentable { name: String, target: String, what: &'static str, instead: &'static str },
    #[error(
        "`{name}` is not an environment variable name a shell accepts: use letters, digits and `_`, not starting with a digit"
    )]
    InvalidName { name: String },
}

/// What a value holds that a syntax cannot write so that it reads back as it was, such as
/// "a NUL character". It names the kind of character, never the value.
pub type Unwritable = &'static str;

/// The syntax of one shell, or of one reader of shell-like lines. Names are written as given:
/// callers pass only portable ones (letters, digits and `_`, not starting with a digit).
pub trait Syntax: Sync {
    /// `value` as one word this syntax reads back byte for byte.
    fn quote(&self, value: &str) -> Result<String, Unwritable>;

    /// The line (ending in `\n`) that sets `name` to `value` for the programs started after it.
    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable>;
}

/// A shell the prompt hook runs in: it also keeps variables of its own, unsets, and has the
/// script `aws-sso-env init` prints.
pub trait HookShell: Syntax {
    /// The line (ending in `\n`) that sets `name` in the shell only, not exported: the hook's
    /// bookkeeping.
    fn set_local(&self, name: &str, value: &str) -> Result<String, Unwritable>;

    /// The line (ending in `\n`) that removes `name`, as [`Syntax::set_env`] set it.
    fn unset_env(&self, name: &str) -> String;

    /// The shell integration (`shell/aws-sso.<shell>`), with [`INIT_PLACEHOLDER`] where it
    /// calls `aws-sso-env`.
    fn init_template(&self) -> &'static str;
}

/// Where the init scripts name the `aws-sso-env` binary; [`Shell::init_script`] puts its path
/// there, quoted for the shell.
pub const INIT_PLACEHOLDER: &str = "@AWS_SSO_ENV@";

/// A shell the hook speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// Its syntax, from its own file.
    pub fn syntax(self) -> &'static dyn HookShell {
        match self {
            Shell::Bash => &Bash,
            Shell::Zsh => &Zsh,
            Shell::Fish => &Fish,
        }
    }

    /// `aws-sso-env init <shell>`: the shell integration, calling the binary at `exe`.
    pub fn init_script(self, exe: &str) -> Result<String, ShellError> {
        let quoted = self.syntax().quote(exe).map_err(|what| ShellError::Unrepresentable {
            name: "the path of aws-sso-env".to_owned(),
            target: self.name().to_owned(),
            what,
            instead: "a path without one",
        })?;
        Ok(self.syntax().init_template().replace(INIT_PLACEHOLDER, &quoted))
    }
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Shell {
    type Err = ShellError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Shell::ALL
            .into_iter()
            .find(|sh| sh.name() == s)
            .ok_or_else(|| ShellError::UnknownShell { given: s.to_owned() })
    }
}

/// A line (ending in `\n`) that exports `name=value` in `shell`, for `eval`. Fish gets a
/// global variable, which is the one [`unset_var`] removes.
pub fn set_var(shell: Shell, name: &str, value: &str) -> Result<String, ShellError> {
    check_name(name)?;
    shell.syntax().set_env(name, value).map_err(|what| unwritable(shell, name, what))
}

/// A line (ending in `\n`) that sets `name=value` in `shell` without exporting it: a variable
/// the shell integration reads, which the programs it starts do not see.
pub fn set_local(shell: Shell, name: &str, value: &str) -> Result<String, ShellError> {
    check_name(name)?;
    shell.syntax().set_local(name, value).map_err(|what| unwritable(shell, name, what))
}

/// A line (ending in `\n`) that removes `name` in `shell`. In fish only the global variable
/// goes: a universal one the user set stays theirs.
pub fn unset_var(shell: Shell, name: &str) -> Result<String, ShellError> {
    check_name(name)?;
    Ok(shell.syntax().unset_env(name))
}

fn unwritable(shell: Shell, name: &str, what: Unwritable) -> ShellError {
    ShellError::Unrepresentable {
        name: name.to_owned(),
        target: shell.name().to_owned(),
        what,
        instead: "a value without one",
    }
}

/// Names are written unquoted, so only the portable ones are accepted.
fn check_name(name: &str) -> Result<(), ShellError> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid { Ok(()) } else { Err(ShellError::InvalidName { name: name.to_owned() }) }
}

/// No environment variable can hold a NUL: the C environment ends each value at one.
fn no_nul(value: &str) -> Result<(), Unwritable> {
    if value.contains('\0') { Err(NUL) } else { Ok(()) }
}

const NUL: Unwritable = "a NUL character";

/// `value` in single quotes, each character written by `write`: the shells that quote this way
/// differ only in how a character is escaped inside.
fn single_quoted(value: &str, write: impl Fn(&mut String, char)) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        write(&mut out, c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::testing::{HOSTILE, child_sees, eval_stdin, parse_vars, run_shell};
    use super::*;

    #[test]
    fn each_quoting_keeps_hostile_characters_literal() {
        let hostile = "it's \"$HOME\" `id` $(id) back\\slash\nline %PATH% !x! é日";
        assert_eq!(
            quote_posix(hostile),
            "'it'\\''s \"$HOME\" `id` $(id) back\\slash\nline %PATH% !x! é日'"
        );
        assert_eq!(
            quote_fish(hostile),
            "'it\\'s \"$HOME\" `id` $(id) back\\\\slash\nline %PATH% !x! é日'"
        );
        assert_eq!(
            quote_powershell(hostile),
            "'it''s \"$HOME\" `id` $(id) back\\slash\nline %PATH% !x! é日'"
        );
        assert_eq!(quote_powershell("‘a’‚‛"), "'‘‘a’’‚‚‛‛'");
        assert_eq!(
            Dotenv.quote(hostile).ok().as_deref(),
            Some(r#""it's \"\$HOME\" `id` \$(id) back\\slash\nline %PATH% !x! é日""#)
        );
        for quote in [quote_posix, quote_fish, quote_powershell] {
            assert_eq!(quote(""), "''");
        }
        assert_eq!(Dotenv.quote("").ok().as_deref(), Some("\"\""));
    }

    #[test]
    fn set_and_unset_lines_per_shell() {
        assert_eq!(
            set_var(Shell::Bash, "X", "it's").ok().as_deref(),
            Some("export X='it'\\''s'\n")
        );
        assert_eq!(set_var(Shell::Zsh, "X", "a").ok().as_deref(), Some("export X='a'\n"));
        assert_eq!(
            set_var(Shell::Fish, "X", "it's\\").ok().as_deref(),
            Some("set -gx X 'it\\'s\\\\'\n")
        );
        assert_eq!(unset_var(Shell::Bash, "X").ok().as_deref(), Some("unset -v X\n"));
        assert_eq!(unset_var(Shell::Zsh, "X").ok().as_deref(), Some("unset -v X\n"));
        assert_eq!(unset_var(Shell::Fish, "X").ok().as_deref(), Some("set -e -g X\n"));
        for bad in ["", "1X", "X;rm", "X Y", "$X", "É"] {
            let err = set_var(Shell::Bash, bad, "v").expect_err(bad);
            assert!(err.to_string().starts_with(&format!("`{bad}` is not an environment")));
            assert!(unset_var(Shell::Fish, bad).is_err());
            assert!(set_local(Shell::Zsh, bad, "v").is_err());
        }
        assert!(set_var(Shell::Zsh, "X", "a\0b").is_err());
        assert!(set_local(Shell::Fish, "X", "a\0b").is_err());
    }

    #[test]
    fn set_local_keeps_the_variable_in_the_shell() {
        assert_eq!(set_local(Shell::Bash, "X", "it's").ok().as_deref(), Some("X='it'\\''s'\n"));
        assert_eq!(set_local(Shell::Zsh, "X", "a").ok().as_deref(), Some("X='a'\n"));
        assert_eq!(
            set_local(Shell::Fish, "X", "it's\\").ok().as_deref(),
            Some("set -g X 'it\\'s\\\\'\n")
        );
    }

    #[test]
    fn set_var_and_unset_var_work_in_each_shell() {
        let names = ["KEPT", "GONE"];
        for (shell, program) in [(Shell::Bash, "bash"), (Shell::Zsh, "zsh"), (Shell::Fish, "fish")]
        {
            for value in HOSTILE {
                let mut text = String::new();
                for line in [
                    set_var(shell, "KEPT", value),
                    set_var(shell, "GONE", "soon gone"),
                    unset_var(shell, "GONE"),
                ] {
                    text.push_str(&line.expect("valid line"));
                }
                let script = format!("{}; {}", eval_stdin(program), child_sees(&names));
                let Some(out) = run_shell(program, &script, &text) else { break };
                assert_eq!(
                    parse_vars(&out, &names),
                    vec![("KEPT".to_owned(), Some(value.to_string())), ("GONE".to_owned(), None)],
                    "{program} {value:?}"
                );
            }
        }
    }

    #[test]
    fn every_init_script_calls_the_binary_by_its_quoted_path() {
        for shell in Shell::ALL {
            let text = shell.init_script("/opt/it's here/aws-sso-env").expect("a UTF-8 path");
            assert!(!text.contains(INIT_PLACEHOLDER), "{shell}: placeholder left");
            let quoted = match shell {
                Shell::Fish => r"'/opt/it\'s here/aws-sso-env'",
                Shell::Bash | Shell::Zsh => r"'/opt/it'\''s here/aws-sso-env'",
            };
            assert!(
                text.contains(&format!("{quoted} hook {shell}")),
                "{shell}: the hook is not called as `{quoted} hook {shell}`:\n{text}"
            );
        }
    }

    #[test]
    fn every_init_template_calls_the_binary_by_the_placeholder_for_the_hook_and_use() {
        for shell in Shell::ALL {
            let template = shell.syntax().init_template();
            assert_eq!(template.matches(INIT_PLACEHOLDER).count(), 2, "{shell}");
            assert!(template.contains(&format!("{INIT_PLACEHOLDER} hook {shell}")), "{shell}");
            assert!(
                template.contains(&format!("{INIT_PLACEHOLDER} use --shell {shell}")),
                "{shell}"
            );
        }
        let err = Shell::Bash.init_script("/a\0b").expect_err("a NUL is refused");
        assert!(err.to_string().contains("a NUL character"), "{err}");
    }
}
