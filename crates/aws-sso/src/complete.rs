//! Tab completion of `aws-sso`: its own commands, the plugins found, and its flags through
//! clap's dynamic completion (the same protocol as every binary of the suite, see
//! `aws_sso_cli::complete`), and after a built-in command name the words are that command's, so
//! its binary answers them.

use std::ffi::OsString;
use std::process::Command;

use aws_sso::cli::{self, BUILTINS, USE};
use clap_complete::env::CompleteEnv;

use crate::find;

/// The variable that turns a run into a completion request (clap's default name).
const COMPLETE: &str = "COMPLETE";

/// Answers a completion request and exits, or returns at once on a normal run.
pub fn run_if_requested() {
    match std::env::var_os(COMPLETE) {
        None => return,
        Some(shell) if shell.is_empty() || shell == "0" => return,
        Some(_) => {}
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = delegate(&args) {
        std::process::exit(code);
    }
    CompleteEnv::with_factory(|| {
        let found = find::all(&find::search_dirs());
        cli::with_plugins(cli::command(), found.iter().map(|(n, p)| (n.as_str(), p.as_path())))
    })
    .complete();
}

/// `aws-sso login|ls|env …<Tab>`: asks `aws-sso-NAME` with the words from NAME on, as if the
/// user had typed `aws-sso-NAME …`. Only the built-ins are asked: a plugin may not speak the
/// protocol, and a Tab must never run a program for real.
fn delegate(args: &[OsString]) -> Option<i32> {
    let start = args.iter().position(|a| a == "--")? + 1;
    let words = &args[start..];
    let index: Option<usize> =
        std::env::var("_CLAP_COMPLETE_INDEX").ok().and_then(|i| i.parse().ok());
    // The word under the cursor: bash and zsh say which, the others send words up to it.
    if index.unwrap_or(words.len().saturating_sub(1)) < 2 {
        return None;
    }
    let name = words.get(1)?.to_str()?;
    // `aws-sso use …` completes as `aws-sso-env use …`: the same words, one program over.
    if name == USE {
        let program = find::program(&find::search_dirs(), "env")?;
        let mut command = Command::new(program);
        command.arg("--").arg(format!("{}env", find::PREFIX)).args(&words[1..]);
        return Some(command.status().ok()?.code().unwrap_or(1));
    }
    if !BUILTINS.iter().any(|(builtin, _)| *builtin == name) {
        return None;
    }
    let program = find::program(&find::search_dirs(), name)?;
    let mut command = Command::new(program);
    command.arg("--").arg(format!("{}{name}", find::PREFIX)).args(&words[2..]);
    if let Some(index) = index {
        command.env("_CLAP_COMPLETE_INDEX", (index - 1).to_string());
    }
    // Its answer goes straight to the shell; its failure is no candidates, as for clap.
    Some(command.status().ok()?.code().unwrap_or(1))
}
