//! Commands that messages suggest ("Review it, then run: aws-sso-env allow '/p/.aws-sso.yaml'"),
//! written so that the user can copy-paste them into their shell.

use std::fmt;

use super::quote_posix;

/// A command line for the user to copy-paste. Values are in POSIX single quotes, which bash,
/// zsh, dash and ksh read back as written, and fish too unless a value holds a `\` before a
/// `'` or another `\`.
///
/// ```
/// use aws_sso_core::shell::CommandLine;
///
/// let hint = CommandLine::new("aws-sso-env").arg("Prod Account").literal("ROLE");
/// assert_eq!(hint.to_string(), "aws-sso-env 'Prod Account' ROLE");
/// let hint = CommandLine::new("chmod go-w").quoted("/p/.aws-sso.yaml");
/// assert_eq!(hint.to_string(), "chmod go-w '/p/.aws-sso.yaml'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine(String);

impl CommandLine {
    /// Starts with `text` as it is: the program, and any fixed words after it.
    pub fn new(text: &str) -> Self {
        CommandLine(text.to_owned())
    }

    /// Appends `text` as it is: an option, or a placeholder the user replaces (`ROLE`).
    pub fn literal(mut self, text: &str) -> Self {
        self.0.push(' ');
        self.0.push_str(text);
        self
    }

    /// Appends a value as the user would type it: bare when it holds only characters no shell
    /// treats specially (letters, digits, `-_.@:/+`), else in single quotes.
    pub fn arg(mut self, value: &str) -> Self {
        self.0.push(' ');
        if is_bare_word(value) {
            self.0.push_str(value);
        } else {
            self.0.push_str(&quote_posix(value));
        }
        self
    }

    /// Appends a value in single quotes whatever it holds, so that it stands out as one word
    /// from a message that also shows it unquoted (a path).
    pub fn quoted(mut self, value: &str) -> Self {
        self.0.push(' ');
        self.0.push_str(&quote_posix(value));
        self
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` safe to show on a terminal: control characters other than a line break (an escape
/// sequence in a directory name could retitle or rewrite the terminal) and the bidirectional
/// overrides (which reorder what is shown) are written as Rust escapes, `\u{1b}`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n') || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bare_word(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@:/+".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_would_drive_the_terminal() {
        assert_eq!(printable("/p/\u{1b}]0;pwned\u{7}/x"), "/p/\\u{1b}]0;pwned\\u{7}/x");
        assert_eq!(printable("a\rb\tc\u{9b}d"), "a\\rb\\tc\\u{9b}d");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("two\nlines é ☃ 'q' $x"), "two\nlines é ☃ 'q' $x");
    }

    #[test]
    fn an_arg_is_quoted_only_when_a_shell_would_read_it_otherwise() {
        let line = |value: &str| CommandLine::new("aws-sso-env").arg(value).to_string();
        assert_eq!(line("account-001"), "aws-sso-env account-001");
        assert_eq!(line("a@b.c:/d+e_f"), "aws-sso-env a@b.c:/d+e_f");
        assert_eq!(line(""), "aws-sso-env ''");
        assert_eq!(line("Prod Account"), "aws-sso-env 'Prod Account'");
        assert_eq!(line("it's"), r"aws-sso-env 'it'\''s'");
        assert_eq!(line("~/x"), "aws-sso-env '~/x'");
        assert_eq!(line("é"), "aws-sso-env 'é'");
    }

    #[test]
    fn a_quoted_value_is_always_in_single_quotes() {
        let line = CommandLine::new("sudo chown \"$(id -un)\"").quoted("/p/it's/.aws-sso.yaml");
        assert_eq!(line.to_string(), r#"sudo chown "$(id -un)" '/p/it'\''s/.aws-sso.yaml'"#);
        assert_eq!(CommandLine::new("x").quoted("plain").to_string(), "x 'plain'");
    }

    /// Every hint reads back in sh as the words it was built from.
    #[test]
    fn sh_reads_each_hint_back_as_its_words() {
        for value in super::super::testing::HOSTILE.iter().filter(|v| !v.contains('\0')) {
            let hint = CommandLine::new("printf '%s\\0'").arg(value).quoted(value).literal("ROLE");
            let Some(out) = super::super::testing::run_shell("sh", &hint.to_string(), "") else {
                return;
            };
            assert_eq!(String::from_utf8_lossy(&out), format!("{value}\0{value}\0ROLE\0"));
        }
    }
}
