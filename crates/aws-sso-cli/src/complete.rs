//! Tab completion for every binary: the entry point each `main` calls first, and the completers
//! of the common flags and of accounts and roles.
//!
//! Why clap's dynamic completion (`CompleteEnv`: the shell runs `COMPLETE=bash aws-sso-env --
//! <words>` and the binary answers) rather than static scripts calling a hidden command: the
//! candidates that matter (accounts, roles, sessions) are data, so a static script would call the
//! binary anyway, through a protocol of our own written five times (bash, zsh, fish, PowerShell,
//! elvish). CompleteEnv gives that protocol for every shell from the same `clap::Command`, and
//! subcommands, flags and `--format`/`--output` values follow the code with nothing to
//! regenerate. Its cost on a normal run is one environment variable read (the check happens
//! before anything is parsed). The protocol is unstable between clap_complete minor versions,
//! so the crate is pinned to `~4.6` and the registration scripts in `completions/` are generated
//! from the same version by `cargo xtask codegen` and tested in the real shells.
//!
//! Clap hands a completer only the word under the cursor. The role after an account, and the
//! session whose cache to read, depend on the words before it: [`context`] re-reads them from
//! the completion request and parses them with the binary's own command line.

use std::ffi::{OsStr, OsString};
use std::sync::OnceLock;

use aws_sso_core::complete::{self as candidates, Candidate};
use aws_sso_core::env::Environment;
use aws_sso_core::session::SessionRequest;
use clap::ArgMatches;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::CompleteEnv;

/// The variable that turns a run into a completion request (clap's default name).
const COMPLETE: &str = "COMPLETE";

/// The shell asking, saved before `CompleteEnv` removes the variable (it hides it from children).
static SHELL: OnceLock<Option<String>> = OnceLock::new();

/// Answers a completion request and exits, or returns at once on a normal run. Call it first in
/// `main` (after nothing but the prompt hook's own fast path), before anything writes to stdout.
pub fn run_if_requested(command: fn() -> clap::Command) {
    let Some(shell) = std::env::var_os(COMPLETE) else { return };
    let shell = std::path::Path::new(&shell).file_stem().map(|s| s.to_string_lossy().into_owned());
    let _ = SHELL.set(shell);
    CompleteEnv::with_factory(|| without_spent_subcommands(command)).complete();
}

/// `command`, with its subcommands hidden once a positional argument was given before the
/// cursor: `aws-sso-env production <Tab>` is a role, and `exec` can no longer come. (clap's
/// engine offers the subcommands after any positional value; it leaves hidden ones out.)
fn without_spent_subcommands(command: fn() -> clap::Command) -> clap::Command {
    let cmd = command();
    let Some(words) = words_before_cursor(std::env::args_os().collect()) else { return cmd };
    let Ok(matches) = command().ignore_errors(true).try_get_matches_from(words) else { return cmd };
    let positional_given = matches.subcommand().is_none()
        && cmd.get_positionals().any(|arg| {
            matches.value_source(arg.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        });
    if positional_given {
        cmd.disable_help_subcommand(true).mut_subcommands(|sub| sub.hide(true))
    } else {
        cmd
    }
}

/// `--sso-session`: the `[sso-session]` names of the config.
pub fn sso_session_completer() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        to_candidates(candidates::sso_sessions(Environment::from_process(), &typed(current)))
    })
}

/// `--profile`: the profile names of the config and credentials files.
pub fn profile_completer() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        to_candidates(candidates::profiles(Environment::from_process(), &typed(current)))
    })
}

/// What the words before the cursor say, parsed by the binary's own command line.
pub struct Context {
    /// The session they select (`--sso-session`, `AWS_SSO_SESSION`, `--profile`).
    pub request: SessionRequest,
    /// The matches of the innermost subcommand.
    pub matches: ArgMatches,
}

impl Context {
    /// The value of argument `id` (e.g. `account`), when it was given before the cursor.
    pub fn value(&self, id: &str) -> Option<String> {
        value_of(&self.matches, id)
    }
}

/// Parses the words before the cursor of the current completion request with `command`,
/// ignoring errors (the line is unfinished). `None` outside a completion request.
pub fn context(command: clap::Command) -> Option<Context> {
    let words = words_before_cursor(std::env::args_os().collect())?;
    let matches = command.ignore_errors(true).try_get_matches_from(words).ok()?;
    let mut innermost = matches;
    while let Some((_, sub)) = innermost.subcommand() {
        innermost = sub.clone();
    }
    let get = |id: &str| value_of(&innermost, id);
    let request = SessionRequest {
        sso_session: get("sso_session"),
        profile: get("profile"),
        project_session: None,
    };
    Some(Context { request, matches: innermost })
}

/// The value of argument `id`, as the user means it: bash and zsh send the words before the
/// cursor as typed, quotes included (fish unquotes them).
fn value_of(matches: &ArgMatches, id: &str) -> Option<String> {
    let value = matches.try_get_one::<String>(id).ok().flatten()?;
    match SHELL.get().and_then(Option::as_deref) {
        Some("bash" | "zsh") => Some(unquote(value)),
        _ => Some(value.clone()),
    }
}

/// The words of `bin -- WORDS…` before the one being completed: bash and zsh say which word
/// that is (`_CLAP_COMPLETE_INDEX`), the other shells send the words up to the cursor.
fn words_before_cursor(args: Vec<OsString>) -> Option<Vec<OsString>> {
    let start = args.iter().position(|a| a == "--")? + 1;
    let words = &args[start..];
    let index = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|i| i.parse::<usize>().ok())
        .unwrap_or(words.len().saturating_sub(1))
        .min(words.len());
    Some(words[..index].to_vec())
}

/// The account candidates of the session the line selects.
pub fn accounts(command: fn() -> clap::Command, current: &OsStr) -> Vec<CompletionCandidate> {
    let request = context(command()).map(|c| c.request).unwrap_or_default();
    to_candidates(candidates::accounts(Environment::from_process(), &request, &typed(current)))
}

/// The roles of the account given before the cursor (argument id `account`).
pub fn roles(command: fn() -> clap::Command, current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(ctx) = context(command()) else { return Vec::new() };
    let Some(account) = ctx.value("account") else { return Vec::new() };
    to_candidates(candidates::roles(
        Environment::from_process(),
        &ctx.request,
        &account,
        &typed(current),
    ))
}

/// `aws-sso-ls` FILTER terms: account names and ids, and role names.
pub fn filter_terms(command: fn() -> clap::Command, current: &OsStr) -> Vec<CompletionCandidate> {
    let request = context(command()).map(|c| c.request).unwrap_or_default();
    to_candidates(candidates::filter_terms(Environment::from_process(), &request, &typed(current)))
}

/// The word as the user means it. Bash, zsh and fish hand over the word as typed, so an opening
/// quote or a backslash before a space may still be there.
fn typed(current: &OsStr) -> String {
    unquote(&current.to_string_lossy())
}

/// A word without the shell's quoting: `'…'`, `"…"` and backslashes, as a POSIX shell reads them
/// (an unfinished quote runs to the end).
fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '\\') => out.extend(chars.next()),
            (Some('"'), '\\') => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

fn is_bash() -> bool {
    SHELL.get().and_then(Option::as_deref) == Some("bash")
}

/// Bash inserts a candidate exactly as given, so a name with a space or a quote is sent
/// already quoted; zsh, fish, PowerShell and elvish quote what they insert themselves.
fn to_candidates(list: Vec<Candidate>) -> Vec<CompletionCandidate> {
    let bash = is_bash();
    list.into_iter()
        .map(|c| {
            let value = if bash && needs_quotes(&c.value) {
                aws_sso_core::shell::quote_posix(&c.value)
            } else {
                c.value
            };
            CompletionCandidate::new(value).help(c.help.map(Into::into))
        })
        .collect()
}

fn needs_quotes(word: &str) -> bool {
    word.is_empty()
        || !word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,@%+=:/".contains(c) || !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_words_before_the_cursor_are_those_after_the_separator() {
        // Without an index (fish, elvish, PowerShell) the last word is the one being completed.
        let words =
            words_before_cursor(os(&["/bin/aws-sso-env", "--", "aws-sso-env", "exec", "pro"]));
        assert_eq!(words, Some(os(&["aws-sso-env", "exec"])));
        assert_eq!(words_before_cursor(os(&["aws-sso-env", "exec"])), None);
    }

    #[test]
    fn a_word_typed_with_quotes_is_read_without_them() {
        assert_eq!(typed(OsStr::new("'My Ac")), "My Ac");
        assert_eq!(typed(OsStr::new("My\\ Ac")), "My Ac");
        assert_eq!(typed(OsStr::new("\"it's")), "it's");
        assert_eq!(typed(OsStr::new("prod")), "prod");
    }

    #[test]
    fn names_that_a_shell_would_split_need_quotes() {
        assert!(!needs_quotes("production"));
        assert!(!needs_quotes("123456789012"));
        assert!(needs_quotes("My Account"));
        assert!(needs_quotes("it's"));
        assert!(needs_quotes("$(reboot)"));
    }
}
