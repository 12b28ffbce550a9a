//! `aws-sso`: the front command. `aws-sso NAME …` runs `aws-sso-NAME …` in its place, found
//! beside this binary first and then on PATH, so the suite's own commands and any plugin are
//! reached the same way (as `cargo NAME` and `kubectl NAME` do).

use aws_sso::cli;
mod complete;
mod find;
mod suggest;
// The same showing of values as every other binary's, without the crate that holds it (and the
// core library it brings).
#[path = "../../aws-sso-cli/src/shown.rs"]
#[allow(dead_code)]
mod shown;

use std::ffi::OsString;
use std::fmt::Display;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{BUILTINS, NAME, USE};

/// Exit code of a command line that makes no sense (docs/ARCHITECTURE.md §7).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    complete::run_if_requested();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // A command name first: hand everything after it to the command as it is, without letting
    // clap see it (`aws-sso ls --help` is aws-sso-ls's help, `--` stays where it was).
    if let Some(name) = args.first().and_then(|first| first.to_str())
        && !name.starts_with('-')
        && name != "help"
    {
        return dispatch(name, &args[1..]);
    }
    let argv: Vec<OsString> = std::iter::once(OsString::from(NAME)).chain(args).collect();
    let matches = cli::command()
        .try_get_matches_from(&argv)
        .unwrap_or_else(|error| shown::exit_on_error(&error, cli::command(), &argv));
    if matches.get_flag("list") {
        if let Some((name, _)) = matches.subcommand() {
            cli::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("--list takes no command, and `{}` was given", shown::shown(name)),
                )
                .exit();
        }
        return list(&find::search_dirs());
    }
    match matches.subcommand() {
        None => usage(),
        Some(("help", help)) => match help.get_one::<String>("command").map(String::as_str) {
            None | Some("help") => usage(),
            Some(name) => dispatch(name, &["--help".into()]),
        },
        // Reached only after a leading `--`; the arguments are still passed as they are. The
        // suite's commands keep theirs under "args", a plugin's are the external subcommand's.
        Some((name, sub)) => {
            let args: Vec<OsString> = ["args", ""]
                .into_iter()
                .find_map(|id| sub.try_get_many::<OsString>(id).ok().flatten())
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            dispatch(name, &args)
        }
    }
}

/// Runs command `name` with `args`, or says there is no such command.
fn dispatch(name: &str, args: &[OsString]) -> ExitCode {
    if name == USE {
        return use_without_the_shell_function(args);
    }
    let dirs = find::search_dirs();
    match find::program(&dirs, name) {
        Some(program) => run(&program, args),
        None => unknown(name, &dirs),
    }
}

/// Runs `program` in place of this process (Unix `exec`: same pid, its signals and exit status
/// are the caller's to see), or as a child whose exit code becomes ours elsewhere.
/// 127: it cannot be found; 126: it cannot be run.
fn run(program: &Path, args: &[OsString]) -> ExitCode {
    let mut command = std::process::Command::new(program);
    command.args(args);
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => return ExitCode::from(status.code().map_or(1, |c| c as u8)),
        Err(e) => e,
    };
    // The file was there a moment ago: "not found" now is a vanished file or, for a script,
    // the interpreter of its `#!` line.
    let (code, hint) = match error.kind() {
        std::io::ErrorKind::NotFound => {
            (127, " (if it is a script, is the interpreter on its #! line installed?)")
        }
        _ => (126, ""),
    };
    error_message(format_args!("cannot run {}: {error}{hint}", program.display()));
    ExitCode::from(code)
}

/// `aws-sso use` reached this program: the shell function of `aws-sso-env init`, which runs
/// it in the shell, is not defined here. `--help` is still shown (on stderr, as the function
/// shows it).
fn use_without_the_shell_function(args: &[OsString]) -> ExitCode {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        let help = find::program(&find::search_dirs(), "env").and_then(|program| {
            let mut command = std::process::Command::new(program);
            command.arg(USE).arg("--help");
            command.status().ok()
        });
        if help.is_some_and(|status| status.success()) {
            return ExitCode::SUCCESS;
        }
    }
    error_message(format_args!(
        "`{NAME} use` changes the shell it runs in, so the shell itself must run it, and this \
         one has no aws-sso shell integration.\n  Add `eval \"$(aws-sso-env init bash)\"` to \
         ~/.bashrc, `eval \"$(aws-sso-env init zsh)\"` to ~/.zshrc, or `aws-sso-env init fish \
         | source` to ~/.config/fish/config.fish, then open a new shell"
    ));
    ExitCode::from(USAGE)
}

fn unknown(name: &str, dirs: &[PathBuf]) -> ExitCode {
    let found = find::all(dirs);
    let known = BUILTINS
        .iter()
        .map(|(b, _)| *b)
        .chain(["help", USE])
        .chain(found.keys().map(String::as_str));
    let mut text = format!("no such command: `{}`\n", shown::shown(name));
    if let Some(closest) = suggest::closest(name, known) {
        text.push_str(&format!("  did you mean `{closest}`?\n"));
    }
    text.push_str(&format!(
        "  `{NAME} --list` shows every command; a program named {}NAME beside {NAME} or on PATH adds one",
        find::PREFIX
    ));
    error_message(text);
    ExitCode::from(USAGE)
}

/// `--list`: the suite's commands first, then plugins, each sorted, with the program that runs
/// it (a name shadowed by an earlier directory is listed once, as the one that runs).
fn list(dirs: &[PathBuf]) -> ExitCode {
    let mut found = find::all(dirs);
    let mut builtins: Vec<&str> = BUILTINS.iter().map(|(name, _)| *name).collect();
    builtins.sort_unstable();
    let mut rows: Vec<(String, String)> = builtins
        .into_iter()
        .map(|name| {
            let place = found.remove(name).map_or_else(
                || format!("(missing: no {}{name} beside {NAME} or on PATH)", find::PREFIX),
                |path| path.display().to_string(),
            );
            (name.to_owned(), place)
        })
        .collect();
    rows.extend(found.into_iter().map(|(name, path)| (name, path.display().to_string())));
    // Not aws-sso-cli's table, which would pull in core: this binary stays on clap to start fast.
    let width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
    let text: String =
        rows.iter().map(|(name, place)| format!("{name:width$}  {place}\n")).collect();
    write_stdout(&text)
}

/// `aws-sso` alone or `aws-sso help`: the same text as `--help`.
fn usage() -> ExitCode {
    let help = cli::command().render_long_help().to_string();
    write_stdout(&help)
}

fn write_stdout(text: &str) -> ExitCode {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        // `aws-sso --list | head -1` is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            error_message(format_args!("cannot write to stdout: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn error_message(message: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{NAME}: error: {message}");
}
