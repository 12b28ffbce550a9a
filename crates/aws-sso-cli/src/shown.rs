//! How a value from the command line is shown in an error: escaped and shortened, so that a
//! 5,000-character argument cannot flood the terminal and an escape sequence cannot drive it.
//! clap's own errors quote the rejected value whole; [`parse`] and [`exit_on_error`] show it
//! like [`shown`] does.
//!
//! This file needs nothing but std and clap: the front command `aws-sso`, which stays off the
//! core library to start fast, includes it as it is (`#[path]`), so every binary shows values
//! one way.

use std::ffi::OsString;
use std::io::Write as _;

/// How many characters of a value an error shows.
pub const SHOWN_CHARS: usize = 60;

/// `value` as an error shows it: control characters and bidirectional overrides written as
/// Rust escapes (`\n`, `\u{1b}`), and past [`SHOWN_CHARS`] characters cut, with the length.
pub fn shown(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars().take(SHOWN_CHARS) {
        push_escaped(&mut out, c);
    }
    let count = value.chars().count();
    if count > SHOWN_CHARS {
        out.push_str(&format!("… ({count} characters)"));
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    let bidi =
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || bidi {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// Each argument, and the value of each `--flag=VALUE` alone too (clap quotes the value alone).
fn arg_values(args: &[String]) -> Vec<&str> {
    let mut values: Vec<&str> = Vec::new();
    for arg in args {
        values.push(arg);
        if arg.starts_with('-')
            && let Some((_, value)) = arg.split_once('=')
        {
            values.push(value);
        }
    }
    values
}

/// `message`, an error clap rendered, with each argument of `args` it quotes (`'VALUE'`, and
/// the `-- VALUE` of its tips) shown as [`shown`] shows it, and no control character left but
/// its own line breaks.
pub fn with_args_shown(message: &str, args: &[String]) -> String {
    let mut values = arg_values(args);
    values.retain(|value| !value.is_empty() && shown(value) != *value);
    // The longest first, so a value inside another is not replaced within it.
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    values.dedup();
    let mut text = message.to_owned();
    for value in values {
        let short = shown(value);
        text = text.replace(&format!("'{value}'"), &format!("'{short}'"));
        text = text.replace(&format!("-- {value}'"), &format!("-- {short}'"));
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

/// `message`, an error of ours, with each argument of `args` longer than [`SHOWN_CHARS`] that it
/// repeats shown as [`shown`] shows it (a name the config does not know, say), wherever it is.
/// An argument that names an existing file is left whole: a path is what the user needs to see.
/// Control characters are left to the caller, which escapes the whole message.
pub fn with_long_args_shown(message: &str, args: &[String]) -> String {
    let mut values = arg_values(args);
    values.retain(|value| {
        value.chars().count() > SHOWN_CHARS && !std::path::Path::new(value).exists()
    });
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    values.dedup();
    let mut text = message.to_owned();
    for value in values {
        text = text.replace(value, &shown(value));
    }
    text
}

/// `C::parse()`, except that an error shows the values it quotes as [`shown`] does.
pub fn parse<C: clap::Parser>() -> C {
    let args: Vec<OsString> = std::env::args_os().collect();
    C::try_parse_from(&args).unwrap_or_else(|error| exit_on_error(&error, C::command(), &args))
}

/// Ends the process on `error`, which `command` gave for `args` (the program's name first), as
/// `error.exit()` would (help and version on stdout with 0, an error on stderr with 2), but with
/// every value it quotes shown as [`shown`] shows it.
pub fn exit_on_error(error: &clap::Error, command: clap::Command, args: &[OsString]) -> ! {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
    if !error.use_stderr() || args.iter().all(|arg| shown(arg) == *arg) {
        error.exit();
    }
    // clap's plain rendering strips anything that looks like an escape sequence, the value's
    // own too, which then matches no argument: parse again without styles and take the text
    // as it is, to show it escaped.
    let again = command.styles(clap::builder::Styles::plain()).try_get_matches_from(&args);
    let rendered = match again {
        Err(again) => again.render().ansi().to_string(),
        Ok(_) => error.render().to_string(),
    };
    let text = with_args_shown(&rendered, &args);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stderr.write_all(b"\n");
    }
    let _ = stderr.flush();
    std::process::exit(error.exit_code());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_is_cut_with_its_length_and_control_characters_are_escaped() {
        assert_eq!(shown("eu-west-1"), "eu-west-1");
        assert_eq!(shown("eu-west-1\n\u{1b}[31m"), "eu-west-1\\n\\u{1b}[31m");
        let long = "a".repeat(5000);
        assert_eq!(shown(&long), format!("{}… (5000 characters)", "a".repeat(SHOWN_CHARS)));
        assert_eq!(shown("evil\u{202e}"), "evil\\u{202e}");
    }

    #[test]
    fn a_long_argument_our_own_error_repeats_is_shown_short_but_a_path_is_not() {
        let long = "p".repeat(5000);
        let dir = std::env::temp_dir().join("x".repeat(70));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.display().to_string();
        let message = format!("the profile \"{long}\" is not in {path}; run: x --profile {long}");
        let text = with_long_args_shown(&message, &["--profile".to_owned(), long, path.clone()]);
        assert!(text.len() < 400, "{text}");
        assert!(text.contains("(5000 characters)\" is not in "), "{text}");
        assert!(text.contains(&path), "{text}");
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn quoted_arguments_are_shown_short_and_the_message_keeps_its_lines() {
        let long = "x".repeat(5000);
        let message = format!(
            "error: invalid value '{long}' for '--region <REGION>': expected a region\n\n\
             tip: to pass '{long}' as a value, use '-- {long}'\n"
        );
        let args = vec!["--region".to_owned(), long.clone()];
        let text = with_args_shown(&message, &args);
        assert!(text.len() < 400, "{text}");
        assert!(text.contains("(5000 characters)' for '--region <REGION>': expected a region\n"));
        assert!(text.contains("use '-- xxx"), "{text}");

        let evil = "eu\n\u{1b}]0;x\u{7}".to_owned();
        let message = format!("error: invalid value '{evil}' for '--region=<REGION>'\n");
        let text = with_args_shown(&message, &[format!("--region={evil}")]);
        assert_eq!(text, "error: invalid value 'eu\\n\\u{1b}]0;x\\u{7}' for '--region=<REGION>'\n");
    }
}
