//! `cmd.exe`: `set "NAME=value"`, for `--format windows-cmd`.

use super::{NUL, Syntax, Unwritable};

pub struct Cmd;

impl Syntax for Cmd {
    /// `"value"`, as `set` and the other builtins read it: cmd.exe has no escape that keeps a
    /// `%` literal at the prompt, so what it would change is refused ([`cmd_accepts`]).
    fn quote(&self, value: &str) -> Result<String, Unwritable> {
        cmd_accepts(value).map(|()| format!("\"{value}\""))
    }

    /// `set "NAME=value"`: the quotes around the whole assignment keep `&|<>()^` literal, and
    /// anything after the closing quote out of the value.
    fn set_env(&self, name: &str, value: &str) -> Result<String, Unwritable> {
        cmd_accepts(value).map(|()| format!("set \"{name}={value}\"\n"))
    }
}

/// Whether `set "NAME=value"` gives `cmd.exe` this value back, and why not when it does not.
///
/// Inside the quotes `&|<>()^` are literal, but `%` expands variables (and `%%` only means `%`
/// in a batch file, not at the prompt), `!` expands them when delayed expansion is on, a `"`
/// ends the quoting, and a line break ends the command. cmd.exe cannot hold an empty variable:
/// `set "NAME="` removes it, which every reader takes as empty.
fn cmd_accepts(value: &str) -> Result<(), Unwritable> {
    let refused = value.chars().find_map(|c| match c {
        '\0' => Some(NUL),
        '%' => Some("a `%`"),
        '!' => Some("a `!`"),
        '"' => Some("a `\"`"),
        '\n' | '\r' => Some("a line break"),
        c if c.is_control() && c != '\t' => Some("a control character"),
        _ => None,
    });
    refused.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::testing::{ATTACK, shown};

    /// What cmd.exe reads literally inside the quotes.
    const ACCEPTED: &str = "R&D <ops> | (a^b) ; é\ttab";

    #[test]
    fn snapshots() {
        insta::assert_snapshot!("set_env", shown(Cmd.set_env("AWS_SSO_ACCOUNT_NAME", ACCEPTED)));
        insta::assert_snapshot!(
            "set_env_refused",
            shown(Cmd.set_env("AWS_SSO_ACCOUNT_NAME", ATTACK))
        );
        insta::assert_snapshot!("quote", shown(Cmd.quote(ACCEPTED)));
        insta::assert_snapshot!("quote_refused", shown(Cmd.quote(ATTACK)));
    }
}
